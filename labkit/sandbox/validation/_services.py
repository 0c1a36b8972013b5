"""Service, Endpoints and EndpointSlice validation (pkg/apis/core/validation,
pkg/apis/discovery/validation), plus the Namespace finalizer check.
"""
from __future__ import annotations

from ._field_errors import _Errors, _Go, _goquote, _goslice
from ._name_formats import (_IP_MSG, _is_ip, _port_num_errors, is_dns1123_label, is_dns1123_subdomain,
                            is_valid_port_name)
from ._labels import _labels
from ._pods import _protocol


# --- services -------------------------------------------------------------------------------

_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _headless(spec: dict) -> bool:
    ips = spec.get("clusterIPs") or []
    return len(ips) == 1 and ips[0] == "None"


def _service_cluster_ips(spec: dict, errs: _Errors) -> None:
    """ValidateServiceClusterIPsRelatedFields (the part a single-stack sandbox needs)."""
    if (spec.get("type") or "ClusterIP") == "ExternalName":
        return
    ip, ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if ip:
        if not ips:
            errs.required("spec.clusterIPs")
        elif ips[0] != ip:
            errs.invalid("spec.clusterIPs", _goslice(ips), "first value must match `clusterIP`")
    elif ips:
        errs.invalid("spec.clusterIPs", _goslice(ips), "must be empty when `clusterIP` is not specified")
    seen: set = set()
    for i, fam in enumerate(spec.get("ipFamilies") or []):
        if fam not in ("IPv4", "IPv6"):
            errs.not_supported(f"spec.ipFamilies[{i}]", fam, ["IPv4", "IPv6"])
        if fam in seen:
            errs.duplicate(f"spec.ipFamilies[{i}]", fam)
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errs.not_supported("spec.ipFamilyPolicy", policy, ["PreferDualStack", "RequireDualStack", "SingleStack"])
    for i, cip in enumerate(ips):
        if i == 0 and cip == "None":
            if len(ips) > 1:
                errs.invalid("spec.clusterIPs", _goslice(ips), "'None' must be the first and only value")
            continue
        if not _is_ip(cip):
            errs.invalid(f"spec.clusterIPs[{i}]", cip, _IP_MSG)


def _validate_service(svc: dict, old, errs: _Errors) -> None:
    spec = svc.get("spec") or {}
    typ = spec.get("type") or ""
    headless = _headless(spec)
    if old is not None:
        _service_update(spec, old.get("spec") or {}, errs)
    ports = spec.get("ports") or []
    if not ports and not headless and typ != "ExternalName":
        errs.required("spec.ports")
    if typ == "LoadBalancer":
        if headless:
            errs.invalid("spec.clusterIP", spec.get("clusterIP", ""), "may not be set to 'None' for LoadBalancer services")
        for i, p in enumerate(ports):
            if (p or {}).get("port") == 10250:
                errs.invalid(f"spec.ports[{i}]", 10250, "may not expose port 10250 externally since it is used by kubelet")
    elif typ == "NodePort":
        if headless:
            errs.invalid("spec.clusterIP", spec.get("clusterIP", ""), "may not be set to 'None' for NodePort services")
    elif typ == "ExternalName":
        if spec.get("clusterIPs"):
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if spec.get("ipFamilies"):
            errs.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.get("ipFamilyPolicy") is not None:
            errs.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = (spec.get("externalName") or "")
        cname = cname[:-1] if cname.endswith(".") else cname
        if cname:
            for msg in is_dns1123_subdomain(cname):
                errs.invalid("spec.externalName", cname, msg)
        else:
            errs.required("spec.externalName")
    names: set = set()
    for i, p in enumerate(ports):
        _service_port(p if isinstance(p, dict) else {}, len(ports) > 1, names, f"spec.ports[{i}]", errs)
    if spec.get("selector") is not None:
        _labels(spec.get("selector"), "spec.selector", errs)
    aff = spec.get("sessionAffinity") or ""
    if not aff:
        errs.required("spec.sessionAffinity")
    elif aff not in ("ClientIP", "None"):
        errs.not_supported("spec.sessionAffinity", aff, ["ClientIP", "None"])
    elif aff == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
    _service_cluster_ips(spec, errs)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        if not _is_ip(ip):
            errs.invalid(f"spec.externalIPs[{i}]", ip, _IP_MSG)
    if not typ:
        errs.required("spec.type")
    elif typ not in _SERVICE_TYPES:
        errs.not_supported("spec.type", typ, _SERVICE_TYPES)
    if typ == "ClusterIP":
        for i, p in enumerate(ports):
            if (p or {}).get("nodePort"):
                errs.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
    seen: set = set()
    for i, p in enumerate(ports):
        p = p if isinstance(p, dict) else {}
        key = (p.get("protocol") or "", p.get("port"))
        if key in seen:
            errs.duplicate(f"spec.ports[{i}]", _Go(
                'core.ServicePort{Name:"", Protocol:%s, AppProtocol:(*string)(nil), Port:%s, '
                'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
                % (_goquote(key[0]), key[1] if isinstance(key[1], int) else 0)))
        seen.add(key)


def _service_port(p: dict, require_name: bool, names: set, path: str, errs: _Errors) -> None:
    name = p.get("name") or ""
    if require_name and not name:
        errs.required(f"{path}.name")
    elif name:
        for msg in is_dns1123_label(name):
            errs.invalid(f"{path}.name", name, msg)
        if name in names:
            errs.duplicate(f"{path}.name", name)
        names.add(name)
    port = p.get("port", 0)
    for msg in _port_num_errors(port):
        errs.invalid(f"{path}.port", port if port is not None else 0, msg)
    _protocol(p.get("protocol"), f"{path}.protocol", errs)
    target = p.get("targetPort")
    if isinstance(target, str):
        for msg in is_valid_port_name(target):
            errs.invalid(f"{path}.targetPort", target, msg)
    else:
        for msg in _port_num_errors(target):
            errs.invalid(f"{path}.targetPort", target if target is not None else 0, msg)


def _service_update(spec: dict, old_spec: dict, errs: _Errors) -> None:
    """validateUpgradeDowngradeClusterIPs: a set clusterIP may not change."""
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    if _headless(spec) and _headless(old_spec):
        return
    new_ips, old_ips = spec.get("clusterIPs") or [], old_spec.get("clusterIPs") or []
    if len(new_ips) == len(old_ips):
        for i, ip in enumerate(old_ips):
            if ip != new_ips[i]:
                errs.invalid(f"spec.clusterIPs[{i}]", _goslice(new_ips), "may not change once set")
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            errs.invalid("spec.clusterIPs[0]", _goslice(new_ips), "primary clusterIP can not be unset")
        elif new_ips[0] != old_ips[0]:
            errs.invalid("spec.clusterIPs[0]", _goslice(new_ips), "may not change once set")
    elif old_ips and new_ips[0] != old_ips[0]:
        errs.invalid("spec.clusterIPs[0]", _goslice(new_ips), "may not change once set")


# --- namespaces, endpoints -----------------------------------------------------------------

def _validate_namespace(ns: dict, old, errs: _Errors) -> None:
    for i, f in enumerate((ns.get("spec") or {}).get("finalizers") or []):
        if "/" not in f and f != "kubernetes":
            errs.invalid(f"spec.finalizers[{i}]", f, "name is neither a standard finalizer name nor is it fully qualified")


def _validate_endpoints(ep: dict, old, errs: _Errors) -> None:
    for i, subset in enumerate(ep.get("subsets") or []):
        sp = f"subsets[{i}]"
        for key in ("addresses", "notReadyAddresses"):
            for j, a in enumerate((subset or {}).get(key) or []):
                ip = (a or {}).get("ip", "")
                if not _is_ip(ip):
                    errs.invalid(f"{sp}.{key}[{j}].ip", ip, _IP_MSG)
        ports = (subset or {}).get("ports") or []
        for j, p in enumerate(ports):
            pp = f"{sp}.ports[{j}]"
            p = p if isinstance(p, dict) else {}
            if len(ports) > 1 and not p.get("name"):
                errs.required(f"{pp}.name")
            elif p.get("name"):
                for msg in is_dns1123_label(p["name"]):
                    errs.invalid(f"{pp}.name", p["name"], msg)
            for msg in _port_num_errors(p.get("port")):
                errs.invalid(f"{pp}.port", p.get("port") or 0, msg)
            _protocol(p.get("protocol"), f"{pp}.protocol", errs)


_ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]


def _validate_endpointslice(es: dict, old, errs: _Errors) -> None:
    at = es.get("addressType") or ""
    if not at:
        errs.required("addressType")
    elif at not in _ADDRESS_TYPES:
        errs.not_supported("addressType", at, _ADDRESS_TYPES)
    elif old is not None and at != old.get("addressType"):
        errs.invalid("addressType", at, "field is immutable")
    for i, e in enumerate(es.get("endpoints") or []):
        addrs = (e or {}).get("addresses") or []
        if not addrs:
            errs.required(f"endpoints[{i}].addresses", "must contain at least 1 address")
        for j, a in enumerate(addrs):
            path = f"endpoints[{i}].addresses[{j}]"
            if at == "IPv4" and not (_is_ip(a) and ":" not in a):
                errs.invalid(path, a, "must be a valid IPv4 address")
            elif at == "IPv6" and not (_is_ip(a) and ":" in a):
                errs.invalid(path, a, "must be a valid IPv6 address")
    names: set = set()
    for i, p in enumerate(es.get("ports") or []):
        p = p if isinstance(p, dict) else {}
        name = p.get("name") or ""
        if name:
            for msg in is_dns1123_label(name):
                errs.invalid(f"ports[{i}].name", name, msg)
        if name in names:
            errs.duplicate(f"ports[{i}].name", name)
        names.add(name)
        _protocol(p.get("protocol"), f"ports[{i}].protocol", errs)
        if p.get("port") is not None:
            for msg in _port_num_errors(p["port"]):
                errs.invalid(f"ports[{i}].port", p["port"], msg)
