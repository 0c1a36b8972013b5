"""NodeLocal DNSCache, as the add-on runs it (kubernetes/kubernetes:
cluster/addons/dns/nodelocaldns/nodelocaldns.yaml, k8s-dns-node-cache).

The add-on is a `node-local-dns` DaemonSet in kube-system whose CoreDNS listens on each
node at 169.254.20.10 and, with kube-proxy in iptables mode, on the kube-dns ClusterIP as
well (`-localip 169.254.20.10,10.0.0.10`), with NOTRACK rules for both: a pod's queries
stay on its node, are neither DNATed nor tracked (so the conntrack race of _parallel.py
cannot happen), and are answered from the node's cache. Its Corefile forwards
`cluster.local` and the reverse zones to the `kube-dns-upstream` Service with `force_tcp`,
caching `success 9984 30` and `denial 9984 5`; other names go to the node's own resolver
(`forward . /etc/resolv.conf`) with `cache 30`.

Here the add-on counts as present when kube-system holds its DaemonSet or its ConfigMap
(the manifest's `node-local-dns` ConfigMap carries that Corefile), so a cluster without
DaemonSets can still apply it. Each node's cache lives in the sandbox process, never on a
real 169.254.20.10; a miss goes to the sandbox DNS server on loopback, over TCP for
cluster names, logged as the node-local-dns pod of the querying pod's node.
"""
from __future__ import annotations

import socket
import threading
import weakref

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from ._lookup import SentQuery

ADDRESS = "169.254.20.10"
NAME = "node-local-dns"
SUCCESS_TTL, DENIAL_TTL, MIN_TTL = 30, 5, 5      # the add-on's `cache { success 9984 30  denial 9984 5 }`
_IN_CLUSTER = (".in-addr.arpa", ".ip6.arpa")

_caches: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()     # per DNS client registry
_lock = threading.Lock()


def serves(ctx) -> bool:
    """Whether the add-on is installed: its DaemonSet or its ConfigMap in kube-system."""
    cluster = ctx.cluster
    for plural in ("daemonsets", "configmaps"):
        try:
            if cluster.get(plural, "kube-system", NAME) is not None:
                return True
        except (KeyError, LookupError):
            continue
    return False


def _node(ctx) -> str:
    return (ctx.pod.get("spec") or {}).get("nodeName") or "unscheduled"


def node_cache(ctx) -> dict:
    """The node's cache: "entries" maps (qname, qtype) to (expiry on the sandbox clock, reply);
    "hits" and "misses" count as the add-on's coredns_cache_{hits,misses}_total do."""
    with _lock:
        per_node = _caches.setdefault(ctx.dns_clients, {})
        return per_node.setdefault(_node(ctx), {"entries": {}, "hits": 0, "misses": 0})


def ask(res, name: str, rdtype: str):
    """One A or AAAA query through the node's cache: (SentQuery, addresses, owner)."""
    ctx = res.ctx
    qname = name.rstrip(".").lower() + "."
    cache = node_cache(ctx)
    now = ctx.clock.monotonic()
    kept = cache["entries"].get((qname, rdtype))
    if kept is not None and kept[0] > now:
        cache["hits"] += 1
        reply = kept[1]
    else:
        cache["misses"] += 1
        reply = _forward(res, qname, rdtype)
        if reply is not None:
            if len(cache["entries"]) > 9984:          # the add-on's cache capacity
                cache["entries"].clear()
            cache["entries"][(qname, rdtype)] = (now + _ttl(reply), reply)
    sent = SentQuery(name.rstrip("."), rdtype, response=reply)
    addresses, owner = [], None
    if reply is not None:
        sent.rcode = dns.rcode.to_text(reply.rcode())
        want = dns.rdatatype.from_text(rdtype)
        for rrset in reply.answer:
            if rrset.rdtype == want:
                addresses.extend(rd.address for rd in rrset)
                owner = owner or rrset.name.to_text(omit_final_dot=True)
        sent.answers = len(addresses)
    return sent, addresses, owner


def _ttl(reply) -> float:
    """plugin/cache: the reply's smallest TTL, at most the configured one, at least 5 s
    (dnsutil.MinimalDefaultTTL)."""
    if reply.rcode() == dns.rcode.NOERROR and reply.answer:
        return max(MIN_TTL, min([SUCCESS_TTL] + [rrset.ttl for rrset in reply.answer]))
    return DENIAL_TTL


def _forward(res, qname: str, rdtype: str):
    """A miss: cluster names to kube-dns-upstream over TCP, the rest to the node's resolver."""
    ctx = res.ctx
    domain = "." + ctx.config.cluster_domain.strip(".") + "."
    cluster = qname.endswith(domain) or qname.rstrip(".").endswith(_IN_CLUSTER)
    client = {"namespace": "kube-system", "pod": f"{NAME}-{_node(ctx)}",
              "ip": ctx.config.node_ip(_node(ctx)) if _node(ctx) in ctx.config.nodes else None}
    if not cluster:
        client["view"] = "node"            # `forward . /etc/resolv.conf`: the node's resolver
    request = dns.message.make_query(qname, rdtype)
    wait = max(min(res.conf.timeout, res._remaining()), 0.001)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if cluster else socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        ctx.dns_clients.register(port, client)
        try:
            if cluster:                    # force_tcp
                sock.settimeout(wait)
                sock.connect(ctx.dns_address)
                return dns.query.tcp(request, ctx.dns_address[0], port=ctx.dns_address[1],
                                     timeout=wait, sock=sock)
            return dns.query.udp(request, ctx.dns_address[0], port=ctx.dns_address[1],
                                 timeout=wait, sock=sock)
        except (dns.exception.Timeout, OSError, EOFError, dns.exception.FormError):
            return None
        finally:
            ctx.dns_clients.unregister(port)
