"""Controllers: the background work that turns what users wrote into what runs.
"""
