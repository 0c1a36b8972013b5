"""What a name lookup sent and what it found: shared by the resolver and the ways it sends
queries (_parallel.py, _nodelocal.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

import dns.message


@dataclass
class SentQuery:
    """One question on the wire and what came back."""
    name: str                      # as sent, without the trailing dot
    rdtype: str                    # "A", "AAAA", "PTR", ...
    rcode: str | None = None       # "NOERROR", "NXDOMAIN", ...; None: no answer (timeout)
    answers: int = 0               # records of the asked type in the answer
    tcp: bool = False              # retried over TCP after a truncated UDP answer
    dropped: bool = False          # lost on the way (_parallel: the conntrack race)
    response: dns.message.Message | None = None


@dataclass
class Lookup:
    """The outcome of one name lookup, with every query it cost."""
    name: str
    addresses: list[str] = field(default_factory=list)
    canonical: str | None = None   # the name the addresses belong to (no trailing dot)
    source: str = "dns"            # "files" (/etc/hosts), "dns" or "numeric"
    error: str | None = None       # None, "EAI_NONAME", "EAI_AGAIN", "EAI_NODATA"
    queries: list[SentQuery] = field(default_factory=list)
    stalled: float = 0.0           # simulated seconds spent waiting for a lost reply

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.addresses)

    @property
    def rcode(self) -> str | None:
        """The rcode of the last query answered."""
        for q in reversed(self.queries):
            if q.rcode is not None:
                return q.rcode
        return None
