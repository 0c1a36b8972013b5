"""The sandbox on this machine: its home directory, private files, its certificate
authority, its fault log, and the background process that serves from a home.
"""
