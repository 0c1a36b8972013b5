"""Pod validation (pkg/apis/core/validation): the pod spec, its containers, DNS config,
and which fields a pod update may change. Workloads reuse `_pod_spec` for templates.
"""
from __future__ import annotations

from ...kube.objects import clone
from ._field_errors import _Errors, _go, _goslice
from ._name_formats import (_ENV_NAME, _IP_MSG, _full, _is_ip, _port_num_errors, _regex_error,
                            is_dns1123_label, is_dns1123_subdomain, is_valid_port_name)
from ._labels import _labels


# --- pods ---------------------------------------------------------------------------------

_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_PROTOCOLS = ["SCTP", "TCP", "UDP"]


def _validate_pod(pod: dict, old, errs: _Errors) -> None:
    spec = pod.get("spec") or {}
    _pod_spec(spec, "spec", errs)
    if old is not None:
        _pod_update(spec, old.get("spec") or {}, errs)


def _pod_spec(spec: dict, path: str, errs: _Errors) -> None:
    """ValidatePodSpec, in upstream's order."""
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.required(f"{path}.terminationGracePeriodSeconds")
    volumes = _volumes(spec.get("volumes"), f"{path}.volumes", errs)
    _containers(spec.get("containers"), volumes, f"{path}.containers", errs, required=True)
    _containers(spec.get("initContainers"), volumes, f"{path}.initContainers", errs, required=False,
                taken={c.get("name") for c in spec.get("containers") or [] if isinstance(c, dict)})
    _enum(spec.get("restartPolicy"), f"{path}.restartPolicy", _RESTART_POLICIES, errs)
    _enum(spec.get("dnsPolicy"), f"{path}.dnsPolicy", _DNS_POLICIES, errs)
    _labels(spec.get("nodeSelector"), f"{path}.nodeSelector", errs)
    _dns_config(spec.get("dnsConfig"), spec.get("dnsPolicy"), f"{path}.dnsConfig", errs)
    for field, check in (("serviceAccountName", is_dns1123_subdomain), ("nodeName", is_dns1123_subdomain)):
        if spec.get(field):
            for msg in check(spec[field]):
                errs.invalid(f"{path}.{field}", spec[field], msg)
    ads = spec.get("activeDeadlineSeconds")
    if ads is not None and not (isinstance(ads, int) and 1 <= ads <= 2**31 - 1):
        errs.invalid(f"{path}.activeDeadlineSeconds", ads, f"must be between 1 and {2**31 - 1}, inclusive")
    for field in ("hostname", "subdomain"):
        if spec.get(field):
            for msg in is_dns1123_label(spec[field]):
                errs.invalid(f"{path}.{field}", spec[field], msg)


def _enum(value, path: str, valid: list[str], errs: _Errors) -> None:
    if not value:
        errs.required(path)
    elif value not in valid:
        errs.not_supported(path, value, valid)


def _volumes(volumes, path: str, errs: _Errors) -> set:
    names: set = set()
    for i, v in enumerate(volumes or []):
        name = (v or {}).get("name") or ""
        if not name:
            errs.required(f"{path}[{i}].name")
        else:
            for msg in is_dns1123_label(name):
                errs.invalid(f"{path}[{i}].name", name, msg)
            if name in names:
                errs.duplicate(f"{path}[{i}].name", name)
        names.add(name)
    return names


def _containers(containers, volumes: set, path: str, errs: _Errors, *, required: bool,
                taken: set | None = None) -> None:
    if not containers:
        if required:
            errs.required(path)
        return
    names: set = set(taken or ())
    for i, c in enumerate(containers):
        cp = f"{path}[{i}]"
        c = c if isinstance(c, dict) else {}
        name = c.get("name") or ""
        if not name:
            errs.required(f"{cp}.name")
        else:
            for msg in is_dns1123_label(name):
                errs.invalid(f"{cp}.name", name, msg)
        if not c.get("image"):
            errs.required(f"{cp}.image")
        tmp = c.get("terminationMessagePolicy")
        if not tmp:
            errs.required(f"{cp}.terminationMessagePolicy")
        elif tmp not in ("File", "FallbackToLogsOnError"):
            errs.not_supported(f"{cp}.terminationMessagePolicy", tmp, ["File", "FallbackToLogsOnError"])
        _container_ports(c.get("ports"), f"{cp}.ports", errs)
        _env(c.get("env"), f"{cp}.env", errs)
        _volume_mounts(c.get("volumeMounts"), volumes, f"{cp}.volumeMounts", errs)
        _enum(c.get("imagePullPolicy"), f"{cp}.imagePullPolicy", _PULL_POLICIES, errs)
        if name in names:
            errs.duplicate(f"{cp}.name", name)
        names.add(name)


def _container_ports(ports, path: str, errs: _Errors) -> None:
    names: set = set()
    for i, p in enumerate(ports or []):
        pp = f"{path}[{i}]"
        p = p if isinstance(p, dict) else {}
        pname = p.get("name") or ""
        if pname:
            msgs = is_valid_port_name(pname)
            for msg in msgs:
                errs.invalid(f"{pp}.name", pname, msg)
            if not msgs and pname in names:
                errs.duplicate(f"{pp}.name", pname)
            names.add(pname)
        cport = p.get("containerPort")
        if not cport:
            errs.required(f"{pp}.containerPort")
        else:
            for msg in _port_num_errors(cport):
                errs.invalid(f"{pp}.containerPort", cport, msg)
        if p.get("hostPort"):
            for msg in _port_num_errors(p["hostPort"]):
                errs.invalid(f"{pp}.hostPort", p["hostPort"], msg)
        _protocol(p.get("protocol"), f"{pp}.protocol", errs)


def _protocol(proto, path: str, errs: _Errors) -> None:
    if not proto:
        errs.required(path)
    elif proto not in _PROTOCOLS:
        errs.not_supported(path, proto, _PROTOCOLS)


def _env(env, path: str, errs: _Errors) -> None:
    for i, e in enumerate(env or []):
        name = (e or {}).get("name") or ""
        if not name:
            errs.required(f"{path}[{i}].name")
            continue
        msgs = []
        if not _full(_ENV_NAME, name):
            msgs.append(_regex_error(
                "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
                "or '.', and must not start with a digit", _ENV_NAME, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
        if name == ".":
            msgs.append("must not be '.'")
        elif name == "..":
            msgs.append("must not be '..'")
        elif name.startswith(".."):
            msgs.append("must not start with '..'")
        for msg in msgs:
            errs.invalid(f"{path}[{i}].name", name, msg)


def _volume_mounts(mounts, volumes: set, path: str, errs: _Errors) -> None:
    seen: set = set()
    for i, m in enumerate(mounts or []):
        mp = f"{path}[{i}]"
        m = m if isinstance(m, dict) else {}
        name = m.get("name") or ""
        if not name:
            errs.required(f"{mp}.name")
        elif name not in volumes:
            errs.not_found(f"{mp}.name", name)
        mount_path = m.get("mountPath") or ""
        if not mount_path:
            errs.required(f"{mp}.mountPath")
        elif mount_path in seen:
            errs.invalid(f"{mp}.mountPath", mount_path, "must be unique")
        seen.add(mount_path)


def _dns_config(cfg, policy, path: str, errs: _Errors) -> None:
    """validatePodDNSConfig; the limits follow glibc's resolver (MAXNS 3, 32 search domains)."""
    if policy == "None":
        if cfg is None:
            errs.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")
            return
        if not (cfg or {}).get("nameservers"):
            errs.required(f"{path}.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None")
            return
    if not isinstance(cfg, dict):
        return
    nameservers = cfg.get("nameservers") or []
    if len(nameservers) > 3:
        errs.invalid(f"{path}.nameservers", _goslice(nameservers), "must not have more than 3 nameservers")
    for i, ns in enumerate(nameservers):
        if not _is_ip(ns):
            errs.invalid(f"{path}.nameservers[{i}]", ns, _IP_MSG)
    searches = cfg.get("searches") or []
    if len(searches) > 32:
        errs.invalid(f"{path}.searches", _goslice(searches), "must not have more than 32 search paths")
    if len(" ".join(str(s) for s in searches)) > 2048:
        errs.invalid(f"{path}.searches", _goslice(searches),
                     "must not have more than 2048 characters (including spaces) in the search list")
    for i, s in enumerate(searches):
        s = str(s)
        s = s[:-1] if s.endswith(".") else s      # a trailing dot is fine
        for msg in is_dns1123_subdomain(s):
            errs.invalid(f"{path}.searches[{i}]", s, msg)
    for i, opt in enumerate(cfg.get("options") or []):
        if not (opt or {}).get("name"):
            errs.required(f"{path}.options[{i}]", "Option.Name must not be empty")


_POD_UPDATABLE = ("`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                  "`spec.tolerations` (only additions to existing tolerations),"
                  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


def _pod_update(spec: dict, old_spec: dict, errs: _Errors) -> None:
    """ValidatePodUpdate: only images, activeDeadlineSeconds and added tolerations may change."""
    for key in ("containers", "initContainers"):
        if len(spec.get(key) or []) != len(old_spec.get(key) or []):
            errs.forbidden(f"spec.{key}", "pod updates may not add or remove containers")
            return
    # validateOnlyAddedTolerations: every old toleration must survive, up to tolerationSeconds.
    new_tol = [dict(t, tolerationSeconds=None) for t in spec.get("tolerations") or [] if isinstance(t, dict)]
    for t in old_spec.get("tolerations") or []:
        if isinstance(t, dict) and dict(t, tolerationSeconds=None) not in new_tol:
            errs.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
            break

    def munged(s: dict) -> dict:
        s = clone(s)
        for key in ("containers", "initContainers"):
            for c in s.get(key) or []:
                if isinstance(c, dict):
                    c.pop("image", None)
        for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
            s.pop(key, None)
        return s
    if munged(spec) != munged(old_spec):
        changed = sorted(k for k in set(spec) | set(old_spec)
                         if munged({k: spec.get(k)}) != munged({k: old_spec.get(k)}))
        errs.forbidden("spec", f"pod updates may not change fields other than {_POD_UPDATABLE}\n"
                       + _spec_diff(old_spec, spec, changed))


_GO_FIELDS = {"dnsPolicy": "DNSPolicy", "dnsConfig": "DNSConfig", "hostNetwork": "HostNetwork",
              "hostPID": "HostPID", "hostIPC": "HostIPC"}


def _spec_diff(old_spec: dict, spec: dict, changed: list[str]) -> str:
    """Upstream appends cmp.Diff(oldSpec, newSpec); this renders the changed fields in its style
    (scalars exactly, nested values elided)."""
    lines = ["  core.PodSpec{"]
    for key in changed:
        name = _GO_FIELDS.get(key, key[:1].upper() + key[1:])
        a, b = old_spec.get(key), spec.get(key)
        if all(isinstance(v, (str, int, bool)) or v is None for v in (a, b)):
            blank = '""' if isinstance(a if a is not None else b, str) else "nil"
            lines.append(f"- \t{name}: {blank if a is None else _go(a)},")
            lines.append(f"+ \t{name}: {blank if b is None else _go(b)},")
        else:
            lines.append(f"  \t{name}: ... // changed")
    lines.append("  }")
    return "\n".join(lines) + "\n"
