"""Validation of labels, annotations and label selectors (apimachinery metav1/validation).

Also `_selector_matches` and `_selector_go`, which workload validation needs to
compare a selector with its template's labels and to print it in an error.
"""
from __future__ import annotations

from ._field_errors import _Errors, _Go, _gomap, _goquote, _goslice
from ._name_formats import is_label_value, is_qualified_name


def _labels(labels, path: str, errs: _Errors) -> None:
    for k, v in (labels or {}).items() if isinstance(labels, dict) else ():
        for msg in is_qualified_name(str(k)):
            errs.invalid(path, k, msg)
        v = "" if v is None else v
        for msg in is_label_value(str(v)):
            errs.invalid(path, v, msg)


def _annotations(annotations, path: str, errs: _Errors) -> None:
    total = 0
    for k, v in (annotations or {}).items() if isinstance(annotations, dict) else ():
        for msg in is_qualified_name(str(k).lower()):
            errs.invalid(path, k, msg)
        total += len(str(k)) + len(str(v or ""))
    if total > 256 * 1024:
        errs.too_long(path, 256 * 1024)


def _selector(sel, path: str, errs: _Errors) -> None:
    """ValidateLabelSelector."""
    if not isinstance(sel, dict):
        return
    for i, req in enumerate(sel.get("matchExpressions") or []):
        rp = f"{path}.matchExpressions[{i}]"
        op, values = req.get("operator", ""), req.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                errs.required(f"{rp}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(f"{rp}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            errs.invalid(f"{rp}.operator", op, "not a valid selector operator")
        for msg in is_qualified_name(req.get("key", "")):
            errs.invalid(f"{rp}.key", req.get("key", ""), msg)
        for j, v in enumerate(values):
            for msg in is_label_value(str(v)):
                errs.invalid(f"{rp}.values[{j}]", v, msg)
    _labels(sel.get("matchLabels"), f"{path}.matchLabels", errs)


def _selector_matches(sel: dict | None, labels: dict) -> bool:
    """labels.Selector.Matches for a metav1.LabelSelector; a missing one matches nothing."""
    if not isinstance(sel, dict):
        return False
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for req in sel.get("matchExpressions") or []:
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _selector_go(sel) -> _Go:
    """%#v of a v1.LabelSelector, as the immutable-selector error shows it."""
    if not isinstance(sel, dict):
        return _Go("null")
    exprs = sel.get("matchExpressions")
    if exprs:
        rendered = ", ".join(
            "v1.LabelSelectorRequirement{Key:%s, Operator:%s, Values:%s}"
            % (_goquote(e.get("key", "")), _goquote(e.get("operator", "")), _goslice(e.get("values")))
            for e in exprs)
        exprs_go = f"[]v1.LabelSelectorRequirement{{{rendered}}}"
    else:
        exprs_go = "[]v1.LabelSelectorRequirement(nil)"
    return _Go(f"v1.LabelSelector{{MatchLabels:{_gomap(sel.get('matchLabels'))}, MatchExpressions:{exprs_go}}}")
