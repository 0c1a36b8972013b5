"""Label sets and label selectors as text (k8s.io/apimachinery/pkg/labels, metav1 helpers).

One formatter for the project: the printers' LABELS and SELECTOR columns, the client's
`labelSelector` queries and the sandbox's registry all build selector text here.
"""
from __future__ import annotations

__all__ = ["format_labels", "selector_string", "format_label_selector", "match_labels_selector"]


def _label_set_string(labels: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty."""
    return _label_set_string(labels) or "<none>"


def selector_string(selector: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(s).String(); "" for nil or empty.

    Raises ValueError where the conversion fails (an unknown operator, an
    empty value list for In/NotIn, values given for Exists/DoesNotExist).
    """
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        raw_values = expr.get("values") or []
        values = ",".join(sorted(set(raw_values)))
        if op in ("In", "NotIn"):
            if not raw_values:
                raise ValueError("for 'in', 'notin' operators, values set can't be empty")
            reqs.append((key, f"{key} {op.lower()} ({values})"))
        elif op in ("Exists", "DoesNotExist"):
            if raw_values:
                raise ValueError("values set must be empty for exists and does not exist")
            reqs.append((key, key if op == "Exists" else f"!{key}"))
        else:
            raise ValueError(f"{op!r} is not a valid label selector operator")
    # The selector keeps its requirements sorted by key.
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: like the selector string, "<none>" when empty."""
    try:
        return selector_string(selector) or "<none>"
    except ValueError:
        return "<error>"


def match_labels_selector(labels: dict | None) -> str:
    """The `labelSelector` query text for equality on every label (a Service's selector)."""
    return selector_string({"matchLabels": dict(labels or {})})
