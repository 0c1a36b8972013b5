"""Row printers for every kind but pods, one function per kind as upstream's print<Kind>."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from ..labels import format_label_selector, format_labels, selector_string
from .durations import human_duration, parse_time, translate_timestamp_since
from .formats import age, format_endpoints, layout_containers, list_with_more, meta

__all__ = ["PRINTERS", "print_default"]


def _service_external_ip(spec: dict, status: dict) -> str:
    svc_type = spec.get("type") or "ClusterIP"
    external = spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        lb = sorted({i.get("ip") or i.get("hostname") for i in ingress
                     if i.get("ip") or i.get("hostname")})
        if external:
            return ",".join(lb + external)
        # The server prints wide, so the list is never clipped to 16 characters.
        return ",".join(lb) if lb else "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _print_service(svc: dict, now: dt.datetime) -> list:
    spec = svc.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            ports.append(f"{p.get('port')}/{proto}")
    return [meta(svc).get("name", ""), spec.get("type") or "ClusterIP",
            cluster_ips[0] if cluster_ips else "<none>",
            _service_external_ip(spec, svc.get("status") or {}),
            ",".join(ports) or "<none>", age(svc, now), format_labels(spec.get("selector"))]


def _print_endpoints(ep: dict, now: dt.datetime) -> list:
    return [meta(ep).get("name", ""), format_endpoints(ep), age(ep, now)]


def _print_endpointslice(eps: dict, now: dt.datetime) -> list:
    ports = eps.get("ports") or []
    port_texts = []
    for port in ports[:3]:
        if port.get("port") is not None:
            port_texts.append(str(port["port"]))
        elif port.get("name") is not None:
            port_texts.append(port["name"])
        else:
            port_texts.append("*")
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    return [meta(eps).get("name", ""), eps.get("addressType", ""),
            list_with_more(port_texts, len(ports)), list_with_more(addresses, len(addresses)),
            age(eps, now)]


def _template_containers(obj: dict) -> list[dict]:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []


def _replicas(spec: dict) -> int:
    replicas = spec.get("replicas")
    return 1 if replicas is None else int(replicas)  # API default


def _deployment_selector(selector: dict | None) -> str:
    try:
        return selector_string(selector)
    except ValueError:
        return "<invalid>"


def _print_deployment(dep: dict, now: dt.datetime) -> list:
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    names, images = layout_containers(_template_containers(dep))
    return [meta(dep).get("name", ""),
            f"{int(status.get('readyReplicas') or 0)}/{_replicas(spec)}",
            int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0),
            age(dep, now), names, images, _deployment_selector(spec.get("selector"))]


def _print_replicaset(rs: dict, now: dt.datetime) -> list:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = layout_containers(_template_containers(rs))
    return [meta(rs).get("name", ""), _replicas(spec), int(status.get("replicas") or 0),
            int(status.get("readyReplicas") or 0), age(rs, now), names, images,
            format_label_selector(spec.get("selector"))]


def _print_replicationcontroller(rc: dict, now: dt.datetime) -> list:
    """printReplicationController: as a ReplicaSet, with a map selector (labels.FormatLabels)."""
    spec, status = rc.get("spec") or {}, rc.get("status") or {}
    names, images = layout_containers(_template_containers(rc))
    return [meta(rc).get("name", ""), _replicas(spec), int(status.get("replicas") or 0),
            int(status.get("readyReplicas") or 0), age(rc, now), names, images, format_labels(spec.get("selector"))]


def _print_namespace(ns: dict, now: dt.datetime) -> list:
    return [meta(ns).get("name", ""), (ns.get("status") or {}).get("phase", ""), age(ns, now)]


def _node_roles(labels: dict) -> str:
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _print_node(node: dict, now: dt.datetime) -> list:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    conds = {c.get("type"): c for c in status.get("conditions") or []}
    states = []
    if "Ready" in conds:
        states.append("Ready" if conds["Ready"].get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for addr in status.get("addresses") or []:
            if addr.get("type") == kind:
                return addr.get("address", "")
        return "<none>"

    return [meta(node).get("name", ""), ",".join(states),
            _node_roles(meta(node).get("labels") or {}), age(node, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _print_event(ev: dict, now: dt.datetime) -> list:
    first = translate_timestamp_since(ev.get("firstTimestamp"), now)
    if not ev.get("firstTimestamp"):
        first = translate_timestamp_since(ev.get("eventTime"), now)
    last = translate_timestamp_since(ev.get("lastTimestamp"), now)
    if not ev.get("lastTimestamp"):
        last = first
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series:
        last = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    source_text = f"{component}, {host}" if host else component
    return [last, ev.get("type", ""), ev.get("reason", ""), target,
            involved.get("fieldPath", ""), source_text, (ev.get("message") or "").strip(),
            first, count, meta(ev).get("name", "")]


def _print_configmap(cm: dict, now: dt.datetime) -> list:
    return [meta(cm).get("name", ""), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
            age(cm, now)]


def _print_secret(secret: dict, now: dt.datetime) -> list:
    return [meta(secret).get("name", ""), secret.get("type", ""),
            len(secret.get("data") or {}), age(secret, now)]


def _print_serviceaccount(sa: dict, now: dt.datetime) -> list:
    return [meta(sa).get("name", ""), len(sa.get("secrets") or []), age(sa, now)]


def _print_lease(lease: dict, now: dt.datetime) -> list:
    return [meta(lease).get("name", ""), (lease.get("spec") or {}).get("holderIdentity") or "", age(lease, now)]


def _print_daemonset(ds: dict, now: dt.datetime) -> list:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    names, images = layout_containers(_template_containers(ds))
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [meta(ds).get("name", ""), *(int(status.get(k) or 0) for k in (
                "desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
                "numberAvailable")),
            format_labels(node_selector), age(ds, now), names, images, format_label_selector(spec.get("selector"))]


def _print_statefulset(sts: dict, now: dt.datetime) -> list:
    names, images = layout_containers(_template_containers(sts))
    ready = int((sts.get("status") or {}).get("readyReplicas") or 0)
    return [meta(sts).get("name", ""), f"{ready}/{_replicas(sts.get('spec') or {})}", age(sts, now),
            names, images]


def _job_status(job: dict) -> str:
    """printJob's STATUS: the first of these conditions the Job has, else Running."""
    conds = {c.get("type") for c in (job.get("status") or {}).get("conditions") or []
             if c.get("status") == "True"}
    for cond, word in (("Complete", "Complete"), ("Failed", "Failed"), (None, "Terminating"),
                       ("Suspended", "Suspended"), ("FailureTarget", "FailureTarget"),
                       ("SuccessCriteriaMet", "SuccessCriteriaMet")):
        if cond is None and meta(job).get("deletionTimestamp") or cond in conds:
            return word
    return "Running"


def _print_job(job: dict, now: dt.datetime) -> list:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    duration = ""
    if status.get("startTime"):
        start = parse_time(status["startTime"])
        end = parse_time(status["completionTime"]) if status.get("completionTime") else \
            (now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc))
        duration = human_duration((end - start) / dt.timedelta(seconds=1))
    names, images = layout_containers(_template_containers(job))
    return [meta(job).get("name", ""), _job_status(job), completions, duration, age(job, now),
            names, images, format_label_selector(spec.get("selector"))]


def _print_bool_ptr(value) -> str:
    """printBoolPtr: the cell is text, "True", "False" or "<unset>"."""
    return "<unset>" if value is None else "True" if value else "False"


def _print_cronjob(cj: dict, now: dt.datetime) -> list:
    spec, status = cj.get("spec") or {}, cj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    last = status.get("lastScheduleTime")
    names, images = layout_containers(((job_spec.get("template") or {}).get("spec") or {}).get("containers"))
    return [meta(cj).get("name", ""), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            _print_bool_ptr(spec.get("suspend")), len(status.get("active") or []),
            translate_timestamp_since(last, now) if last else "<none>", age(cj, now),
            names, images, format_label_selector(job_spec.get("selector"))]


def _print_networkpolicy(np: dict, now: dt.datetime) -> list:
    return [meta(np).get("name", ""),
            format_label_selector((np.get("spec") or {}).get("podSelector") or {}), age(np, now)]


def _print_role(role: dict, now: dt.datetime) -> list:
    return [meta(role).get("name", ""), meta(role).get("creationTimestamp") or ""]


def _print_role_binding(binding: dict, now: dt.datetime) -> list:
    ref = binding.get("roleRef") or {}
    users, groups, accounts = [], [], []
    for subject in binding.get("subjects") or []:     # rbac.SubjectsStrings
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            accounts.append(f"{subject.get('namespace', '')}/{subject.get('name', '')}")
        elif kind == "User":
            users.append(subject.get("name", ""))
        elif kind == "Group":
            groups.append(subject.get("name", ""))
    return [meta(binding).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(binding, now),
            ", ".join(users), ", ".join(groups), ", ".join(accounts)]


def print_default(obj: dict, now: dt.datetime) -> list:
    return [meta(obj).get("name", ""), age(obj, now)]


PRINTERS: dict[str, Callable[[dict, dt.datetime], list]] = {
    "services": _print_service,
    "endpoints": _print_endpoints,
    "endpointslices": _print_endpointslice,
    "networkpolicies": _print_networkpolicy,
    "deployments": _print_deployment,
    "replicasets": _print_replicaset,
    "replicationcontrollers": _print_replicationcontroller,
    "namespaces": _print_namespace,
    "nodes": _print_node,
    "events": _print_event,
    "configmaps": _print_configmap,
    "secrets": _print_secret,
    "serviceaccounts": _print_serviceaccount,
    "statefulsets": _print_statefulset,
    "daemonsets": _print_daemonset,
    "leases": _print_lease,
    "jobs": _print_job,
    "cronjobs": _print_cronjob,
    "roles": _print_role,
    "clusterroles": _print_role,
    "rolebindings": _print_role_binding,
    "clusterrolebindings": _print_role_binding,
}

