"""The neutral core: Kubernetes meanings that both labkit and its sandbox need, written once.

Imports run one way: `labkit` (the client) and `labkit.sandbox` import this package; it
imports neither.
"""
