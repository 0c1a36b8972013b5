"""What the kubelet asks of its container runtime, as facts about one container: can its
image be pulled, what it runs, how it ends, and what it logged.

The sandbox runs a container's command through the pod runtime (never the host). Commands
that only wait (`sleep infinity`, `tail -f /dev/null`, a shell loop of sleeps), servers
(nginx images, images the sandbox does not know) and shells waiting on stdin for an attach
are not run at all: they are Running until stopped (`sleep N`: until N seconds of sandbox
clock have passed). Everything else runs once per start on a thread of its own, within the
exec limits, and its exit code and output become the container's state and log.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from ..runtime import default_command

# distribution/reference regexp.go: the grammar of an image reference.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*(?::[\w][\w.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?")
# Names a resolver never answers (RFC 2606, RFC 6761): their registries cannot be reached.
_UNRESOLVABLE = (".invalid", ".test", ".example")

BACKOFF_INITIAL, BACKOFF_MAX = 10.0, 300.0     # kubelet.go: backOffPeriod, MaxContainerBackOff
MAX_LOG_LINES = 10_000                          # what the sandbox keeps of one container's log


def reference_problem(image: str) -> str | None:
    """Why containerd cannot parse the reference (ParseNormalizedNamed's wording), or None."""
    if _REFERENCE.fullmatch(image):
        name = image.split("@", 1)[0]
        if len(name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name) > 255:
            return "repository name must not be more than 255 characters"
        return None
    lowered = image.lower()
    if lowered != image and _REFERENCE.fullmatch(lowered):
        return "invalid reference format: repository name must be lowercase"
    return "invalid reference format"


def registry_host(image: str) -> str:
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first.split(":")[0]
    return "docker.io"


def pull_error(image: str, full: str) -> str | None:
    """containerd's error when the image cannot be pulled, else None (it is there)."""
    host = registry_host(image)
    if not host.endswith(_UNRESOLVABLE):
        return None
    repo, _, tag = full.split("/", 1)[1].partition("@")[0].rpartition(":")
    return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{full}": failed to '
            f'resolve reference "{full}": failed to do request: Head "https://{host}/v2/{repo}/'
            f'manifests/{tag}": dial tcp: lookup {host}: no such host')


@dataclass(frozen=True)
class Plan:
    """What starting the container does: "serve" (runs until stopped), "sleep" (ends after
    `seconds`), "attach" (a shell waiting for its stdin), "exit" (ends at once, status 0),
    or "run" (the command runs in the pod runtime)."""
    kind: str
    argv: tuple[str, ...] = ()
    seconds: float = 0.0
    own_entrypoint: bool = False      # an image the sandbox does not know runs its ENTRYPOINT


_SLEEP = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)")
_SHELLS = ("sh", "bash", "ash", "dash", "zsh")


def _seconds(arg: str) -> float | None:
    if arg in ("infinity", "inf"):
        return float("inf")
    m = _SLEEP.fullmatch(arg)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] if m else None


def plan(container: dict) -> Plan:
    """The kubelet's command (kuberuntime_container.go: `command` replaces the ENTRYPOINT,
    `args` the CMD), then what it amounts to."""
    command, args = container.get("command"), container.get("args")
    default = default_command(container.get("image", ""))
    if command:
        argv = list(command) + list(args or [])
    elif default is None:          # an image the sandbox does not know: its own entrypoint serves
        return Plan("serve", tuple(args or ()), own_entrypoint=True)
    elif args:
        argv = (default[:1] if default and default[0].endswith("docker-entrypoint.sh") else []) + list(args)
    else:
        argv = default
    if not argv:
        return Plan("serve", own_entrypoint=True)
    base = argv[0].rsplit("/", 1)[-1]
    if base == "docker-entrypoint.sh" and argv[1:2] == ["nginx"] or base == "nginx":
        return Plan("serve", tuple(argv))
    if base == "sleep" and len(argv) == 2 and _seconds(argv[1]) is not None:
        seconds = _seconds(argv[1])
        return Plan("serve" if seconds == float("inf") else "sleep", tuple(argv), seconds)
    if base == "tail" and "-f" in argv[1:]:
        return Plan("serve", tuple(argv))
    if base in _SHELLS:
        script = argv[argv.index("-c") + 1] if "-c" in argv[1:-1] else None
        if script is None and all(a.startswith("-") for a in argv[1:]):
            return Plan("attach" if container.get("stdin") else "exit", tuple(argv))
        if script is not None:
            sleep = re.fullmatch(r"\s*(?:exec\s+)?sleep\s+(\S+)\s*", script)
            if sleep and _seconds(sleep.group(1)) is not None:
                seconds = _seconds(sleep.group(1))
                return Plan("serve" if seconds == float("inf") else "sleep", tuple(argv), seconds)
            if re.fullmatch(r"\s*while\s+(?:true|:)\s*;?\s*do\s+sleep\s+\S+\s*;?\s*done\s*", script):
                return Plan("serve", tuple(argv))
    return Plan("run", tuple(argv))


def exits_on_sigterm(p: Plan) -> bool:
    """Whether the container's PID 1 ends when the kubelet sends SIGTERM. The kernel delivers
    to a PID namespace's init only the signals it installed a handler for: nginx does (TERM
    is its fast shutdown, exit 0), and so, the sandbox assumes, does an unknown image's own
    server; `sleep`, `tail`, a shell and the tools install none, so as PID 1 they run on
    until the grace period ends and the kubelet's SIGKILL (exit 137)."""
    if p.kind != "serve":
        return False
    if p.own_entrypoint:
        return True
    base = p.argv[0].rsplit("/", 1)[-1]
    return base == "nginx" or base == "docker-entrypoint.sh" and p.argv[1:2] == ("nginx",)


@dataclass
class ContainerLog:
    """One container's output, line by line with when each was written (thread-safe: the
    command's thread writes while the API server reads)."""
    lines: list[tuple[float, str]] = field(default_factory=list)
    written: int = 0
    _partial: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, when: float, text: str) -> None:
        with self._lock:
            parts = (self._partial + text).split("\n")
            self._partial = parts.pop()
            for line in parts:
                self.lines.append((when, line))
                self.written += 1
            if len(self.lines) > MAX_LOG_LINES:
                del self.lines[:len(self.lines) - MAX_LOG_LINES]

    def close(self, when: float) -> None:
        """The process ended: a last line without its newline is still logged."""
        with self._lock:
            if self._partial:
                self.lines.append((when, self._partial))
                self.written += 1
                self._partial = ""

    def snapshot(self) -> tuple[list[tuple[float, str]], int]:
        with self._lock:
            return list(self.lines), self.written


@dataclass
class Backoff:
    """flowcontrol.Backoff for one key: the delay doubles from 10 s to 5 min and starts over
    once the key has been quiet for twice the maximum."""
    delay: float = 0.0
    updated: float = 0.0

    def in_backoff_since(self, finished: float, now: float) -> bool:
        return self.delay > 0 and now - finished < self.delay

    def next(self, now: float) -> None:
        if self.delay == 0 or now - self.updated > 2 * BACKOFF_MAX:
            self.delay = BACKOFF_INITIAL
        else:
            self.delay = min(self.delay * 2, BACKOFF_MAX)
        self.updated = now


def go_duration(seconds: float) -> str:
    """time.Duration's String for whole seconds: 10s, 1m20s, 5m0s."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60}s"


def full_image(image: str) -> str:
    """How containerd reports an image reference: registry and tag made explicit."""
    name = image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name
