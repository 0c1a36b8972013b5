"""What the sandbox's DNS takes from the Corefile in ConfigMap kube-system/coredns.

A cluster admin changes CoreDNS by editing that ConfigMap; the `reload` plugin then
loads the new Corefile (on a real cluster within a minute or two: the kubelet syncs the
volume, then reload polls every 30 s). The sandbox applies an edit at once (see
_reload). It honours the directives the course is about: `loadbalance`, `cache [TTL]`,
the kubernetes plugin's `ttl` and `log`; the zone, `pods` and `fallthrough` settings
stay as kubeadm writes them.

`load()` reads a Corefile as a CoreDNS start or reload does: caddyfile.Parse with the
build's directive names, then each honoured plugin's setup checks, raising the error
text CoreDNS logs (`plugin/<name>: ...` for a plugin's own complaint).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import _hosts, _rewrite
from ._caddyfile import DIRECTIVES, CaddyfileError, Dispenser, ServerBlock, parse as parse_blocks

CACHE_DEFAULT = 3600     # plugin/cache: `cache` without a TTL caps entries at 3600 s
TTL_DEFAULT = 5          # plugin/kubernetes: `ttl` defaults to 5 s
COREFILE_PATH = "/etc/coredns/Corefile"   # kubeadm mounts the ConfigMap there; `-conf` names it

# plugin/log/log.go: the Common Log Format, and {combined} adds the opcode.
COMMON_LOG_FORMAT = ('{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} '
                     '{>bufsize}" {rcode} {>rflags} {rsize} {duration}')
COMBINED_LOG_FORMAT = COMMON_LOG_FORMAT + ' "{>opcode}"'


class CorefileError(ValueError):
    """The Corefile does not load; the message is what CoreDNS reports."""


@dataclass(frozen=True)
class LogRule:
    """One `log [NAMES...] [FORMAT]` rule (plugin/log/setup.go); classes are not modelled."""
    names: tuple[str, ...]       # lower case, absolute
    format: str = COMMON_LOG_FORMAT

    def matches(self, qname: str) -> bool:
        return any(qname == n or n == "." or qname.endswith("." + n) for n in self.names)


@dataclass(frozen=True)
class CorefileSettings:
    loadbalance: bool
    cache_seconds: int       # 0: no cache plugin
    ttl: int
    log: tuple[LogRule, ...] = ()     # empty: no `log` plugin, queries are not logged
    hosts: _hosts.HostsSettings | None = None
    rewrite: tuple[_rewrite.NameRule, ...] = ()
    stubs: tuple["StubBlock", ...] = ()    # the other server blocks that forward a zone


@dataclass(frozen=True)
class StubBlock:
    """A server block such as `corp.internal:53 { errors; log; forward . 192.168.53.53 }`:
    queries in its zones go to it, not to the `.` block (dnsserver picks the longest zone)."""
    zones: tuple[str, ...]
    upstreams: tuple[str, ...]
    log: tuple[LogRule, ...] = ()
    errors: bool = False


def load(corefile: str, filename: str = COREFILE_PATH) -> tuple[list[ServerBlock], CorefileSettings]:
    """The server blocks and settings; CorefileError when CoreDNS would refuse it."""
    try:
        blocks = parse_blocks(corefile, filename, DIRECTIVES)
    except CaddyfileError as exc:
        raise CorefileError(str(exc)) from None
    if not blocks:
        return blocks, CorefileSettings(False, 0, TTL_DEFAULT)
    block = blocks[0]
    settings = {"loadbalance": False, "cache_seconds": 0, "ttl": TTL_DEFAULT, "log": (),
                "hosts": None, "rewrite": ()}
    # Plugins are set up in plugin.cfg order (caddy executeDirectives): the first
    # error in that order is the one reported.
    order = {name: i for i, name in enumerate(DIRECTIVES)}
    cache_uses = 0
    for name, tokens in sorted(block.uses, key=lambda use: order[use[0]]):
        d = Dispenser(filename, tokens)
        d.next()
        if name == "log":
            settings["log"] += (_log_rule(d, block),)
        elif name == "loadbalance":
            _loadbalance(d)
            settings["loadbalance"] = True
        elif name == "cache":
            cache_uses += 1
            if cache_uses > 1:
                raise CorefileError("plugin/cache: this plugin can only be used once per Server Block")
            settings["cache_seconds"] = _cache(d)
        elif name == "kubernetes":
            settings["ttl"] = _kubernetes_ttl(d)
        elif name == "hosts":
            if settings["hosts"] is not None:       # setup.go: plugin.ErrOnce
                raise CorefileError("plugin/hosts: this plugin can only be used once per Server Block")
            try:
                settings["hosts"] = _hosts.parse(d, block.keys)
            except CaddyfileError as exc:
                raise CorefileError(f"plugin/hosts: {exc}") from None
        elif name == "rewrite":
            try:
                settings["rewrite"] += (_rewrite.rule(d.remaining_args()),)
            except _rewrite.RewriteSetupError as exc:
                raise CorefileError(f"plugin/rewrite: {exc}") from None
    stubs = tuple(_stub(b, filename) for b in blocks[1:])
    return blocks, CorefileSettings(**settings, stubs=tuple(s for s in stubs if s))


def _stub(block: ServerBlock, filename: str) -> StubBlock | None:
    """A later server block that forwards (the sandbox models no other kind)."""
    upstreams, log, errors = (), (), False
    for name, tokens in block.uses:
        d = Dispenser(filename, tokens)
        d.next()
        if name == "forward":
            # plugin/forward/setup.go parseStanza: `forward FROM TO...`, TO an address
            # with an optional dns:// and :port (53 by default).
            args = d.remaining_args()
            if len(args) < 2:
                raise CorefileError("plugin/forward: " + str(d.arg_err()))
            upstreams = tuple(_upstream(a) for a in args[1:])
        elif name == "log":
            log += (_log_rule(d, block),)
        elif name == "errors":
            errors = True
    if not upstreams:
        return None
    return StubBlock(tuple(_absolute(_zone_of(k)) for k in block.keys), upstreams, log, errors)


def _upstream(text: str) -> str:
    text = re.sub(r"^dns://", "", text)
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "53")
    return host or text


def parse(corefile: str) -> CorefileSettings:
    """The settings of a Corefile that loads (CorefileError otherwise)."""
    return load(corefile)[1]


def _log_rule(d: Dispenser, block: ServerBlock) -> LogRule:
    # plugin/log/setup.go: no argument logs the server block's zones; a last argument
    # with a `{` is the format, with {common} and {combined} expanded.
    args = d.remaining_args()
    fmt = COMMON_LOG_FORMAT
    if args and "{" in args[-1]:
        fmt = args.pop().replace("{common}", COMMON_LOG_FORMAT).replace(
            "{combined}", COMBINED_LOG_FORMAT)
    names = args or [_zone_of(key) for key in block.keys]
    return LogRule(tuple(_absolute(n) for n in names), fmt)


def _zone_of(key: str) -> str:
    key = re.sub(r"^[a-z0-9]+://", "", key)
    return key.rsplit(":", 1)[0] if ":" in key else key


def _absolute(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."


def _loadbalance(d: Dispenser) -> None:
    # plugin/loadbalance/setup.go parse()
    args = d.remaining_args()
    if not args:
        return
    if args[0] == "round_robin":
        if len(args) > 1:
            raise CorefileError("plugin/loadbalance: " + str(d.err(f"unknown property for {args[0]}")))
    elif args[0] == "weighted":
        if len(args) < 2:
            raise CorefileError("plugin/loadbalance: " + str(d.err("missing weight file argument")))
        if len(args) > 2:
            raise CorefileError("plugin/loadbalance: " + str(d.err("unexpected argument(s)")))
    else:
        raise CorefileError(f"plugin/loadbalance: unknown policy: {args[0]}")


def _cache(d: Dispenser) -> int:
    # plugin/cache/setup.go cacheParse(): a first argument that is a number is the TTL.
    args = d.remaining_args()
    if args and _is_go_int(args[0]):
        ttl = int(args[0])
        if ttl <= 0:
            raise CorefileError(f"plugin/cache: cache TTL can not be zero or negative: {ttl}")
        return ttl
    return CACHE_DEFAULT


def _kubernetes_ttl(d: Dispenser) -> int:
    # plugin/kubernetes/setup.go ParseStanza(), the `ttl` property.
    ttl = TTL_DEFAULT
    d.remaining_args()
    depth = 0
    while d.next():
        text = d.val()
        if text == "{":
            depth += 1
        elif text == "}":
            depth -= 1
        elif depth == 1 and text == "ttl" and d.is_new_line():
            args = d.remaining_args()
            if not args:
                raise CorefileError("plugin/kubernetes: " + str(d.arg_err()))
            if not _is_go_int(args[0]):
                raise CorefileError(f'plugin/kubernetes: strconv.Atoi: parsing "{args[0]}": invalid syntax')
            value = int(args[0])
            if not 0 <= value <= 3600:
                raise CorefileError("plugin/kubernetes: " + str(d.err(f"ttl must be in range [0, 3600]: {value}")))
            ttl = value
    return ttl


def _is_go_int(text: str) -> bool:
    """What strconv.Atoi accepts: an optional sign and decimal digits."""
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None


def corefile_text(reader) -> str | None:
    """The Corefile in kube-system/coredns, or None when there is none that serves the
    cluster zone (the sandbox then keeps its own settings)."""
    cm = reader.get("configmaps", "kube-system", "coredns")
    text = ((cm or {}).get("data") or {}).get("Corefile")
    if not text or not re.search(r"\bkubernetes\b", text):
        return None
    return text
