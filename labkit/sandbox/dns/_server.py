"""The cluster DNS server: UDP and TCP framing on one loopback port, around the chain.

The server does what CoreDNS's core and the Go DNS library do around the plugins:
screening (_wire), the EDNS version check, recovering from a failure, and framing.
The plugins are one `Chain` (_chain) built from the running Corefile: loadbalance
wraps cache, which wraps kubernetes and forward, so a cached reply is shuffled again
on every hit and the cache stores replies in cluster order. UDP replies are cut to
the client's buffer with TC set; TCP (two-byte length prefix, several queries per
connection) has no such limit.

UDP is served by a thread of its own (blocking recvmmsg/sendmmsg batches where Linux
has them, _udpbatch; a recvfrom/sendto loop elsewhere), so neither the event loop's
overhead nor the API server's work delays an answer; TCP stays on the loop. An exception while answering is what a panic is to CoreDNS: written to the fault
log (once per kind) and answered SERVFAIL, never dropped.
"""
from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
import struct
import threading

import dns.message
import dns.rcode
import dns.rdatatype

from .._cluster import ClusterReader
from .._clock import Clock
from .._config import SandboxConfig
from .._dnsclients import DnsClientRegistry
from ..home._faultlog import FaultLog
from ._answer import Reply, forward, resolve
from . import _corefile
from ._cache import DnsCache
from ._chain import BadVersion, Chain, Outcome, Request
from ._index import ClusterIndex
from ._outside import Outside
from ._port import bind_pair
from ._podlog import CoreDnsLogs, image_version, line_values, query_line, startup_lines
from ._querylog import QueryLog
from ._reload import Reloader
from ._wire import Rejected, name_text, parse_query, plain_size, render, servfail, type_text

TCP_IDLE_SECONDS = 8.0      # miekg/dns: idle timeout between queries on one TCP connection


class DnsServer:
    """CoreDNS as kubeadm configures it, on 127.0.0.1 (port 0 picks a free port).

    `log` is the query log; `cache` the answer cache (`cache.clear()` empties it);
    `coredns_logs` what the CoreDNS pods write (`pod_log(pod)` reads one).
    """

    def __init__(self, cluster: ClusterReader, config: SandboxConfig, clock: Clock, *,
                 clients: DnsClientRegistry | None = None, host: str = "127.0.0.1",
                 port: int = 0, logger=None) -> None:
        self.cluster, self.config, self.clock = cluster, config, clock
        self.clients = clients
        self.log = QueryLog()
        self.cache = DnsCache(clock, config.dns_cache_seconds)
        self._defaults = self.settings = _corefile.CorefileSettings(
            config.dns_loadbalance, config.dns_cache_seconds, config.dns_ttl)
        self._settings_revision = None
        self.reloader = Reloader(self._defaults)
        self.coredns_logs = CoreDnsLogs(config.seed, clock)
        self.outside = Outside(config.outside_world, config.stub_servers)
        self._rng = random.Random(f"dns-loadbalance:{config.seed}")
        self._host, self._port = host, port
        self._index: ClusterIndex | None = None
        self._index_lock = threading.Lock()
        self._rng_lock = threading.Lock()      # one query's draws stay together
        self.chain = self._build_chain(self.settings)
        self._udp: socket.socket | None = None
        self._udp_thread: threading.Thread | None = None
        self._stopping = False
        self._tcp: asyncio.base_events.Server | None = None
        self._tcp_task: asyncio.Task | None = None
        self._tcp_starting: asyncio.Future | None = None
        self._conns: set[asyncio.Task] = set()
        self._address: tuple[str, int] | None = None
        # What the serving loops catch is logged once per kind, then counted (see _faultlog).
        self.faults = FaultLog(logger)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Bind UDP and TCP on the same port; return once both serve."""
        self.serve(*bind_pair(self._host, self._port), asyncio.get_running_loop())
        await self._tcp_starting

    def serve(self, udp_sock: socket.socket, tcp_sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        """Serve sockets bound already (dns._port), from any thread: UDP at once, on a
        thread of its own; TCP from a callback queued on the loop."""
        self._apply_corefile()
        for pod in self.cluster.list("pods", "kube-system"):
            self.observe_pod(pod)
        self._address = udp_sock.getsockname()[:2]
        self._udp, self._stopping = udp_sock, False
        self._udp_thread = threading.Thread(target=self._serve_udp, args=(udp_sock,),
                                            name="labkit-dns-udp", daemon=True)
        self._udp_thread.start()
        self._tcp_starting = loop.create_future() if _on_loop(loop) else None

        def start_tcp() -> None:
            task = loop.create_task(asyncio.start_server(self._serve_tcp, sock=tcp_sock))
            task.add_done_callback(self._tcp_started)
            self._tcp_task = task
        loop.call_soon_threadsafe(start_tcp)

    def _tcp_started(self, task: asyncio.Task) -> None:
        if not task.cancelled():
            if task.exception() is None:
                self._tcp = task.result()
            else:
                self.faults.record("dns tcp", task.exception(), "serving the bound TCP socket")
        if self._tcp_starting is not None and not self._tcp_starting.done():
            self._tcp_starting.set_result(None)

    async def stop(self) -> None:
        if self._udp is not None:
            self._stop_udp()
        if self._tcp_task is not None and not self._tcp_task.done():
            await asyncio.wait([self._tcp_task])
        if self._tcp is not None:
            self._tcp.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)
            await self._tcp.wait_closed()
            self._tcp = None

    def _stop_udp(self) -> None:
        """Wake the thread out of recvfrom with an empty datagram, wait for it, close."""
        self._stopping = True
        sock, thread = self._udp, self._udp_thread
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as wake:
                wake.sendto(b"", sock.getsockname())
        except OSError:
            pass
        if thread is not None:
            thread.join(2)
            if thread.is_alive():           # no wake-up arrived: shutdown ends recvfrom too
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                thread.join(2)
        sock.close()
        self._udp = self._udp_thread = None

    def _serve_udp(self, sock: socket.socket) -> None:
        # The first datagram goes through the plain loop and batches load after it: ctypes
        # (_udpbatch) costs milliseconds that the server's start-up need not wait for.
        if not self._serve_udp_plain(sock, first_only=True):
            return
        from . import _udpbatch
        if _udpbatch.available(sock):
            _udpbatch.UdpBatch(sock).serve(self.handle, lambda: self._stopping, self._udp_fault)
        else:
            self._serve_udp_plain(sock)

    def _serve_udp_plain(self, sock: socket.socket, first_only: bool = False) -> bool:
        """recvfrom, answer, sendto, until stopped (False) or after one datagram (True)."""
        recvfrom, sendto, handle = sock.recvfrom, sock.sendto, self.handle
        while not self._stopping:
            try:
                data, addr = recvfrom(65535)
            except OSError:
                if self._stopping:
                    return False
                continue
            if self._stopping:
                return False
            try:
                wire = handle(data, "udp", addr[1])
            except Exception as exc:  # handle answers SERVFAIL itself; this is the last resort
                self._udp_fault(exc, data)
                wire = None
            if wire is not None:
                try:
                    sendto(wire, addr)
                except OSError:
                    pass
            if first_only:
                return True
        return False

    def _udp_fault(self, exc: Exception, data: bytes) -> None:
        self.faults.record("dns udp", exc, f"{len(data)}-byte query {data[:64].hex()}")

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("the DNS server is not started")
        return self._address

    # -- state -------------------------------------------------------------------------
    def index(self) -> ClusterIndex:
        """The cluster index, rebuilt only when the cluster's revision moved."""
        revision = self.cluster.revision
        index = self._index
        if index is None or index.revision != revision:
            with self._index_lock:
                index = self._index
                if index is None or index.revision != revision:
                    config = dataclasses.replace(self.config, dns_ttl=self.settings.ttl)
                    previous = self._index
                    index = ClusterIndex.build(self.cluster, config, serial=int(self.clock.time()))
                    # The SOA serial is when CoreDNS last saw a Service or EndpointSlice
                    # change that matters to DNS (controller.go detectChanges,
                    # updateModified); pods and namespaces leave it (`pods insecure`).
                    if previous is not None and previous.services == index.services \
                            and previous.ttl == index.ttl:
                        index.serial = previous.serial
                    self._index = index
        return index

    def _apply_corefile(self) -> None:
        """Follow edits of the coredns ConfigMap, as the reload plugin does."""
        revision = self.cluster.revision
        if revision == self._settings_revision:
            return
        with self._index_lock:          # UDP thread and TCP loop: one reload, then the mark
            if revision == self._settings_revision:
                return
            starts = self.reloader.starts
            lines = self.reloader.follow(_corefile.corefile_text(self.cluster))
            restarted = starts and self.reloader.starts > starts
            settings = self.reloader.settings
            if settings.cache_seconds != self.cache.seconds:
                self.cache.seconds = settings.cache_seconds
                self.cache.clear()
            elif restarted:
                # A reload starts new server instances, and plugin/cache's setup a new,
                # empty cache: nothing cached before an edit answers after it.
                self.cache.clear()
            if settings is not self.settings:
                self.chain = self._build_chain(settings)
            self.settings = settings
            self._settings_revision = revision
        if lines or restarted:
            self.coredns_logs.write_all(lines, self._loop_probe if restarted else None)

    def _build_chain(self, settings: _corefile.CorefileSettings) -> Chain:
        """The plugins a Corefile with `settings` runs, over this server's cluster, cache,
        seeded loadbalance draws and pod logs."""
        return Chain.build(settings, index=self.index, outside=self.outside, cache=self.cache,
                           revision=lambda: self.cluster.revision, rng=self._rng,
                           lock=self._rng_lock, log_writer=self._log_line,
                           error_writer=self._error_line)

    def sync_corefile(self) -> None:
        """Reload now (the sandbox calls it when the coredns ConfigMap changes), so the
        pods' logs show the reload without waiting for a query."""
        self._apply_corefile()

    # -- the CoreDNS pods' logs --------------------------------------------------------
    def observe_pod(self, pod: dict) -> None:
        """A CoreDNS pod that started gets its start-up lines (once per pod uid)."""
        if not (pod.get("status") or {}).get("startTime"):
            return
        version = next((v for v in (image_version(c.get("image", ""))
                                    for c in pod["spec"].get("containers") or []) if v), None)
        if version is None or self.coredns_logs.known(pod):
            return
        self._apply_corefile()
        node = self.cluster.get("nodes", None, pod["spec"].get("nodeName") or "") or {}
        cpus = ((node.get("status") or {}).get("capacity") or {}).get("cpu", "2")
        lines = startup_lines(version, self.reloader.startup_lines(), cpus)
        probe = self._loop_probe()
        self.coredns_logs.start(pod, lines + [probe] if probe else lines)

    def _loop_probe(self) -> str | None:
        """plugin/loop/setup.go: each server instance, at start and after every reload,
        asks itself `HINFO <rand>.<rand>.` to detect a forwarding loop; kubeadm's Corefile
        forwards it upstream (NXDOMAIN), and with `log` on the pod logs it, from
        127.0.0.1 (the probe goes to the pod's own listener, not through the Service)."""
        settings = self.reloader.settings
        if not settings.log or not self.reloader.has("loop"):
            return None
        rng = self.coredns_logs.probes
        qname = f"{rng.getrandbits(63)}.{rng.getrandbits(63)}."
        rule = next((r for r in settings.log if r.matches(qname)), None)
        if rule is None:
            return None
        query = dns.message.make_query(qname, dns.rdatatype.HINFO, id=rng.getrandbits(16))
        data = query.to_wire()
        reply = resolve(query.question[0].name, dns.rdatatype.HINFO, self.index(), self.outside)
        wire, _ = render(parse_query(data), reply, udp=True)
        return query_line(rule, line_values(
            query, len(data), "udp", "127.0.0.1", rng.randint(32768, 60999), "127.0.0.1",
            reply.rcode, wire, plain_size(query, reply), self.coredns_logs.duration("forward")))

    def pod_log(self, pod: dict) -> tuple[list[tuple[float, str]], int] | None:
        """(kept (when, line) pairs, lines ever written) of a CoreDNS pod; None for other pods."""
        if not any(image_version(c.get("image", "")) for c in pod["spec"].get("containers") or []):
            return None
        self.observe_pod(pod)
        meta = pod["metadata"]
        lines, total = self.coredns_logs.read(meta["namespace"], meta["name"])
        return list(zip(self.coredns_logs.stamps(meta["namespace"], meta["name"]), lines)), total

    # -- one message -------------------------------------------------------------------
    def handle(self, data: bytes, transport: str, client_port: int) -> bytes | None:
        """The reply to one request (None: send nothing), logged.

        An exception while answering is recovered as CoreDNS's server recovers a plugin's
        panic (core/dnsserver/server.go ServeDNS: recover, then errorFunc answers
        SERVFAIL): written to the fault log, once per kind, and answered SERVFAIL."""
        client = self.clients.lookup(client_port) if self.clients is not None else None
        try:
            return self._handle(data, transport, client_port, client)
        except Exception as exc:
            self.faults.record(f"dns {transport}", exc, f"{len(data)}-byte query {data[:64].hex()}")
            self._log_panic(exc, transport, client_port, client)
            return servfail(data)

    def _log_panic(self, exc: Exception, transport: str, client_port: int,
                   client: dict | None) -> None:
        """The line CoreDNS's server writes for a recovered panic (server.go ServeDNS:
        log.Errorf("Recovered from panic in server: %q %v", s.Addr, rec), whatever plugins
        the Corefile has), in the log of the pod that served the flow."""
        served = self.coredns_logs.serving_pod(self.cluster, transport, client_port, client)
        if served is not None:
            self.coredns_logs.write(served[:2], "[ERROR] Recovered from panic in server: "
                                    f'"{self.reloader.server_address()}" {type(exc).__name__}: {exc}')

    def _handle(self, data: bytes, transport: str, client_port: int,
                client: dict | None) -> bytes | None:
        node = client is not None and client.get("view") == "node"
        if not node:
            if self.cluster.revision != self._settings_revision:
                self._apply_corefile()
            replay = self.chain.replay
            hit = replay(data, transport == "udp") if replay is not None else None
            if hit is not None:         # a kept reply: no parsing, no stage runs
                wire, truncated, answers, entry, cached = hit
                self.log.add_row((self.clock.time(), client, client_port, transport, entry.qname,
                                  entry.qtype, entry.rcode, answers, truncated, cached))
                return wire
        request = Request(data, transport, client_port, client)
        try:
            if node:
                # A query to a node's resolver (dnsPolicy Default): the upstream answers it
                # and CoreDNS never sees it, so no cluster names, no cache, no log entry.
                query = parse_query(data)
                q = query.question[0]
                return render(query, forward(self.outside, q.name, q.rdtype), udp=request.udp)[0]
            outcome = self.chain.serve(request)
        except Rejected as rej:
            if rej.wire is not None:
                self._log(transport, client_port, client, "", "", rej.rcode, [], False, False)
            return rej.wire
        except BadVersion as bad:
            question = bad.query.question[0]
            wire, _ = render(bad.query, Reply(dns.rcode.BADVERS, False, False), udp=request.udp)
            self._log(transport, client_port, client, name_text(question.name),
                      type_text(question.rdtype), "BADVERS", [], False, False)
            return wire
        wire, truncated, answers, rcode = outcome.frame(request)
        question = request.query.question[0]
        self._log(transport, client_port, client, name_text(question.name),
                  type_text(question.rdtype), rcode, answers, truncated, outcome.cached)
        return wire

    def _log_line(self, rule, request: Request, outcome: Outcome) -> None:
        """plugin/log: one line in the log of the CoreDNS pod kube-proxy sent this flow to."""
        client, transport = request.client, request.transport
        served = self.coredns_logs.serving_pod(self.cluster, transport, request.client_port,
                                               client)
        if served is None:
            return
        namespace, pod, pod_ip = served
        query, reply = request.query, outcome.reply
        wire = outcome.frame(request)[0]
        values = line_values(query, len(request.data), transport,
                             (client or {}).get("ip") or "127.0.0.1", request.client_port,
                             pod_ip, reply.rcode, wire, plain_size(query, reply),
                             self.coredns_logs.duration(outcome.source))
        self.coredns_logs.write((namespace, pod), query_line(rule, values))

    def _error_line(self, request: Request, upstream: str) -> None:
        """plugin/errors: forward's error for a query no upstream answered, as
        `[ERROR] plugin/errors: 2 NAME. TYPE: read udp POD:PORT->UPSTREAM:53: i/o timeout`
        (2 is SERVFAIL's code; the local end is the CoreDNS pod's socket)."""
        served = self.coredns_logs.serving_pod(self.cluster, request.transport,
                                               request.client_port, request.client)
        if served is None:
            return
        namespace, pod, pod_ip = served
        q = request.query.question[0]
        port = self.coredns_logs.ephemeral_port()
        self.coredns_logs.write((namespace, pod), (
            f"[ERROR] plugin/errors: 2 {name_text(q.name)} {type_text(q.rdtype)}: "
            f"read udp {pod_ip}:{port}->{upstream}:53: i/o timeout"))

    def _log(self, transport: str, client_port: int, client: dict | None, qname: str,
             qtype: str, rcode: str, answers, truncated: bool, cached: bool) -> None:
        # time formatted when read: the hot path stays lean
        self.log.add_row((self.clock.time(), client, client_port, transport, qname, qtype, rcode,
                          answers, truncated, cached))

    # -- TCP ---------------------------------------------------------------------------
    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._conns.add(task)
        port = writer.get_extra_info("peername")[1]
        try:
            while True:
                try:
                    prefix = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_SECONDS)
                    (length,) = struct.unpack("!H", prefix)
                    if length == 0:
                        break
                    data = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE_SECONDS)
                except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                    break
                try:
                    wire = self.handle(data, "tcp", port)
                except Exception as exc:
                    self.faults.record("dns tcp", exc, f"{len(data)}-byte query {data[:64].hex()}")
                    break
                if wire is not None:
                    writer.write(struct.pack("!H", len(wire)) + wire)
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as exc:        # not a crash of the loop: logged, the connection ends
            self.faults.record("dns tcp", exc)
        finally:
            self._conns.discard(task)
            writer.close()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
