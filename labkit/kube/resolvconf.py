"""A pod's /etc/resolv.conf as its resolver reads it, and the names a lookup tries.

One reading for everyone: `lab.resolv_conf(pod)` shows it, the sandbox's pod resolver
follows it, and the ndots explorer models it. The kubelet's own reading of a node's file
(which lines it copies into a pod's) is another matter and lives with the kubelet.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

MAX_NDOTS = 15        # glibc resolv/res_init.c: RES_MAXNDOTS
MAX_TIMEOUT = 30      # RES_MAXRETRANS
MAX_ATTEMPTS = 5      # RES_MAXRETRY


@dataclass
class ResolvConf:
    """nameservers, search list and options (`{"ndots": 5}`), as resolv.conf(5) reads them:
    nameservers accumulate, the last `search` or `domain` line wins, options accumulate."""
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    text: str = field(default="", repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> "ResolvConf":
        return _parse(cls, text)

    def with_options(self, **options) -> "ResolvConf":
        """A copy with these options set, e.g. a tool's own `timeout` and `attempts`."""
        return replace(self, options={**self.options, **options})

    @property
    def ndots(self) -> int:
        return min(_int(self.options.get("ndots"), 1), MAX_NDOTS)

    @property
    def timeout(self) -> float:
        value = self.options.get("timeout", 5)
        return float(min(value, MAX_TIMEOUT)) if isinstance(value, (int, float)) else 5.0

    @property
    def attempts(self) -> int:
        return max(1, min(_int(self.options.get("attempts"), 2), MAX_ATTEMPTS))


def _int(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@functools.lru_cache(maxsize=256)
def _parse(cls, text: str) -> ResolvConf:
    # Cached: every lookup in one pod reads the same file (callers must not change the result).
    servers: list[str] = []
    search: list[str] = []
    options: dict = {}
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith(("#", ";")):     # glibc: comments start a line
            continue
        key, args = words[0], words[1:]
        if key == "nameserver" and args:
            servers.append(args[0])
        elif key in ("search", "domain") and args:
            search = list(args) if key == "search" else args[:1]
        elif key == "options":
            for opt in args:
                name, _, value = opt.partition(":")
                options[name] = int(value) if value.isdigit() else (value or True)
    return cls(servers, search, options, text)


def candidates(name: str, conf: ResolvConf, libc: str = "glibc") -> list[str]:
    """The names a resolver asks for `name`, in order (without trailing dots).

    glibc (resolv/res_query.c res_search): a name with a trailing dot is complete; with
    fewer dots than ndots the search domains come first and the name as given last,
    otherwise the name first. musl (src/network/lookup_name.c) tries the name as given
    last in both cases, and the search domains only below ndots.
    """
    if name.endswith("."):
        return [name.rstrip(".")]
    dots = name.count(".")
    suffixed = [f"{name}.{domain.rstrip('.')}" for domain in conf.search]
    if libc == "musl":
        return (suffixed if dots < conf.ndots else []) + [name]
    if dots >= conf.ndots:
        return [name] + suffixed
    return suffixed + [name]
