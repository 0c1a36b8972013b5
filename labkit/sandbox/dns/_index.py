"""A read-only index of what the cluster DNS answers from, rebuilt only when the cluster changes.

It mirrors the objects CoreDNS's kubernetes plugin keeps in its informer caches
(plugin/kubernetes/object: service.go, endpoint.go): Services with their ports,
the *ready* addresses of their EndpointSlices, the namespaces, and the reverse
indexes for PTR.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .._cluster import ClusterReader
from .._config import SandboxConfig

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
NO_PORT = ("", -1, "")  # CoreDNS's sentinel for a Service or subset without ports


@dataclass(frozen=True)
class Address:
    ip: str
    hostname: str = ""

    @property
    def endpoint_name(self) -> str:
        """The endpoint label: the hostname, else the dashed IP (kubernetes.go endpointHostname)."""
        if self.hostname:
            return self.hostname
        return self.ip.replace(".", "-") if "." in self.ip else self.ip.replace(":", "-")


@dataclass(frozen=True)
class Subset:
    addresses: tuple[Address, ...]
    ports: tuple[tuple[str, int, str], ...]  # (name, port, protocol)


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    kind: str                         # "ClusterIP" (any type with a cluster IP), "Headless", "ExternalName"
    cluster_ips: tuple[str, ...] = ()
    external_name: str = ""
    ports: tuple[tuple[str, int, str], ...] = (NO_PORT,)
    subsets: tuple[Subset, ...] = ()

    @property
    def headless(self) -> bool:
        return self.kind == "Headless"


@dataclass
class ClusterIndex:
    domain: str                                   # "cluster.local." (lowercase, trailing dot)
    ttl: int
    serial: int
    revision: int | None = None
    namespaces: frozenset[str] = frozenset()
    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    reverse_services: dict[str, str] = field(default_factory=dict)       # cluster IP -> svc name
    reverse_endpoints: dict[str, list[str]] = field(default_factory=dict)  # endpoint IP -> names
    # Where the nameserver lives, as (owner name without the zone, ip): see _ns_addrs.
    ns_addrs: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def build(cls, reader: ClusterReader, config: SandboxConfig, *, serial: int | None = None
              ) -> "ClusterIndex":
        revision = getattr(reader, "revision", None)
        domain = config.cluster_domain.strip(".").lower() + "."
        index = cls(domain=domain, ttl=config.dns_ttl,
                    serial=serial if serial is not None else int(revision or 0))
        index.revision = revision
        index.namespaces = frozenset(n["metadata"]["name"] for n in reader.list("namespaces"))

        subsets: dict[tuple[str, str], list[Subset]] = {}
        for eps in sorted(reader.list("endpointslices"), key=_meta_key):
            meta = eps["metadata"]
            svc_name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
            if not svc_name or eps.get("addressType", "IPv4") == "FQDN":
                continue
            subsets.setdefault((meta.get("namespace", ""), svc_name), []).append(_slice_subset(eps))
        # Endpoints objects only for Services that have no EndpointSlice at all.
        for ep in sorted(reader.list("endpoints"), key=_meta_key):
            key = (ep["metadata"].get("namespace", ""), ep["metadata"]["name"])
            if key not in subsets:
                subsets[key] = [_endpoints_subset(s) for s in ep.get("subsets") or ()]

        for obj in sorted(reader.list("services"), key=_meta_key):
            svc = _service(obj, tuple(subsets.get(_ns_name(obj), ())))
            index.services[(svc.namespace, svc.name)] = svc

        # PTR order among several Services of one address is the informer's in CoreDNS
        # (unspecified); headless Services first keeps the lesson's endpoint names stable.
        for (ns, name), svc in sorted(index.services.items(), key=lambda kv: (not kv[1].headless, kv[0])):
            fqdn = f"{name}.{ns}.svc.{domain}"
            for ip in svc.cluster_ips:
                index.reverse_services.setdefault(_canonical(ip), fqdn)
            if svc.kind == "ExternalName":
                continue
            for sub in svc.subsets:
                for addr in sub.addresses:
                    index.reverse_endpoints.setdefault(_canonical(addr.ip), []).append(
                        f"{addr.endpoint_name}.{fqdn}")

        index.ns_addrs = _ns_addrs(index, config)
        return index

    def service(self, namespace: str, name: str) -> Service | None:
        return self.services.get((namespace, name))


def _meta_key(obj: dict) -> tuple[str, str]:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _ns_name(obj: dict) -> tuple[str, str]:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _canonical(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip


def _ports(items) -> tuple[tuple[str, int, str], ...]:
    ports = tuple((p.get("name") or "", int(p["port"]) if p.get("port") is not None else -1,
                   p.get("protocol") or "TCP") for p in items or ())
    return ports or (NO_PORT,)


def _slice_subset(eps: dict) -> Subset:
    addresses = []
    for ep in eps.get("endpoints") or ():
        ready = (ep.get("conditions") or {}).get("ready")
        if ready is False:          # nil counts as ready (discovery/v1 EndpointConditions)
            continue
        for ip in ep.get("addresses") or ():
            addresses.append(Address(ip, ep.get("hostname") or ""))
    return Subset(tuple(addresses), _ports(eps.get("ports")))


def _endpoints_subset(subset: dict) -> Subset:
    addresses = tuple(Address(a["ip"], a.get("hostname") or "") for a in subset.get("addresses") or ())
    return Subset(addresses, _ports(subset.get("ports")))


def _service(obj: dict, subsets: tuple[Subset, ...]) -> Service:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    ns, name = meta.get("namespace", ""), meta["name"]
    if spec.get("type") == "ExternalName":
        return Service(ns, name, "ExternalName", external_name=spec.get("externalName") or "",
                       ports=_ports(spec.get("ports")))
    cluster_ip = spec.get("clusterIP") or ""
    if cluster_ip == "None":
        return Service(ns, name, "Headless", ports=_ports(spec.get("ports")), subsets=subsets)
    ips = tuple(spec.get("clusterIPs") or ([cluster_ip] if cluster_ip else ()))
    return Service(ns, name, "ClusterIP", cluster_ips=ips, ports=_ports(spec.get("ports")),
                   subsets=subsets)


def _ns_addrs(index: ClusterIndex, config: SandboxConfig) -> list[tuple[str, str]]:
    """Where the nameserver lives (ns.go nsAddrs): the kube-dns Service, else our own address."""
    svc = index.service("kube-system", "kube-dns")
    if svc is not None and svc.kind == "ClusterIP" and svc.cluster_ips:
        return [("kube-dns.kube-system.svc.", ip) for ip in svc.cluster_ips]
    if svc is not None and svc.headless:
        return [(f"{a.endpoint_name}.kube-dns.kube-system.svc.", a.ip)
                for sub in svc.subsets for a in sub.addresses]
    return [("ns.dns.", config.cluster_dns_ip)]
