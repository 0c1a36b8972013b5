"""The kubelet of every node: a bound pod's sandbox and IP (the CNI's IPAM), its containers
started and Ready, and a terminating pod stopped and removed."""
from __future__ import annotations

import ipaddress

from ..apis import _naming
from .._clock import rfc3339
from ..storage._store import Event
from ._base import NODES, PODS, Controller, delete_quietly
from ._prober import readiness_failure


class Kubelet(Controller):
    name = "kubelet"

    def __init__(self, manager) -> None:
        super().__init__(manager)
        self._bound_at: dict[tuple, float] = {}     # when the scheduler bound a pod (start delay)
        self._waiting_ip: set[tuple] = set()       # bound pods whose node's range had no address
        self._stopping: dict[tuple, float] = {}     # terminating pods: when their containers exit
        self._used_ips: set = set()

    def pod_bound(self, key) -> None:
        """The scheduler bound the pod: its start delay runs from now."""
        self._bound_at[key] = self.store.clock.monotonic()

    def on_event(self, event: Event) -> None:
        obj, meta = event.object, event.object["metadata"]
        if event.resource.plural != "pods":
            return
        if event.type == "DELETED":
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

        # The readiness probe runs once the containers start; a pod's spec never changes,
        # so its verdict stands until the pod is replaced.
        failing = {c["name"]: msg for c in pod["spec"]["containers"]
                   if (msg := readiness_failure(pod, c, ip)) is not None}
        ready = "False" if failing else "True"
        unready = ({"reason": "ContainersNotReady",
                    "message": f"containers with unready status: [{' '.join(failing)}]"}
                   if failing else {})

        def run(p: dict) -> None:
            st = p.setdefault("status", {})
            st.update(phase="Running", hostIP=host_ip, hostIPs=[{"ip": host_ip}], podIP=ip,
                      podIPs=[{"ip": ip}], startTime=now, qosClass=st.get("qosClass", "BestEffort"))
            scheduled = next((c for c in st.get("conditions") or [] if c["type"] == "PodScheduled"),
                             {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                              "lastTransitionTime": now})
            st["conditions"] = [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                {"type": "Ready", "status": ready, "lastProbeTime": None, "lastTransitionTime": now,
                 **unready},
                {"type": "ContainersReady", "status": ready, "lastProbeTime": None,
                 "lastTransitionTime": now, **unready},
                scheduled]
            st["containerStatuses"] = [{
                "name": c["name"], "image": full_image(c["image"]),
                "imageID": f"{full_image(c['image']).rsplit(':', 1)[0]}@sha256:"
                           f"{_naming.spread(0, 'img', c['image']):016x}" * 1,
                "containerID": f"containerd://{_naming.spread(self.config.seed, 'cid', ns, name, c['name']):016x}"
                               f"{_naming.spread(self.config.seed, 'cid2', ns, name, c['name']):016x}",
                "ready": c["name"] not in failing, "started": True, "restartCount": 0,
                "state": {"running": {"startedAt": now}}, "lastState": {}}
                for c in p["spec"]["containers"]]
        started = self.store.mutate(PODS, ns, name, run)
        for c in pod["spec"]["containers"]:
            self.record(started, "Pulled", f'Container image "{c["image"]}" already present on machine', "kubelet")
            self.record(started, "Created", f"Created container {c['name']}", "kubelet")
            self.record(started, "Started", f"Started container {c['name']}", "kubelet")
        for message in failing.values():
            self.record(started, "Unhealthy", f"Readiness probe failed: {message}", "kubelet", "Warning")

    def _stop_pod(self, key, pod: dict) -> None:
        """A terminating pod's containers get SIGTERM; the sandbox's exit within
        pod_stop_seconds (well inside any grace period), then the pod object goes."""
        stop_at = self._stopping.setdefault(key, self.store.clock.monotonic() + self.config.pod_stop_seconds)
        wait = stop_at - self.store.clock.monotonic()
        if wait > 0:
            self.manager.later(wait, self.name, key)
            return
        del self._stopping[key]
        self.record(pod, "Killing", f"Stopping container {pod['spec']['containers'][0]['name']}", "kubelet")
        delete_quietly(self.store, PODS, *key)

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
        sandbox_id = "".join(f"{_naming.spread(self.config.seed, 'sandbox', i, *key):016x}" for i in range(4))
        self.record(pod, "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
                    f'sandbox "{sandbox_id}": plugin type="ptp" failed (add): failed to allocate for range 0: '
                    f"no IP addresses available in range set: {net[1]}-{net[-2]}", "kubelet", "Warning")
        return None


def full_image(image: str) -> str:
    """How containerd reports an image reference: registry and tag made explicit."""
    name = image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name
