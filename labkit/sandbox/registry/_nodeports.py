"""NodePort allocation, as the service registry's allocator does it
(pkg/registry/core/service/storage/alloc.go, portallocator): every port of a NodePort
Service, or of a LoadBalancer that allocates node ports, gets one from 30000-32767; a port
asked for is checked, with the allocator's words, and an update keeps the ports already
given. Dynamic picks come from above the static band (ServiceNodePortStaticSubrange),
seeded from the Service's identity so the same Service gets the same port."""
from __future__ import annotations

from ..apis import _naming
from ..validation._field_errors import Invalid

LOW, HIGH = 30000, 32767
_SIZE = HIGH - LOW + 1
_STATIC_BAND = min(max(16, _SIZE // 32), 128)      # the lower ports, kept for explicit requests


def needs_node_ports(spec: dict) -> bool:
    typ = spec.get("type")
    return typ == "NodePort" or (typ == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True))


def keep_allocated(spec: dict, old_spec: dict) -> None:
    """patchAllocatedValues and dropTypeDependentFields: an update that omits a port's
    nodePort keeps the old one; a change to a type without node ports drops the ones the
    update left unchanged."""
    old_ports = old_spec.get("ports") or []
    if needs_node_ports(old_spec) and needs_node_ports(spec):
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                same = [p for p in old_ports if p.get("name", "") == port.get("name", "")
                        and p.get("port") == port.get("port")] or \
                       [p for p in old_ports if p.get("port") == port.get("port")
                        and p.get("protocol") == port.get("protocol")]
                if same and same[0].get("nodePort"):
                    port["nodePort"] = same[0]["nodePort"]
    elif needs_node_ports(old_spec) and not needs_node_ports(spec):
        old_node_ports = {p.get("nodePort") for p in old_ports}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and port.get("nodePort") in old_node_ports:
                port.pop("nodePort")


def allocate(service: dict, services: list[dict], seed: int) -> None:
    """Give each port that needs one a node port; raise Invalid for one that is taken or
    out of range. `services` are the others (a Service's own ports are its own)."""
    spec = service.get("spec") or {}
    if not needs_node_ports(spec):
        return
    meta = service["metadata"]
    used = {p.get("nodePort") for s in services
            if (s["metadata"].get("namespace"), s["metadata"]["name"]) != (meta.get("namespace"), meta.get("name"))
            for p in (s.get("spec") or {}).get("ports") or [] if p.get("nodePort")}
    for i, port in enumerate(spec.get("ports") or []):
        wanted = port.get("nodePort")
        if not wanted:
            continue
        problem = None
        if not LOW <= wanted <= HIGH:
            problem = f"provided port is not in the valid range. The range of valid ports is {LOW}-{HIGH}"
        elif wanted in used:
            problem = "provided port is already allocated"
        if problem:
            raise Invalid("Service", meta.get("name", ""), [{
                "reason": "FieldValueInvalid", "field": f"spec.ports[{i}].nodePort",
                "message": f"Invalid value: {wanted}: {problem}"}])
        used.add(wanted)
    dynamic = _SIZE - _STATIC_BAND
    for i, port in enumerate(spec.get("ports") or []):
        if port.get("nodePort"):
            continue
        start = _naming.spread(seed, "nodeport", meta.get("namespace"), meta.get("name"), i)
        # The upper band first, then the static band, as the allocator's offset walk does.
        candidates = [LOW + _STATIC_BAND + (start + k) % dynamic for k in range(dynamic)] + \
                     [LOW + (start + k) % _STATIC_BAND for k in range(_STATIC_BAND)]
        free = next((c for c in candidates if c not in used), None)
        if free is None:
            raise Invalid("Service", meta.get("name", ""), [{
                "reason": "FieldValueInvalid", "field": f"spec.ports[{i}].nodePort",
                "message": "Invalid value: 0: range is full"}])
        port["nodePort"] = free
        used.add(free)
