"""The sandbox's settings: the lab's topology, its seed and its timings.

Defaults mirror the lab the course is based on. Every address here is virtual:
it exists only inside the sandbox, and no packet is ever sent to it.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 1
    pod_cidr: str = "10.10.100.0/24"
    service_cidr: str = "10.0.0.0/24"
    cluster_domain: str = "cluster.local"
    nodes: tuple[str, ...] = ("lab-control-plane", "lab-worker", "lab-worker2")
    node_cidr: str = "172.18.0.0/24"        # the nodes' own (virtual) addresses
    # kube-controller-manager's --node-cidr-mask-size (24 for IPv4 by default): the size of
    # each node's spec.podCIDR when pod_cidr is large enough to give every node one.
    node_cidr_mask_size: int = 24
    # Whether a pod's network namespace has IPv6 enabled, so that eth0 carries an fe80::/64
    # link-local address next to its IPv4 address. None: as the pod network mode implies
    # (see pods_have_link_local_ipv6). glibc counts that address for AI_ADDRCONFIG and keeps the
    # interface prefixes for RFC 6724 rule 9 only when it exists (runtime/_addrsort.py).
    pod_ipv6_link_local: bool | None = None
    dns_ttl: int = 30                       # CoreDNS `ttl 30` in the kubernetes plugin
    dns_cache_seconds: int = 30             # CoreDNS `cache 30`; 0 turns the cache off
    dns_loadbalance: bool = True            # CoreDNS `loadbalance`: shuffle A/AAAA answers
    # The chance that conntrack drops one reply of a pod's parallel A/AAAA pair sent to the
    # kube-dns ClusterIP (runtime/_parallel.py); 0 leaves the race out. A pod's annotation
    # sandbox.labkit.dev/conntrack-race overrides it for that pod.
    conntrack_race: float = 0.0
    pod_start_seconds: float = 0.05         # Pending -> Running, as a kubelet would take
    pod_stop_seconds: float = 0.2           # Terminating -> gone: containers that exit on SIGTERM
    exec_timeout_seconds: float = 60.0
    # The kubelet's maxPods (KubeletConfiguration default 110), reported as each node's
    # status.capacity.pods: the scheduler places no more pods than that on a node.
    max_pods: int = 110
    # kube-apiserver's --event-ttl (default 1h0m0s): Events expire this long after their
    # last change, on the sandbox's clock.
    event_ttl_seconds: float = 3600.0
    # The sandbox's own cap (a real cluster has none but the TTL): beyond this many Events in
    # one namespace, the oldest are dropped, so a runaway controller cannot fill memory.
    max_events_per_namespace: int = 1000
    # etcd's --quota-backend-bytes (default 2 GiB) scaled down for a learner's machine: once the
    # stored objects' JSON passes this, writes fail as a full etcd's do
    # ("etcdserver: mvcc: database space exceeded"); deletes still work.
    quota_bytes: int = 200 * 1000 ** 2
    # Names outside the cluster that the sandbox's "outside world" answers; others are NXDOMAIN.
    outside_world: dict[str, str] = field(default_factory=lambda: {
        "example.com.": "93.184.215.14",
        "google.com.": "142.250.185.78",
        "kubernetes.io.": "147.75.40.148",
    })
    # Name servers in the outside world that a Corefile's `forward` may name (a stub domain):
    # address -> the zone it is authoritative for and its A records. Any other address a
    # `forward` names answers nothing (forward times out). Never a real packet: a table.
    stub_servers: dict[str, dict] = field(default_factory=lambda: {
        "192.168.53.53": {"zone": "corp.internal.", "records": {
            "db.corp.internal.": "192.168.53.10",
            "wiki.corp.internal.": "192.168.53.11",
        }},
    })

    @property
    def cluster_dns_ip(self) -> str:
        """The tenth address of the service CIDR, as kubeadm assigns to kube-dns."""
        return _nth_address(self.service_cidr, 10)

    @property
    def kubernetes_service_ip(self) -> str:
        """The first address of the service CIDR, as the API server takes for `kubernetes`."""
        return _nth_address(self.service_cidr, 1)

    @property
    def pod_network(self) -> ipaddress.IPv4Network:
        return _network(self.pod_cidr)

    @property
    def service_network(self) -> ipaddress.IPv4Network:
        return _network(self.service_cidr)

    def node_ip(self, node: str) -> str:
        return str(_network(self.node_cidr)[2 + self.nodes.index(node)])

    # -- how pods are addressed ------------------------------------------------------
    #
    # Two pod network modes, chosen from the addressing as a cluster would:
    #
    # - Per-node ranges (kindnet, flannel): when pod_cidr holds a /node_cidr_mask_size for
    #   every node, each node gets one, in node order, as kube-controller-manager's node IPAM
    #   writes spec.podCIDR / spec.podCIDRs (range allocator, --node-cidr-mask-size 24; kind:
    #   10.244.0.0/24, 10.244.1.0/24, ...). The kubelet's CNI (host-local IPAM over that
    #   range) gives pods addresses inside it, and the pod's eth0 carries the node's prefix:
    #   10.244.1.5/24 (containernetworking/plugins ptp.go keeps the IPAM mask on the
    #   container side; the bridge plugin does as well). The kubelet and the pod runtime
    #   read the range from the Node object, as kindnet does to write its CNI config.
    # - One shared pool (the default 10.10.100.0/24 for three nodes, as in the course's lab,
    #   which a /24 per node cannot split): addresses come from the whole pool and eth0 has a
    #   /32, as Calico configures it (calico cni-plugin pkg/dataplane/linux/dataplane_linux.go
    #   sets CIDRMask(32, 32) and routes everything via 169.254.1.1).
    #
    # The prefix matters to getaddrinfo: glibc's RFC 6724 rule 9 counts common prefix bits
    # for IPv4 only inside the source interface's subnet (runtime/_addrsort.py).

    def node_pod_cidr(self, node: str) -> str | None:
        """The node's spec.podCIDR, or None when all pods share pod_cidr (a /32 per pod)."""
        net = self.pod_network
        size = self.node_cidr_mask_size
        if node not in self.nodes or net.version != 4 or not net.prefixlen < size <= 30:
            return None
        if 2 ** (size - net.prefixlen) < len(self.nodes):
            return None                   # kube-controller-manager would run out of ranges
        index = self.nodes.index(node)
        return str(ipaddress.ip_network((int(net.network_address) + (index << (32 - size)), size)))

    @property
    def pods_have_link_local_ipv6(self) -> bool:
        """Whether pods' eth0 has an IPv6 link-local address. By default: with per-node
        ranges (kind, flannel: the CNI plugins leave IPv6 on in the pod's namespace, so the
        kernel gives eth0 an fe80::/64), but not in the shared-pool mode, whose pods the
        sandbox models with IPv6 off (so AI_ADDRCONFIG asks A only)."""
        if self.pod_ipv6_link_local is not None:
            return self.pod_ipv6_link_local
        return self.node_pod_cidr(self.nodes[0]) is not None if self.nodes else False

    @staticmethod
    def node_names(count: int) -> tuple[str, ...]:
        """Node names as kind gives them: a control plane, then lab-worker, lab-worker2, ..."""
        if count < 1:
            raise ValueError("a cluster needs at least one node")
        return ("lab-control-plane",) + tuple("lab-worker" + (str(i) if i > 1 else "") for i in range(1, count))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SandboxConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "nodes" in values:
            values["nodes"] = tuple(values["nodes"])
        return cls(**values)


@functools.lru_cache(maxsize=16)
def _network(cidr: str) -> ipaddress.IPv4Network:
    """A parsed CIDR, kept: the scheduler and kubelet ask a node's address for every pod."""
    return ipaddress.ip_network(cidr)


@functools.lru_cache(maxsize=64)
def _nth_address(cidr: str, n: int) -> str:
    """An address of a CIDR as text, kept: every name lookup in a pod asks for the cluster
    DNS address, and parsing the CIDR again cost a `getent` loop a tenth of its time."""
    return str(_network(cidr)[n])
