"""The ReplicaSet controller: as many active pods as replicas, made and removed in the real
controller's batches, and the ReplicaSet's status."""
from __future__ import annotations

from typing import Iterator

from ...kube.readiness import pod_ready
from ..apis._selectors import selector_from_match
from ..storage._store import Event
from ._base import PODS, RS, Controller, active, delete_through_api, owned_by, pod_from_template

# kube-controller-manager's ReplicaSet controller: BurstReplicas, the most pods one sync
# creates or deletes (pkg/controller/replicaset/replica_set.go).
BURST_REPLICAS = 500


class ReplicaSetController(Controller):
    name = "replicaset"
    # What it manages and how it signs: the replication manager reuses it for
    # ReplicationControllers, as pkg/controller/replication wraps this controller.
    resource, kind, api_version, component = RS, "ReplicaSet", "apps/v1", "replicaset-controller"

    def selector(self, rs: dict):
        return selector_from_match(rs["spec"]["selector"])

    def on_event(self, event: Event) -> None:
        self.mark_self_or_owner(event, self.resource.plural, "pods", self.kind)

    def reconcile(self, key) -> Iterator[None]:
        ns, name = key
        rs = self.store.get_resource(self.resource, ns, name)
        if rs is None:
            return
        selector = self.selector(rs)
        pods = [p for p in self.store.list_resource(PODS, ns)
                if owned_by(p, rs) and active(p)]
        want = rs["spec"].get("replicas", 1)
        if rs["metadata"].get("deletionTimestamp"):
            pass        # syncReplicaSet manages no replicas of a ReplicaSet being deleted
        elif len(pods) < want:
            # manageReplicas: at most BurstReplicas per sync, created in slow-start batches
            # (1, 2, 4, ...) that stop at the first failure (pkg/controller/replicaset/
            # replica_set.go slowStartBatch). The pods' ADDED events bring the next sync.
            template = rs["spec"]["template"]
            remaining, batch = min(want - len(pods), BURST_REPLICAS), 1
            while remaining > 0:
                size = min(batch, remaining)
                failures = 0
                for i in range(size):      # one batch: every create is tried, as its goroutines are
                    created = self.create_pod(rs, pod_from_template(template, rs, self.kind, self.api_version),
                                              self.component)
                    if created is None:
                        failures += 1
                        continue
                    if i % 32 == 31:
                        yield
                if failures:
                    break           # the rest are skipped until the next sync
                remaining -= size
                batch *= 2
                yield               # the API server answers between batches
            pods = [p for p in self.store.list_resource(PODS, ns) if owned_by(p, rs) and active(p)]
        elif len(pods) > want:
            # controller.ActivePods ranking: unscheduled, then pending, then not ready, then newest
            # first (by the order the store created them: timestamps have only second precision).
            # At most BurstReplicas deletions per sync, as manageReplicas caps the diff.
            def rank(p: dict):
                st = p.get("status") or {}
                return (bool(p["spec"].get("nodeName")), st.get("phase") == "Running", pod_ready(p),
                        -self.store.creation_order(PODS, ns, p["metadata"]["name"]))
            for i, p in enumerate(sorted(pods, key=rank)[: min(len(pods) - want, BURST_REPLICAS)]):
                delete_through_api(self.registry, PODS, ns, p["metadata"]["name"])
                self.record(rs, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}", self.component)
                if i % 64 == 63:
                    yield
            pods = [p for p in self.store.list_resource(PODS, ns) if owned_by(p, rs) and active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        labeled = sum(1 for p in pods if selector.matches(p["metadata"].get("labels") or {}))
        status = {"replicas": len(pods), "fullyLabeledReplicas": labeled, "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if not status[k]:
                del status[k]
        if rs.get("status") != status:
            self.store.mutate(self.resource, ns, name, lambda o: o.__setitem__("status", status))
