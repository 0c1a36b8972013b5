"""`Lab.doctor()`'s report: what this account may read about the cluster, and what it may not.

A workshop learner's account usually may not list nodes or read the kubelet's configuration
(RBAC answers 403): each refused read is named with the API server's reason, and the report
goes on with the rest, as `kubectl auth can-i` would let one find out read by read.
"""
from __future__ import annotations

from pathlib import Path

from . import errors
from ._apply import default_manifests

# Which refused read leaves a doctor() field empty (printed "not readable" rather than None).
_SOURCES = {"nodes": "nodes", "cluster_domain": "kubelet configuration",
            "cluster_dns": "kube-system/kube-dns", "dns_ready": "kube-system/kube-dns"}


def cluster_facts(lab, unreadable: dict[str, str], node: str | None,
                   ask_kubelet: bool = True) -> tuple[str | None, str | None]:
    """(cluster domain, cluster DNS IP) from what this account may read; refusals go to `unreadable`."""
    from .clusterdns import corefile, kubernetes_zone
    domain = dns_ip = None
    try:
        if ask_kubelet:
            cfg = lab.kubelet_config(node)
            domain, dns_ip = cfg.get("clusterDomain"), (cfg.get("clusterDNS") or [None])[0]
    except errors.Forbidden as e:
        unreadable["kubelet configuration"] = e.message
    except errors.LabkitError:
        pass                              # configz may be missing on managed clusters
    if not domain:
        try:
            domain = kubernetes_zone(corefile(lab))
        except errors.Forbidden as e:
            unreadable["Corefile"] = e.message
        except (errors.LabkitError, KeyError):
            pass                          # not CoreDNS, or not configured by a ConfigMap
    return domain, dns_ip


def report(lab) -> dict:
    """The report's fields; `not_readable` maps each refused read to the server's reason."""
    out = {"backend": lab.backend, "context": lab.context, "server": lab.server}
    unreadable: dict[str, str] = {}
    version = lab._transport.request("GET", "/version")       # every account may read it
    out["server_version"] = version.get("gitVersion")
    try:
        nodes = lab.list_objects("nodes", None)
        out["nodes"] = len(nodes)
    except errors.Forbidden as e:
        nodes, out["nodes"] = None, None
        unreadable["nodes"] = e.message
    # No node list (refused) or no nodes: no kubelet to ask; the Corefile may still tell the domain.
    domain, dns_ip = cluster_facts(lab, unreadable, nodes[0]["metadata"]["name"] if nodes else None,
                                   ask_kubelet=bool(nodes))
    healthy = None
    try:
        svc = lab.get_object("service", "kube-dns", "kube-system")
        dns_ip = dns_ip or svc["spec"].get("clusterIP")
        ep = lab.get_object("endpoints", "kube-dns", "kube-system")
        healthy = any(s.get("addresses") for s in ep.get("subsets") or [])
    except errors.Forbidden as e:
        unreadable["kube-system/kube-dns"] = e.message
    except errors.LabkitError:
        healthy = False
    out.update(cluster_domain=domain, cluster_dns=dns_ip, dns_ready=healthy)
    out["images"] = image_status(lab)
    if lab.namespace_prefix:
        out["namespaces"] = {n: lab.ns(n) for n in lab.lesson_namespaces}
    if unreadable:
        out["not_readable"] = unreadable
    return out


def text(report: dict) -> str:
    """The report as doctor() prints it: one `key  value` line each, then what was refused."""
    unreadable = report.get("not_readable") or {}
    shown = {k: ("not readable" if v is None and _SOURCES.get(k) in unreadable else v)
             for k, v in report.items() if k != "not_readable"}
    width = max(len(k) for k in list(shown) + ["not readable"])
    lines = [f"{k:<{width}}  {v}" for k, v in shown.items()]
    if unreadable:
        lines.append(f"{'not readable':<{width}}  this account's RBAC refused (403) these reads; "
                     "the report shows what it may read:")
        lines += [f"{'':<{width}}    {what}: {why}" for what, why in unreadable.items()]
    return "\n".join(lines)


def image_status(lab) -> dict[str, str]:
    """Per course image: "running" when a pod of this lab runs it, the waiting reason
    (ErrImagePull, ImagePullBackOff, ...) when one cannot start, else "not used yet"."""
    status = {image: "not used yet" for image in course_images()}
    for ns in lab.lesson_namespaces:
        try:
            pods = lab.list_objects("pods", ns)
        except errors.LabkitError:
            continue
        for pod in pods:
            images = {c["name"]: c.get("image") for c in pod["spec"].get("containers") or []}
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                image = images.get(cs.get("name"))
                if image not in status or status[image] == "running":
                    continue
                state = cs.get("state") or {}
                if "running" in state:
                    status[image] = "running"
                elif (state.get("waiting") or {}).get("reason"):
                    status[image] = state["waiting"]["reason"]
    return status


def course_images(manifests: Path | None = None) -> list[str]:
    """The container images the course's manifests run."""
    import yaml
    images: list[str] = []
    for path in sorted(Path(manifests or default_manifests()).glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            spec = ((doc or {}).get("spec") or {})
            spec = (spec.get("template") or {}).get("spec") or spec
            for c in spec.get("containers") or []:
                if c.get("image") and c["image"] not in images:
                    images.append(c["image"])
    return images
