"""The Deployment controller: a ReplicaSet per pod template, scaled to the Deployment's
replicas, and the Deployment's status computed from its ReplicaSets."""
from __future__ import annotations

from ...kube.objects import clone
from ..apis import _naming
from .._clock import rfc3339
from ..storage._store import Event
from ._base import DEPLOY, RS, Controller, owned_by, owner_ref

REVISION = "deployment.kubernetes.io/revision"


class DeploymentController(Controller):
    name = "deployment"

    def on_event(self, event: Event) -> None:
        meta, plural = event.object["metadata"], event.resource.plural
        if plural == "deployments":
            self.mark((meta.get("namespace"), meta["name"]))
        elif plural == "replicasets":
            for ref in meta.get("ownerReferences") or []:
                if ref.get("kind") == "Deployment":
                    self.mark((meta.get("namespace"), ref["name"]))

    def reconcile(self, key) -> None:
        ns, name = key
        d = self.store.get_resource(DEPLOY, ns, name)
        if d is None:
            return
        current, revision = self._scale_replica_sets(d)
        owned = [rs for rs in self.store.list_resource(RS, ns) if owned_by(rs, d)]
        status = deployment_status(d, owned, current, rfc3339(self.store.clock.now()))

        def write(obj: dict) -> None:
            obj["status"] = status
            obj["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        self.store.mutate(DEPLOY, ns, name, write)

    def _scale_replica_sets(self, d: dict) -> tuple[dict, int]:
        """The ReplicaSet of the current template (made if missing) at the Deployment's
        replicas and every other one at zero; returns it and its revision."""
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        template = d["spec"]["template"]
        collisions = (d.get("status") or {}).get("collisionCount", 0)
        pth = _naming.pod_template_hash(template, collisions)
        owned = [rs for rs in self.store.list_resource(RS, ns) if owned_by(rs, d)]
        current = next((rs for rs in owned if rs["metadata"].get("labels", {}).get("pod-template-hash") == pth), None)
        replicas = d["spec"].get("replicas", 1)
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned]
        if current is None:
            revision = max(revisions, default=0) + 1
            tmpl = clone(template)
            tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pth
            selector = clone(d["spec"]["selector"])
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pth
            current = self.store.create(RS, {
                "metadata": {"name": f"{name}-{pth}", "namespace": ns,
                             "labels": dict(tmpl["metadata"]["labels"]),
                             "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                             "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                             REVISION: str(revision)},
                             "ownerReferences": [owner_ref(d, "Deployment", "apps/v1")]},
                "spec": {"replicas": replicas, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                         "selector": selector, "template": tmpl}})
            self.record(d, "ScalingReplicaSet",
                        f"Scaled up replica set {current['metadata']['name']} to {replicas}", "deployment-controller")
        else:
            revision = int(current["metadata"].get("annotations", {}).get(REVISION, "1"))
        # A rollout in one step: the new ReplicaSet takes all replicas, old ones go to zero.
        # Event texts as pkg/controller/deployment/sync.go words them ("to N from M").
        if current["spec"].get("replicas") != replicas:
            old_count = current["spec"].get("replicas", 0)

            def scale(rs: dict) -> None:
                rs["spec"]["replicas"] = replicas
                rs["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(replicas)
                rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = str(replicas + 1)
            current = self.store.mutate(RS, ns, current["metadata"]["name"], scale)
            verb = "up" if replicas > old_count else "down"
            self.record(d, "ScalingReplicaSet",
                        f"Scaled {verb} replica set {current['metadata']['name']} to {replicas} from {old_count}",
                        "deployment-controller")
        for rs in owned:
            if rs["metadata"]["name"] != current["metadata"]["name"] and rs["spec"].get("replicas", 0):
                self.store.mutate(RS, ns, rs["metadata"]["name"], lambda o: o["spec"].update(replicas=0))
                self.record(d, "ScalingReplicaSet",
                            f"Scaled down replica set {rs['metadata']['name']} to 0 from {rs['spec']['replicas']}",
                            "deployment-controller")
        return current, revision


def deployment_status(d: dict, owned: list[dict], current: dict, now: str) -> dict:
    """The Deployment's status from its ReplicaSets (pkg/controller/deployment/sync.go
    calculateStatus, and the Available/Progressing conditions of progress.go); `now` stamps
    a condition that changes. A pure function."""
    replicas = d["spec"].get("replicas", 1)
    total = sum((rs.get("status") or {}).get("replicas", 0) for rs in owned)
    ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in owned)
    available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in owned)
    updated = (current.get("status") or {}).get("replicas", 0)
    old_status = d.get("status") or {}
    old_conds = {c["type"]: c for c in old_status.get("conditions") or []}

    def condition(type_, ok, reason, message):
        prev = old_conds.get(type_)
        status = "True" if ok else "False"
        changed = prev is None or prev["status"] != status
        return {"type": type_, "status": status, "reason": reason, "message": message,
                "lastUpdateTime": now if changed or (prev and prev["reason"] != reason) else prev["lastUpdateTime"],
                "lastTransitionTime": now if changed else prev["lastTransitionTime"]}

    rs_name = current["metadata"]["name"]
    complete = updated == replicas and available >= replicas and total == replicas
    minimum = available >= replicas - max_unavailable(d, replicas)
    conditions = [
        condition("Available", minimum,
                  "MinimumReplicasAvailable" if minimum else "MinimumReplicasUnavailable",
                  "Deployment has minimum availability." if minimum
                  else "Deployment does not have minimum availability."),
        condition("Progressing", True,
                  "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                  f'ReplicaSet "{rs_name}" has successfully progressed.' if complete
                  else f'ReplicaSet "{rs_name}" is progressing.'),
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


def max_unavailable(d: dict, replicas: int) -> int:
    strategy = d["spec"].get("strategy") or {}
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) / 100)
    return int(value)
