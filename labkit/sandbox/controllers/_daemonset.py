"""The DaemonSet controller (pkg/controller/daemon): one pod per node that should run it
(its nodeSelector and affinity match, its tolerations cover the node's taints, with the
tolerations every daemon pod gets), pinned by node affinity as the real controller does
and bound by the scheduler; pods on nodes that should not run one are deleted."""
from __future__ import annotations

from ...kube.objects import clone
from ...kube.readiness import pod_ready
from ..apis import _naming
from ..apis._resources import by_plural
from ..storage._store import Event
from ._base import NODES, PODS, Controller, active, owned_by, pod_from_template
from ._scheduler import schedulable

DAEMONSETS = by_plural("daemonsets")
# util.AddOrUpdateDaemonPodTolerations: what a daemon pod tolerates whatever its template says.
_DAEMON_TOLERATIONS = (("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                       ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                       ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                       ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                       ("node.kubernetes.io/unschedulable", "NoSchedule"))


def daemon_pod_spec(template_spec: dict, node: str | None) -> dict:
    spec = clone(template_spec)
    tolerations = spec.setdefault("tolerations", [])
    extra = list(_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        extra.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    for key, effect in extra:
        if not any(t.get("key") == key and t.get("effect") == effect for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    if node is not None:
        # util.ReplaceDaemonSetPodNodeNameNodeAffinity: the scheduler places it on that node.
        spec.setdefault("affinity", {})["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}
    return spec


def _target_node(pod: dict) -> str | None:
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = ((((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None


class DaemonSetController(Controller):
    name = "daemonset"

    def on_event(self, event: Event) -> None:
        if event.resource.plural == "nodes":       # a node added or changed may want a daemon pod
            for ds in self.store.list_resource(DAEMONSETS):
                self.mark((ds["metadata"]["namespace"], ds["metadata"]["name"]))
        else:
            self.mark_self_or_owner(event, "daemonsets", "pods", "DaemonSet")

    def reconcile(self, key) -> None:
        ns, name = key
        ds = self.store.get_resource(DAEMONSETS, ns, name)
        if ds is None:
            return
        template = ds["spec"]["template"]
        revision = _naming.pod_template_hash(template)
        pods = [p for p in self.store.list_resource(PODS, ns) if owned_by(p, ds) and active(p)]
        by_node: dict[str, list[dict]] = {}
        for p in pods:
            by_node.setdefault(_target_node(p) or "", []).append(p)
        nodes = sorted(self.store.list_resource(NODES), key=lambda n: n["metadata"]["name"])
        should = [n["metadata"]["name"] for n in nodes
                  if schedulable(n, {"spec": daemon_pod_spec(template["spec"], n["metadata"]["name"])})]
        if not ds["metadata"].get("deletionTimestamp"):
            for node in should:
                if not by_node.get(node):
                    created = self._create(ds, node, revision)
                    if created is not None:
                        by_node[node] = [created]
            for node, on_node in list(by_node.items()):
                # Daemon pods where none should run, and duplicates past the first.
                for p in on_node[0 if node not in should else 1:]:
                    self.registry.delete(PODS, ns, p["metadata"]["name"])
                    self.record(ds, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}",
                                "daemonset-controller")
                if node not in should:
                    del by_node[node]
        scheduled = [by_node[n][0] for n in should if by_node.get(n)]
        ready = sum(1 for p in scheduled if pod_ready(p))
        status = {"currentNumberScheduled": len(scheduled), "numberMisscheduled": 0,
                  "desiredNumberScheduled": len(should), "numberReady": ready,
                  "observedGeneration": ds["metadata"].get("generation", 1),
                  "updatedNumberScheduled": sum(1 for p in scheduled
                                                if p["metadata"]["labels"].get("controller-revision-hash") == revision),
                  "numberAvailable": ready}
        if len(should) - ready:
            status["numberUnavailable"] = len(should) - ready
        for field in ("updatedNumberScheduled", "numberAvailable"):
            if not status[field]:
                del status[field]
        if ds.get("status") != status:
            self.store.mutate(DAEMONSETS, ns, name, lambda o: o.__setitem__("status", status))

    def _create(self, ds: dict, node: str, revision: str) -> dict | None:
        template = ds["spec"]["template"]
        pod = pod_from_template(template, ds, "DaemonSet", "apps/v1")
        pod["metadata"]["labels"].update({"controller-revision-hash": revision, "pod-template-generation":
                                          str(ds["metadata"].get("generation", 1))})
        pod["spec"] = daemon_pod_spec(template["spec"], node)
        return self.create_pod(ds, pod, "daemonset-controller")
