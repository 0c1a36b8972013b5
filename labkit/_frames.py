"""`kubectl get -o wide` views as DataFrames, computed from the objects client-side.

Computed here rather than asked of the server as a Table, so the columns are the same
on every cluster; the cells come from the same port of kubernetes' printers that the
sandbox serves its Tables from (labkit.kube.printers).
"""
from __future__ import annotations

import datetime as dt

COLUMNS = {
    "pods": ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"],
    "services": ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"],
    "endpoints": ["NAME", "ENDPOINTS", "AGE"],
    "deployments": ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
    "replicasets": ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
    "namespaces": ["NAME", "STATUS", "AGE"],
    "nodes": ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"],
}


def frame(plural: str, items: list[dict], now: dt.datetime | None = None):
    """A DataFrame of `items` with the `kubectl get -o wide` columns for `plural`: the lesson's
    choice of them where COLUMNS names it (pods without NOMINATED NODE, ...), else all."""
    import pandas as pd
    from .kube.printers import column_definitions, row_cells
    now = now or dt.datetime.now(dt.timezone.utc)
    names = [c["name"].upper() for c in column_definitions(plural)]
    table = pd.DataFrame([row_cells(plural, o, now) for o in items], columns=names)
    wanted = COLUMNS.get(plural)
    return table[wanted] if wanted else table
