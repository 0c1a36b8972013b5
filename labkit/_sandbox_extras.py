"""The sandbox's own endpoints (not Kubernetes), reached through the same transport:
the DNS query log, the DNS cache and the clock. `Lab.sandbox_extras` is one on the sandbox."""
from __future__ import annotations

from ._transport import Transport


class SandboxExtras:
    """The sandbox's own endpoints (not Kubernetes): DNS query log, DNS cache, clock."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def dns_log(self, since: int = 0):
        """Every query the cluster DNS answered: time, client (namespace/pod), qname, qtype, rcode, answers."""
        import pandas as pd
        entries = self._t.request("GET", "/labkit/v1/dns-log", query={"since": since}) or []
        rows = []
        for e in entries:
            client = e.get("client") or {}
            rows.append({**{k: v for k, v in e.items() if k != "client"},
                         "namespace": client.get("namespace"), "pod": client.get("pod")})
        cols = ["time", "namespace", "pod", "transport", "qname", "qtype", "rcode", "answers",
                "truncated", "cached"]
        df = pd.DataFrame(rows)
        return df.reindex(columns=cols + [c for c in df.columns if c not in cols and c != "client_port"])

    def clear_dns_log(self) -> None:
        self._t.request("DELETE", "/labkit/v1/dns-log")

    def clear_dns_cache(self) -> None:
        self._t.request("DELETE", "/labkit/v1/dns-cache")

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox's clock forward (e.g. past a 30 s DNS TTL); returns its new time."""
        return self._t.request("POST", "/labkit/v1/clock", body={"advance": seconds})["time"]
