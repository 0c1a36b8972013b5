"""A rolling update's arithmetic, as pkg/controller/deployment/rolling.go and
util/deployment_util.go compute it: how far the new ReplicaSet may grow and how many old
pods may go at each step. Pure functions of the Deployment and its ReplicaSets."""
from __future__ import annotations

import math

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"


def _int_or_percent(value, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: a percentage of `total`, rounded as asked."""
    if isinstance(value, str) and value.endswith("%"):
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value)


def fenceposts(d: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for the Deployment's replicas (ResolveFenceposts): surge
    rounds up, unavailability down, and both zero would deadlock, so unavailability is 1."""
    replicas = d["spec"].get("replicas", 1)
    strategy = d["spec"].get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, 0
    ru = strategy.get("rollingUpdate") or {}
    surge = _int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
    unavailable = _int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def spec_replicas(rs: dict) -> int:
    return rs["spec"].get("replicas", 0)


def available(rs: dict) -> int:
    return (rs.get("status") or {}).get("availableReplicas", 0)


def revision(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def new_rs_replicas(d: dict, all_rs: list[dict], new_rs_count: int) -> int:
    """NewRSNewReplicas for RollingUpdate: grow the new ReplicaSet while all pods stay
    within replicas + maxSurge, never past replicas."""
    replicas = d["spec"].get("replicas", 1)
    if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
        return replicas
    surge, _ = fenceposts(d)
    current = sum(spec_replicas(rs) for rs in all_rs)
    max_total = replicas + surge
    if current >= max_total:
        return new_rs_count
    return new_rs_count + max(0, min(max_total - current, replicas - new_rs_count))


def old_scale_down(d: dict, new_rs: dict, old_rs: list[dict]) -> list[tuple[str, int]]:
    """reconcileOldReplicaSets: the (name, new replicas) of old ReplicaSets to scale down,
    first their unhealthy pods (cleanupUnhealthyReplicas), then available ones while at
    least replicas - maxUnavailable stay available (scaleDownOldReplicaSetsForRollingUpdate).
    Old ReplicaSets go oldest first, by creation order as given."""
    replicas = d["spec"].get("replicas", 1)
    if not sum(spec_replicas(rs) for rs in old_rs):
        return []
    _, max_unavailable = fenceposts(d)
    min_available = replicas - max_unavailable
    all_pods = spec_replicas(new_rs) + sum(spec_replicas(rs) for rs in old_rs)
    new_unavailable = spec_replicas(new_rs) - available(new_rs)
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return []
    target = {rs["metadata"]["name"]: spec_replicas(rs) for rs in old_rs}
    cleaned = 0
    for rs in old_rs:
        name = rs["metadata"]["name"]
        if cleaned >= max_scaled_down:
            break
        unhealthy = target[name] - available(rs)
        if target[name] == 0 or unhealthy <= 0:
            continue
        n = min(max_scaled_down - cleaned, unhealthy)
        target[name] -= n
        cleaned += n
    # The cleanup took only unavailable pods: what is available is still the statuses' sum.
    budget = available(new_rs) + sum(available(rs) for rs in old_rs) - min_available
    for rs in old_rs:
        name = rs["metadata"]["name"]
        if budget <= 0:
            break
        n = min(target[name], budget)
        target[name] -= n
        budget -= n
    return [(rs["metadata"]["name"], target[rs["metadata"]["name"]]) for rs in old_rs
            if target[rs["metadata"]["name"]] != spec_replicas(rs)]


def revision_annotations(rs: dict, new_revision: int) -> dict | None:
    """SetNewReplicaSetAnnotations for a ReplicaSet that becomes the new one again (a
    rollback): its revision rises to new_revision and the one it had joins
    revision-history. None when nothing changes."""
    annotations = dict(rs["metadata"].get("annotations") or {})
    old = annotations.get(REVISION, "")
    if old and int(old) >= new_revision:
        return None
    annotations[REVISION] = str(new_revision)
    if old:
        history = annotations.get(REVISION_HISTORY, "")
        annotations[REVISION_HISTORY] = f"{history},{old}" if history else old
    return annotations


def cleanable(d: dict, old_rs: list[dict]) -> list[dict]:
    """cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit, lowest revision
    first, that have no pods left."""
    limit = d["spec"].get("revisionHistoryLimit")
    if limit is None:
        return []
    alive = [rs for rs in old_rs if not rs["metadata"].get("deletionTimestamp")]
    diff = len(alive) - limit
    if diff <= 0:
        return []
    ordered = sorted(alive, key=lambda rs: (revision(rs), rs["metadata"].get("creationTimestamp", "")))
    return [rs for rs in ordered[:diff]
            if spec_replicas(rs) == 0 and not (rs.get("status") or {}).get("replicas")]
