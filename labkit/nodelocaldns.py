"""NodeLocal DNSCache for a lesson: apply the add-on's manifest through the API, remove it,
and a per-node hit rate from what the cluster DNS's query log shows.

The add-on (manifests/addons/nodelocaldns.yaml, as kubernetes/kubernetes ships it) is a
DaemonSet, a ConfigMap with its Corefile, a ServiceAccount and the `kube-dns-upstream`
Service. `install` applies each object the cluster serves and reports the others (a
cluster without DaemonSets still gets the ConfigMap, which is all the sandbox needs to know
the add-on is there). It needs write access to kube-system: in a workshop,
the instructor's.

>>> labkit.nodelocaldns.install(lab, "../manifests/addons/nodelocaldns.yaml")
"""
from __future__ import annotations

from . import _apply, errors
from ._kubectl_lines import quietly

ADDRESS = "169.254.20.10"
NAME = "node-local-dns"


@quietly
def install(lab, manifest) -> list[str]:
    """`kubectl apply -f MANIFEST`, object by object; one line per object, as kubectl prints."""
    lines = []
    for obj in _apply.load(manifest):
        kind = obj.get("kind", "")
        name = f"{kind.lower()}/{obj['metadata']['name']}"
        try:
            lines.extend(str(lab.apply(obj)).splitlines())
        except errors.LabkitError as e:
            if "the server doesn't have a resource type" in str(e) or isinstance(e, errors.NotFound):
                lines.append(f"{name} skipped: this cluster does not serve {kind}")
            else:
                raise
    return lines


@quietly
def uninstall(lab, manifest) -> list[str]:
    """`kubectl delete -f MANIFEST --ignore-not-found`, object by object."""
    lines = []
    for obj in reversed(_apply.load(manifest)):
        try:
            lines.extend(str(lab.delete(obj, ignore_not_found=True)).splitlines())
        except errors.LabkitError as e:
            if "the server doesn't have a resource type" not in str(e) and not isinstance(e, errors.NotFound):
                raise
    return lines



def hit_rates(sent: dict, forwarded: dict):
    """Per node: the A/AAAA queries its pods sent, how many its cache forwarded to the cluster
    DNS (what the query log shows while only that node's pods asked), and the hit rate,
    1 - forwarded / sent, as the add-on's coredns_cache_hits_total would give it."""
    import pandas as pd
    rows = [{"node": node, "sent": n, "forwarded": forwarded.get(node, 0),
             "hit_rate": round(1 - forwarded.get(node, 0) / n, 3) if n else float("nan")}
            for node, n in sent.items()]
    return pd.DataFrame(rows, columns=["node", "sent", "forwarded", "hit_rate"]).set_index("node")
