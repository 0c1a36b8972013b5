"""`kubectl get` tables: the `meta.k8s.io/v1` Table kube-apiserver returns.

A port of kube-apiserver's printers (kubernetes/kubernetes
pkg/printers/internalversion/printers.go) over served API objects as dicts.
Like the real server, rows carry every column, wide ones included
(pkg/printers/storage: `GenerateOptions{Wide: true}`); kubectl hides the
priority-1 columns unless `-o wide`, and adds NAMESPACE and LABELS itself.

Column names are the printer's ("Name", "Cluster-IP"): kubectl upper-cases them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..labels import format_label_selector, format_labels, selector_string
from ..objects import clone
from .columns import column_definitions
from .durations import human_duration, translate_timestamp_since
from .formats import format_endpoints, meta
from .pods import print_pod
from .rows import PRINTERS, print_default

__all__ = [
    "table",
    "column_definitions",
    "row_cells",
    "human_duration",
    "translate_timestamp_since",
    "format_labels",
    "format_label_selector",
    "selector_string",
    "format_endpoints",
]


def row_cells(plural: str, obj: dict, now: dt.datetime) -> list:
    """One object's cells, in column_definitions(plural) order."""
    if plural == "pods":
        return print_pod(obj, now)[0]
    return PRINTERS.get(plural, print_default)(obj, now)


def _row_object(obj: dict, include_object: str, group_version: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return clone(obj)
    # Metadata (the default): meta.AsPartialObjectMetadata in the Table's group version.
    return {"kind": "PartialObjectMetadata", "apiVersion": group_version,
            "metadata": clone(meta(obj))}


def table(plural: str, objects: list[dict], *, now: dt.datetime,
          include_object: str = "Metadata", resource_version: str = "",
          continue_token: str = "", remaining_item_count: int | None = None,
          no_headers: bool = False, group_version: str = "meta.k8s.io/v1") -> dict:
    """The Table kube-apiserver returns for `plural` (a list, a single get, or a watch event).

    include_object is the `includeObject` query parameter: "Metadata" (the
    default, a PartialObjectMetadata per row), "Object" (the whole object) or
    "None" (the row's object is null, as the server sends it).
    group_version is "meta.k8s.io/v1" or "meta.k8s.io/v1beta1", whichever the
    Accept header asked for.
    """
    if include_object not in ("Metadata", "Object", "None", ""):
        raise ValueError(f"includeObject must be Metadata, Object or None, not {include_object!r}")
    rows = []
    for obj in objects:
        if plural == "pods":
            cells, conditions = print_pod(obj, now)
        else:
            cells, conditions = row_cells(plural, obj, now), None
        row: dict[str, Any] = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object or "Metadata", group_version)
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining_item_count is not None:
        metadata["remainingItemCount"] = remaining_item_count
    return {
        "kind": "Table",
        "apiVersion": group_version,
        "metadata": metadata,
        "columnDefinitions": None if no_headers else column_definitions(plural),
        "rows": rows,
    }
