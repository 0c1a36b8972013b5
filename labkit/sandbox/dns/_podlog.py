"""What the CoreDNS pods write to their container log, read through `kubectl logs`.

A CoreDNS pod writes to stdout (coremain/run.go sets the log output there, with no
time stamps): at start `maxprocs: ...` (from 1.12.0, uber-go/automaxprocs), the
server's `.:53`, the reload plugin's `[INFO] plugin/reload: Running configuration
SHA512 = ...`, `CoreDNS-<version>` and `linux/amd64, <go version>, <commit>`
(coremain/run.go showVersion); then what reloads log (see _reload), and with the
`log` plugin one line per query it served (plugin/log, format from _corefile).

Which pod serves a query is kube-proxy's choice among kube-dns's ready endpoints: one
pick per flow (UDP: per client socket; TCP: per connection), kept while the flow
lives, drawn from a generator seeded by the sandbox's seed, as the pod runtime picks a
ClusterIP backend per connection.

Not modelled: `log`'s `class` filter (every query is logged), the errors plugin's
lines (the sandbox's upstream never fails), the lines of a final shutdown (SIGTERM,
lameduck), and a pod that starts on a Corefile it cannot load (a real one exits and
restarts; here it starts on the last configuration that loaded).
"""
from __future__ import annotations

import collections
import decimal
import ipaddress
import random
import struct
import threading
import time

import dns.flags
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from ._corefile import LogRule

# The kubelet rotates container logs (containerLogMaxSize 10Mi, containerLogMaxFiles 5),
# so `kubectl logs` never returns an unbounded history; a query log line is about 100
# bytes, so the newest 10,000 lines per pod are kept.
MAX_LINES = 10000
MAX_FLOWS = 4096        # remembered flow -> pod choices (conntrack entries), dropped when full

# `coredns -version` of the release images, as they print it (Go version and git
# commit recorded from the images' start-up output in public logs; the commit is not
# always the tag's: 1.11.3 was built from a6338e9, after the v1.11.3 tag).
RELEASES = {
    "1.10.1": ("go1.20", "055b2c3"),
    "1.11.1": ("go1.20.7", "ae2bbc2"),
    "1.11.3": ("go1.21.11", "a6338e9"),
    "1.12.0": ("go1.23.3", "51e11f1"),
    "1.12.1": ("go1.24.1", "707c7c1"),
    "1.13.1": ("go1.25.2", "1db4568"),
    "1.14.2": ("go1.26.1", "dd1df4f"),
    "1.14.6": ("go1.26.5", "424d125"),
    "1.14.7": ("go1.26.6", "427fc80"),
}
AUTOMAXPROCS_SINCE = (1, 12, 0)     # coremain/run.go calls maxprocs.Set from v1.12.0


def image_version(image: str) -> str | None:
    """The CoreDNS version of a CoreDNS image reference, or None for other images."""
    ref = image.split("@", 1)[0]
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        name, tag = ref, "latest"
    if not (name == "coredns" or name.endswith("/coredns")):
        return None
    return tag[1:] if tag[:1] == "v" else tag


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("-", 1)[0].split("."))
    except ValueError:
        return ()


def startup_lines(version: str, config_lines: list[str], cpus: int) -> list[str]:
    """A CoreDNS start: automaxprocs, the servers and reload's hash, then the version.

    A version missing from RELEASES prints its version line only: its Go version and
    commit are not known here."""
    lines = []
    if _version_tuple(version) >= AUTOMAXPROCS_SINCE:
        # No CPU limit in kubeadm's Deployment: automaxprocs leaves GOMAXPROCS alone.
        lines.append(f"maxprocs: Leaving GOMAXPROCS={cpus}: CPU quota undefined")
    lines.extend(config_lines)
    lines.append(f"CoreDNS-{version}")
    release = RELEASES.get(version)
    if release is not None:
        lines.append(f"linux/amd64, {release[0]}, {release[1]}")
    return lines


class _PodLog:
    __slots__ = ("uid", "lines", "stamps", "total")

    def __init__(self, uid: str | None, lines: list[str], stamp: float) -> None:
        self.uid = uid
        self.lines: collections.deque[str] = collections.deque(lines, maxlen=MAX_LINES)
        # When each line was written, for `kubectl logs --timestamps` (the kubelet's stamps).
        self.stamps: collections.deque[float] = collections.deque([stamp] * len(lines), maxlen=MAX_LINES)
        self.total = len(lines)      # lines ever written: a cursor for `logs -f`

    def add(self, lines: list[str], stamp: float) -> None:
        self.lines.extend(lines)
        self.stamps.extend([stamp] * len(lines))
        self.total += len(lines)


class CoreDnsLogs:
    """Per-pod logs of the CoreDNS pods, and which pod serves each flow. Thread-safe."""

    def __init__(self, seed: int, clock=None) -> None:
        self._time = clock.time if clock is not None else time.time
        self._last = 0.0
        self._pods: dict[tuple[str, str], _PodLog] = {}
        self._lock = threading.Lock()
        self._flows: dict[tuple[str, int], tuple[dict | None, tuple[str, str, str]]] = {}
        self._pick = random.Random(f"kube-proxy:kube-dns:{seed}")
        self._durations = random.Random(f"coredns-log:{seed}")
        self.probes = random.Random(f"coredns-loop:{seed}")   # plugin/loop's random names
        self._endpoints: tuple[int, dict] | None = None

    def _clock(self) -> float:
        """Now, strictly after the last stamp (the caller holds the lock): lines of all
        pods keep their order when merged by time, as `labkit.clusterdns` merges them."""
        self._last = max(self._time(), self._last + 1e-6)
        return self._last

    # -- the pods ----------------------------------------------------------------------
    def start(self, pod: dict, lines: list[str]) -> None:
        """A CoreDNS container started and wrote `lines` (a restarted pod starts over)."""
        meta = pod["metadata"]
        with self._lock:
            self._pods[(meta["namespace"], meta["name"])] = _PodLog(meta.get("uid"), lines, self._clock())

    def known(self, pod: dict) -> bool:
        meta = pod["metadata"]
        with self._lock:
            log = self._pods.get((meta["namespace"], meta["name"]))
            return log is not None and log.uid == meta.get("uid")

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._pods.pop((namespace, name), None)

    def read(self, namespace: str, name: str) -> tuple[list[str], int]:
        """The kept lines and how many were ever written."""
        with self._lock:
            log = self._pods.get((namespace, name))
            if log is None:
                return [], 0
            return list(log.lines), log.total

    def stamps(self, namespace: str, name: str) -> list[float]:
        """When each kept line was written (seconds since the epoch, sandbox clock)."""
        with self._lock:
            log = self._pods.get((namespace, name))
            return list(log.stamps) if log is not None else []

    def write_all(self, lines: list[str], then=None) -> None:
        """Every CoreDNS pod writes the same lines (a reload), then `then()`'s line if any
        (called once per pod, outside the lock: it may draw from this object)."""
        with self._lock:
            pods = list(self._pods)
        extras = {pod: then() if then is not None else None for pod in pods}
        with self._lock:
            for pod, extra in extras.items():
                log = self._pods.get(pod)
                if log is None:
                    continue
                log.add(lines + [extra] if extra else lines, self._clock())

    def write(self, pod: tuple[str, str], line: str) -> None:
        with self._lock:
            log = self._pods.get(pod)
            if log is not None:
                log.add([line], self._clock())

    # -- which pod serves a flow -------------------------------------------------------
    def serving_pod(self, cluster, transport: str, client_port: int,
                    client: dict | None = None) -> tuple[str, str, str] | None:
        """(namespace, pod, pod IP) of the kube-dns endpoint this flow goes to, or None.

        A flow is one client socket: its port, and the registration the pod runtime made
        for it (a later socket on a reused port is a new flow, as a new conntrack entry
        would be once the old one expired)."""
        ready = self._ready(cluster).get(transport, ())
        if not ready:
            return None
        flow = (transport, client_port)
        with self._lock:
            kept = self._flows.get(flow)
            if kept is not None and kept[0] is client and kept[1] in ready:
                return kept[1]
            if len(self._flows) >= MAX_FLOWS:
                self._flows.clear()
            chosen = ready[self._pick.randrange(len(ready))]
            self._flows[flow] = (client, chosen)
        return chosen

    def _ready(self, cluster) -> dict:
        """kube-dns's ready endpoints per protocol, from its EndpointSlices (cached by
        cluster revision), ordered by address as the pod network's backends are."""
        revision = cluster.revision
        cached = self._endpoints
        if cached is not None and cached[0] == revision:
            return cached[1]
        found: dict[str, set] = {"udp": set(), "tcp": set()}
        for eps in cluster.list("endpointslices", "kube-system"):
            labels = (eps.get("metadata") or {}).get("labels") or {}
            if labels.get("kubernetes.io/service-name") != "kube-dns":
                continue
            protocols = {p.get("name"): (p.get("protocol") or "TCP").lower()
                         for p in eps.get("ports") or []}
            serves = {proto for name, proto in protocols.items() if name in ("dns", "dns-tcp")}
            for ep in eps.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready", True) is False:
                    continue
                ref = ep.get("targetRef") or {}
                if ref.get("kind") != "Pod":
                    continue
                for address in ep.get("addresses") or []:
                    for proto in serves:
                        found[proto].add((ref.get("namespace") or "kube-system", ref["name"], address))
        ready = {proto: tuple(sorted(entries, key=lambda e: ipaddress.ip_address(e[2])))
                 for proto, entries in found.items()}
        self._endpoints = (revision, ready)
        return ready

    # -- plugin/log ----------------------------------------------------------------------
    def ephemeral_port(self) -> int:
        """A local port as Linux picks one (net.ipv4.ip_local_port_range 32768-60999)."""
        with self._lock:
            return self._durations.randint(32768, 60999)

    def duration(self, kind: str) -> str:
        """{duration}: time.Since(start).Seconds() printed with strconv 'f', -1 (the
        shortest decimal), drawn from the seeded generator: a cache hit, a kubernetes
        plugin answer, or a round trip upstream."""
        low, high = {"cache": (30_000, 150_000), "cluster": (90_000, 600_000),
                     "forward": (900_000, 30_000_000),
                     # forward gives up at its 5 s deadline (forward.go defaultTimeout)
                     "timeout": (5_000_100_000, 5_004_000_000)}[kind]
        with self._lock:
            nanos = self._durations.randint(low, high)
        return _go_float(nanos / 1e9) + "s"


def _go_float(x: float) -> str:
    text = format(decimal.Decimal(repr(x)), "f")
    return text[:-2] if text.endswith(".0") else text


def line_values(query, size: int, transport: str, remote: str, port: int, local: str,
                rcode: int, wire: bytes, rsize: int, duration: str) -> dict[str, str]:
    """The placeholders of plugin/pkg/replacer for one query and the reply sent.

    {name} is request.Name(), lower case; {>bufsize} is request.Size(), through
    edns.Size: 65535 over TCP, else the EDNS buffer but at least 512 (512 without
    EDNS); {>do} the query's DO bit; {>rflags} the reply's header as sent (the TC bit
    included: the scrub writer truncates the logged message in place); {rsize} what
    the plugins wrote, before the OPT record and truncation (see _wire.plain_size)."""
    question = query.question[0]
    edns = query.edns >= 0
    bufsize = max(512, query.payload if edns else 0) if transport == "udp" else 65535
    return {
        "{remote}": remote, "{port}": str(port), "{local}": local,
        "{>id}": str(query.id), "{>opcode}": str(query.opcode()),
        "{type}": dns.rdatatype.to_text(question.rdtype),
        "{class}": dns.rdataclass.to_text(question.rdclass),
        "{name}": question.name.to_text().lower(),
        "{proto}": transport, "{size}": str(size),
        "{>do}": "true" if edns and query.ednsflags & dns.flags.DO else "false",
        "{>bufsize}": str(bufsize),
        "{rcode}": dns.rcode.to_text(rcode),
        "{>rflags}": rflags(struct.unpack_from("!H", wire, 2)[0]),
        "{rsize}": str(rsize), "{duration}": duration,
    }


def query_line(rule: LogRule, values: dict[str, str]) -> str:
    """One query in the rule's format (plugin/pkg/replacer): known placeholders get
    their value, unknown ones `-`, with `[INFO] ` before it (clog.Info)."""
    out = []
    fmt = rule.format
    i = 0
    while i < len(fmt):
        j = fmt.find("{", i)
        if j < 0:
            out.append(fmt[i:])
            break
        k = fmt.find("}", j)
        if k < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        label = fmt[j:k + 1]
        if label.startswith("{>"):
            label = "{>" + label[2:].lower()      # header placeholders are case-insensitive
        out.append(values.get(label, "-"))
        i = k + 1
    return "[INFO] " + "".join(out)


_FLAG_NAMES = ((0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"),
               (0x0080, "ra"), (0x0040, "z"), (0x0020, "ad"), (0x0010, "cd"))


def rflags(flags: int) -> str:
    """{>rflags}: the set header flags in replacer.go appendFlags order, comma-joined."""
    return ",".join(name for bit, name in _FLAG_NAMES if flags & bit)
