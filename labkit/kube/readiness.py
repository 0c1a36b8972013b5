"""Readiness as the API states it: an object's conditions and an Endpoints' ready addresses.

Written once for both halves: the client waits and counts with it (labkit/_readiness.py,
which adds kubectl's words for what is missing), and the sandbox's controllers may decide
with it what their Endpoints publish.
"""
from __future__ import annotations

__all__ = ["condition", "condition_true", "pod_ready", "ready_addresses"]


def condition(obj: dict | None, kind: str) -> dict | None:
    """The status condition of type `kind` (Ready, Available, PodScheduled, ...), or None."""
    return next((c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c.get("type") == kind),
                None)


def condition_true(obj: dict | None, kind: str) -> bool:
    """Whether the condition is there with status "True" (`kubectl wait --for=condition=KIND`)."""
    found = condition(obj, kind)
    return bool(found) and found.get("status") == "True"


def pod_ready(pod: dict | None) -> bool:
    """A pod counts as ready when its Ready condition is True (podutil.IsPodReady)."""
    return condition_true(pod, "Ready")


def ready_addresses(endpoints: dict | None) -> set[str]:
    """The ready addresses an Endpoints object lists (notReadyAddresses left out)."""
    return {a["ip"] for s in (endpoints or {}).get("subsets") or [] for a in s.get("addresses") or []}
