"""The sandbox's settings: the lab's topology, its seed and its timings.

Defaults mirror the lab the course is based on. Every address here is virtual:
it exists only inside the sandbox, and no packet is ever sent to it.
"""
from __future__ import annotations

import dataclasses
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
    dns_ttl: int = 30                       # CoreDNS `ttl 30` in the kubernetes plugin
    dns_cache_seconds: int = 30             # CoreDNS `cache 30`; 0 turns the cache off
    dns_loadbalance: bool = True            # CoreDNS `loadbalance`: shuffle A/AAAA answers
    pod_start_seconds: float = 0.05         # Pending -> Running, as a kubelet would take
    pod_stop_seconds: float = 0.2           # Terminating -> gone: containers that exit on SIGTERM
    exec_timeout_seconds: float = 60.0
    # Names outside the cluster that the sandbox's "outside world" answers; others are NXDOMAIN.
    outside_world: dict[str, str] = field(default_factory=lambda: {
        "example.com.": "93.184.215.14",
        "google.com.": "142.250.185.78",
        "kubernetes.io.": "147.75.40.148",
    })

    @property
    def cluster_dns_ip(self) -> str:
        """The tenth address of the service CIDR, as kubeadm assigns to kube-dns."""
        return str(self.service_network[10])

    @property
    def kubernetes_service_ip(self) -> str:
        """The first address of the service CIDR, as the API server takes for `kubernetes`."""
        return str(self.service_network[1])

    @property
    def pod_network(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.pod_cidr)

    @property
    def service_network(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.service_cidr)

    def node_ip(self, node: str) -> str:
        return str(ipaddress.ip_network(self.node_cidr)[2 + self.nodes.index(node)])

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SandboxConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "nodes" in values:
            values["nodes"] = tuple(values["nodes"])
        return cls(**values)
