"""An http(s) URL as curl and wget take it apart: scheme, host (an IPv6 literal without its
brackets), port and request target."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Target:
    scheme: str
    host: str               # "web-svc", "10.0.0.5" or "::1" (written [::1] in the URL)
    port: int
    path: str

    @property
    def ipv6(self) -> bool:
        return ":" in self.host

    @property
    def authority(self) -> str:
        """The host as a Host header writes it: an IPv6 literal keeps its brackets."""
        return f"[{self.host}]" if self.ipv6 else self.host


def parse_url(url: str) -> Target | None:
    """None for a scheme other than http(s) or a URL without a host."""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:                      # "[::1" or a port that is not a number
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host = parts.hostname.split("%", 1)[0] if parts.hostname.startswith("fe80") else parts.hostname
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)
