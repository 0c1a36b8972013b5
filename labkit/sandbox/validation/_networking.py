"""NetworkPolicy validation, in kube-apiserver's wording
(pkg/apis/networking/validation/validation.go: ValidateNetworkPolicySpec,
ValidateNetworkPolicyPort, ValidateNetworkPolicyPeer, ValidateIPBlock)."""
from __future__ import annotations

import ipaddress

from ._field_errors import _Errors
from ._labels import _selector
from ._name_formats import _port_num_errors, is_valid_port_name

_PROTOCOLS = ["TCP", "UDP", "SCTP"]
_POLICY_TYPES = ["Ingress", "Egress"]
_CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def _validate_networkpolicy(obj: dict, old: dict | None, errs: _Errors) -> None:
    spec = obj.get("spec") or {}
    _selector(spec.get("podSelector"), "spec.podSelector", errs)
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            rule = rule or {}
            for j, port in enumerate(rule.get("ports") or []):
                _port(port or {}, f"spec.{direction}[{i}].ports[{j}]", errs)
            for j, peer in enumerate(rule.get(peers) or []):
                _peer(peer or {}, f"spec.{direction}[{i}].{peers}[{j}]", errs)
    types = spec.get("policyTypes") or []
    for i, kind in enumerate(types):
        if kind not in _POLICY_TYPES:
            errs.not_supported(f"spec.policyTypes[{i}]", kind, _POLICY_TYPES)
    if len(types) > 2:
        errs.invalid("spec.policyTypes", types, "may not specify more than two policyTypes")


def _port(port: dict, path: str, errs: _Errors) -> None:
    protocol = port.get("protocol")
    if protocol is not None and protocol not in _PROTOCOLS:
        errs.not_supported(f"{path}.protocol", protocol, _PROTOCOLS)
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        if end is not None:
            errs.invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified")
        return
    if isinstance(number, int):
        for msg in _port_num_errors(number):
            errs.invalid(f"{path}.port", number, msg)
        if end is not None:
            if isinstance(end, int) and end < number:
                errs.invalid(f"{path}.endPort", number, "must be greater than or equal to `port`")
            for msg in _port_num_errors(end):
                errs.invalid(f"{path}.endPort", end, msg)
        return
    if end is not None:
        errs.invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric")
    for msg in is_valid_port_name(str(number)):
        errs.invalid(f"{path}.port", number, msg)


def _peer(peer: dict, path: str, errs: _Errors) -> None:
    count = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            _selector(peer[key], f"{path}.{key}", errs)
    block = peer.get("ipBlock")
    if block is not None:
        count += 1
        _ip_block(block or {}, f"{path}.ipBlock", errs)
    if count == 0:
        errs.required(path, "must specify a peer")
    elif count > 1 and block is not None:
        errs.forbidden(path, "may not specify both ipBlock and another peer")


def _ip_block(block: dict, path: str, errs: _Errors) -> None:
    cidr = block.get("cidr") or ""
    if not cidr:
        errs.required(f"{path}.cidr", "")
        return
    network = _network(cidr)
    if network is None:
        errs.invalid(f"{path}.cidr", cidr, _CIDR_MESSAGE)
        return
    for i, text in enumerate(block.get("except") or []):
        inner = _network(text)
        if inner is None:
            errs.invalid(f"{path}.except[{i}]", text, _CIDR_MESSAGE)
            continue
        if (inner.version != network.version or inner.network_address not in network
                or network.prefixlen >= inner.prefixlen):
            errs.invalid(f"{path}.except[{i}]", text, "must be a strict subset of `cidr`")


def _network(text: str):
    """netutils.ParseCIDRSloppy: host bits may be set (10.0.0.1/8 is 10.0.0.0/8)."""
    try:
        return ipaddress.ip_network(str(text), strict=False) if "/" in str(text) else None
    except ValueError:
        return None
