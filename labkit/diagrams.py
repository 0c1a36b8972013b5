"""Diagrams drawn from the lab's own values: the path of a DNS query, headless versus ClusterIP.

Each function takes plain values (names and addresses), so a diagram shows what this
cluster holds rather than a textbook's numbers; the `*_of(lab, ...)` helpers read those
values through the Kubernetes API. Drawn with matplotlib, nothing fetched.
"""
from __future__ import annotations

from . import errors, plots
from ._kubectl_lines import quietly

__all__ = ["query_path", "query_path_of", "headless_vs_clusterip", "headless_vs_clusterip_of"]

_BOX = {"boxstyle": "round,pad=0.5", "linewidth": 1.2}
_COLOURS = {"pod": "#dbeafe", "virtual": "#fef3c7", "node": "#e5e7eb", "dns": "#dcfce7", "api": "#fce7f3"}


def _canvas(title: str, size):
    fig, ax = plots._figure(title, "", "", size=size)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_axis_off()
    return fig, ax


def _box(ax, x, y, text, kind, width=None):
    return ax.text(x, y, text, ha="center", va="center", fontsize=8.5, wrap=False,
                   bbox=dict(_BOX, facecolor=_COLOURS[kind], edgecolor="#374151"))


def _arrow(ax, start, end, label="", style="-|>", dashed=False, offset=3.5):
    ax.annotate("", xy=end, xytext=start,
                arrowprops={"arrowstyle": style, "color": "#374151", "lw": 1.2,
                            "linestyle": "--" if dashed else "-", "shrinkA": 2, "shrinkB": 2})
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset, label,
                ha="center", va="bottom", fontsize=7.5, color="#111827")


def _listing(items: list[str], limit: int = 3) -> str:
    shown = list(items[:limit])
    if len(items) > limit:
        shown.append(f"... {len(items) - limit} more")
    return "\n".join(shown) if shown else "(none ready)"


def query_path(pod: str, nameserver: str, search: list[str], ndots: int, service: str,
               coredns: list[tuple[str, str]], name: str = "web-svc"):
    """A pod's lookup of `name`: its resolv.conf, the cluster DNS Service's virtual address,
    kube-proxy's rewrite on the node, the CoreDNS pods, and the API server they watch.
    `coredns` lists (pod name, pod IP) of the ready CoreDNS endpoints."""
    fig, ax = _canvas(f"How `{name}` is looked up from pod {pod}", (9.6, 4.2))
    conf = f"pod {pod}\n/etc/resolv.conf:\nnameserver {nameserver}\nsearch {search[0] if search else ''}\n" \
           f"{'  + ' + str(len(search) - 1) + ' more' if len(search) > 1 else ''}\noptions ndots:{ndots}"
    _box(ax, 11, 62, conf, "pod")
    _box(ax, 37, 62, f"Service {service}\nClusterIP {nameserver}\nUDP/TCP 53\n(virtual: no pod has it)", "virtual")
    _box(ax, 37, 22, "kube-proxy rules\non the pod's node:\nrewrite to one\nready endpoint", "node")
    _box(ax, 65, 62, "CoreDNS pods\n" + _listing([f"{n}  {ip}" for n, ip in coredns]), "dns")
    _box(ax, 90, 22, "API server\nServices\nEndpointSlices", "api")
    _arrow(ax, (22, 66), (28, 66), "query", offset=-7)
    _arrow(ax, (37, 52), (37, 32), "")
    _arrow(ax, (46, 24), (57, 55), "to one CoreDNS pod", offset=1)
    _arrow(ax, (84, 30), (74, 52), "watch", style="-|>", dashed=True, offset=1)
    _arrow(ax, (56, 74), (22, 74), "answer (from the pod's\nown address, rewritten back)", offset=1)
    ax.text(50, 3, f"The resolver tries `{name}` with each search domain first when it has fewer than "
            f"{ndots} dots; CoreDNS answers cluster names from what it watches.",
            ha="center", fontsize=7.5, style="italic")
    return fig


@quietly  # its reads are plumbing for a picture, not commands a learner types
def query_path_of(lab, pod: str = "client", namespace: str = "default", name: str = "web-svc"):
    """`query_path` with this cluster's values, read through the Kubernetes API."""
    conf = lab.resolv_conf(pod, namespace=namespace)
    nameserver = conf.nameservers[0] if conf.nameservers else "?"
    coredns: list[tuple[str, str]] = []
    try:
        services = lab.list_objects("service", namespace="kube-system")
    except (errors.Forbidden, errors.NamespaceNotAllowed):      # a workshop learner may not read it
        services = []
    dns = next((s for s in services if s["spec"].get("clusterIP") == nameserver), None)
    if dns is not None:
        for ep_slice in lab.list_objects("endpointslice", namespace="kube-system",
                                         selector=f"kubernetes.io/service-name={dns['metadata']['name']}"):
            for ep in ep_slice.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready", True):
                    ref = (ep.get("targetRef") or {}).get("name", "?")
                    coredns.extend((ref, address) for address in ep.get("addresses") or [])
    return query_path(pod, nameserver, conf.search, conf.ndots,
                      dns["metadata"]["name"] if dns else "(no Service has this address)",
                      sorted(set(coredns)), name=name)


def headless_vs_clusterip(headless: str, pod_ips: list[str], clusterip_service: str, cluster_ip: str,
                          client: str = "client"):
    """What DNS answers for a headless Service (every ready pod's address; the client
    picks) and for a ClusterIP Service (one virtual address; kube-proxy picks)."""
    fig, ax = _canvas("Headless versus ClusterIP: who picks the pod", (9.6, 4.4))
    pods = _listing(pod_ips, limit=4)
    ax.text(2, 93, f"{headless}  (clusterIP: None)", fontsize=9, weight="bold")
    _box(ax, 10, 74, f"pod {client}", "pod")
    _box(ax, 40, 74, f"DNS answer:\n{len(pod_ips)} A record{'s' if len(pod_ips) != 1 else ''}\n{pods}", "dns")
    _box(ax, 80, 74, "web pods\n" + pods, "pod")
    _arrow(ax, (17, 78), (31, 78), "lookup")
    _arrow(ax, (49, 70), (70, 70), "the client connects\nto one address itself", offset=1)
    ax.text(2, 45, f"{clusterip_service}  (ClusterIP)", fontsize=9, weight="bold")
    _box(ax, 10, 24, f"pod {client}", "pod")
    _box(ax, 36, 24, f"DNS answer:\n1 A record\n{cluster_ip}", "dns")
    _box(ax, 60, 24, f"kube-proxy rules\n{cluster_ip}:port\n-> one endpoint", "node")
    _box(ax, 86, 24, "web pods\n" + pods, "pod")
    _arrow(ax, (17, 28), (28, 28), "lookup")
    _arrow(ax, (43, 20), (51, 20), "connect", offset=-6)
    _arrow(ax, (69, 20), (77, 20), "rewritten", offset=-6)
    return fig


@quietly  # its reads are plumbing for a picture, not commands a learner types
def headless_vs_clusterip_of(lab, headless: str = "web-svc", clusterip: str = "web-clusterip",
                             namespace: str = "default", client: str = "client"):
    """`headless_vs_clusterip` with this cluster's values."""
    endpoints = lab.get_object("endpoints", headless, namespace=namespace)
    pod_ips = sorted({a["ip"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []},
                     key=plots._natural_key)
    cluster_ip = lab.get_object("service", clusterip, namespace=namespace)["spec"].get("clusterIP", "?")
    return headless_vs_clusterip(headless, pod_ips, clusterip, cluster_ip, client=client)
