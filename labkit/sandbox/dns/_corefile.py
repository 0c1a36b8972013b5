"""What the sandbox's DNS takes from the Corefile in ConfigMap kube-system/coredns.

A cluster admin changes CoreDNS by editing that ConfigMap; the `reload` plugin then
loads the new Corefile (on a real cluster within a minute or two: the kubelet syncs the
volume, then reload polls every 30 s). The sandbox applies an edit at once. It honours
the directives the course is about: `loadbalance`, `cache [TTL]` and the kubernetes
plugin's `ttl`; the zone, `pods` and `fallthrough` settings stay as kubeadm writes them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CACHE_DEFAULT = 3600     # plugin/cache: `cache` without a TTL caps entries at 3600 s
TTL_DEFAULT = 5          # plugin/kubernetes: `ttl` defaults to 5 s


@dataclass(frozen=True)
class CorefileSettings:
    loadbalance: bool
    cache_seconds: int       # 0: no cache plugin
    ttl: int


def parse(corefile: str) -> CorefileSettings:
    loadbalance, cache, ttl, depth, in_kubernetes = False, 0, TTL_DEFAULT, 0, False
    for raw in corefile.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.replace("{", " { ").replace("}", " } ").split()
        head = words[0]
        if depth == 1:
            if head == "loadbalance":
                loadbalance = True
            elif head == "cache":
                cache = int(words[1]) if len(words) > 1 and words[1].isdigit() else CACHE_DEFAULT
            elif head == "kubernetes":
                in_kubernetes = True
        elif depth == 2 and in_kubernetes and head == "ttl" and len(words) > 1 and words[1].isdigit():
            ttl = int(words[1])
        depth += words.count("{") - words.count("}")
        if depth <= 1:
            in_kubernetes = False
    return CorefileSettings(loadbalance, cache, ttl)


def from_cluster(reader, fallback: CorefileSettings) -> CorefileSettings:
    """The settings of the cluster's Corefile; `fallback` when there is none."""
    cm = reader.get("configmaps", "kube-system", "coredns")
    text = ((cm or {}).get("data") or {}).get("Corefile")
    if not text or not re.search(r"\bkubernetes\b", text):
        return fallback
    return parse(text)
