"""Which pod owns a loopback DNS socket.

Every pod's resolver really talks to the sandbox's DNS server over 127.0.0.1, so
the server cannot tell pods apart by address. The runtime registers the local
port of each socket it opens; the server's query log names the pod from it.
Nothing changes on the wire.
"""
from __future__ import annotations

import threading


class DnsClientRegistry:
    def __init__(self) -> None:
        self._by_port: dict[int, dict] = {}
        self._lock = threading.Lock()

    def register(self, port: int, client: dict) -> None:
        """client: {"namespace": ..., "pod": ..., "ip": ...}."""
        with self._lock:
            self._by_port[port] = client

    def unregister(self, port: int) -> None:
        with self._lock:
            self._by_port.pop(port, None)

    def lookup(self, port: int) -> dict | None:
        # One dict read is atomic under the GIL; the lock orders writers only. The DNS
        # server asks this for every query.
        return self._by_port.get(port)
