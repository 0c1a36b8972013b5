"""plugin/reload and caddy's Instance.Restart: which Corefile runs, and what reloading logs.

Each CoreDNS pod polls its Corefile (plugin/reload/reload.go): it parses the file
(caddyfile.Parse, no directive check) and hashes the parsed server blocks; a file that
does not parse logs `[WARNING] plugin/reload: Corefile parse failed: ...` and changes
nothing; an unchanged hash (a comment or spacing edit) does nothing. A new hash
restarts the server (coredns/caddy caddy.go Restart): `[INFO] Reloading`, then either
the new instance starts, whose reload hook logs the new hash, and `[INFO] Reloading
complete`, or it fails (an unknown directive, a plugin refusing its arguments), which
logs `[ERROR] Restart failed: <err>` and the reload plugin's `[ERROR] plugin/reload:
Corefile changed but reload failed: starting with listener file descriptors: <err>`,
and the old configuration keeps serving. The health plugin's lameduck pause happens
only at the final shutdown, so a reload logs no lameduck line (plugin/health/health.go,
OnReload vs OnFinalShutdown; the same in 1.10 to 1.14).

The sandbox reloads at once, for every CoreDNS pod together.
Not modelled: a Corefile without `reload` keeps following edits here (silently, no
reload lines), where a real CoreDNS would stop watching its file.
"""
from __future__ import annotations

import threading

from . import _caddyfile
from ._corefile import COREFILE_PATH, CorefileError, CorefileSettings, load

_UNSEEN = object()


class Reloader:
    """The running Corefile (its settings, server blocks and hash) and its transitions."""

    def __init__(self, fallback: CorefileSettings, path: str = COREFILE_PATH) -> None:
        self.fallback = self.settings = fallback
        self.path = path
        self.blocks: list[_caddyfile.ServerBlock] = []
        self.sha: str | None = None          # the hash reload last took
        self.starts = 0                      # server instances started (the first, each reload)
        self._seen: object = _UNSEEN         # the last ConfigMap text looked at
        self._lock = threading.Lock()

    @property
    def reloads(self) -> bool:
        """Whether the running configuration has the reload plugin."""
        return self.has("reload")

    def follow(self, text: str | None) -> list[str]:
        """Take the ConfigMap's Corefile (None: none); return what each CoreDNS pod logs."""
        with self._lock:
            if text == self._seen:
                return []
            first = self._seen is _UNSEEN
            self._seen = text
            if text is None:
                self.settings, self.blocks, self.sha = self.fallback, [], None
                return []
            if first:
                return self._start(text)
            return self._reload(text)

    def _start(self, text: str) -> list[str]:
        try:
            self.blocks, self.settings = load(text, self.path)
        except CorefileError:
            # A real CoreDNS exits on a Corefile it cannot load; the sandbox keeps its own
            # settings.
            self.blocks, self.settings = [], self.fallback
            return []
        self.sha = _caddyfile.fingerprint(_caddyfile.parse(text, self.path))
        self.starts += 1
        return []

    def _reload(self, text: str) -> list[str]:
        try:
            parsed = _caddyfile.parse(text, self.path)
        except _caddyfile.CaddyfileError as exc:
            return [f"[WARNING] plugin/reload: Corefile parse failed: {exc}"]
        sha = _caddyfile.fingerprint(parsed)
        if sha == self.sha:
            return []
        self.sha = sha
        watching = self.reloads
        try:
            blocks, settings = load(text, self.path)
        except CorefileError as exc:
            if not watching:
                return []
            return ["[INFO] Reloading", f"[ERROR] Restart failed: {exc}",
                    "[ERROR] plugin/reload: Corefile changed but reload failed: "
                    f"starting with listener file descriptors: {exc}"]
        self.blocks, self.settings = blocks, settings
        self.starts += 1
        if not watching:
            return []
        lines = ["[INFO] Reloading"]
        if self.reloads:
            lines.append(self.sha_line())
        lines.append("[INFO] Reloading complete")
        return lines

    def has(self, directive: str) -> bool:
        return any(directive in b.tokens for b in self.blocks)

    def sha_line(self) -> str:
        # plugin/reload/reload.go hook(): log.Infof("Running configuration SHA512 = %x\n", ...)
        return f"[INFO] plugin/reload: Running configuration SHA512 = {self.sha}"

    def server_address(self) -> str:
        """The first server's s.Addr as CoreDNS prints it: `dns://:53` for kubeadm's `.:53`
        (no `bind`, so every address)."""
        with self._lock:
            keys = [key for b in self.blocks for key in b.keys]
        return f"dns://:{_zone_and_port(keys[0])[1] if keys else '53'}"

    def startup_lines(self) -> list[str]:
        """The configuration part of a start: the servers' zones and port
        (core/dnsserver/onstartup.go startUpZones, printed once at start, not at a
        reload), then the reload plugin's hash."""
        with self._lock:
            zones = sorted({_zone_and_port(key) for b in self.blocks for key in b.keys})
            lines = [f"{zone}:{port}" for zone, port in zones] or [".:53"]
            if self.reloads and self.sha is not None:
                lines.append(self.sha_line())
            return lines


def _zone_and_port(key: str) -> tuple[str, str]:
    """dnsserver's normalized zone and port of a server block key (`.:53`, `example.org`)."""
    for scheme in ("dns://",):
        if key.startswith(scheme):
            key = key[len(scheme):]
    zone, port = key, "53"
    if ":" in key:
        zone, port = key.rsplit(":", 1)
    zone = zone.lower()
    if not zone.endswith("."):
        zone += "."
    return zone, port
