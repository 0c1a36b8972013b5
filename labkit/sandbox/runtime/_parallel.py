"""How a C library sends the A and AAAA queries of one getaddrinfo candidate, and the
conntrack race that can lose one of them.

glibc (resolv/res_send.c, send_dg) sends both queries at once from one UDP socket. When
the pod reaches its nameserver through a DNAT (the kube-dns ClusterIP, rewritten by
kube-proxy's iptables rules), the two packets race to insert the same conntrack tuple and
the kernel can drop the loser (nf_conntrack `insert_failed`): its reply never comes. glibc
waits `timeout` (5 s by default) for it, and then, having one answer, switches itself to
RES_SNGLKUP for the rest of the process and asks again, A then AAAA: the famous 5 s stall.
Its remedies, from resolv.conf's `options` (dnsConfig.options in a Pod):
- `single-request` (RES_SNGLKUP): A, wait for its reply, then AAAA: never two in flight;
- `single-request-reopen` (RES_SNGLKUPREOP): the second query from a new socket, so a new
  source port and its own conntrack entry;
- `use-vc` (RES_USEVC): both over TCP, whose connection is tracked from its SYN.
musl (src/network/res_msend.c) also sends both at once from one socket, resends a query
still unanswered every `timeout / attempts` (2.5 s by default) and reads none of those
options (src/network/resolvconf.c parses ndots, attempts and timeout only).

The race is the sandbox's model of a kernel fault, never a real packet: off unless the
sandbox setting `conntrack_race` or the pod's annotation ANNOTATION gives a probability,
drawn per parallel pair from a generator seeded by the sandbox seed, the pod's name and
how many pairs the pod has sent, so an executed lesson is byte-stable. It applies only to
the kube-dns ClusterIP: NodeLocal DNSCache's 169.254.20.10 is not DNATed (the add-on
installs NOTRACK rules), and a node's resolver is reached without kube-proxy.
"""
from __future__ import annotations

import random
import threading

from ._lookup import SentQuery

ANNOTATION = "sandbox.labkit.dev/conntrack-race"

_pairs: dict[str, int] = {}            # parallel pairs each pod (by uid) has sent
_pairs_lock = threading.Lock()


def mode(conf, libc: str) -> str:
    """How the pair goes out: "parallel", "single-request", "single-request-reopen" or "tcp"."""
    if libc != "glibc":
        return "parallel"
    options = conf.options
    if options.get("use-vc"):
        return "tcp"
    if options.get("single-request"):
        return "single-request"
    if options.get("single-request-reopen"):
        return "single-request-reopen"
    return "parallel"


def race_probability(ctx) -> float:
    """The chance a parallel pair loses one reply: the pod's annotation, else the setting."""
    annotations = (ctx.pod.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ANNOTATION, getattr(ctx.config, "conntrack_race", 0.0))
    try:
        return min(max(float(value), 0.0), 1.0)
    except (TypeError, ValueError):
        return 0.0


def _draw(ctx) -> random.Random:
    meta = ctx.pod.get("metadata") or {}
    key = meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
    with _pairs_lock:
        if len(_pairs) > 10000:
            _pairs.clear()
        n = _pairs[key] = _pairs.get(key, 0) + 1
    return random.Random(f"{ctx.config.seed}/conntrack/{meta.get('name')}/{n}")


def ask(res, candidate: str, types: list[str]):
    """The queries of one candidate: the A/AAAA pair as below, one type alone as it is
    (over TCP under `use-vc`, which glibc applies to every query)."""
    if types == ["A", "AAAA"]:
        return ask_pair(res, candidate)
    tcp = mode(res.conf, res.libc) == "tcp" and not res.via_nodelocal
    outcomes = [(res.ask_address_tcp if tcp else res.ask_address)(candidate, t) for t in types]
    return outcomes, [o[0] for o in outcomes]


def ask_pair(res, candidate: str):
    """A and AAAA for `candidate` as the pod's C library sends them.

    Returns (outcomes, sent): outcomes are (SentQuery, addresses, owner) for A then AAAA as
    the walk judges them; sent lists every query the pod put on the wire, a dropped one
    included (rcode None, `dropped`). The time spent waiting for a lost reply is added to
    `res.stalled`.
    """
    how = "single-request" if res.learned_single_request else mode(res.conf, res.libc)
    if how == "tcp" and not res.via_nodelocal:     # the node's cache answers TCP alike
        return _both(res.ask_address_tcp, candidate)
    racing = (how == "parallel" and res.view == "cluster" and not res.via_nodelocal
              and race_probability(res.ctx) > 0)
    if racing:
        rng = _draw(res.ctx)
        if rng.random() < race_probability(res.ctx):
            return _lost_one(res, candidate, rng.choice(("A", "AAAA")))
    return _both(res.ask_address, candidate)


def _both(ask, candidate: str):
    """A then AAAA; when the A query got no answer at all (no server reachable), the AAAA,
    sent with it and waited for with it, adds no second wait and is not asked again."""
    first = ask(candidate, "A")
    if first[0].rcode is None:
        return [first], [first[0]]
    second = ask(candidate, "AAAA")
    return [first, second], [first[0], second[0]]


def _lost_one(res, candidate: str, lost: str):
    """One of the pair dropped by conntrack: it never reaches the server."""
    kept = "AAAA" if lost == "A" else "A"
    first = res.ask_address(candidate, kept)
    dropped = SentQuery(candidate.rstrip("."), lost, dropped=True)
    if res.libc == "glibc":
        # send_dg: poll() times out with one reply in; RES_SNGLKUP from now on, both again.
        res.stalled += res.conf.timeout
        res.learned_single_request = True
        again, resent = _both(res.ask_address, candidate)
        return again, ([first[0], dropped] if kept == "A" else [dropped, first[0]]) + resent
    # musl res_msend: only the unanswered query is sent again, one retry interval later.
    res.stalled += res.conf.timeout / res.conf.attempts
    retry = res.ask_address(candidate, lost)
    outcomes = [first, retry] if kept == "A" else [retry, first]
    sent = [first[0], dropped, retry[0]] if kept == "A" else [dropped, first[0], retry[0]]
    return outcomes, sent
