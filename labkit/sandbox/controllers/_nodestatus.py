"""What each node's kubelet reports about itself, on the sandbox clock: its Lease in
kube-node-lease renewed every 10 s (pkg/kubelet/nodelease, leaseDurationSeconds 40) and
the node's conditions (Ready, MemoryPressure, DiskPressure, PIDPressure) with the
kubelet's reasons and messages (pkg/kubelet/nodestatus/setters.go), their heartbeat
refreshed every nodeStatusReportFrequency (5 min)."""
from __future__ import annotations

import datetime as dt

from .._clock import rfc3339
from ..apis._resources import by_plural
from ..storage._store import Event
from ._base import NODES, Controller, parse_time

LEASES = by_plural("leases")
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
RENEW_SECONDS = 10.0            # the kubelet renews at a quarter of the duration
REPORT_SECONDS = 300.0          # nodeStatusReportFrequency

# (type, status, reason, message) as a healthy kubelet reports them, in its order.
CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def micro_time(moment: dt.datetime) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _micro_seconds(stamp: str | None) -> float:
    try:
        return dt.datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def node_conditions(old: list[dict], now: str, heartbeat_due: bool) -> list[dict]:
    """The node's conditions: a changed one moves its transition time; the heartbeat moves
    when due. A pure function."""
    by_type = {c.get("type"): c for c in old or []}
    out = []
    for type_, status, reason, message in CONDITIONS:
        prev = by_type.get(type_) or {}
        fresh = prev.get("status") != status or not prev.get("lastTransitionTime")
        out.append({"type": type_, "status": status,
                    "lastHeartbeatTime": now if heartbeat_due or fresh or not prev.get("lastHeartbeatTime")
                    else prev["lastHeartbeatTime"],
                    "lastTransitionTime": now if fresh else prev["lastTransitionTime"],
                    "reason": reason, "message": message})
    return out


class NodeStatusController(Controller):
    name = "nodestatus"

    def on_event(self, event: Event) -> None:
        if event.resource.plural == "nodes" and event.type == "ADDED":
            self.mark(event.object["metadata"]["name"])
        elif event.resource.plural == "leases" and event.type == "DELETED" \
                and event.object["metadata"].get("namespace") == LEASE_NAMESPACE:
            self.mark(event.object["metadata"]["name"])

    def reconcile(self, name: str) -> None:
        node = self.store.get_resource(NODES, None, name)
        if node is None:
            return
        clock = self.store.clock
        now = clock.now()
        old = (node.get("status") or {}).get("conditions") or []
        # Due from the stored heartbeat, so a restart does not report again at once.
        beats = [parse_time(c["lastHeartbeatTime"]) for c in old if c.get("lastHeartbeatTime")]
        due = not beats or clock.time() - min(beats) >= REPORT_SECONDS
        conditions = node_conditions(old, rfc3339(now), due)
        if conditions != old:
            self.store.mutate(NODES, None, name,
                              lambda o: o.setdefault("status", {}).__setitem__("conditions", conditions))
        self._renew_lease(node, now)
        self.manager.later(RENEW_SECONDS, self.name, name)

    def _renew_lease(self, node: dict, now: dt.datetime) -> None:
        name = node["metadata"]["name"]
        lease = self.store.get_resource(LEASES, LEASE_NAMESPACE, name)
        if lease is None:
            self.store.create(LEASES, {
                "metadata": {"name": name, "namespace": LEASE_NAMESPACE,
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                                  "uid": node["metadata"]["uid"]}]},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                         "renewTime": micro_time(now)}})
        elif now.timestamp() - _micro_seconds(lease["spec"].get("renewTime")) >= RENEW_SECONDS - 0.5:
            self.store.mutate(LEASES, LEASE_NAMESPACE, name,
                              lambda o: o.setdefault("spec", {}).__setitem__("renewTime", micro_time(now)))
