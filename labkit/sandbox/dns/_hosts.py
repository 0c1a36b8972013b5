"""plugin/hosts with inline entries: its setup checks and its answers.

setup.go hostsParse: `hosts [FILE [ZONES...]] { IP NAME... ; ttl N ; no-reverse ;
fallthrough [ZONES...] }`. The sandbox has no file to read, so only the inline entries
count (a FILE argument is accepted and read as empty, as CoreDNS does with a missing file
after its warning). Inline lines are taken only before `fallthrough`; after it an unknown
word is an error.

hosts.go ServeDNS: a name outside the origins goes on (except PTR); a PTR for an address
it does not hold goes on; a name it does not hold goes on only with `fallthrough` and
otherwise is answered SERVFAIL ("we don't have a SOA"); a name it holds with no record
of the asked type is NOERROR without answers. Records carry `ttl` (3600 by default), AA set.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename

from ._caddyfile import Dispenser

HOSTS_TTL = 3600     # hostsfile.go newHostsOptions: ttl 3600


@dataclass(frozen=True)
class HostsSettings:
    origins: tuple[str, ...]                       # absolute, lower case
    entries: tuple[tuple[str, str], ...]           # (name, address) in the order written
    ttl: int = HOSTS_TTL
    reverse: bool = True
    fallthrough: tuple[str, ...] | None = None     # None: no fallthrough; (): every zone


def parse(d: Dispenser, keys: list[str]) -> HostsSettings:
    args = d.remaining_args()
    reverse = True
    while args and args[0] == "no-reverse":
        reverse, args = False, args[1:]
    if args:
        args = args[1:]            # the file: nothing to read in the sandbox
    origins = tuple(_normalize(_host(o)) for o in (args or keys))
    ttl, fall, inline = HOSTS_TTL, None, []
    depth = 0
    while d.next():
        word = d.val()
        if word == "{":
            depth += 1
            continue
        if word == "}":
            depth -= 1
            continue
        if depth != 1 or not d.is_new_line():
            continue
        rest = d.remaining_args()
        if word == "fallthrough":
            fall = tuple(_normalize(z) for z in rest)
        elif word == "no-reverse":
            reverse = False
        elif word == "ttl":
            if not rest:
                raise d.err("ttl needs a time in second")
            if not _is_go_int(rest[0]):
                raise d.err("ttl needs a number of second")
            ttl = int(rest[0])
            if not 0 < ttl <= 65535:
                raise d.err("ttl provided is invalid")
        elif word == "reload":
            if len(rest) != 1:
                raise d.err("reload needs a duration (zero seconds to disable)")
        elif fall is None:
            inline.append([word, *rest])
        else:
            raise d.err(f"unknown property '{word}'")
    return HostsSettings(origins, _entries(inline), ttl, reverse, fall)


def _entries(lines: list[list[str]]) -> tuple[tuple[str, str], ...]:
    # hostsfile.go parse(): the first field an address (a zone index dropped), then
    # names; a line whose address does not parse is skipped.
    out = []
    for fields in lines:
        try:
            address = str(ipaddress.ip_address(fields[0].split("%", 1)[0]))
        except ValueError:
            continue
        out.extend((_normalize(name), address) for name in fields[1:])
    return tuple(out)


def _host(key: str) -> str:
    """plugin.Host(key).Normalize(): the zone of a server block key (`.:53` -> `.`)."""
    for scheme in ("dns://",):
        if key.startswith(scheme):
            key = key[len(scheme):]
    return key.rsplit(":", 1)[0] if ":" in key else key


def _normalize(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."


def _is_go_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None


def _under(name: str, zones: tuple[str, ...]) -> bool:
    return any(z == "." or name == z or name.endswith("." + z) for z in zones)


def answer(settings: HostsSettings, qname: dns.name.Name, qtype: int):
    """(rcode, [(name, rdtype, ttl, rdata)]) when hosts answers; None to go on."""
    name = qname.to_text().lower()
    ttl = settings.ttl
    if qtype == dns.rdatatype.PTR:
        names = _names_of(settings, qname) if settings.reverse else []
        if not names:
            return None
        return dns.rcode.NOERROR, [(qname, qtype, ttl, dns.rdata.from_text(
            dns.rdataclass.IN, qtype, n)) for n in names]
    if not _under(name, settings.origins):
        return None
    held = [address for n, address in settings.entries if n == name]
    family = {dns.rdatatype.A: 4, dns.rdatatype.AAAA: 6}.get(qtype)
    records = [(qname, qtype, ttl, dns.rdata.from_text(dns.rdataclass.IN, qtype, a))
               for a in dict.fromkeys(held) if ipaddress.ip_address(a).version == family]
    if not records and not held:
        if settings.fallthrough is not None and (
                not settings.fallthrough or _under(name, settings.fallthrough)):
            return None
        return dns.rcode.SERVFAIL, []
    return dns.rcode.NOERROR, records


def _names_of(settings: HostsSettings, qname: dns.name.Name) -> list[str]:
    try:
        address = str(ipaddress.ip_address(dns.reversename.to_address(qname)))
    except (dns.exception.SyntaxError, ValueError):
        return []
    return list(dict.fromkeys(n for n, a in settings.entries if a == address))


