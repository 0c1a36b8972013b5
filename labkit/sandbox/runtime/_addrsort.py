"""Destination address ordering in getaddrinfo(): what the C library does to the DNS order.

glibc sorts every getaddrinfo() answer with more than one address by RFC 3484/6724
destination address selection (`rfc3484_sort` in sysdeps/posix/getaddrinfo.c up to
glibc 2.38, nss/getaddrinfo.c since 2.39; the same rules in glibc 2.17, what centos:7
ships, and in 2.42). For a list of IPv4 addresses, as a pod gets for a headless Service:

- Rule 1 (avoid unusable destinations): a UDP connect() per destination finds the source
  address; a pod has a default route, so every IPv4 destination is usable.
- Rules 2 and 8 (matching scope, then smaller scope): IPv4 scope is 2 for 127/8 and
  169.254/16 and 14 for everything else (glibc's default_scopes), so pod and Service
  addresses all tie.
- Rules 3, 4, 5, 6, 7: deprecated/home-address flags are IPv6 matters, every IPv4
  address maps into ::ffff:0:0/96 (label 4, precedence 10), and one interface is native:
  ties. /etc/gai.conf can only move these tables; its default (all lines commented out)
  changes nothing, and no gai.conf line turns rule 9 off.
- Rule 9 (longest matching prefix), glibc's IPv4 variant: the number of leading bits the
  destination shares with the source address counts only when both are in the same
  subnet by the source interface's netmask; outside it, every destination scores 0.
  So a pod whose eth0 is 10.244.1.5/24 puts 10.244.1.x answers first (the longer common
  prefix first) and keeps the others in DNS order; with a /32 (Calico) only its own
  address can score.
- Rule 10: otherwise the order the answers came in.

Where glibc finds the netmask: `__check_pf` (sysdeps/unix/sysv/linux/check_pf.c) reads
every interface address over netlink, with its prefix length, but keeps that list only
when the namespace has a non-loopback IPv6 address (an fe80:: link-local counts). Without
one the prefix length stays 0 and `0xffffffffu << 32` leaves the mask all ones on x86-64
and arm64 (the shift count is taken modulo 32), so only the pod's own address matches.
The same `seen_ipv6` answers AI_ADDRCONFIG, so a pod that asks AAAA with AI_ADDRCONFIG is
exactly a pod in which rule 9 sees its /24. (Checked on glibc 2.36 in network namespaces:
10.244.1.5/24 with a link-local IPv6 reorders `getent ahosts` by the /24; with IPv6
disabled it keeps the order except for the namespace's own address.)

musl (src/network/lookup_name.c, __lookup_name, 1.1.24 to 1.2.5) returns early when
every result is IPv4 ("no further processing is needed ... if there are only IPv4
results"): Alpine-based images keep the DNS order.

Who sees this order: everything that takes getaddrinfo()'s list and uses the head of
it. curl 7.29 (centos:7; lib/connect.c Curl_connecthost) tries the addresses in that
order; iputils ping (s20160308, centos:7's; ping.c main) pings the first that works;
BusyBox wget and ping (libbb/xconnect.c str2sockaddr) take the first; glibc's
`getent ahosts` (nss/getent.c: getaddrinfo with AI_ADDRCONFIG | AI_CANONNAME) prints it.
Who does not: `getent hosts` (gethostbyname2, no RFC 6724 step) and dig, nslookup and
host, which send their own queries and print the answer as it came.

Lists that mix IPv4 and IPv6 (only /etc/hosts' localhost lines, in the sandbox's
IPv4-only pods) are left as they are: neither rule set is modelled for them.
"""
from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")


@dataclass(frozen=True)
class Interface:
    """What __check_pf would read in the pod: eth0's IPv4 address and prefix, and
    whether the namespace has a (link-local) IPv6 address."""
    address: str | None
    prefixlen: int = 32
    ipv6: bool = False


def pod_interface(pod: dict, config, cluster=None) -> Interface:
    """eth0 of `pod` as its CNI configured it: the node's spec.podCIDR prefix when the pod's
    address lies in it (host-local IPAM over the node's range, kindnet and flannel), else a
    /32 (Calico). A hostNetwork pod sees the node's own interface."""
    spec = pod.get("spec") or {}
    address = (pod.get("status") or {}).get("podIP")
    if spec.get("hostNetwork"):
        try:
            prefixlen = ipaddress.ip_network(config.node_cidr).prefixlen
        except (AttributeError, ValueError):
            prefixlen = 32
        return Interface(address, prefixlen, False)
    prefixlen = 32
    node = cluster.get("nodes", None, spec["nodeName"]) if cluster and spec.get("nodeName") else None
    cidr = ((node or {}).get("spec") or {}).get("podCIDR")
    try:
        if cidr and address and ipaddress.ip_address(address) in ipaddress.ip_network(cidr):
            prefixlen = ipaddress.ip_network(cidr).prefixlen
    except ValueError:
        pass
    return Interface(address, prefixlen, has_ipv6(pod, config))


def has_ipv6(pod: dict, config) -> bool:
    """Whether the pod's namespace has IPv6 on: an IPv6 address other than ::1 (an IPv6 pod
    IP, or eth0's link-local), glibc's `seen_ipv6` (check_pf.c), which its AI_ADDRCONFIG
    asks. musl's AI_ADDRCONFIG (src/network/getaddrinfo.c) connects a UDP socket to ::1
    instead, which works in the same pods: IPv6 on gives both lo's ::1 and eth0's fe80::."""
    if (pod.get("spec") or {}).get("hostNetwork"):
        return False
    status = pod.get("status") or {}
    if any(":" in (p.get("ip") or "") for p in status.get("podIPs") or []):
        return True
    return bool(getattr(config, "pods_have_link_local_ipv6", False))


def _scope(address: ipaddress.IPv4Address) -> int:
    """glibc's default_scopes for IPv4: link-local scope 2, otherwise global (14)."""
    return 2 if address in _LOOPBACK or address in _LINK_LOCAL else 14


@functools.lru_cache(maxsize=4096)
def _glibc_key(destination: str, source: str | None, prefixlen: int,
               prefix_known: bool) -> tuple[int, int, int]:
    dest = ipaddress.IPv4Address(destination)
    if dest in _LOOPBACK:
        src, plen = ipaddress.IPv4Address("127.0.0.1"), 8          # lo: 127.0.0.1/8
    elif source is None:
        return (0, _scope(dest), 0)
    else:
        src, plen = ipaddress.IPv4Address(source), prefixlen
    if not prefix_known:
        plen = 32                 # prefixlen 0: an all-ones mask after the 32-bit shift
    mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
    bits = 0
    if int(src) & mask == int(dest) & mask:
        bits = 32 - (int(src) ^ int(dest)).bit_length()             # leading bits in common
    rule2 = 0 if _scope(dest) == _scope(src) else 1
    return (rule2, _scope(dest), -bits)


def order(addresses: list[str], interface: Interface, libc: str) -> list[str]:
    """The addresses in the order getaddrinfo() returns them (see the module text)."""
    if len(addresses) < 2 or libc == "musl" or any(":" in a for a in addresses):
        return list(addresses)
    # A stable sort on the per-address rule values is glibc's comparator: each IPv4 rule
    # looks at one address at a time, and rule 10 keeps the incoming order on ties.
    return sorted(addresses, key=lambda a: _glibc_key(a, interface.address, interface.prefixlen,
                                                      interface.ipv6))
