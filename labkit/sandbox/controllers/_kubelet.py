"""The kubelet of every node: a bound pod's sandbox and IP (the CNI's IPAM), its containers
started (see _pod_containers: their commands, restarts and images), and a terminating pod
stopped and removed."""
from __future__ import annotations

import ipaddress

from ..apis import _naming
from .._clock import rfc3339
from ..storage._store import Event
from ._base import NODES, PODS, SVC, Controller, parse_time
from ._pod_containers import PodContainers


class Kubelet(Controller):
    name = "kubelet"

    def __init__(self, manager) -> None:
        super().__init__(manager)
        self._bound_at: dict[tuple, float] = {}     # when the scheduler bound a pod (start delay)
        self._waiting_ip: set[tuple] = set()       # bound pods whose node's range had no address
        self._used_ips: set = set()
        self.containers = PodContainers(self)
        # The Services a pod's containers saw when they started, by pod uid: the kubelet
        # turns them into environment variables then, and never again (kubelet_pods.go
        # makeEnvironmentVariables reads the service lister at container creation).
        self._service_links: dict[str, list[dict]] = {}

    def services_at_start(self, pod: dict) -> list[dict] | None:
        """The Services the pod's environment variables were made from (None: not recorded)."""
        return self._service_links.get(pod["metadata"].get("uid", ""))

    def pod_bound(self, key) -> None:
        """The scheduler bound the pod: its start delay runs from now."""
        self._bound_at[key] = self.store.clock.monotonic()

    def on_event(self, event: Event) -> None:
        obj, meta = event.object, event.object["metadata"]
        if event.resource.plural != "pods":
            return
        if event.type == "DELETED":
            self.containers.forget(obj)
            self._service_links.pop(meta.get("uid", ""), None)
            if obj["spec"].get("nodeName"):
                for waiting in self._waiting_ip:     # an address may be free again
                    self.mark(waiting)
        elif meta.get("deletionTimestamp") or (
                obj["spec"].get("nodeName") and (obj.get("status") or {}).get("phase") == "Pending"):
            self.mark((meta.get("namespace"), meta["name"]))

    def begin(self) -> None:
        self._used_ips = {(p.get("status") or {}).get("podIP") for p in self.store.list_resource(PODS)}

    def reconcile(self, key) -> None:
        ns, name = key
        pod = self.store.get_resource(PODS, ns, name)
        if pod is not None and pod["metadata"].get("deletionTimestamp"):
            self._stop_pod(key, pod)
            return
        if pod is not None and self.containers.started(pod):
            self.containers.sync(pod)
            return
        if pod is None or not pod["spec"].get("nodeName") or (pod.get("status") or {}).get("phase") != "Pending":
            return
        wait = self._bound_at.get(key, 0.0) + self.config.pod_start_seconds - self.store.clock.monotonic()
        if wait > 0:
            self.manager.later(wait, self.name, key)
            return
        self._bound_at.pop(key, None)
        ip = self._allocate_pod_ip(pod)
        if ip is None:
            return
        node = pod["spec"]["nodeName"]
        now = rfc3339(self.store.clock.now())
        host_ip = self.config.node_ip(node) if node in self.config.nodes else None
        if pod["spec"].get("hostNetwork"):
            ip = host_ip

        self._service_links[pod["metadata"].get("uid", "")] = [
            s for s in self.store.list_resource(SVC, None)
            if s["metadata"].get("namespace") == ns
            or (s["metadata"].get("namespace") == "default" and s["metadata"]["name"] == "kubernetes")]
        self.containers.start_pod(pod, dict(
            hostIP=host_ip, hostIPs=[{"ip": host_ip}], podIP=ip, podIPs=[{"ip": ip}], startTime=now,
            qosClass=(pod.get("status") or {}).get("qosClass", "BestEffort")))

    def _stop_pod(self, key, pod: dict) -> None:
        """A terminating pod: its containers stopped (SIGTERM, then SIGKILL when the grace
        period ends), then the pod deleted with grace 0, as the kubelet's status manager
        does once nothing of it runs (pkg/kubelet/status/status_manager.go)."""
        wait = self.containers.stop(pod, parse_time(pod["metadata"]["deletionTimestamp"]))
        if wait is not None:
            self.manager.later(wait, self.name, key)
            return
        if pod["metadata"].get("finalizers"):
            return      # the API server keeps it until they are removed (this key is marked again then)
        if self.store.get_resource(PODS, *key) is not None:
            self.registry.delete(PODS, *key, grace_seconds=0)

    def _allocate_pod_ip(self, pod: dict) -> str | None:
        """An address for the pod, as the CNI's IPAM gives one: from the node's
        spec.podCIDR when the node has one (host-local IPAM over the node's range, as
        kindnet and flannel configure it), else from the cluster's shared pod CIDR.
        Seeded from the pod's identity with collision probing, so the shared-pool
        addresses are the same as before nodes had ranges."""
        node = self.store.get_resource(NODES, None, pod["spec"].get("nodeName") or "")
        node_cidr = ((node or {}).get("spec") or {}).get("podCIDR")
        net = ipaddress.ip_network(node_cidr or self.config.pod_cidr)
        used = self._used_ips
        size = net.num_addresses - 3       # skip the network address, the gateway (.1) and broadcast
        meta = pod["metadata"]
        start = _naming.spread(self.config.seed, "podip", meta["namespace"], meta["name"]) % size
        key = (meta["namespace"], meta["name"])
        for step in range(size):
            ip = str(net[2 + (start + step) % size])
            if ip not in used:
                used.add(ip)
                self._waiting_ip.discard(key)
                return ip
        # The CNI's host-local IPAM has no free address: the kubelet cannot create the pod's
        # sandbox and the pod stays ContainerCreating until an address is freed. The message
        # is containerd's, wrapping the plugin's (plugins/ipam/host-local/backend/allocator:
        # the range set printed from its first address, the gateway's, to the last).
        self._waiting_ip.add(key)
        sandbox_id = _naming.pod_sandbox_id(self.config.seed, *key)
        self.record(pod, "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
                    f'sandbox "{sandbox_id}": plugin type="ptp" failed (add): failed to allocate for range 0: '
                    f"no IP addresses available in range set: {net[1]}-{net[-2]}", "kubelet", "Warning")
        return None
