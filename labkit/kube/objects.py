"""Helpers for API objects held as plain JSON-shaped dicts."""
from __future__ import annotations


def clone(value):
    """A deep copy of JSON-shaped data (dicts, lists, scalars); several times faster
    than copy.deepcopy, which matters when a thousand pods are reconciled at once."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    return value
