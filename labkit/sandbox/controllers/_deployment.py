"""The Deployment controller: a ReplicaSet per pod template, scaled to the Deployment's
replicas, and the Deployment's status computed from its ReplicaSets."""
from __future__ import annotations

from ...kube.objects import clone
from ..apis import _naming
from .._clock import rfc3339
from ..registry import _managedfields
from ..storage._store import Event
from . import _rollout
from ._base import DEPLOY, MANAGER, RS, Controller, delete_quietly, owned_by, owner_ref
from ._rollout import REVISION, fenceposts


class DeploymentController(Controller):
    name = "deployment"

    def on_event(self, event: Event) -> None:
        self.mark_self_or_owner(event, "deployments", "replicasets", "Deployment")

    def reconcile(self, key) -> None:
        ns, name = key
        d = self.store.get_resource(DEPLOY, ns, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        current, revision = self._sync(d)
        owned = self._owned(d)
        status = deployment_status(d, owned, current, rfc3339(self.store.clock.now()))

        def write(obj: dict) -> None:
            obj["status"] = status
            if revision:
                obj["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        self.store.mutate(DEPLOY, ns, name, write)

    def _owned(self, d: dict) -> list[dict]:
        """The Deployment's ReplicaSets, oldest first (creation order)."""
        ns = d["metadata"]["namespace"]
        owned = [rs for rs in self.store.list_resource(RS, ns) if owned_by(rs, d)]
        return sorted(owned, key=lambda rs: self.store.creation_order(RS, ns, rs["metadata"]["name"]))

    def _sync(self, d: dict) -> tuple[dict | None, int]:
        """syncDeployment: the new ReplicaSet's revision kept ahead of the old ones; while
        paused only scaling, else a rollout step (rolling.go or recreate.go); then the
        history beyond revisionHistoryLimit removed. Returns the new ReplicaSet (None while
        paused before it exists) and the Deployment's revision."""
        ns = d["metadata"]["namespace"]
        pth = _naming.pod_template_hash(d["spec"]["template"], (d.get("status") or {}).get("collisionCount", 0))
        owned = self._owned(d)
        new = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == pth), None)
        old = [rs for rs in owned if rs is not new]
        new_revision = max((_rollout.revision(rs) for rs in old), default=0) + 1
        if new is not None:
            annotations = _rollout.revision_annotations(new, new_revision)
            if annotations is not None:
                new = self.store.mutate(RS, ns, new["metadata"]["name"],
                                        lambda o: o["metadata"].__setitem__("annotations", annotations))
        replicas = d["spec"].get("replicas", 1)
        if d["spec"].get("paused"):
            # sync(): a paused Deployment scales its one active ReplicaSet, rolls nothing.
            active = [rs for rs in owned if _rollout.spec_replicas(rs)]
            target = active[0] if len(active) == 1 else (new if not active else None)
            if target is not None:
                self._scale(d, target, replicas)
            return new, _rollout.revision(new) if new is not None else 0
        if new is None:
            count = _rollout.new_rs_replicas(d, old, 0)
            if (d["spec"].get("strategy") or {}).get("type") == "Recreate" and any(
                    _rollout.spec_replicas(rs) or (rs.get("status") or {}).get("replicas") for rs in old):
                count = 0
            new = self._create(d, pth, count, new_revision)
        elif (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            self._recreate(d, new, old)
        else:
            self._roll(d, new, old)
        new = self.store.get_resource(RS, ns, new["metadata"]["name"]) or new
        old = [self.store.get_resource(RS, ns, rs["metadata"]["name"]) or rs for rs in old]
        status = deployment_status(d, [new, *old], new, "")
        if _complete(d, status):
            for rs in _rollout.cleanable(d, old):
                delete_quietly(self.store, RS, ns, rs["metadata"]["name"])
        return new, _rollout.revision(new)

    def _roll(self, d: dict, new: dict, old: list[dict]) -> None:
        """rolloutRolling: the new ReplicaSet up within maxSurge, then old ones down while
        replicas - maxUnavailable stay available; each step waits for pods to be Ready."""
        replicas = d["spec"].get("replicas", 1)
        count = _rollout.spec_replicas(new)
        if count > replicas:
            new = self._scale(d, new, replicas)
        elif count < replicas:
            new = self._scale(d, new, _rollout.new_rs_replicas(d, [new, *old], count))
        for name, target in _rollout.old_scale_down(d, new, old):
            rs = next(rs for rs in old if rs["metadata"]["name"] == name)
            self._scale(d, rs, target)

    def _recreate(self, d: dict, new: dict, old: list[dict]) -> None:
        """rolloutRecreate: every old pod gone before the new ReplicaSet grows."""
        for rs in old:
            if _rollout.spec_replicas(rs):
                self._scale(d, rs, 0)
        if not any((rs.get("status") or {}).get("replicas") for rs in old):
            self._scale(d, new, d["spec"].get("replicas", 1))

    def _create(self, d: dict, pth: str, replicas: int, revision: int) -> dict:
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        tmpl = clone(d["spec"]["template"])
        tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pth
        selector = clone(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = pth
        surge, _ = _rollout.fenceposts(d)
        want = d["spec"].get("replicas", 1)
        created = self.store.create(RS, _managedfields.update(None, {
            "metadata": {"name": f"{name}-{pth}", "namespace": ns,
                         "labels": dict(tmpl["metadata"]["labels"]),
                         "annotations": {"deployment.kubernetes.io/desired-replicas": str(want),
                                         "deployment.kubernetes.io/max-replicas": str(want + surge),
                                         REVISION: str(revision)},
                         "ownerReferences": [owner_ref(d, "Deployment", "apps/v1")]},
            "spec": {"replicas": replicas, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                     "selector": selector, "template": tmpl}},
            MANAGER, RS.api_version, RS.kind, rfc3339(self.store.clock.now())))
        if replicas:     # getNewReplicaSet's event for a new ReplicaSet
            self.record(d, "ScalingReplicaSet", f"Scaled up replica set {created['metadata']['name']} to {replicas}",
                        "deployment-controller")
        return created

    def _scale(self, d: dict, rs: dict, replicas: int) -> dict:
        """scaleReplicaSetAndRecordEvent, worded as sync.go scaleReplicaSet does."""
        want = d["spec"].get("replicas", 1)
        surge, _ = _rollout.fenceposts(d)
        annotations = {"deployment.kubernetes.io/desired-replicas": str(want),
                       "deployment.kubernetes.io/max-replicas": str(want + surge)}
        before = _rollout.spec_replicas(rs)
        stale = any((rs["metadata"].get("annotations") or {}).get(k) != v for k, v in annotations.items())
        if before == replicas and not stale:
            return rs

        def scale(o: dict) -> None:
            o["spec"]["replicas"] = replicas
            o["metadata"].setdefault("annotations", {}).update(annotations)
        scaled = self.store.mutate(RS, rs["metadata"]["namespace"], rs["metadata"]["name"], scale)
        if before != replicas:
            verb = "up" if replicas > before else "down"
            self.record(d, "ScalingReplicaSet",
                        f"Scaled {verb} replica set {rs['metadata']['name']} to {replicas} from {before}",
                        "deployment-controller")
        return scaled


def _complete(d: dict, status: dict) -> bool:
    """deploymentutil.DeploymentComplete."""
    replicas = d["spec"].get("replicas", 1)
    return (status.get("updatedReplicas", 0) == replicas and status.get("replicas", 0) == replicas
            and status.get("availableReplicas", 0) == replicas)


def deployment_status(d: dict, owned: list[dict], current: dict | None, now: str) -> dict:
    """The Deployment's status from its ReplicaSets (pkg/controller/deployment/sync.go
    calculateStatus, and the Available/Progressing conditions of progress.go); `now` stamps
    a condition that changes. A pure function."""
    replicas = d["spec"].get("replicas", 1)
    total = sum((rs.get("status") or {}).get("replicas", 0) for rs in owned)
    ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in owned)
    available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in owned)
    updated = ((current or {}).get("status") or {}).get("replicas", 0)
    old_status = d.get("status") or {}
    old_conds = {c["type"]: c for c in old_status.get("conditions") or []}

    def condition(type_, ok, reason, message):
        prev = old_conds.get(type_)
        status = ok if isinstance(ok, str) else "True" if ok else "False"
        changed = prev is None or prev["status"] != status
        return {"type": type_, "status": status, "reason": reason, "message": message,
                "lastUpdateTime": now if changed or (prev and prev["reason"] != reason) else prev["lastUpdateTime"],
                "lastTransitionTime": now if changed else prev["lastTransitionTime"]}

    rs_name = current["metadata"]["name"] if current else ""
    complete = updated == replicas and available >= replicas and total == replicas
    minimum = available >= replicas - fenceposts(d)[1]
    if d["spec"].get("paused"):
        # sync.go checkPausedConditions: progress is Unknown while paused.
        progressing = condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
    else:
        progressing = condition("Progressing", True,
                                "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                                f'ReplicaSet "{rs_name}" has successfully progressed.' if complete
                                else f'ReplicaSet "{rs_name}" is progressing.')
    conditions = [
        condition("Available", minimum,
                  "MinimumReplicasAvailable" if minimum else "MinimumReplicasUnavailable",
                  "Deployment has minimum availability." if minimum
                  else "Deployment does not have minimum availability."),
        progressing,
    ]
    status = {"observedGeneration": d["metadata"].get("generation", 1), "replicas": total,
              "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
              "conditions": conditions}
    if total - available > 0:
        status["unavailableReplicas"] = total - available
    for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
        if not status[k]:
            del status[k]
    collisions = old_status.get("collisionCount", 0)
    if collisions:
        status["collisionCount"] = collisions
    return status

