"""The "outside world": what the cluster's upstream resolver would say, without any packet.

kubeadm's Corefile forwards every name outside the cluster zones (and reverse names the
kubernetes plugin lets fall through) to the node's resolver. The sandbox answers those
from `SandboxConfig.outside_world` instead, shaped like a recursive resolver's reply:
not authoritative, recursion available, NXDOMAIN with the SOA of the closest zone.
"""
from __future__ import annotations

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rcode

A, AAAA, ANY, SOA = dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.ANY, dns.rdatatype.SOA
IN = dns.rdataclass.IN
UPSTREAM_TTL = 300

# The root zone's SOA as a recursive resolver returns it with NXDOMAIN.
_ROOT_SOA = (dns.name.root, 86400, dns.rdata.from_text(
    IN, SOA, "a.root-servers.net. nstld.verisign-grs.com. 2024010100 1800 900 604800 86400"))


def _private_reverse_zone(labels: tuple[bytes, ...]) -> dns.name.Name | None:
    """RFC 6303 locally served zones (10/8, 172.16/12, 192.168/16) that resolvers answer empty."""
    if len(labels) < 3 or labels[-3:] != (b"in-addr", b"arpa", b""):
        return None
    octets = labels[:-3][::-1]
    if octets[:1] == (b"10",):
        return dns.name.from_text("10.in-addr.arpa.")
    if octets[:2] == (b"192", b"168"):
        return dns.name.from_text("168.192.in-addr.arpa.")
    if len(octets) >= 2 and octets[0] == b"172" and octets[1].isdigit() and 16 <= int(octets[1]) <= 31:
        return dns.name.from_text(f"{octets[1].decode()}.172.in-addr.arpa.")
    return None


class Outside:
    """Answers from a {"example.com.": "93.184.215.14"} table; A only, AAAA is NODATA.
    `servers` are the stub domains' name servers (`ask`), by address."""

    def __init__(self, table: dict[str, str], servers: dict[str, dict] | None = None) -> None:
        self._table = {k.lower().rstrip(".") + ".": v for k, v in table.items()}
        self._servers = {address: (dns.name.from_text(spec["zone"]),
                                   {k.lower().rstrip(".") + ".": v for k, v in spec["records"].items()})
                         for address, spec in (servers or {}).items()}

    def ask(self, address: str, qname: dns.name.Name, qtype: int):
        """What the name server at `address` answers, as an authoritative server does:
        (rcode, authoritative, answer RRs, authority RRs); None when nothing answers there.
        A name outside its zone is REFUSED (it is not a recursive resolver)."""
        server = self._servers.get(address)
        if server is None:
            return None
        zone, records = server
        soa = (zone, SOA, 3600, dns.rdata.from_text(
            IN, SOA, f"ns1.{zone.to_text()} hostmaster.{zone.to_text()} 2024010100 7200 3600 1209600 3600"))
        if not qname.is_subdomain(zone):
            return dns.rcode.REFUSED, False, [], []
        ip = records.get(qname.to_text().lower())
        if ip is None:
            return dns.rcode.NXDOMAIN, True, [], [soa]
        if qtype in (A, ANY):
            return dns.rcode.NOERROR, True, [(qname, A, UPSTREAM_TTL, dns.rdata.from_text(IN, A, ip))], []
        return dns.rcode.NOERROR, True, [], [soa]

    def resolve(self, qname: dns.name.Name, qtype: int):
        """(rcode, answer RRs, authority RRs); RRs are (name, rdtype, ttl, rdata)."""
        key = qname.to_text().lower()
        ip = self._table.get(key)
        if ip is None:
            private = _private_reverse_zone(tuple(l.lower() for l in qname.labels))
            if private is not None:
                soa = dns.rdata.from_text(IN, SOA, "localhost. nobody.invalid. 1 3600 1200 604800 10800")
                return dns.rcode.NXDOMAIN, [], [(private, SOA, 10800, soa)]
            name, ttl, soa = _ROOT_SOA
            return dns.rcode.NXDOMAIN, [], [(name, SOA, ttl, soa)]
        if qtype in (A, ANY):
            return dns.rcode.NOERROR, [(qname, A, UPSTREAM_TTL, dns.rdata.from_text(IN, A, ip))], []
        zone = dns.name.Name(qname.labels[-3:]) if len(qname.labels) >= 3 else qname
        soa = dns.rdata.from_text(IN, SOA, f"ns1.{zone.to_text()} hostmaster.{zone.to_text()} "
                                  "2024010100 7200 3600 1209600 3600")
        return dns.rcode.NOERROR, [], [(zone, SOA, 3600, soa)]
