"""Defaulting: what kube-apiserver fills in before storing an object.

The v1 API defaults (pkg/apis/*/v1/defaults.go), what the admission plugins of a stock
cluster add (ServiceAccount, Priority, DefaultTolerationSeconds) and what the
registries' strategies fill in (Service clusterIPs, ipFamilies, ipFamilyPolicy;
Namespace finalizers). A pure function of its arguments.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re

from ...kube.objects import clone
from ..validation._name_formats import _is_ip
from . import _quantity
from ._defaults_batch import default_cronjob, default_job
from ._defaults_config import default_secret


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


def _qos_class(spec: dict) -> str:
    """qos.GetPodQOS over cpu and memory."""
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        res = (c or {}).get("resources") or {}
        req = {k: _quantity.amount(v) for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory")}
        lim = {k: _quantity.amount(v) for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory")}
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


def _default_replicationcontroller(rc: dict, config, old) -> None:
    """SetDefaults_ReplicationController (pkg/apis/core/v1/defaults.go): the template's labels
    become the selector and the RC's own labels when those are empty; one replica."""
    spec = rc.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    template = spec.get("template")
    labels = ((template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None)
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = rc.setdefault("metadata", {})
        if isinstance(meta, dict) and not meta.get("labels"):
            meta["labels"] = dict(labels)
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if isinstance(template, dict):
        _default_template(rc)


def _default_statefulset(sts: dict, config, old) -> None:
    """SetDefaults_StatefulSet (pkg/apis/apps/v1/defaults.go)."""
    spec = sts.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            if isinstance(ru, dict):
                ru.setdefault("partition", 0)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    _default_template(sts)


def _default_daemonset(ds: dict, config, old) -> None:
    """SetDefaults_DaemonSet."""
    spec = ds.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            if isinstance(ru, dict):
                ru.setdefault("maxUnavailable", 1)
                ru.setdefault("maxSurge", 0)
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    _default_template(ds)


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


def _default_networkpolicy(np: dict, config, old) -> None:
    """pkg/apis/networking/v1/defaults.go: a port's protocol is TCP; policyTypes default to
    Ingress, plus Egress when the spec has egress rules."""
    spec = np.get("spec")
    if not isinstance(spec, dict):
        return
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in (rule or {}).get("ports") or []:
                if isinstance(port, dict) and port.get("protocol") is None:
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _default_binding(binding: dict, config, old) -> None:
    """pkg/apis/rbac/v1/defaults.go: the roleRef's and a User's or Group's apiGroup."""
    ref = binding.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = "rbac.authorization.k8s.io"
    for subject in binding.get("subjects") or []:
        if isinstance(subject, dict) and not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = "rbac.authorization.k8s.io"


_DEFAULTERS = {"Pod": _default_pod, "Deployment": _default_deployment, "ReplicaSet": _default_replicaset,
               "ReplicationController": _default_replicationcontroller,
               "Service": _default_service, "Namespace": _default_namespace,
               "Endpoints": _default_endpoints, "EndpointSlice": _default_endpointslice,
               "NetworkPolicy": _default_networkpolicy,
               "RoleBinding": _default_binding, "ClusterRoleBinding": _default_binding,
               "Secret": default_secret, "StatefulSet": _default_statefulset,
               "DaemonSet": _default_daemonset,
               "Job": lambda o, c, old: default_job(o, c, old, _default_template),
               "CronJob": lambda o, c, old: default_cronjob(o, c, old, _default_template)}
