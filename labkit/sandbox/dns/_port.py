"""The cluster DNS's port, bound at start-up before its server is loaded.

The sandbox binds UDP and TCP as it starts, so that its status names the port, and loads
the server (dnspython and the plugin chain, a tenth of start-up) when it is first needed:
a datagram or a connection arriving, a CoreDNS pod starting, or a caller asking for the
server. What arrives meanwhile waits in the sockets' queues, as it would for a CoreDNS
that is still starting, and is answered once the server serves the same sockets.

Only the standard library here: importing this module must not load the server.
"""
from __future__ import annotations

import asyncio
import errno
import select
import socket
import threading
from typing import Callable


def bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """UDP and TCP bound on one port (port 0: a free one both can have); the UDP socket
    blocks, for a thread that waits in recvfrom, the TCP one listens, for the loop."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, port))
        chosen = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, chosen))
            tcp.listen(128)
        except OSError as exc:
            udp.close()
            tcp.close()
            if exc.errno == errno.EADDRINUSE and port == 0:
                continue
            raise
        tcp.setblocking(False)
        return udp, tcp
    raise OSError(errno.EADDRINUSE, "no free port for both UDP and TCP")


class DnsPort:
    """The bound sockets, watched until the server takes them: the first datagram or
    connection calls `on_traffic` (from a thread of its own, or from the loop)."""

    def __init__(self, host: str, port: int, loop: asyncio.AbstractEventLoop,
                 on_traffic: Callable[[], object]) -> None:
        self.udp, self.tcp = bind_pair(host, port)
        self.address: tuple[str, int] = self.udp.getsockname()[:2]
        self._loop, self._on_traffic = loop, on_traffic
        self._wake_r, self._wake_w = socket.socketpair()     # closed by the watching thread
        self._released = False
        self._thread = threading.Thread(target=self._watch_udp, name="labkit-dns-port", daemon=True)
        self._thread.start()
        loop.add_reader(self.tcp.fileno(), self._tcp_ready)

    def _watch_udp(self) -> None:
        try:
            readable, _, _ = select.select([self.udp, self._wake_r], [], [])
            if self.udp in readable and not self._released:
                self._on_traffic()
        finally:
            self._wake_r.close()
            self._wake_w.close()

    def _tcp_ready(self) -> None:
        self._loop.remove_reader(self.tcp.fileno())
        if not self._released:
            self._on_traffic()

    def _stop_watching(self) -> None:
        self._released = True
        try:
            self._wake_w.send(b"\0")
        except OSError:             # the watching thread has ended and closed it
            pass

    def release(self) -> tuple[socket.socket, socket.socket]:
        """Stop watching and hand the sockets over (from any thread; the watching thread
        may be the caller, or waiting for the caller's lock, so it is not joined). The
        loop's reader goes in a callback queued now: the server's, queued after, runs after."""
        self._stop_watching()
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.remove_reader, self.tcp.fileno())
        return self.udp, self.tcp

    def close(self) -> None:
        """Never handed over: stop watching and close the sockets (on the loop's thread)."""
        self._loop.remove_reader(self.tcp.fileno())
        self._stop_watching()
        self._thread.join(2)
        self.udp.close()
        self.tcp.close()
