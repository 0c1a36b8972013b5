"""Where objects live: the store (resourceVersions, watch fan-out), made durable by a
write-ahead log and snapshots.
"""
