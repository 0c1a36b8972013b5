"""The scheduler: each pod without a node goes to the least loaded node that fits it, or
stays Pending with the scheduler's FitError."""
from __future__ import annotations

import functools
import math

from ..apis import _naming, _quantity
from .._clock import rfc3339
from ..storage._store import Event
from ._base import NODES, PODS, Controller


class Scheduler(Controller):
    name = "scheduler"

    def __init__(self, manager) -> None:
        super().__init__(manager)
        self._waiting: set[tuple] = set()          # pods no node could take (the unschedulable queue)
        self._node_load: dict[str, int] = {}

    def on_event(self, event: Event) -> None:
        obj, plural = event.object, event.resource.plural
        meta = obj["metadata"]
        if plural == "pods":
            key = (meta.get("namespace"), meta["name"])
            if event.type == "DELETED":
                self._waiting.discard(key)
                if obj["spec"].get("nodeName"):
                    # A node has room again: the pods it could not place go back to the active queue.
                    for waiting in self._waiting:
                        self.mark(waiting)
            elif not meta.get("deletionTimestamp") and not obj["spec"].get("nodeName"):
                self.mark(key)
        elif plural == "nodes" and event.type != "DELETED":
            # A node added or changed may now fit pods no node took: the scheduler retries them.
            for pod in self.store.list_resource(PODS):
                if not pod["spec"].get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
                    self.mark((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    def begin(self) -> None:
        self._node_load = {}
        for p in self.store.list_resource(PODS):
            node = p["spec"].get("nodeName")
            if node:
                self._node_load[node] = self._node_load.get(node, 0) + 1

    def reconcile(self, key) -> None:
        ns, name = key
        pod = self.store.get_resource(PODS, ns, name)
        if pod is None or pod["spec"].get("nodeName"):
            return
        all_nodes = self.store.list_resource(NODES)
        load = self._node_load
        nodes = [n["metadata"]["name"] for n in all_nodes if schedulable(n, pod, load.get(n["metadata"]["name"], 0))]
        if not nodes:
            self._waiting.add(key)
            self._unschedulable(pod, unschedulable_message(all_nodes, pod, load))
            return
        self._waiting.discard(key)
        # Least loaded node first, as the default scheduler's spreading scores tend to; ties by a seeded draw.
        # (The seeded draw is made among the least loaded only: it decides nothing elsewhere.)
        least = min(load.get(n, 0) for n in nodes)
        node = min((n for n in nodes if load.get(n, 0) == least),
                   key=lambda n: _naming.spread(self.config.seed, "node", ns, name, n))
        load[node] = load.get(node, 0) + 1
        now = rfc3339(self.store.clock.now())

        def bind(p: dict) -> None:
            p["spec"]["nodeName"] = node
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["conditions"] = [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                 "lastTransitionTime": now}]
            # What the kubelet reports while it pulls and starts: STATUS ContainerCreating.
            st["hostIP"] = self.config.node_ip(node) if node in self.config.nodes else None
            st["containerStatuses"] = [{
                "name": c["name"], "image": c["image"], "imageID": "", "ready": False,
                "restartCount": 0, "started": False, "lastState": {},
                "state": {"waiting": {"reason": "ContainerCreating"}}} for c in p["spec"]["containers"]]
        bound = self.store.mutate(PODS, ns, name, bind)
        self.manager.kubelet.pod_bound(key)
        self.record(bound, "Scheduled", f"Successfully assigned {ns}/{name} to {node}", "default-scheduler")

    def _unschedulable(self, pod: dict, message: str) -> None:
        """PodScheduled=False, reason Unschedulable, and a FailedScheduling event, as the
        scheduler reports a pod no node fits; written again only when the message changes."""
        current = next((c for c in (pod.get("status") or {}).get("conditions") or []
                        if c.get("type") == "PodScheduled"), None)
        if current and current.get("status") == "False" and current.get("message") == message:
            return
        now = rfc3339(self.store.clock.now())

        def mark(p: dict) -> None:
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            others = [c for c in st.get("conditions") or [] if c.get("type") != "PodScheduled"]
            st["conditions"] = others + [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                          "lastTransitionTime": now, "reason": "Unschedulable",
                                          "message": message}]
        marked = self.store.mutate(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], mark)
        if marked is not None:
            self.record(marked, "FailedScheduling", message, "default-scheduler", "Warning")


def _requirement(req: dict, value: str | None) -> bool:
    op, values = req.get("operator"), req.get("values") or []
    return {"In": value in values, "NotIn": value not in values, "Exists": value is not None,
            "DoesNotExist": value is None}.get(op, False)


def _affinity_matches(node: dict, pod: dict) -> bool:
    """requiredDuringSchedulingIgnoredDuringExecution: any term whose expressions (labels)
    and fields (metadata.name, as DaemonSet pods pin their node) all hold."""
    required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if not terms:
        return True
    labels = node["metadata"].get("labels") or {}
    return any(all(_requirement(r, labels.get(r.get("key"))) for r in term.get("matchExpressions") or [])
               and all(_requirement(r, node["metadata"]["name"] if r.get("key") == "metadata.name" else None)
                       for r in term.get("matchFields") or [])
               for term in terms)


def schedulable(node: dict, pod: dict, load: int = 0) -> bool:
    return _unfit(node, pod, load) is None


TOO_MANY_PODS = "Too many pods"


def node_max_pods(node: dict) -> int:
    """The pods a node takes: status.allocatable.pods (the kubelet's maxPods), else 110."""
    status = node.get("status") or {}
    value = (status.get("allocatable") or status.get("capacity") or {}).get("pods", "110")
    # Kept by its text: every pod's scheduling reads every node's.
    return _pods_of_text(value) if isinstance(value, str) else _pods(value)


def _pods(value) -> int:
    # A quantity, as the kubelet reports it ("1k" for 1000): Quantity.Value() rounds up.
    amount = _quantity.amount(value)
    return math.ceil(amount) if amount is not None else 110


_pods_of_text = functools.lru_cache(maxsize=64)(_pods)


def _unfit(node: dict, pod: dict, load: int = 0) -> str | None:
    """Why the node cannot take the pod, from the first scheduler filter that rejects it
    (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, in the default plugin
    order), else None. `load` is how many pods the node has already. The wording is each
    plugin's (pkg/scheduler/framework/plugins/...; noderesources/fit.go "Too many pods")."""
    tolerations = pod["spec"].get("tolerations") or []
    if node["spec"].get("unschedulable") and not any(
            t.get("key") == "node.kubernetes.io/unschedulable" and t.get("operator") == "Exists"
            for t in tolerations):
        return "node(s) were unschedulable"
    for taint in node["spec"].get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(t.get("operator") == "Exists" and not t.get("key") or
                   t.get("key") == taint["key"] and (t.get("operator") == "Exists" or t.get("value") == taint.get("value"))
                   and (not t.get("effect") or t["effect"] == taint["effect"]) for t in tolerations):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"
    wanted = pod["spec"].get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    if not all(labels.get(k) == v for k, v in wanted.items()) or not _affinity_matches(node, pod):
        return "node(s) didn't match Pod's node affinity/selector"
    if load + 1 > node_max_pods(node):
        return TOO_MANY_PODS
    return None


def unschedulable_message(nodes: list[dict], pod: dict, load: dict[str, int] | None = None) -> str:
    """The scheduler's FitError text when no node fits: counts per reason, sorted, then what
    preemption found. Nodes rejected for a reason eviction cannot fix are "not helpful"; a
    node that is only full could take the pod if lower-priority pods left, and with none
    there is "No preemption victims found" (pkg/scheduler/framework/preemption)."""
    counts: dict[str, int] = {}
    full = 0
    for node in nodes:
        reason = _unfit(node, pod, (load or {}).get(node["metadata"]["name"], 0))
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
            full += reason == TOO_MANY_PODS
    reasons = sorted(f"{n} {reason}" for reason, n in counts.items())
    total = len(nodes)
    text = f"0/{total} nodes are available"
    if reasons:
        text += ": " + ", ".join(reasons)
    preemption = []
    if total - full:
        preemption.append(f"{total - full} Preemption is not helpful for scheduling")
    if full:
        preemption.append(f"{full} No preemption victims found for incoming pod")
    return f"{text}. preemption: 0/{total} nodes are available: {', '.join(sorted(preemption))}."
