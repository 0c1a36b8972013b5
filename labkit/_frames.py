"""`kubectl get -o wide` views as DataFrames, computed from the objects client-side.

Computed here rather than asked of the server as a Table, so the columns are the same
on every cluster. Formats follow kubectl's printers (kubernetes pkg/printers/internalversion
printers.go) and apimachinery's duration.HumanDuration for AGE.
"""
from __future__ import annotations

import datetime as dt

COLUMNS = {
    "pods": ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"],
    "services": ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"],
    "endpoints": ["NAME", "ENDPOINTS", "AGE"],
    "deployments": ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
    "replicasets": ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
    "namespaces": ["NAME", "STATUS", "AGE"],
    "nodes": ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"],
}


def human_duration(seconds: float) -> str:
    """apimachinery duration.HumanDuration: 45s, 3m20s, 2d4h, ..."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(obj: dict, now: dt.datetime | None = None) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    now = now or dt.datetime.now(dt.timezone.utc)
    return human_duration((now - created).total_seconds())


def label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        values = ",".join(e.get("values") or [])
        op = e.get("operator")
        parts.append({"In": f"{e['key']} in ({values})", "NotIn": f"{e['key']} notin ({values})",
                      "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}.get(op, e["key"]))
    return ",".join(parts) or "<none>"


def _pod(o: dict, now) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    statuses = status.get("containerStatuses") or []
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for cs in reversed(statuses):
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            t = state["terminated"]
            reason = t.get("reason") or (f"Signal:{t['signal']}" if t.get("signal") else f"ExitCode:{t.get('exitCode', 0)}")
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    ready = sum(1 for cs in statuses if cs.get("ready"))
    total = len(spec.get("containers") or [])
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    return [o["metadata"]["name"], f"{ready}/{total}", reason, restarts, age(o, now),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>"]


def _ports(spec: dict) -> str:
    out = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        out.append(f"{p['port']}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p['port']}/{proto}")
    return ",".join(out) or "<none>"


def _external_ip(spec: dict, status: dict) -> str:
    kind = spec.get("type", "ClusterIP")
    ips = list(spec.get("externalIPs") or [])
    if kind == "ExternalName":
        return spec.get("externalName", "<none>")
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []]
        ips += [i for i in ingress if i]
        return ",".join(ips) if ips else "<pending>"
    return ",".join(ips) if ips else "<none>"


def _service(o: dict, now) -> list:
    spec = o.get("spec") or {}
    selector = spec.get("selector")
    return [o["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP") or "<none>",
            _external_ip(spec, o.get("status") or {}), _ports(spec), age(o, now),
            ",".join(f"{k}={v}" for k, v in sorted(selector.items())) if selector else "<none>"]


def format_endpoints(subsets: list[dict] | None, limit: int = 3) -> str:
    """kubectl's formatEndpoints: ready `ip:port`, at most 3, then ` + N more...`."""
    shown, count = [], 0
    for ss in subsets or []:
        addresses = ss.get("addresses") or []
        ports = ss.get("ports") or []
        pairs = [(a["ip"], None) for a in addresses] if not ports else \
            [(a["ip"], p.get("port")) for p in ports for a in addresses]
        for ip, port in pairs:
            if len(shown) < limit:
                shown.append(ip if port is None else f"{ip}:{port}")
            count += 1
    if not shown:
        return "<none>"
    text = ",".join(shown)
    return text + (f" + {count - limit} more..." if count > limit else "")


def _endpoints(o: dict, now) -> list:
    return [o["metadata"]["name"], format_endpoints(o.get("subsets")), age(o, now)]


def _containers(template: dict) -> tuple[str, str]:
    cs = ((template or {}).get("spec") or {}).get("containers") or []
    return ",".join(c["name"] for c in cs), ",".join(c.get("image", "") for c in cs)


def _deployment(o: dict, now) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    names, images = _containers(spec.get("template"))
    return [o["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age(o, now),
            names, images, label_selector(spec.get("selector"))]


def _replicaset(o: dict, now) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    names, images = _containers(spec.get("template"))
    return [o["metadata"]["name"], spec.get("replicas", 1), status.get("replicas", 0),
            status.get("readyReplicas", 0), age(o, now), names, images, label_selector(spec.get("selector"))]


def _namespace(o: dict, now) -> list:
    return [o["metadata"]["name"], (o.get("status") or {}).get("phase", "Active"), age(o, now)]


def _node(o: dict, now) -> list:
    status = o.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    text = "Ready" if ready.get("status") == "True" else "NotReady"
    if (o.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in (o["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    ip = next((a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), "<none>")
    return [o["metadata"]["name"], text, ",".join(roles) or "<none>", age(o, now),
            (status.get("nodeInfo") or {}).get("kubeletVersion", ""), ip]


_ROWS = {"pods": _pod, "services": _service, "endpoints": _endpoints, "deployments": _deployment,
         "replicasets": _replicaset, "namespaces": _namespace, "nodes": _node}


def frame(plural: str, items: list[dict], now: dt.datetime | None = None):
    """A DataFrame of `items` with the `kubectl get -o wide` columns for `plural` (else NAME, AGE)."""
    import pandas as pd
    now = now or dt.datetime.now(dt.timezone.utc)
    if plural in _ROWS:
        rows = [_ROWS[plural](o, now) for o in items]
        return pd.DataFrame(rows, columns=COLUMNS[plural])
    return pd.DataFrame([[o["metadata"]["name"], age(o, now)] for o in items], columns=["NAME", "AGE"])
