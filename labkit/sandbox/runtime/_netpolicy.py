"""NetworkPolicy as a CNI enforces it, on the sandbox's simulated packets.

The rules of the NetworkPolicy spec (k8s.io/api networking/v1 types.go, and the
"Network Policies" concept page):
- a pod is isolated for ingress (egress) when any policy in its namespace selects it
  and lists that type in policyTypes (defaulted at admission); otherwise all traffic
  of that direction is allowed;
- an isolated pod's traffic is allowed when any rule of any selecting policy allows it
  (policies add up; order does not matter); a packet must pass the sender's egress
  and the receiver's ingress;
- a rule with no `from`/`to` matches every peer, with no `ports` every port; a peer is
  podSelector (pods of the policy's namespace), namespaceSelector (every pod of the
  matching namespaces), both (matching pods in matching namespaces) or ipBlock
  (cidr minus except); a port is protocol (TCP by default), a number or a named
  container port of the destination, and endPort for a range;
- replies of an allowed connection are allowed (CNIs track connections), so only
  the first packet's direction is checked;
- ICMP has no port: a rule with `ports` never matches it.

Traffic to a ClusterIP is judged after kube-proxy's DNAT, against the chosen backend
pod, as real CNIs see it. Pure functions of the cluster state: nothing is sent.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..apis._selectors import SelectorError, selector_from_match


@dataclass(frozen=True)
class End:
    """One end of a packet: its address, and the pod that owns it (None for a node or
    an address outside the cluster)."""
    ip: str
    pod: dict | None = None


def allows(cluster, src: End, dst: End, protocol: str, port: int | None) -> bool:
    """Whether a packet from `src` to `dst` (protocol "TCP", "UDP", "SCTP" or "ICMP",
    destination port) gets through every NetworkPolicy on its way."""
    if src.pod is not None and src.pod is dst.pod:
        return True                  # a pod talking to itself never leaves its network namespace
    if src.pod is not None and not _permitted(cluster, src.pod, "Egress", dst, protocol, port):
        return False
    if dst.pod is not None and not _permitted(cluster, dst.pod, "Ingress", src, protocol, port,
                                               port_owner=dst.pod):
        return False
    return True


def isolating(cluster, pod: dict, direction: str) -> list[dict]:
    """The policies that isolate `pod` for "Ingress" or "Egress"."""
    meta = pod.get("metadata") or {}
    found = []
    for policy in cluster.list("networkpolicies", meta.get("namespace")):
        spec = policy.get("spec") or {}
        if direction in (spec.get("policyTypes") or _default_types(spec)) \
                and _matches(spec.get("podSelector") or {}, meta.get("labels")):
            found.append(policy)
    return found


def _default_types(spec: dict) -> list[str]:
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _permitted(cluster, pod: dict, direction: str, peer: End, protocol: str,
               port: int | None, port_owner: dict | None = None) -> bool:
    policies = isolating(cluster, pod, direction)
    if not policies:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    owner = port_owner if port_owner is not None else peer.pod
    for policy in policies:
        namespace = policy["metadata"].get("namespace")
        for rule in (policy.get("spec") or {}).get(key) or []:
            rule = rule or {}
            if not _port_matches(rule.get("ports"), protocol, port, owner):
                continue
            peers = rule.get(peers_key)
            if not peers or any(_peer_matches(cluster, p or {}, namespace, peer) for p in peers):
                return True
    return False


def _port_matches(ports, protocol: str, port: int | None, owner: dict | None) -> bool:
    if not ports:
        return True
    for entry in ports:
        entry = entry or {}
        if (entry.get("protocol") or "TCP") != protocol or port is None:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, int):
            if wanted <= port <= (entry.get("endPort") or wanted):
                return True
        elif _named_port(owner, str(wanted), protocol) == port:
            return True
    return False


def _named_port(pod: dict | None, name: str, protocol: str) -> int | None:
    """A named port is looked up in the destination pod's containers."""
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        for p in container.get("ports") or []:
            if p.get("name") == name and (p.get("protocol") or "TCP") == protocol:
                return p.get("containerPort")
    return None


def _peer_matches(cluster, peer: dict, namespace: str | None, end: End) -> bool:
    block = peer.get("ipBlock")
    if block is not None:
        return _in_block(block, end.ip)
    if end.pod is None:
        return False                 # selectors pick pods; a node or the outside is not one
    meta = end.pod.get("metadata") or {}
    ns_selector, pod_selector = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_selector is None:
        if meta.get("namespace") != namespace:
            return False
    else:
        ns = cluster.get("namespaces", None, meta.get("namespace"))
        if ns is None or not _matches(ns_selector, (ns.get("metadata") or {}).get("labels")):
            return False
    return pod_selector is None or _matches(pod_selector, meta.get("labels"))


def _in_block(block: dict, ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
        if addr not in ipaddress.ip_network(block.get("cidr", ""), strict=False):
            return False
        return not any(addr in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])
    except (ValueError, TypeError):
        return False


def _matches(selector: dict, labels: dict | None) -> bool:
    try:
        return selector_from_match(selector or {}).matches(labels or {})
    except SelectorError:
        return False
