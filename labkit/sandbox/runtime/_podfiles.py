"""The files the kubelet and the container runtime write into every pod.

/etc/resolv.conf follows the kubelet's pkg/kubelet/network/dns/dns.go (GetPodDNS,
appendDNSConfig, mergeDNSOptions, the nameserver and search limits) rendered as
containerd writes it (search, nameserver lines, options). /etc/hosts follows
kubelet_pods.go (managedHostsFileContent, nodeHostsFileContent,
hostsEntriesFromHostAliases); the hostname follows GeneratePodHostNameAndDomain.

Nodes: the sandbox's nodes look like kind nodes on a Docker network, so a node's
own resolv.conf names the network's gateway (the first address of node_cidr,
172.18.0.1 by default) with `options ndots:0`, as Docker's embedded DNS writes it.
"""
from __future__ import annotations

import ipaddress

_MAX_NAMESERVERS = 3           # validation.MaxDNSNameservers
_MAX_SEARCH_PATHS = 32         # validation.MaxDNSSearchPathsExpanded (GA in 1.28)
_MAX_SEARCH_CHARS = 2048       # validation.MaxDNSSearchListCharsExpanded
_HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
_HOSTS_HEADER_HOSTNET = "# Kubernetes-managed hosts file (host network).\n"


def node_resolv_conf(config) -> str:
    """The node's /etc/resolv.conf: Docker's embedded DNS as a kind node sees it."""
    gateway = ipaddress.ip_network(config.node_cidr)[1]
    return f"nameserver {gateway}\noptions ndots:0\n"


def node_hosts(config, node_name: str | None) -> str:
    """A kind node's /etc/hosts as Docker writes it."""
    text = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n")
    if node_name and node_name in config.nodes:
        text += f"{config.node_ip(node_name)}\t{node_name}\n"
    return text


def _parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """parseResolvConf: nameservers accumulate, the last search and options lines win."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [s[:-1] if s.endswith(".") else s for s in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return servers, searches, options


def _dedup(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merge_options(existing: list[str], pod_options: list[dict]) -> list[str]:
    # The kubelet merges through a Go map, so its order is unspecified; the sandbox keeps
    # first-seen order, pod values replacing node/cluster ones in place.
    merged: dict[str, str] = {}
    for op in existing:
        name, _, value = op.partition(":")
        merged[name] = value
    for op in pod_options:
        merged[op.get("name", "")] = op.get("value") or ""
    return [f"{k}:{v}" if v else k for k, v in merged.items()]


def _fit_searches(searches: list[str]) -> list[str]:
    searches = [s for s in searches[:_MAX_SEARCH_PATHS] if len(s) <= 253]
    while searches and len(" ".join(searches)) > _MAX_SEARCH_CHARS:
        searches.pop()
    return searches


def _host_network(pod: dict) -> bool:
    return bool((pod.get("spec") or {}).get("hostNetwork"))


def resolv_conf(pod: dict, *, config, node: dict | None = None) -> str:
    """The pod's /etc/resolv.conf, as the kubelet computes it and containerd writes it."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    servers, searches, options = _parse_resolv_conf(node_resolv_conf(config))
    if policy == "None":
        servers, searches, options = [], [], []
    elif policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not _host_network(pod)):
        ns = pod["metadata"].get("namespace") or "default"
        domain = config.cluster_domain
        servers = [config.cluster_dns_ip]
        searches = _dedup([f"{ns}.svc.{domain}", f"svc.{domain}", domain] + searches)
        options = ["ndots:5"]
    # else Default (or ClusterFirst with hostNetwork): the node's settings as they are.
    dns_config = spec.get("dnsConfig")
    if dns_config is not None:
        servers = _dedup(servers + list(dns_config.get("nameservers") or []))
        searches = _dedup(searches + list(dns_config.get("searches") or []))
        options = _merge_options(options, list(dns_config.get("options") or []))
    servers = servers[:_MAX_NAMESERVERS]
    searches = _fit_searches(searches)
    text = ""
    if searches:
        text += "search " + " ".join(searches) + "\n"
    if servers:
        text += "nameserver " + "\nnameserver ".join(servers) + "\n"
    if options:
        text += "options " + " ".join(options) + "\n"
    return text


def hostname_and_domain(pod: dict, *, config) -> tuple[str, str]:
    """GeneratePodHostNameAndDomain: spec.hostname or the pod name (cut to 63 chars),
    and `<subdomain>.<ns>.svc.<domain>` when spec.subdomain is set."""
    spec = pod.get("spec") or {}
    meta = pod["metadata"]
    hostname = spec.get("hostname") or meta["name"]
    if len(hostname) > 63:
        hostname = hostname[:63].rstrip("-.")
    domain = ""
    if spec.get("subdomain"):
        domain = f"{spec['subdomain']}.{meta.get('namespace') or 'default'}.svc.{config.cluster_domain}"
    return hostname, domain


def pod_hostname(pod: dict, *, config) -> str:
    """What `hostname` prints: the node's name with hostNetwork, the FQDN with
    setHostnameAsFQDN, else the short hostname."""
    spec = pod.get("spec") or {}
    if _host_network(pod):
        return spec.get("nodeName") or ""
    hostname, domain = hostname_and_domain(pod, config=config)
    if spec.get("setHostnameAsFQDN") and domain:
        return f"{hostname}.{domain}"
    return hostname


def _pod_ips(pod: dict) -> list[str]:
    status = pod.get("status") or {}
    ips = [p.get("ip") for p in status.get("podIPs") or [] if p.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return ips


def _host_aliases(pod: dict) -> str:
    aliases = (pod.get("spec") or {}).get("hostAliases") or []
    if not aliases:
        return ""
    lines = "".join(f"{a.get('ip', '')}\t" + "\t".join(a.get("hostnames") or []) + "\n"
                    for a in aliases)
    return "\n# Entries added by HostAliases.\n" + lines


def hosts(pod: dict, *, config) -> str:
    """The pod's /etc/hosts, as the kubelet writes it."""
    if _host_network(pod):
        node_name = (pod.get("spec") or {}).get("nodeName")
        return _HOSTS_HEADER_HOSTNET + node_hosts(config, node_name) + _host_aliases(pod)
    hostname, domain = hostname_and_domain(pod, config=config)
    text = (_HOSTS_HEADER + "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
            "fe00::2\tip6-allrouters\n")
    for ip in _pod_ips(pod):
        text += f"{ip}\t{hostname}.{domain}\t{hostname}\n" if domain else f"{ip}\t{hostname}\n"
    return text + _host_aliases(pod)


def pod_files(pod: dict, *, config, node: dict | None = None) -> dict[str, str]:
    """/etc/resolv.conf, /etc/hosts and /etc/hostname of a pod."""
    return {
        "/etc/resolv.conf": resolv_conf(pod, config=config, node=node),
        "/etc/hosts": hosts(pod, config=config),
        "/etc/hostname": pod_hostname(pod, config=config) + "\n",
    }
