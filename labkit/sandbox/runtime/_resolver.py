"""A pod's stub resolver: /etc/hosts first, then real DNS queries to the sandbox server.

Queries really go over UDP (TCP after a truncated answer) to the sandbox's DNS
server on loopback; the `nameserver` lines of the pod's resolv.conf name the
*virtual* cluster DNS address and are mapped to that loopback address. Every
socket's local port is registered with the DnsClientRegistry so the server's
query log can name the pod. A pod whose first nameserver is the nodes' resolver (the
network gateway, dnsPolicy Default) is tagged `"view": "node"` there, and the server
answers it as the upstream would; any other nameserver is unreachable (a timeout).

The cluster DNS address is the kube-dns Service: a query reaches the server only when
the simulated network routes it to a ready CoreDNS pod that NetworkPolicy lets it reach
(Network.dns_route). Without ready endpoints kube-proxy REJECTs it: glibc's res_send
reads ECONNREFUSED on its connected UDP socket and gives up at once (TRY_AGAIN after
its attempts), while musl's unconnected socket never sees the ICMP error and waits.
A query a policy drops waits the resolver's timeout on each attempt. Waiting is on the
sandbox's clock (ToolContext.waited): it costs the lesson no real seconds.

The search walk follows the pod image's C library:
- glibc (resolv/res_query.c, __res_context_search): a trailing dot asks once;
  dots >= ndots tries the name as given first, then each suffix; fewer dots tries
  each suffix, then the name as given. NXDOMAIN, NODATA and SERVFAIL continue the
  walk; a timeout ends it.
- musl (src/network/lookup_name.c, name_from_dns_search): suffixes only when
  dots < ndots and no trailing dot, then the name as given; NXDOMAIN continues,
  NODATA (the name exists) ends the walk.
getaddrinfo asks A then AAAA for each candidate and stops at the first name with
an answer; glibc's gethostbyname2 (what `getent hosts` uses) walks one family at
a time.

getaddrinfo then orders the addresses as the image's C library does (_addrsort.py:
glibc's RFC 6724 rules, where rule 9 can put same-subnet pods first; musl keeps an
all-IPv4 answer as it came). gethostbyname2 does not sort, and dig, nslookup and host
send their own queries: they show the DNS order.
"""
from __future__ import annotations

import functools
import ipaddress
import socket
import weakref

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.reversename

from ...kube.resolvconf import ResolvConf, candidates
from . import _addrsort, _nodelocal, _parallel, _stubwire
from ._lookup import Lookup, SentQuery

# gai_strerror texts.
GAI_MESSAGES = {
    "glibc": {
        "EAI_NONAME": "Name or service not known",
        "EAI_AGAIN": "Temporary failure in name resolution",
        "EAI_NODATA": "No address associated with hostname",
        "EAI_FAIL": "Non-recoverable failure in name resolution",
    },
    "musl": {
        "EAI_NONAME": "Name does not resolve",
        "EAI_AGAIN": "Try again",
        "EAI_NODATA": "Name has no usable address",
        "EAI_FAIL": "Non-recoverable error",
    },
}


@functools.lru_cache(maxsize=4096)
def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def _hosts_entries(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].split()
        if len(line) >= 2 and is_address(line[0]):
            entries.append((line[0], tuple(line[1:])))
    return tuple(entries)


@functools.lru_cache(maxsize=64)
def _gateway(node_cidr: str) -> str:
    return str(ipaddress.ip_network(node_cidr)[1])


class StubResolver:
    """A pod's resolver, reading the pod's files and asking the sandbox DNS server."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.conf = ResolvConf.parse(ctx.files.get("/etc/resolv.conf", ""))
        self.hosts = _hosts_entries(ctx.files.get("/etc/hosts", ""))
        self.libc = ctx.image.libc
        self._last_size = 0
        self._channels: dict[str | None, _stubwire.UdpChannel] = {}     # by view: the client differs
        self._finalizer = None
        self.route = "ok"              # "ok", "refused" or "dropped" (Network.dns_route)
        self._server = ctx.config.cluster_dns_ip
        self.via_nodelocal = False     # the node's NodeLocal DNSCache answers (_nodelocal)
        self.stalled = 0.0             # simulated seconds lost to dropped replies (_parallel)
        self.learned_single_request = False     # glibc's RES_SNGLKUP after a lost reply
        self.view = self._view_of(self.conf.nameservers)

    # -- which server a nameserver line reaches ----------------------------------------

    def _view_of(self, nameservers) -> str | None:
        """What the pod's nameservers reach: "cluster" (the kube-dns Service), "node" (a kind
        node's resolver, Docker's embedded DNS behind the network gateway: upstream names
        only, as kind's entrypoint DNATs it for pods too), or None (nothing answers).
        glibc tries the servers in order, so the first one that answers decides."""
        config = self.ctx.config
        gateway = _gateway(config.node_cidr)
        self.route = "dropped"
        for server in nameservers or (config.cluster_dns_ip,):
            if server in (config.cluster_dns_ip, _nodelocal.ADDRESS) and _nodelocal.serves(self.ctx):
                # The add-on's cache answers both addresses on the node (NOTRACK, no DNAT).
                self.via_nodelocal, self._server, self.route = True, server, "ok"
                return "cluster"
            view = "cluster" if server == config.cluster_dns_ip else "node" if server == gateway else None
            if view is None:
                continue
            self._server = server
            self.route = self._route("UDP")
            return view if self.route == "ok" else None
        return None

    def _route(self, protocol: str) -> str:
        network = getattr(self.ctx, "network", None)
        if network is None:
            return "ok"
        return network.dns_route(self.ctx.pod, self._server, protocol)

    def use_server(self, server: str) -> None:
        """Ask `server` instead of the resolv.conf nameservers (dig @server)."""
        self.view = self._view_of([server])

    @property
    def refused(self) -> bool:
        """The query came back as ICMP port unreachable (a Service without endpoints)."""
        return self.view is None and self.route == "refused"

    def _address(self):
        """The loopback address to send to; None (after the resolver's wait) if unreachable."""
        if self.view is None:
            if not (self.refused and self.libc == "glibc"):
                self.lose(self.conf.timeout * (self.conf.attempts if self.libc == "glibc" else 1))
            return None
        return self.ctx.dns_address

    def lose(self, seconds: float) -> None:
        """Wait for a reply that never comes, on the sandbox clock (counted against the
        exec's deadline, never slept for real: no packet is in flight)."""
        spare = max(self._remaining() - self.ctx.waited, 0.0)
        self.ctx.waited += min(max(seconds, 0.0), spare)

    # -- the wire ---------------------------------------------------------------

    def _client(self) -> dict:
        meta = self.ctx.pod.get("metadata", {})
        client = {"namespace": meta.get("namespace"), "pod": meta.get("name"), "ip": self.ctx.pod_ip}
        if self.view == "node":
            client["view"] = "node"          # the DNS server answers as the node's resolver
        return client

    def _remaining(self) -> float:
        return self.ctx.deadline - self.ctx.clock.monotonic()

    def exchange(self, request: dns.message.Message, *, tcp: bool = False,
                 timeout: float | None = None, attempts: int | None = None
                 ) -> tuple[dns.message.Message | None, bool]:
        """Send one query to the sandbox server; (response or None, went over TCP)."""
        response, used_tcp, _ = self.exchange_wire(request, tcp=tcp, timeout=timeout,
                                                   attempts=attempts)
        return response, used_tcp

    def exchange_wire(self, request: dns.message.Message, *, tcp: bool = False,
                      timeout: float | None = None, attempts: int | None = None,
                      fallback: bool = True) -> tuple[dns.message.Message | None, bool, int]:
        """Like exchange(), plus the size of the response on the wire."""
        address = self._address()
        timeout = self.conf.timeout if timeout is None else timeout
        attempts = self.conf.attempts if attempts is None else attempts
        if address is None:
            return None, tcp, 0
        for _ in range(attempts):
            wait = min(timeout, max(self._remaining(), 0.0))
            if wait <= 0:
                break
            try:
                if tcp:
                    return self._send_tcp(request, address, wait), True, self._last_size
                response = self._send_udp(request, address, wait)
                if response.flags & dns.flags.TC and fallback:
                    # A truncated answer: ask again over TCP (RFC 7766), as every resolver does.
                    response = self._send_tcp(request, address, wait)
                    return response, True, self._last_size
                return response, False, self._last_size
            except (dns.exception.Timeout, socket.timeout, OSError, EOFError, dns.exception.FormError):
                continue
        return None, tcp, 0

    def _send_udp(self, request, address, timeout):
        data = self._udp_round_trip(request.to_wire(), address, timeout)
        return dns.message.from_wire(data, ignore_trailing=True)

    def _send_tcp(self, request, address, timeout):
        # TCP 53 is its own flow: a NetworkPolicy may allow UDP and not TCP.
        route = self._route("TCP")
        if route == "refused":
            raise ConnectionRefusedError("connection refused")
        if route != "ok":
            self.lose(timeout)
            raise socket.timeout("timed out")
        wire = request.to_wire()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            self.ctx.dns_clients.register(port, self._client())
            try:
                sock.settimeout(timeout)
                sock.connect(address)
                sock.sendall(len(wire).to_bytes(2, "big") + wire)
                length = int.from_bytes(_recv_exact(sock, 2), "big")
                data = _recv_exact(sock, length)
                self._last_size = len(data)
                return dns.message.from_wire(data)
            finally:
                self.ctx.dns_clients.unregister(port)

    def ask_address(self, name: str, rdtype: str) -> tuple[SentQuery, list[str], str | None]:
        """An A or AAAA query for the getaddrinfo walk: (query, addresses, owner name).

        The hot path of `getent`/`ping`/`curl` loops: the query is built and the reply read
        by hand (the same bytes dnspython would send: RD, no EDNS, as glibc's res_mkquery).
        Anything unusual (a truncated reply, an odd name) goes through ask() instead.
        """
        if self.via_nodelocal:
            return _nodelocal.ask(self, name, rdtype)
        sent = SentQuery(name.rstrip("."), rdtype)
        address = self._address()
        if address is None:
            return sent, [], None
        qtype = _stubwire.ADDRESS_TYPES[rdtype]
        asked = _stubwire.question(name, qtype)
        if asked is None:
            return self._ask_slow(name, rdtype)
        wire = _stubwire.query(asked)
        conf, ctx = self.conf, self.ctx
        timeout, channel, data = conf.timeout, self._channel(), None
        for _ in range(conf.attempts):
            # Each attempt waits `timeout` (res_send.c send_dg, one nameserver), never past
            # the exec's deadline.
            wait = min(timeout, ctx.deadline - ctx.clock.monotonic())
            if wait <= 0:
                break
            try:
                data = channel.round_trip(wire, address, wait, 12 + len(asked))
                break
            except OSError:                      # socket.timeout included: try again
                continue
        if data is None:
            return sent, [], None
        self._last_size = len(data)
        parsed = _stubwire.parse_addresses(data, qtype, asked, sent.name)
        if parsed is None:                       # truncated or unusual: let dnspython judge
            return self._ask_slow(name, rdtype)
        sent.rcode, addresses, owner = parsed
        sent.answers = len(addresses)
        return sent, addresses, owner

    def ask_address_tcp(self, name: str, rdtype: str) -> tuple[SentQuery, list[str], str | None]:
        """ask_address over TCP, as `options use-vc` sends every query."""
        return self._ask_slow(name, rdtype, tcp=True)

    def _ask_slow(self, name: str, rdtype: str, tcp: bool = False) -> tuple[SentQuery, list[str], str | None]:
        sent = self.ask(name, rdtype, tcp=tcp)
        addresses, owner = [], None
        if sent.response is not None:
            want = dns.rdatatype.from_text(rdtype)
            for rrset in sent.response.answer:
                if rrset.rdtype == want:
                    addresses.extend(rd.address for rd in rrset)
                    owner = owner or rrset.name.to_text(omit_final_dot=True)
        return sent, addresses, owner

    def _channel(self) -> _stubwire.UdpChannel:
        channel = self._channels.get(self.view)
        if channel is None:
            pool = getattr(self.ctx, "sockets", None)
            channel = pool.take() if pool is not None else _stubwire.UdpChannel()
            self._channels[self.view] = channel.attach(self.ctx.dns_clients, self._client())
            if self._finalizer is None:
                self._finalizer = weakref.finalize(self, _close_all, self._channels, pool)
        return channel

    def close(self) -> None:
        """Close the resolver's sockets, or hand them back to the exec's pool (also done
        when it is garbage collected)."""
        if self._finalizer is not None:
            self._finalizer()

    def _udp_round_trip(self, wire: bytes, address, timeout: float) -> bytes:
        data = self._channel().round_trip(wire, address, timeout)
        self._last_size = len(data)
        return data

    def ask(self, name: str, rdtype: str, *, edns: bool = False, tcp: bool = False) -> SentQuery:
        """One query for `name` (taken as absolute) and its outcome."""
        qname = dns.name.from_text(name.rstrip(".") + ".") if name not in ("", ".") else dns.name.root
        request = dns.message.make_query(qname, rdtype, use_edns=0 if edns else False)
        response, used_tcp = self.exchange(request, tcp=tcp)
        sent = SentQuery(name.rstrip("."), rdtype, tcp=used_tcp, response=response)
        if response is not None:
            sent.rcode = dns.rcode.to_text(response.rcode())
            want = dns.rdatatype.from_text(rdtype)
            sent.answers = sum(len(r) for r in response.answer if r.rdtype == want)
        return sent

    # -- lookups ----------------------------------------------------------------

    def _from_files(self, name: str, family: str) -> Lookup | None:
        wanted = name.rstrip(".").lower()
        found, canonical = [], None
        for address, names in self.hosts:
            if wanted in (n.lower() for n in names):
                v6 = ":" in address
                if family == "inet" and v6 or family == "inet6" and not v6:
                    continue
                if address not in found:
                    found.append(address)
                canonical = canonical or names[0]
        if not found:
            return None
        return Lookup(name, found, canonical, source="files")

    def getaddrinfo(self, name: str, *, family: str = "unspec", addrconfig: bool = False) -> Lookup:
        """Addresses for a host name as getaddrinfo() finds them (files, then dns).

        family: "unspec" (A then AAAA per candidate), "inet" or "inet6".
        addrconfig: AI_ADDRCONFIG, which drops AAAA queries in a pod without IPv6.
        The addresses come back in the C library's order (_addrsort.order).
        """
        if is_address(name):
            return Lookup(name, [str(ipaddress.ip_address(name))], name, source="numeric")
        found = self._from_files(name, family)
        if found is None:
            types = {"unspec": ["A", "AAAA"], "inet": ["A"], "inet6": ["AAAA"]}[family]
            if addrconfig and family == "unspec" and not self._pod_has_ipv6():
                types = ["A"]
            before = self.stalled
            found = self._walk(name, types, per_candidate=True)
            found.stalled = self.stalled - before
            self.lose(found.stalled)        # a lost reply's wait, on the sandbox clock
        if len(found.addresses) > 1:
            found.addresses = _addrsort.order(found.addresses, self.interface, self.libc)
        return found

    def gethostbyname(self, name: str) -> Lookup:
        """glibc's `getent hosts`: gethostbyname2(AF_INET6) over the whole walk, then AF_INET."""
        if is_address(name):
            return Lookup(name, [name], name, source="numeric")
        files = self._from_files(name, "unspec")
        if files is not None:
            return files
        v6 = self._walk(name, ["AAAA"], per_candidate=True)
        if v6.ok:
            return v6
        v4 = self._walk(name, ["A"], per_candidate=True)
        v4.queries = v6.queries + v4.queries
        return v4

    def _walk(self, name: str, types: list[str], per_candidate: bool) -> Lookup:
        result = Lookup(name)
        got_nodata = got_again = False
        if not name or name.endswith(".."):
            result.error = "EAI_NONAME"
            return result
        for candidate in candidates(name, self.conf, self.libc):
            answered_all = True
            rcodes = []
            outcomes, sent_all = _parallel.ask(self, candidate, types)
            result.queries.extend(sent_all)
            for sent, addresses, owner in outcomes:
                if sent.rcode is None:
                    # glibc sends A and AAAA together and waits for both at once.
                    answered_all = False
                    break
                rcodes.append(sent.rcode)
                for address in addresses:
                    if address not in result.addresses:
                        result.addresses.append(address)
                if addresses:
                    result.canonical = result.canonical or owner
            if result.addresses:
                return result
            if not answered_all:
                # A timeout ends glibc's walk (TRY_AGAIN without SERVFAIL) and musl's.
                got_again = True
                break
            if "SERVFAIL" in rcodes or "REFUSED" in rcodes:
                got_again = True
                if self.libc == "musl":
                    break
                continue
            if all(r == "NOERROR" for r in rcodes):
                got_nodata = True
                if self.libc == "musl":
                    # musl: the name exists, so the search ends here (EAI_NODATA).
                    break
        if got_nodata:
            result.error = "EAI_NODATA" if self.libc == "glibc" else "EAI_NONAME"
        elif got_again:
            result.error = "EAI_AGAIN"
        else:
            result.error = "EAI_NONAME"
        return result

    @functools.cached_property
    def interface(self) -> _addrsort.Interface:
        """The pod's eth0 as getaddrinfo reads it (address, prefix, IPv6 present)."""
        return _addrsort.pod_interface(self.ctx.pod, self.ctx.config, self.ctx.cluster)

    def _pod_has_ipv6(self) -> bool:
        """glibc's AI_ADDRCONFIG test (check_pf.c): any IPv6 address but ::1, a
        link-local fe80:: included."""
        return _addrsort.has_ipv6(self.ctx.pod, self.ctx.config)

    def reverse(self, address: str) -> tuple[str | None, list[SentQuery]]:
        """getnameinfo(NI_NAMEREQD): /etc/hosts, then a PTR query; (name or None, queries)."""
        for entry, names in self.hosts:
            if entry == address:
                return names[0], []
        ptr = dns.reversename.from_address(address).to_text(omit_final_dot=True)
        sent = self.ask(ptr, "PTR")
        if sent.response is not None and sent.rcode == "NOERROR":
            for rrset in sent.response.answer:
                if rrset.rdtype == dns.rdatatype.PTR:
                    return rrset[0].target.to_text(omit_final_dot=True), [sent]
        return None, [sent]

    def message(self, error: str) -> str:
        return GAI_MESSAGES.get(self.libc, GAI_MESSAGES["glibc"]).get(error, "Unknown error")


def _close_all(channels: dict, pool) -> None:
    for channel in list(channels.values()):
        if pool is not None:
            pool.give(channel)           # kept for the exec's next tool run
        else:
            channel.close()
    channels.clear()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data
