"""The kubernetes plugin's answer: a pure function of (question, cluster index).

It follows CoreDNS's kubernetes plugin as kubeadm configures it (plugin/kubernetes:
handler.go, kubernetes.go, parse.go, reverse.go, ns.go; plugin/backend_lookup.go).
Names outside the cluster zones, and reverse names that fall through, are left to the
next plugin (`kubernetes()` returns None); `forward()` is that plugin, answering from the
sandbox's outside world. The plugins are chained in _chain; `shuffle` is loadbalance's.
"""
from __future__ import annotations

import functools
import ipaddress
import math
import random
from dataclasses import dataclass, field
from typing import NamedTuple

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from ._index import ClusterIndex
from ._outside import Outside

T = dns.rdatatype
IN = dns.rdataclass.IN
DNS_SCHEMA_VERSION = "1.1.0"
DNS_VERSION_TTL = 28800            # kubernetes.go: the dns-version TXT record
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")
# request/edns0.go supportedOptions: NSID, EXPIRE, COOKIE, TCP-KEEPALIVE, PADDING are echoed.
ECHOED_EDNS_OPTIONS = frozenset({3, 9, 10, 11, 12})


class RR(NamedTuple):
    name: dns.name.Name
    rdtype: int
    ttl: int
    rdata: dns.rdata.Rdata


@dataclass
class Reply:
    """A response before framing: the server adds the header, question and OPT."""
    rcode: int
    authoritative: bool
    recursion_available: bool
    answer: list[RR] = field(default_factory=list)
    authority: list[RR] = field(default_factory=list)
    additional: list[RR] = field(default_factory=list)


class _Svc(NamedTuple):
    """plugin/etcd/msg.Service, reduced to what the kubernetes plugin fills in."""
    host: str = ""           # an IP, or a name for ExternalName (a CNAME)
    port: int = 0
    target: str = ""         # msg.Domain(Key): the record's own name, used as SRV/NS target
    ttl: int = 0
    text: str = ""


class _NameError(Exception):
    """errNoItems / errNsNotExposed / errInvalidRequest: all answered NXDOMAIN."""


@functools.lru_cache(maxsize=65536)
def _address(host: str) -> tuple[int, dns.rdata.Rdata] | None:
    """(A or AAAA, rdata) for an IP literal, None for a name (msg.Service.HostType)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    rdtype = T.A if ip.version == 4 else T.AAAA
    return rdtype, dns.rdata.from_text(IN, rdtype, str(ip))


@functools.lru_cache(maxsize=65536)
def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def _rdata(rdtype: int, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(IN, rdtype, text)


def _strip_underscore(label: str) -> str:
    return label[1:] if label.startswith("_") else label


def _reverse_address(labels: tuple[str, ...]) -> str:
    """dnsutil.ExtractAddressFromReverse: the IP a full reverse name stands for, else ""."""
    if labels[-3:] == ("in-addr", "arpa", ""):
        octets = labels[:-3]
        if len(octets) == 4:
            try:
                return str(ipaddress.IPv4Address(".".join(reversed(octets))))
            except ValueError:
                return ""
    elif labels[-3:] == ("ip6", "arpa", ""):
        nibbles = labels[:-3]
        if len(nibbles) == 32 and all(len(n) == 1 for n in nibbles):
            digits = "".join(reversed(nibbles))
            try:
                return str(ipaddress.IPv6Address(
                    ":".join(digits[i:i + 4] for i in range(0, 32, 4))))
            except ValueError:
                return ""
    return ""


class _Lookup:
    """One question against the kubernetes plugin, in one matched zone."""

    def __init__(self, index: ClusterIndex, outside: Outside, qname: dns.name.Name,
                 labels: tuple[str, ...], zone_len: int) -> None:
        self.index, self.outside = index, outside
        self.qname = qname
        self.labels = labels                           # lowercase, ending with ""
        self.zone_text = ".".join(labels[-zone_len:])  # lowercase zone, e.g. "cluster.local."
        # The zone as the query spelled it (handler.go keeps the original case).
        self.zone_spelled = dns.name.Name(qname.labels[-zone_len:]).to_text()
        self.zone_len = zone_len
        self.reverse = self.zone_text in REVERSE_ZONES
        self.ttl = index.ttl

    # -- Services / Records (kubernetes.go) -------------------------------------------
    def base(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        return labels[:-self.zone_len]

    def services(self, labels: tuple[str, ...], qtype: int) -> list[_Svc]:
        base = self.base(labels)
        if qtype == T.TXT:
            if len(base) == 1 and base[0] == "dns-version":
                return [_Svc(text=DNS_SCHEMA_VERSION, ttl=DNS_VERSION_TTL)]
            # kubernetes.go Services, TXT: a name that has records of another type is
            # NODATA; any other (the apex, `svc.`, a missing name) is errNoItems: NXDOMAIN.
            try:
                exists = bool(self.records(base))
            except _NameError:
                exists = False
            if not exists:
                raise _NameError
            return []
        if qtype == T.NS:
            return self.ns_addrs()
        if base == ("ns", "dns"):                       # isDefaultNS
            want = T.A if qtype == T.A else T.AAAA if qtype == T.AAAA else None
            return [s for s in self.ns_addrs(owner=".".join(labels))
                    if want is not None and _address(s.host)[0] == want]
        svcs = self.records(base)
        if qtype == T.SRV:      # SRV for ExternalName services is not implemented upstream
            svcs = [s for s in svcs if _address(s.host) is not None]
        return svcs

    def ns_addrs(self, owner: str | None = None) -> list[_Svc]:
        return [_Svc(host=ip, target=owner or prefix + self.zone_text, ttl=self.ttl)
                for prefix, ip in self.index.ns_addrs]

    def records(self, base: tuple[str, ...]) -> list[_Svc]:
        # parse.go parseRequest
        if not base or base in (("svc",), ("pod",)):
            return []
        pod_or_svc = base[-1]
        if pod_or_svc not in ("svc", "pod"):
            raise _NameError
        namespace = base[-2] if len(base) >= 2 else ""
        service = base[-3] if len(base) >= 3 else ""
        rest = base[:-3]
        endpoint = port = protocol = ""
        if len(rest) == 1:
            endpoint = rest[0]
        elif len(rest) == 2:
            port, protocol = _strip_underscore(rest[0]), _strip_underscore(rest[1])
        elif len(rest) > 2:
            raise _NameError
        if self.reverse or namespace not in self.index.namespaces:
            raise _NameError
        if pod_or_svc == "pod":
            return self.find_pods(namespace, service)
        return self.find_services(namespace, service, endpoint, port, protocol)

    def find_pods(self, namespace: str, podname: str) -> list[_Svc]:
        if not podname:
            return []
        if podname.count("-") == 3 and "--" not in podname:
            ip = podname.replace("-", ".")
        else:
            ip = podname.replace("-", ":")
        if _address(ip) is None:
            raise _NameError
        return [_Svc(host=ip, target=f"{podname}.{namespace}.pod.{self.zone_spelled}", ttl=self.ttl)]

    def find_services(self, namespace: str, name: str, endpoint: str, port: str,
                      protocol: str) -> list[_Svc]:
        if not name:
            return []
        svc = self.index.service(namespace, name)
        if svc is None:
            raise _NameError
        fqdn = f"{svc.name}.{svc.namespace}.svc.{self.zone_spelled}"
        out: list[_Svc] = []
        found = False
        if svc.kind == "ExternalName":
            if endpoint or _address(svc.external_name) is not None:
                raise _NameError
            return [_Svc(host=svc.external_name, target=fqdn, ttl=self.ttl)]

        def matches(p_name: str, p_proto: str) -> bool:
            return ((not port or port == p_name.lower())
                    and (not protocol or protocol == p_proto.lower()))

        if svc.headless or endpoint:
            for sub in svc.subsets:
                for addr in sub.addresses:
                    ep_name = addr.endpoint_name
                    if endpoint and endpoint != ep_name.lower():
                        continue
                    for p_name, p_port, p_proto in sub.ports:
                        if not matches(p_name, p_proto):
                            continue
                        found = True
                        out.append(_Svc(host=addr.ip, port=p_port, target=f"{ep_name}.{fqdn}",
                                        ttl=self.ttl))
        else:
            for p_name, p_port, p_proto in svc.ports:
                if not matches(p_name, p_proto):
                    continue
                found = True
                out.extend(_Svc(host=ip, port=p_port, target=fqdn, ttl=self.ttl)
                           for ip in svc.cluster_ips)
        if not found:
            raise _NameError
        return out

    # -- backend_lookup.go -------------------------------------------------------------
    def addresses(self, qname: dns.name.Name, labels: tuple[str, ...], qtype: int,
                  previous: list[RR]) -> list[RR]:
        """plugin.A / plugin.AAAA, following in-zone CNAMEs and asking upstream for others."""
        want = T.AAAA if qtype == T.AAAA else T.A
        records: list[RR] = []
        seen: set[str] = set()
        name_text = ".".join(labels)
        for s in self.services(labels, qtype):
            addr = _address(s.host)
            if addr is None:                      # a CNAME (ExternalName)
                target = s.host.rstrip(".").lower() + "."
                if target == name_text or len(previous) > 7:
                    continue
                cname = RR(qname, T.CNAME, s.ttl, _rdata(T.CNAME, s.host.rstrip(".") + "."))
                if any(r.rdtype == T.CNAME and r.rdata == cname.rdata for r in previous):
                    continue
                target_name = _name(s.host.rstrip(".") + ".")
                if target.endswith("." + self.zone_text) or target == self.zone_text:
                    try:
                        nxt = self.addresses(target_name, tuple(target.split(".")), qtype,
                                             previous + [cname])
                    except _NameError:
                        continue
                    if nxt:
                        records.append(cname)
                        records.extend(nxt)
                    continue
                _, upstream, _ = self.outside.resolve(target_name, qtype)
                records.append(cname)
                records.extend(RR(*r) for r in upstream)
            elif addr[0] == want and s.host not in seen:
                seen.add(s.host)
                records.append(RR(qname, want, s.ttl, addr[1]))
        return records

    def srv(self) -> tuple[list[RR], list[RR]]:
        svcs = self.services(self.labels, T.SRV)
        total = 100 * len(svcs)          # every entry has priority 0 and weight 100
        records: list[RR] = []
        extra: list[RR] = []
        seen: set[tuple[str, str | int]] = set()
        for s in svcs:
            if s.port == -1:
                continue
            weight = max(1, math.floor(100.0 / total * 100))
            addr = _address(s.host)
            target = s.target if s.target.endswith(".") else s.target + "."
            if (target, s.port) not in seen:
                seen.add((target, s.port))
                records.append(RR(self.qname, T.SRV, s.ttl,
                                  _rdata(T.SRV, f"0 {weight} {s.port} {target}")))
            if (target, "@" + s.host) not in seen:
                seen.add((target, "@" + s.host))
                extra.append(RR(_name(target), addr[0], s.ttl, addr[1]))
        return records, extra

    def ptr(self) -> list[RR]:
        ip = _reverse_address(self.labels)
        if not ip:
            self.records(self.base(self.labels))
            return []
        svc = self.index.reverse_services.get(ip)
        hosts = [svc] if svc else self.index.reverse_endpoints.get(ip, [])
        if not hosts:
            raise _NameError
        out, seen = [], set()
        for host in hosts:
            if host not in seen:
                seen.add(host)
                out.append(RR(self.qname, T.PTR, self.ttl, _rdata(T.PTR, host)))
        return out

    def soa(self) -> RR:
        return _soa(self.zone_spelled, self.index.serial, self.ttl)

    # -- handler.go ServeDNS -------------------------------------------------------------
    def serve(self, qtype: int) -> Reply | None:
        records: list[RR] = []
        extra: list[RR] = []
        try:
            if qtype in (T.A, T.AAAA):
                records = self.addresses(self.qname, self.labels, qtype, [])
            elif qtype == T.TXT:
                records = [RR(self.qname, T.TXT, s.ttl, _rdata(T.TXT, f'"{s.text}"'))
                           for s in self.services(self.labels, T.TXT)]
            elif qtype == T.CNAME:
                svcs = self.services(self.labels, T.CNAME)
                if svcs and _address(svcs[0].host) is None:
                    records = [RR(self.qname, T.CNAME, svcs[0].ttl,
                                  _rdata(T.CNAME, svcs[0].host.rstrip(".") + "."))]
            elif qtype == T.PTR:
                records = self.ptr()
            elif qtype == T.MX:
                self.services(self.labels, T.MX)      # no service is ever a mail exchanger
            elif qtype == T.SRV:
                records, extra = self.srv()
            elif qtype == T.SOA:
                # handler.go: only the zone apex has an SOA record; below it, whatever the
                # name (existing or not), the answer is NODATA with the SOA in authority.
                if len(self.labels) == self.zone_len:
                    records = [self.soa()]
            elif qtype in (T.AXFR, T.IXFR):
                # handler.go: the plugin refuses transfers (dns.RcodeRefused); the server then
                # writes a bare REFUSED reply (core/dnsserver errorFunc: SetRcode, no AA).
                return Reply(dns.rcode.REFUSED, False, False)
            elif qtype == T.NS and len(self.labels) == self.zone_len:
                for s in self.ns_addrs():
                    target = _name(s.target)
                    addr = _address(s.host)
                    extra.append(RR(target, addr[0], s.ttl, addr[1]))
                    if not any(r.rdata.target == target for r in records):
                        records.append(RR(self.qname, T.NS, s.ttl, dns.rdata.from_text(
                            IN, T.NS, s.target)))
            else:
                # A fake A lookup tells NODATA from NXDOMAIN (ANY, MX-like and unknown types,
                # NS below the apex); it asks as type A (state.NewWithQuestion(qname, TypeA)).
                self.addresses(self.qname, self.labels, T.A, [])
        except _NameError:
            if self.reverse:                          # fallthrough in-addr.arpa ip6.arpa
                return None
            return Reply(dns.rcode.NXDOMAIN, True, False, authority=[self.soa()])
        if not records:
            return Reply(dns.rcode.NOERROR, True, False, authority=[self.soa()])
        return Reply(dns.rcode.NOERROR, True, False, answer=records, additional=extra)


@functools.lru_cache(maxsize=256)
def _soa(zone: str, serial: int, ttl: int) -> RR:
    """plugin.SOA: owner the zone, TTL min(ttl, 300), minimum the plugin's TTL."""
    rdata = _rdata(T.SOA, f"ns.dns.{zone} hostmaster.{zone} {serial} 7200 1800 86400 {ttl}")
    return RR(_name(zone), T.SOA, min(ttl, 300), rdata)


def forward(outside: Outside, qname: dns.name.Name, qtype: int) -> Reply:
    """plugin/forward: the upstream's reply, relayed (not authoritative, RA set)."""
    rcode, answer_rrs, authority = outside.resolve(qname, qtype)
    return Reply(rcode, False, True, [RR(*r) for r in answer_rrs], [RR(*r) for r in authority])


def kubernetes(qname: dns.name.Name, qtype: int, index: ClusterIndex,
               outside: Outside) -> Reply | None:
    """The kubernetes plugin's reply; None when the name is not its to answer (a name
    outside its zones, or a reverse name it lets fall through to the next plugin)."""
    labels = tuple(l.decode("ascii", "replace").lower() for l in qname.labels)
    text = ".".join(labels)
    zone_len = 0
    for zone in (index.domain, *REVERSE_ZONES):
        if (text == zone or text.endswith("." + zone)) and zone.count(".") + 1 > zone_len:
            zone_len = zone.count(".") + 1
    if not zone_len:
        return None
    return _Lookup(index, outside, qname, labels, zone_len).serve(qtype)


def resolve(qname: dns.name.Name, qtype: int, index: ClusterIndex, outside: Outside) -> Reply:
    """kubernetes, then forward for what it leaves (no cache, no loadbalance)."""
    reply = kubernetes(qname, qtype, index, outside)
    return reply if reply is not None else forward(outside, qname, qtype)


def _round_robin(records: list[RR], rng: random.Random) -> list[RR]:
    """plugin/loadbalance roundRobin: addresses shuffled, CNAMEs first, then the rest."""
    if len(records) <= 1:
        return records
    first = records[0].rdtype
    if first in (T.A, T.AAAA) and all(r.rdtype == first for r in records):
        _shuffle(records, rng)
        return records
    cname = [r for r in records if r.rdtype == T.CNAME]
    address = [r for r in records if r.rdtype in (T.A, T.AAAA)]
    mx = [r for r in records if r.rdtype == T.MX]
    rest = [r for r in records if r.rdtype not in (T.CNAME, T.A, T.AAAA, T.MX)]
    _shuffle(address, rng)
    _shuffle(mx, rng)
    return cname + rest + address + mx


def _shuffle(records: list, rng: random.Random) -> None:
    # loadbalance.go roundRobinShuffle, with the seeded generator in place of dns.Id().
    n = len(records)
    if n == 2:
        if rng.getrandbits(16) % 2 == 0:
            records[0], records[1] = records[1], records[0]
    elif n > 2:
        for j in range(n):
            p = j + rng.getrandbits(16) % (n - j)
            if p != j:
                records[j], records[p] = records[p], records[j]


def shuffle(reply: Reply, rng: random.Random) -> Reply:
    """The loadbalance plugin: only successful answers are shuffled."""
    if reply.rcode == dns.rcode.NOERROR:
        reply.answer = _round_robin(list(reply.answer), rng)
        reply.authority = _round_robin(list(reply.authority), rng)
        reply.additional = _round_robin(list(reply.additional), rng)
    return reply
