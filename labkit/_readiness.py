"""Is an applied object ready, and if not, why: the checks `Lab.apply(wait=True)` waits on.

Each check takes the object as the API returns it and answers None when it is ready,
else one line saying what is missing, in the words kubectl and the kubelet use:

- Pod: the Ready condition is True (`kubectl wait --for=condition=Ready`); otherwise the
  scheduler's or a container's reason (Unschedulable, ContainerCreating, ErrImagePull, ...).
- Deployment: `kubectl rollout status` (kubectl/pkg/polymorphichelpers/rollout_status.go):
  the controller saw the latest generation, every replica is updated, no old ones remain,
  and every updated one is available.
- Namespace: phase Active.

The queries that count what is ready live here too, so `Lab.scale`, `Lab.wait` and the
probes agree on one meaning: `ready_pods` and `ready_addresses`.
"""
from __future__ import annotations

from .kube.readiness import condition as _condition
from .kube.readiness import condition_true, pod_ready, ready_addresses

__all__ = ["CHECKED", "not_ready", "condition_unmet", "ready_addresses", "ready_pods", "pod", "deployment",
           "namespace"]

# What `apply(wait=True)` waits for, by resource plural; other kinds are ready once applied.
CHECKED = ("namespaces", "pods", "deployments")


def not_ready(plural: str, obj: dict | None) -> str | None:
    """None when `obj` (a Pod, Deployment or Namespace) is ready, else the reason."""
    if obj is None:
        return "not found"
    if obj["metadata"].get("deletionTimestamp"):
        return "being deleted"
    check = {"pods": pod, "deployments": deployment, "namespaces": namespace}.get(plural)
    return check(obj) if check else None


def condition_unmet(obj: dict | None, condition: str) -> str | None:
    """`kubectl wait --for=condition=COND`: None when the condition's status is True."""
    return None if condition_true(obj, condition) else f"condition {condition} not met"


def ready_pods(pods: list[dict]) -> list[dict]:
    """The pods `kubectl wait --for=condition=Ready` would pass, terminating ones left out."""
    return [p for p in pods if not_ready("pods", p) is None]


def pod(obj: dict) -> str | None:
    if pod_ready(obj):
        return None
    ready = _condition(obj, "Ready")
    status = obj.get("status") or {}
    phase = status.get("phase") or "Pending"
    if phase in ("Succeeded", "Failed"):
        return f"the pod has completed (phase {phase}) and will not become ready"
    scheduled = _condition(obj, "PodScheduled")
    if not (obj.get("spec") or {}).get("nodeName"):
        if scheduled and scheduled.get("status") == "False":
            return _reason_line("not scheduled", scheduled.get("reason"), scheduled.get("message"))
        return "not scheduled yet"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state:
            w = state["waiting"] or {}
            return _reason_line(f"container {cs['name']} is waiting", w.get("reason"), w.get("message"))
        if "terminated" in state:
            t = state["terminated"] or {}
            return _reason_line(f"container {cs['name']} terminated", t.get("reason"),
                                f"exit code {t.get('exitCode')}")
        if not cs.get("ready"):
            return f"container {cs['name']} is running but not ready"
    return _reason_line(f"not ready (phase {phase})", (ready or {}).get("reason"), (ready or {}).get("message"))


def deployment(obj: dict) -> str | None:
    """kubectl rollout status's verdict: None when rolled out, else its waiting message."""
    name = obj["metadata"]["name"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if obj["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return "Waiting for deployment spec update to be observed..."
    progressing = _condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return f'deployment "{name}" exceeded its progress deadline'
    wanted = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    if updated < wanted:
        return (f'Waiting for deployment "{name}" rollout to finish: '
                f"{updated} out of {wanted} new replicas have been updated...")
    if status.get("replicas", 0) > updated:
        return (f'Waiting for deployment "{name}" rollout to finish: '
                f"{status['replicas'] - updated} old replicas are pending termination...")
    available = status.get("availableReplicas", 0)
    if available < updated:
        return (f'Waiting for deployment "{name}" rollout to finish: '
                f"{available} of {updated} updated replicas are available...")
    return None


def namespace(obj: dict) -> str | None:
    phase = (obj.get("status") or {}).get("phase")
    return None if phase == "Active" else f"phase is {phase or 'unknown'}"


def _reason_line(what: str, reason: str | None, message: str | None) -> str:
    return what + "".join(f": {part}" for part in (reason, message) if part)
