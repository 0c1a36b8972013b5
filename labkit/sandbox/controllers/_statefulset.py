"""The StatefulSet controller (pkg/controller/statefulset): pods named by ordinal
(`web-0`, `web-1`, ...) with hostname and subdomain set from the governing Service, so each
has a stable DNS name through its headless Service. OrderedReady makes them one at a time,
each once the one before is Running and Ready, and removes them from the highest ordinal
down, one at a time; Parallel makes and removes them all at once."""
from __future__ import annotations

import re

from ...kube.objects import clone
from ...kube.readiness import pod_ready
from ..apis import _errors, _naming
from ..apis._resources import by_plural
from ..registry import _admission
from ..storage._store import Event
from ._base import MANAGER, PODS, Controller, owned_by, owner_ref

STATEFULSETS = by_plural("statefulsets")
POD_NAME, POD_INDEX, REVISION = ("statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
                                 "controller-revision-hash")


def _ordinal(sts_name: str, pod_name: str) -> int | None:
    m = re.fullmatch(re.escape(sts_name) + r"-(\d+)", pod_name)
    return int(m.group(1)) if m else None


class StatefulSetController(Controller):
    name = "statefulset"

    def on_event(self, event: Event) -> None:
        self.mark_self_or_owner(event, "statefulsets", "pods", "StatefulSet")

    def reconcile(self, key) -> None:
        ns, name = key
        sts = self.store.get_resource(STATEFULSETS, ns, name)
        if sts is None:
            return
        spec = sts["spec"]
        revision = f"{name}-{_naming.pod_template_hash(spec['template'])}"
        pods = {}
        for p in self.store.list_resource(PODS, ns):
            i = _ordinal(name, p["metadata"]["name"])
            if i is not None and owned_by(p, sts):
                pods[i] = p
        if not sts["metadata"].get("deletionTimestamp"):
            self._update_replicas(sts, pods, revision)
        self._write_status(sts, revision)

    def _update_replicas(self, sts: dict, pods: dict[int, dict], revision: str) -> None:
        """updateStatefulSet's monotonic walk: create or wait in ordinal order, then condemn
        the ordinals past replicas from the highest."""
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        replicas = sts["spec"].get("replicas", 1)
        monotonic = sts["spec"].get("podManagementPolicy", "OrderedReady") != "Parallel"
        for i in range(replicas):
            pod = pods.get(i)
            phase = ((pod or {}).get("status") or {}).get("phase")
            if pod is not None and phase in ("Failed", "Succeeded") and not pod["metadata"].get("deletionTimestamp"):
                # A pod that ended is replaced under the same name.
                self.registry.delete(PODS, ns, pod["metadata"]["name"], grace_seconds=0)
                self.record(sts, "SuccessfulDelete", f"delete Pod {pod['metadata']['name']} in StatefulSet "
                            f"{name} successful", "statefulset-controller")
                pod = None
            if pod is None:
                if not self._create(sts, i, revision):
                    return
                if monotonic:
                    return          # the next one waits for this one to be Running and Ready
                continue
            if monotonic and (pod["metadata"].get("deletionTimestamp") or not pod_ready(pod)):
                return
        condemned = sorted((i for i in pods if i >= replicas), reverse=True)
        if monotonic and any(pods[i]["metadata"].get("deletionTimestamp") for i in condemned):
            return                  # one at a time: wait for the terminating one to go
        for i in condemned:
            pod = pods[i]
            if pod["metadata"].get("deletionTimestamp"):
                continue
            self.registry.delete(PODS, ns, pod["metadata"]["name"])
            self.record(sts, "SuccessfulDelete", f"delete Pod {pod['metadata']['name']} in StatefulSet "
                        f"{name} successful", "statefulset-controller")
            if monotonic:
                return

    def _create(self, sts: dict, i: int, revision: str) -> bool:
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        template = sts["spec"]["template"]
        pod_name = f"{name}-{i}"
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels.update({POD_NAME: pod_name, POD_INDEX: str(i), REVISION: revision})
        pod = {"metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                            "ownerReferences": [owner_ref(sts, "StatefulSet", "apps/v1")]},
               "spec": clone(template["spec"])}
        if template.get("metadata", {}).get("annotations"):
            pod["metadata"]["annotations"] = dict(template["metadata"]["annotations"])
        # newVersionedStatefulSetPod / updateIdentity: the pod's DNS identity.
        pod["spec"]["hostname"] = pod_name
        if sts["spec"].get("serviceName"):
            pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
        try:
            self.registry.create(PODS, ns, pod, manager=MANAGER)
        except (_errors.ApiError, _admission.Invalid) as e:
            self.record(sts, "FailedCreate", f"create Pod {pod_name} in StatefulSet {name} failed error: {e}",
                        "statefulset-controller", "Warning")
            return False
        self.record(sts, "SuccessfulCreate", f"create Pod {pod_name} in StatefulSet {name} successful",
                    "statefulset-controller")
        return True

    def _write_status(self, sts: dict, revision: str) -> None:
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        pods = [p for p in self.store.list_resource(PODS, ns)
                if _ordinal(name, p["metadata"]["name"]) is not None and owned_by(p, sts)]
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in live if pod_ready(p))
        current = sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION) == revision)
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(live),
                  "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": current,
                  "availableReplicas": ready, "currentRevision": revision, "updateRevision": revision,
                  "collisionCount": 0}
        for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[field]:
                del status[field]
        if sts.get("status") != status:
            self.store.mutate(STATEFULSETS, ns, name, lambda o: o.__setitem__("status", status))
