"""What kube-apiserver does to an object before storing it: defaulting and validation.

`default` applies the v1 API defaults (pkg/apis/*/v1/defaults.go) plus what the
admission plugins of a stock cluster add (ServiceAccount, Priority,
DefaultTolerationSeconds) and what the registries' strategies fill in
(Service clusterIPs, ipFamilies, ipFamilyPolicy; Namespace finalizers).
`validate` reports field errors in apimachinery's exact wording
(staging/src/k8s.io/apimachinery/pkg/util/validation, .../field/errors.go,
pkg/apis/core/validation, pkg/apis/apps/validation) and raises `Invalid`, whose
`status()` is the 422 body kube-apiserver sends (api/errors.NewInvalid).

Both are pure functions of their arguments: no store, no clock, no I/O.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from decimal import Decimal, InvalidOperation

from .._objects import clone

__all__ = ["Invalid", "default", "validate", "valid_name_message"]

_GROUPS = {"Deployment": "apps", "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps",
           "EndpointSlice": "discovery.k8s.io", "Scale": "autoscaling"}


# --- errors ---------------------------------------------------------------------------

class Invalid(Exception):
    """A 422 Invalid: the object failed validation, with one cause per field error."""

    def __init__(self, kind: str, name: str, causes: list[dict], *, group: str | None = None):
        self.kind, self.name, self.causes = kind, name or "", list(causes)
        self.group = _GROUPS.get(kind, "") if group is None else group
        super().__init__(self.message)

    @property
    def message(self) -> str:
        qualified = f"{self.kind}.{self.group}" if self.group else self.kind
        # field.ErrorList.ToAggregate drops repeated messages; one error prints bare.
        seen: list[str] = []
        for c in self.causes:
            text = f"{c['field']}: {c['message']}" if c.get("field") else c["message"]
            if text not in seen:
                seen.append(text)
        if not seen:
            return f'{qualified} "{self.name}" is invalid'
        joined = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
        return f'{qualified} "{self.name}" is invalid: {joined}'

    def status(self) -> dict:
        details: dict = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        details["kind"] = self.kind
        if self.causes:
            details["causes"] = [dict(c) for c in self.causes]
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": "Invalid", "details": details, "code": 422}


class _Go(str):
    """A value already rendered the way Go's fmt prints it (%#v, String())."""


def _goquote(s: str) -> str:
    """strconv.Quote / %q."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def _go(value) -> str:
    """How field.Error.ErrorBody prints a bad value."""
    if isinstance(value, _Go):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return _goquote(value)
    if isinstance(value, dict):
        return _gomap(value)
    if isinstance(value, list):
        return _goslice(value)
    return _goquote(str(value))


def _gomap(d: dict | None) -> _Go:
    """%#v of a map[string]string: keys sorted, `"k":"v"` joined by ", "."""
    if d is None:
        return _Go("map[string]string(nil)")
    return _Go("map[string]string{" + ", ".join(
        f"{_goquote(str(k))}:{_goquote(str(v))}" for k, v in sorted(d.items())) + "}")


def _goslice(items: list | None, typ: str = "string") -> _Go:
    """%#v of a []string."""
    if items is None:
        return _Go(f"[]{typ}(nil)")
    return _Go(f"[]{typ}{{" + ", ".join(_goquote(str(i)) for i in items) + "}")


class _Errors:
    """field.ErrorList: builders named after apimachinery's field.Required, field.Invalid..."""

    def __init__(self) -> None:
        self.causes: list[dict] = []

    def __bool__(self) -> bool:
        return bool(self.causes)

    def _add(self, reason: str, path: str, message: str) -> None:
        self.causes.append({"reason": reason, "message": message, "field": path})

    @staticmethod
    def _detail(body: str, detail: str) -> str:
        return f"{body}: {detail}" if detail else body

    def required(self, path: str, detail: str = "") -> None:
        self._add("FieldValueRequired", path, self._detail("Required value", detail))

    def invalid(self, path: str, value, detail: str) -> None:
        self._add("FieldValueInvalid", path, self._detail(f"Invalid value: {_go(value)}", detail))

    def not_supported(self, path: str, value, valid: list[str]) -> None:
        detail = "supported values: " + ", ".join(_goquote(v) for v in valid) if valid else ""
        self._add("FieldValueNotSupported", path, self._detail(f"Unsupported value: {_go(value)}", detail))

    def duplicate(self, path: str, value) -> None:
        self._add("FieldValueDuplicate", path, f"Duplicate value: {_go(value)}")

    def forbidden(self, path: str, detail: str) -> None:
        self._add("FieldValueForbidden", path, self._detail("Forbidden", detail))

    def not_found(self, path: str, value) -> None:
        self._add("FieldValueNotFound", path, f"Not found: {_go(value)}")

    def too_long(self, path: str, max_length: int) -> None:
        self._add("FieldValueTooLong", path, f"Too long: must have at most {max_length} bytes")


# --- name and label formats (apimachinery pkg/util/validation) --------------------------

_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QNAME + ")?"
_ENV_NAME = "[-._a-zA-Z][-._a-zA-Z0-9]*"


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """validation.RegexError, double space and all."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, ex in enumerate(examples):
        if i:
            msg += " or "
        msg += f"'{ex}', "
    return msg + f"regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def is_dns1123_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _full(_DNS1123_LABEL, value):
        if _full(_DNS1123_SUBDOMAIN, value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character", _DNS1123_LABEL, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not _full(_DNS1123_SUBDOMAIN, value):
        errs.append(_regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character", _DNS1123_SUBDOMAIN, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _full(_DNS1035_LABEL, value):
        errs.append(_regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character", _DNS1035_LABEL, "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    qmsg = ("must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in is_dns1123_subdomain(prefix)]
    else:
        return ["a qualified name " + _regex_error(qmsg, _QNAME, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not _full(_QNAME, name):
        errs.append("name part " + _regex_error(qmsg, _QNAME, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _full(_LABEL_VALUE, value):
        errs.append(_regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character", _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errs


def is_valid_port_name(port: str) -> list[str]:
    errs = [_max_len(15)] if len(port) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _port_num_errors(port) -> list[str]:
    ok = isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535
    return [] if ok else ["must be between 1 and 65535, inclusive"]


def _is_ip(value: str) -> bool:
    """netutils.ParseIPSloppy: IPv4 octets may carry leading zeros."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        parts = value.split(".")
        return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


_IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

# Which name format each kind's metadata.name must have (pkg/apis/*/validation).
_LABEL_NAMED = {"Namespace"}
_DNS1035_NAMED = {"Service"}
_CLUSTER_SCOPED = {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                   "StorageClass", "PriorityClass", "CustomResourceDefinition"}


def valid_name_message(kind: str, name: str, *, prefix: bool = False) -> list[str]:
    """The messages kube-apiserver gives for `name` as a `kind`'s metadata.name ([] when valid).

    With prefix=True, `name` is a generateName (a trailing dash is fine, as upstream's
    maskTrailingDash allows).
    """
    if prefix and len(name) > 1 and name.endswith("-"):
        name = name[:-1] + "a"
    if kind in _LABEL_NAMED:
        return is_dns1123_label(name)
    if kind in _DNS1035_NAMED:
        return is_dns1035_label(name)
    return is_dns1123_subdomain(name)


# --- defaulting ---------------------------------------------------------------------------

def default(kind: str, obj: dict, *, config=None, old: dict | None = None) -> dict:
    """A defaulted copy of `obj`, as kube-apiserver stores it.

    `config` (a SandboxConfig) decides the cluster's IP family; `old` is the stored object
    on update, from which a Service keeps its allocated clusterIPs when the new body omits
    them (as the service registry's patchAllocatedValues does). ClusterIPs themselves are
    never allocated here.
    """
    out = clone(obj) if isinstance(obj, dict) else obj
    fn = _DEFAULTERS.get(kind)
    if fn is not None and isinstance(out, dict):
        fn(out, config, old)
    return out


def _family(config) -> str:
    cidr = getattr(config, "service_cidr", None) or "10.0.0.0/24"
    return "IPv6" if ipaddress.ip_network(cidr, strict=False).version == 6 else "IPv4"


_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"


def _image_tag(image: str) -> str:
    """The tag parsers.ParseImageName finds: "latest" when neither tag nor digest is given,
    "" when the reference does not parse (upstream then ignores the error)."""
    if not isinstance(image, str) or not image:
        return ""
    name, _, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = name[colon + 1:] if colon > slash else ""
    repo = name[:colon] if colon > slash else name
    first, _, rest = repo.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        repo = rest                                # a registry host, not a path component
    if not re.fullmatch(f"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", repo):
        return ""
    if tag and not re.fullmatch(r"\w[\w.-]{0,127}", tag):
        return ""
    if not tag and not digest:
        return "latest"
    return tag


def _default_probe(probe) -> None:
    if not isinstance(probe, dict):
        return
    for k, v in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        probe.setdefault(k, v)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        if not http.get("path"):
            http["path"] = "/"
        http.setdefault("scheme", "HTTP")


def _default_container(c: dict) -> None:
    if not isinstance(c, dict):
        return
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = "Always" if _image_tag(c.get("image", "")) == "latest" else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if c.get("resources") is None:
        c["resources"] = {}
    for p in c.get("ports") or []:
        if isinstance(p, dict) and not p.get("protocol"):
            p["protocol"] = "TCP"
    for e in c.get("env") or []:
        ref = ((e or {}).get("valueFrom") or {}).get("fieldRef")
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(c.get(name))


def _default_volume(v: dict) -> None:
    if not isinstance(v, dict):
        return
    sources = [k for k in v if k != "name"]
    if not sources:
        v["emptyDir"] = {}
    for key in ("configMap", "secret", "projected", "downwardAPI"):
        src = v.get(key)
        if isinstance(src, dict):
            src.setdefault("defaultMode", 420)
    if isinstance(v.get("hostPath"), dict):
        v["hostPath"].setdefault("type", "")


def _default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and the per-container defaults: what pod templates get too."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            _default_container(c)
    for v in spec.get("volumes") or []:
        _default_volume(v)


def _default_template(owner: dict) -> None:
    tmpl = owner.setdefault("spec", {}).setdefault("template", {})
    if not isinstance(tmpl, dict):
        return
    meta = tmpl.setdefault("metadata", {})
    if isinstance(meta, dict):
        meta.setdefault("creationTimestamp", None)    # a zero metav1.Time marshals as null
    spec = tmpl.setdefault("spec", {})
    if isinstance(spec, dict):
        _default_pod_spec(spec)


_TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"   # utilrand.String's alphabet
_SYSTEM_PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def _token_volume_name(pod: dict, config) -> str:
    meta = pod.get("metadata") or {}
    key = "/".join(str(x) for x in (getattr(config, "seed", 1), meta.get("namespace", ""),
                                    meta.get("name") or meta.get("generateName", "")))
    digest = hashlib.sha256(key.encode()).digest()
    return "kube-api-access-" + "".join(_RAND_ALPHABET[b % len(_RAND_ALPHABET)] for b in digest[:5])


def _default_pod(pod: dict, config, old) -> None:
    spec = pod.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    _default_pod_spec(spec)
    # SetDefaults_Pod: requests default to limits; service links on.
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            res = (c or {}).get("resources") if isinstance(c, dict) else None
            if isinstance(res, dict) and isinstance(res.get("limits"), dict):
                req = res.setdefault("requests", {})
                for r, q in res["limits"].items():
                    req.setdefault(r, q)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for key in ("initContainers", "containers"):
            for c in spec.get(key) or []:
                for p in (c or {}).get("ports") or []:
                    if isinstance(p, dict) and not p.get("hostPort") and p.get("containerPort"):
                        p["hostPort"] = p["containerPort"]
    if old is not None:
        return      # the admission plugins below act on create only
    # Priority admission: no default PriorityClass -> 0, PreemptLowerPriority.
    pc = spec.get("priorityClassName") or ""
    if not pc or pc in _SYSTEM_PRIORITIES:
        spec.setdefault("priority", _SYSTEM_PRIORITIES.get(pc, 0))
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    # ServiceAccount admission: the default account and its projected token volume.
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    spec["serviceAccount"] = spec["serviceAccountName"]
    if spec.get("automountServiceAccountToken") is not False:
        _mount_token(pod, spec, config)
    # DefaultTolerationSeconds admission.
    tolerations = spec.get("tolerations")
    tolerations = tolerations if isinstance(tolerations, list) else []
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(isinstance(t, dict) and t.get("key", "") in ("", key)
                   and t.get("effect", "") in ("", "NoExecute") for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": 300})
    spec["tolerations"] = tolerations
    status = pod.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", _qos_class(spec))


def _mount_token(pod: dict, spec: dict, config) -> None:
    containers = [c for key in ("initContainers", "containers") for c in spec.get(key) or []
                  if isinstance(c, dict)]
    if any(m.get("mountPath") == _TOKEN_MOUNT for c in containers for m in c.get("volumeMounts") or []
           if isinstance(m, dict)):
        return
    name = _token_volume_name(pod, config)
    spec.setdefault("volumes", []).append({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})
    for c in containers:
        c.setdefault("volumeMounts", []).append({"name": name, "readOnly": True, "mountPath": _TOKEN_MOUNT})


_SUFFIXES = {"m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
             "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
             "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
             "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60}


def _quantity(q) -> Decimal | None:
    m = re.fullmatch(r"([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?", str(q).strip())
    if not m:
        return None
    try:
        return Decimal(m.group(1)) * _SUFFIXES.get(m.group(2) or "", Decimal(1))
    except InvalidOperation:
        return None


def _qos_class(spec: dict) -> str:
    """qos.GetPodQOS over cpu and memory."""
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        res = (c or {}).get("resources") or {}
        req = {k: _quantity(v) for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory")}
        lim = {k: _quantity(v) for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory")}
        requests.update({k: v for k, v in req.items() if v})
        limits.update({k: v for k, v in lim.items() if v})
        if set(lim) != {"cpu", "memory"}:
            guaranteed = False
        if any(req.get(k) is not None and req[k] != lim.get(k) for k in req):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _default_deployment(d: dict, config, old) -> None:
    spec = d.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            ru = strategy.get("rollingUpdate")
            if not isinstance(ru, dict):
                ru = strategy["rollingUpdate"] = {}
            if ru.get("maxUnavailable") is None:
                ru["maxUnavailable"] = "25%"
            if ru.get("maxSurge") is None:
                ru["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    _default_template(d)


def _default_replicaset(rs: dict, config, old) -> None:
    spec = rs.setdefault("spec", {})
    if isinstance(spec, dict) and spec.get("replicas") is None:
        spec["replicas"] = 1
    _default_template(rs)


def _needs_cluster_ip(svc: dict | None) -> bool:
    return bool(svc) and ((svc.get("spec") or {}).get("type") or "ClusterIP") != "ExternalName"


def _default_service(svc: dict, config, old) -> None:
    spec = svc.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        cfg = spec.get("sessionAffinityConfig") or {}
        if ((cfg.get("clientIP") or {}).get("timeoutSeconds")) is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for p in spec.get("ports") or []:
        if not isinstance(p, dict):
            continue
        if not p.get("protocol"):
            p["protocol"] = "TCP"
        if p.get("targetPort") in (None, 0, ""):
            p["targetPort"] = p.get("port")
    typ = spec["type"]
    if (typ in ("NodePort", "LoadBalancer") or (typ == "ClusterIP" and spec.get("externalIPs"))) \
            and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and typ in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if typ == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if old is not None and _needs_cluster_ip(old) and _needs_cluster_ip(svc):
        _keep_allocated(spec, old.get("spec") or {})
    _normalize_cluster_ips(spec, (old or {}).get("spec") if old is not None else None)
    if typ != "ExternalName":
        _ip_families(spec, config, (old or {}).get("spec") if old is not None else None)
    status = svc.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("loadBalancer", {})


def _keep_allocated(spec: dict, old_spec: dict) -> None:
    """patchAllocatedValues: an update that omits the clusterIP keeps the allocated one."""
    if not spec.get("clusterIP") and not spec.get("clusterIPs") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
        spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])


def _normalize_cluster_ips(spec: dict, old_spec: dict | None) -> None:
    """The service strategy's NormalizeClusterIPs: keep clusterIP and clusterIPs in step."""
    ip, ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if old_spec is None:
        if ip and not ips:
            spec["clusterIPs"] = [ip]
        return
    old_ip, old_ips = old_spec.get("clusterIP") or "", old_spec.get("clusterIPs") or []
    same = list(ips) == list(old_ips)
    if old_ip and not ip:
        if same:
            spec.pop("clusterIPs", None)
    elif not old_ip and ip:
        if not ips:
            spec["clusterIPs"] = [ip]
    elif old_ip and ip and old_ip != ip and same:
        spec["clusterIPs"] = [ip] + list(ips[1:]) if ips else [ip]


def _ip_families(spec: dict, config, old_spec: dict | None) -> None:
    """initIPFamilyFields for a single-stack cluster (pkg/registry/core/service/storage/alloc.go)."""
    fam = _family(config)
    other = "IPv6" if fam == "IPv4" else "IPv4"
    headless_no_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        if old_spec and old_spec.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = old_spec["ipFamilyPolicy"]
        elif headless_no_selector:
            spec["ipFamilyPolicy"] = "RequireDualStack"
        else:
            spec["ipFamilyPolicy"] = "SingleStack"
    if not spec.get("ipFamilies"):
        families = []
        for ip in spec.get("clusterIPs") or []:
            if ip == "None" or not _is_ip(ip):
                break
            families.append("IPv6" if ":" in ip else "IPv4")
        spec["ipFamilies"] = families or [fam]
    if headless_no_selector and len(spec["ipFamilies"]) < 2 and spec["ipFamilyPolicy"] != "SingleStack":
        # Headless without selector takes both families, even on a single-stack cluster.
        spec["ipFamilies"] = spec["ipFamilies"] + [other if spec["ipFamilies"][0] == fam else fam]


def _default_namespace(ns: dict, config, old) -> None:
    meta = ns.setdefault("metadata", {})
    if isinstance(meta, dict) and meta.get("name"):
        meta.setdefault("labels", {})
        if isinstance(meta["labels"], dict):
            meta["labels"]["kubernetes.io/metadata.name"] = meta["name"]
    spec = ns.setdefault("spec", {})
    if isinstance(spec, dict) and not spec.get("finalizers"):
        spec["finalizers"] = ["kubernetes"]
    status = ns.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Active")


def _default_endpoints(ep: dict, config, old) -> None:
    for subset in ep.get("subsets") or []:
        for p in (subset or {}).get("ports") or []:
            if isinstance(p, dict) and not p.get("protocol"):
                p["protocol"] = "TCP"


def _default_endpointslice(es: dict, config, old) -> None:
    for p in es.get("ports") or []:
        if isinstance(p, dict):
            if p.get("name") is None:
                p["name"] = ""
            if p.get("protocol") is None:
                p["protocol"] = "TCP"


_DEFAULTERS = {"Pod": _default_pod, "Deployment": _default_deployment, "ReplicaSet": _default_replicaset,
               "Service": _default_service, "Namespace": _default_namespace,
               "Endpoints": _default_endpoints, "EndpointSlice": _default_endpointslice}


# --- validation -----------------------------------------------------------------------------

def validate(kind: str, obj: dict, *, old: dict | None = None) -> None:
    """Raise `Invalid` with every field error kube-apiserver reports for `obj` (create, or
    update when `old` is given). Expects an object that went through `default` first, as the
    API server validates after defaulting."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = (meta or {}).get("name") or ""
    if kind == "Service":
        # The service allocator pre-validates clusterIPs and stops there (initIPFamilyFields).
        errs = _Errors()
        _service_cluster_ips(obj.get("spec") or {}, errs)
        if errs:
            raise Invalid(kind, name, errs.causes)
    errs = _Errors()
    if old is not None:
        _object_meta_update(obj, old, errs)
    _object_meta(kind, obj, errs)
    fn = _VALIDATORS.get(kind)
    if fn is not None:
        fn(obj, old, errs)
    if errs:
        raise Invalid(kind, name, errs.causes)


def _object_meta(kind: str, obj: dict, errs: _Errors) -> None:
    meta = obj.get("metadata") or {}
    gen = meta.get("generateName") or ""
    if gen:
        for msg in valid_name_message(kind, gen, prefix=True):
            errs.invalid("metadata.generateName", gen, msg)
    name = meta.get("name") or ""
    if not name:
        # Upstream names the object from generateName before validating; a caller that
        # validates first gets the same verdict, since a valid prefix yields a valid name.
        if not gen:
            errs.required("metadata.name", "name or generateName is required")
    else:
        for msg in valid_name_message(kind, name):
            errs.invalid("metadata.name", name, msg)
    ns = meta.get("namespace") or ""
    if kind in _CLUSTER_SCOPED:
        if ns:
            errs.forbidden("metadata.namespace", "not allowed on this type")
    elif ns:
        for msg in is_dns1123_label(ns):
            errs.invalid("metadata.namespace", ns, msg)
    _labels(meta.get("labels"), "metadata.labels", errs)
    _annotations(meta.get("annotations"), "metadata.annotations", errs)


def _object_meta_update(obj: dict, old: dict, errs: _Errors) -> None:
    new_meta, old_meta = obj.get("metadata") or {}, old.get("metadata") or {}
    # creationTimestamp is not checked: the API server copies it from the stored object first.
    for key in ("name", "namespace", "uid"):
        if key == "uid" and not new_meta.get(key):
            continue
        if new_meta.get(key) != old_meta.get(key):
            errs.invalid(f"metadata.{key}", new_meta.get(key) or "", "field is immutable")


def _labels(labels, path: str, errs: _Errors) -> None:
    for k, v in (labels or {}).items() if isinstance(labels, dict) else ():
        for msg in is_qualified_name(str(k)):
            errs.invalid(path, k, msg)
        v = "" if v is None else v
        for msg in is_label_value(str(v)):
            errs.invalid(path, v, msg)


def _annotations(annotations, path: str, errs: _Errors) -> None:
    total = 0
    for k, v in (annotations or {}).items() if isinstance(annotations, dict) else ():
        for msg in is_qualified_name(str(k).lower()):
            errs.invalid(path, k, msg)
        total += len(str(k)) + len(str(v or ""))
    if total > 256 * 1024:
        errs.too_long(path, 256 * 1024)


def _selector(sel, path: str, errs: _Errors) -> None:
    """ValidateLabelSelector."""
    if not isinstance(sel, dict):
        return
    for i, req in enumerate(sel.get("matchExpressions") or []):
        rp = f"{path}.matchExpressions[{i}]"
        op, values = req.get("operator", ""), req.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                errs.required(f"{rp}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(f"{rp}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            errs.invalid(f"{rp}.operator", op, "not a valid selector operator")
        for msg in is_qualified_name(req.get("key", "")):
            errs.invalid(f"{rp}.key", req.get("key", ""), msg)
        for j, v in enumerate(values):
            for msg in is_label_value(str(v)):
                errs.invalid(f"{rp}.values[{j}]", v, msg)
    _labels(sel.get("matchLabels"), f"{path}.matchLabels", errs)


def _selector_matches(sel: dict | None, labels: dict) -> bool:
    """labels.Selector.Matches for a metav1.LabelSelector; a missing one matches nothing."""
    if not isinstance(sel, dict):
        return False
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for req in sel.get("matchExpressions") or []:
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _selector_go(sel) -> _Go:
    """%#v of a v1.LabelSelector, as the immutable-selector error shows it."""
    if not isinstance(sel, dict):
        return _Go("null")
    exprs = sel.get("matchExpressions")
    if exprs:
        rendered = ", ".join(
            "v1.LabelSelectorRequirement{Key:%s, Operator:%s, Values:%s}"
            % (_goquote(e.get("key", "")), _goquote(e.get("operator", "")), _goslice(e.get("values")))
            for e in exprs)
        exprs_go = f"[]v1.LabelSelectorRequirement{{{rendered}}}"
    else:
        exprs_go = "[]v1.LabelSelectorRequirement(nil)"
    return _Go(f"v1.LabelSelector{{MatchLabels:{_gomap(sel.get('matchLabels'))}, MatchExpressions:{exprs_go}}}")


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


# --- workloads ------------------------------------------------------------------------------

def _validate_workload(obj: dict, old, errs: _Errors, *, deployment: bool) -> None:
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas", 0)
    if isinstance(replicas, int) and replicas < 0:
        errs.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    mrs = spec.get("minReadySeconds", 0) or 0
    if not deployment:      # ValidateReplicaSetSpec checks it before the selector
        _min_ready(mrs, errs)
    sel = spec.get("selector")
    if sel is None:
        errs.required("spec.selector")
    else:
        _selector(sel, "spec.selector", errs)
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            # Upstream's ReplicaSet validation says "deployment" too.
            errs.invalid("spec.selector", _selector_go(sel), "empty selector is invalid for deployment")
    tmpl = spec.get("template") or {}
    tmeta = tmpl.get("metadata") or {}
    labels = tmeta.get("labels") or {}
    if (sel is None or sel.get("matchLabels") or sel.get("matchExpressions")) \
            and not _selector_matches(sel, labels):
        errs.invalid("spec.template.metadata.labels", _gomap(tmeta.get("labels")),
                     "`selector` does not match template `labels`")
    # ValidatePodTemplateSpec: note the path is spec.template.labels, not .metadata.labels.
    _labels(tmeta.get("labels"), "spec.template.labels", errs)
    _annotations(tmeta.get("annotations"), "spec.template.annotations", errs)
    tspec = tmpl.get("spec") or {}
    _pod_spec(tspec, "spec.template.spec", errs)
    if tspec.get("restartPolicy") and tspec["restartPolicy"] != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", tspec["restartPolicy"], ["Always"])
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.forbidden("spec.template.spec.activeDeadlineSeconds",
                       "activeDeadlineSeconds in ReplicaSet is not Supported")
    if deployment:
        _strategy(spec.get("strategy") or {}, errs)
    if deployment:
        _min_ready(mrs, errs)
        rhl = spec.get("revisionHistoryLimit")
        if isinstance(rhl, int) and rhl < 0:
            errs.invalid("spec.revisionHistoryLimit", rhl, "must be greater than or equal to 0")
        pds = spec.get("progressDeadlineSeconds")
        if isinstance(pds, int):
            if pds < 0:
                errs.invalid("spec.progressDeadlineSeconds", pds, "must be greater than or equal to 0")
            if isinstance(mrs, int) and pds <= mrs:
                errs.invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds")
    if old is not None:
        old_sel = (old.get("spec") or {}).get("selector")
        if sel != old_sel:
            # apps/v1 strategies: ValidateImmutableField(newSelector, oldSelector).
            errs.invalid("spec.selector", _selector_go(sel), "field is immutable")


def _min_ready(mrs, errs: _Errors) -> None:
    if isinstance(mrs, int) and mrs < 0:
        errs.invalid("spec.minReadySeconds", mrs, "must be greater than or equal to 0")


def _intstr_go(value) -> _Go:
    """%#v of an intstr.IntOrString (its String() has a pointer receiver, so it is not used)."""
    if isinstance(value, str):
        return _Go('intstr.IntOrString{Type:1, IntVal:0, StrVal:%s}' % _goquote(value))
    return _Go('intstr.IntOrString{Type:0, IntVal:%d, StrVal:""}' % (value if isinstance(value, int) else 0))


def _int_or_percent(value, path: str, errs: _Errors) -> None:
    """ValidatePositiveIntOrPercent and IsNotMoreThan100Percent."""
    if isinstance(value, str):
        if not re.fullmatch("[0-9]+%", value):
            errs.invalid(path, _intstr_go(value), _regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%"))
        elif int(value[:-1]) > 100:
            errs.invalid(path, _intstr_go(value), "must not be greater than 100%")
    elif isinstance(value, int) and value < 0:
        errs.invalid(path, value, "must be greater than or equal to 0")


def _strategy(strategy: dict, errs: _Errors) -> None:
    typ = strategy.get("type")
    if typ == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif typ == "RollingUpdate":
        ru = strategy.get("rollingUpdate")
        if ru is None:
            errs.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")
            return
        mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
        _int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable", errs)
        _int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge", errs)
        if mu in (0, "0%") and ms in (0, "0%"):
            errs.invalid("spec.strategy.rollingUpdate.maxUnavailable", _intstr_go(mu),
                         "may not be 0 when `maxSurge` is 0")
    else:
        rendered = _Go("apps.DeploymentStrategy{Type:%s, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}"
                       % _goquote(str(typ or "")))
        errs.not_supported("spec.strategy", rendered, ["Recreate", "RollingUpdate"])


def _validate_deployment(obj, old, errs):
    _validate_workload(obj, old, errs, deployment=True)


def _validate_replicaset(obj, old, errs):
    _validate_workload(obj, old, errs, deployment=False)


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


_VALIDATORS = {"Pod": _validate_pod, "Deployment": _validate_deployment, "ReplicaSet": _validate_replicaset,
               "Service": _validate_service, "Namespace": _validate_namespace,
               "Endpoints": _validate_endpoints, "EndpointSlice": _validate_endpointslice}
