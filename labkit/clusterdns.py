"""The cluster DNS seen through the Kubernetes API alone: its Corefile, and its query log.

What works on any cluster where the learner may change `kube-system`: the Corefile is the
ConfigMap `kube-system/coredns`; CoreDNS's `reload` plugin picks an edit up (on a real
cluster within a minute or two); its `log` plugin writes one line per query to the CoreDNS
pods' logs, which `kubectl logs -n kube-system -l k8s-app=kube-dns` reads. On the sandbox,
`QueryLog` reads the sandbox's own query log instead (same columns, plus the answers).

>>> with labkit.clusterdns.QueryLog(lab) as log:
...     lab.exec("client", "getent ahosts web-svc")
...     log.frame()[["pod", "qname", "qtype", "rcode"]]
"""
from __future__ import annotations

import re
import time

from . import errors
from ._kubectl_lines import quiet, quietly

NAMESPACE = "kube-system"
CONFIGMAP = "coredns"
SELECTOR = "k8s-app=kube-dns"
COLUMNS = ["time", "namespace", "pod", "transport", "qname", "qtype", "rcode", "answers", "truncated", "cached"]

# The log plugin's default (common) format, plugin/log/log.go's CommonLogFormat:
# {remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}
# e.g. [INFO] 10.10.100.5:46349 - 4829 "A IN web-svc.default.svc.cluster.local. udp 51 false 512" NOERROR qr,aa,rd 106 0.000150858s
_LOG_LINE = re.compile(
    r'\[INFO\] \[?(?P<client>[0-9a-fA-F.:]+?)\]?:(?P<port>\d+) - (?P<id>\d+) '
    r'"(?P<qtype>\S+) (?P<qclass>\S+) (?P<qname>\S+) (?P<proto>udp|tcp) (?P<size>\d+) '
    r'(?P<do>true|false) (?P<bufsize>\d+)" (?P<rcode>\S+) (?P<flags>[a-z,]*) '
    r'(?P<rsize>\d+) (?P<duration>[0-9.e+-]+)s')
LOG_COLUMNS = ["time", "coredns_pod", "client", "port", "id", "qtype", "qname", "proto", "size", "do",
               "bufsize", "rcode", "flags", "rsize", "duration"]


def corefile(lab) -> str:
    """The cluster's Corefile (`kubectl -n kube-system get configmap coredns -o yaml`)."""
    return lab.get_object("configmap", CONFIGMAP, namespace=NAMESPACE)["data"]["Corefile"]


def configmap(text: str) -> dict:
    """The ConfigMap kube-system/coredns with this Corefile (applying it changes only that key)."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP, "namespace": NAMESPACE}, "data": {"Corefile": text}}


def may_edit(lab) -> bool:
    """Whether labkit may change kube-system here: never in a workshop (a namespace prefix)."""
    return not lab.namespace_prefix


def write_corefile(lab, text: str):
    """Write the Corefile back, as `kubectl -n kube-system edit configmap coredns` would."""
    if not may_edit(lab):
        raise errors.NamespaceNotAllowed(
            "kube-system is the instructor's in a workshop: labkit does not change the Corefile there")
    return lab.apply(configmap(text))


def directives(text: str) -> list[str]:
    """The plugins the first server block turns on, in the order written (`log`, `cache`, ...)."""
    return [words[0] for depth, words in _server_block(text) if depth == 1]


def _server_block(text: str) -> list[tuple[int, list[str]]]:
    """The first server block's lines as (depth, words): depth 1 for plugins, 2 inside one."""
    lines, depth, started = [], 0, False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.replace("{", " ").replace("}", " ").split()
        if depth >= 1 and words:
            lines.append((depth, words))
        depth += line.count("{") - line.count("}")
        started = started or depth > 0
        if started and depth <= 0:
            break
    return lines


# plugin/cache/cache.go computeTTL: an answer is kept for its records' TTL raised to at least
# 5 s, then capped at the `cache` argument (3600 without one). plugin/kubernetes gives its
# records `ttl` seconds, 5 by default (plugin/kubernetes/setup.go).
CACHE_MAX_TTL, CACHE_MIN_TTL, KUBERNETES_TTL = 3600, 5, 5
# kubeadm's Corefile says `cache 30` and `ttl 30`: the cache time most clusters have.
DEFAULT_CACHE_SECONDS = 30


def cache_seconds(text: str) -> int:
    """How long the cluster DNS may keep answering with an old set of a Service's addresses:
    the time CoreDNS's `cache` keeps the kubernetes plugin's answers; 0 without `cache`."""
    cap, ttl, in_kubernetes = None, KUBERNETES_TTL, False
    for depth, words in _server_block(text):
        if depth == 1:
            in_kubernetes = words[0] == "kubernetes"
            if words[0] == "cache":
                cap = int(words[1]) if len(words) > 1 and words[1].isdigit() else CACHE_MAX_TTL
        elif in_kubernetes and depth == 2 and words[0] == "ttl" and len(words) > 1 and words[1].isdigit():
            ttl = int(words[1])
    if cap is None:
        return 0
    return min(max(ttl, CACHE_MIN_TTL), cap)


@quietly
def cluster_cache_seconds(lab) -> tuple[float, str]:
    """(seconds, where the figure came from): `cache_seconds` of the cluster's Corefile, or
    kubeadm's 30 s when the Corefile cannot be read (not CoreDNS, or no read access)."""
    try:
        return cache_seconds(corefile(lab)), "the Corefile"
    except (errors.LabkitError, KeyError, ValueError) as e:
        return DEFAULT_CACHE_SECONDS, (f"assumed CoreDNS's usual `cache 30` (kubeadm's Corefile): "
                                       f"the Corefile could not be read ({e})")


def kubernetes_zone(text: str) -> str | None:
    """The first zone the kubernetes plugin serves (the cluster domain), None without one."""
    for depth, words in _server_block(text):
        if depth == 1 and words[0] == "kubernetes" and len(words) > 1:
            return words[1].rstrip(".")
    return None


def with_directive(text: str, name: str) -> str:
    """The Corefile with `name` added as the server block's first plugin (unchanged if present)."""
    if name in directives(text):
        return text
    head, brace, rest = text.partition("{\n")
    return f"{head}{brace}    {name}\n{rest}"


def without_directive(text: str, name: str) -> str:
    """The Corefile without the one-line directive `name`."""
    return "".join(line for line in text.splitlines(keepends=True) if line.strip() != name)


def parse_log(text: str, coredns_pod: str | None = None) -> list[dict]:
    """The query lines of one CoreDNS pod's log (with the kubelet's RFC 3339 time in front
    when read with `--timestamps`), as records; other lines (start-up, reloads) are skipped."""
    rows = []
    for line in text.splitlines():
        stamp = None
        if line[:4].isdigit() and " " in line:
            stamp, line = line.split(" ", 1)
        m = _LOG_LINE.fullmatch(line.strip())
        if m is None:
            continue
        row = m.groupdict()
        rows.append({"time": stamp, "coredns_pod": coredns_pod, "client": row["client"], "port": int(row["port"]),
                     "id": int(row["id"]), "qtype": row["qtype"], "qname": row["qname"], "proto": row["proto"],
                     "size": int(row["size"]), "do": row["do"] == "true", "bufsize": int(row["bufsize"]),
                     "rcode": row["rcode"], "flags": row["flags"], "rsize": int(row["rsize"]),
                     "duration": float(row["duration"])})
    return rows


def _coredns_pods(lab) -> list[str]:
    return [p["metadata"]["name"] for p in lab.list_objects("pods", NAMESPACE, SELECTOR)
            if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]


def _pod_log(lab, pod: str, tail: int | None = None) -> str:
    return lab.logs(pod, NAMESPACE, tail=tail, timestamps=True)


@quietly
def read_log(lab, tail: int | None = None):
    """Every query line the CoreDNS pods have logged, merged in time order, as a DataFrame
    (`kubectl logs -n kube-system -l k8s-app=kube-dns --timestamps`): one row per query,
    `coredns_pod` the replica kube-proxy sent it to, `client` the asking pod's IP. Empty
    when the Corefile has no `log`. `tail` keeps each pod's last N lines (`--tail`)."""
    import pandas as pd
    rows = [r for pod in _coredns_pods(lab) for r in parse_log(_pod_log(lab, pod, tail), pod)]
    rows.sort(key=lambda r: _key(r["time"]))
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


class QueryLog:
    """Every query the cluster DNS answers from now on, as a DataFrame (`frame()`).

    On the sandbox: its own log. Elsewhere: CoreDNS's `log` plugin, turned on for as long as
    the log is open (and put back as it was on `close()`), read from the CoreDNS pods' logs
    with their timestamps. Clients are named by their pod IP among the lesson's pods.
    The `log` plugin does not print answers: there `answers` and `cached` are None, and a
    query that got NOERROR without records counts as answered.
    """

    def __init__(self, lab, probe_pod: str = "client", namespace: str = "default",
                 timeout: float = 240.0) -> None:
        self.lab, self.probe_pod, self.namespace, self.timeout = lab, probe_pod, namespace, timeout
        self._extras = lab.sandbox_extras
        self._restore: str | None = None
        self._marks: dict[str, str | None] = {}
        self.available, self.reason = True, ""
        if self._extras is None:
            with quiet(lab):
                self._open()

    # --- the generic path: CoreDNS's log plugin ------------------------------------------
    def _open(self) -> None:
        text = corefile(self.lab)
        if "log" not in directives(text):
            if not may_edit(self.lab):
                self.available = False
                self.reason = ("the cluster DNS logs no queries (no `log` in its Corefile), and in a workshop "
                               "only the instructor may turn it on")
                return
            write_corefile(self.lab, with_directive(text, "log"))
            self._restore = text
        self._wait_logging()
        self.clear()

    def _pods(self) -> list[str]:
        return _coredns_pods(self.lab)

    def _read(self, pod: str) -> str:
        return _pod_log(self.lab, pod)

    def _wait_logging(self) -> None:
        """Until every CoreDNS pod logs queries: after a Corefile edit each pod reloads on its
        own (the kubelet's ConfigMap sync, then reload's poll), so ask until all have logged."""
        from ._progress import Deadline
        # A name under the pod's first search domain (`default.svc.cluster.local`): the cluster
        # DNS answers it (NXDOMAIN) itself, on any cluster domain.
        marker = f"labkit-querylog-check.{self.lab.resolv_conf(self.probe_pod, self.namespace).search[0]}."
        waiting = Deadline("CoreDNS log plugin", self.timeout)
        while True:
            pods = self._pods()
            self.lab.exec(self.probe_pod, f"for i in 1 2 3 4 5 6 7 8; do getent hosts {marker}; done",
                          namespace=self.namespace)
            if pods and all(marker in self._read(pod) for pod in pods):
                waiting.done()
                return
            waiting.tick(f"{sum(marker in self._read(pod) for pod in pods)}/{len(pods)} CoreDNS pods log queries")
            if waiting.expired:
                raise errors.Timeout(f"the CoreDNS pods did not log queries within {self.timeout:g} s "
                                     "after `log` was added to the Corefile")
            time.sleep(1.0)

    # --- both paths -----------------------------------------------------------------------
    def clear(self) -> None:
        """Forget what was logged so far: `frame()` shows only later queries."""
        if self._extras is not None:
            self._extras.clear_dns_log()
        elif self.available:
            with quiet(self.lab):
                self._marks = {pod: _last_stamp(self._read(pod)) for pod in self._pods()}

    def frame(self):
        """The queries since the log was opened or last cleared, in the order they arrived."""
        with quiet(self.lab):
            return self._frame()

    def _frame(self):
        import pandas as pd
        if self._extras is not None:
            return self._extras.dns_log()
        if not self.available:
            print(f"labkit: no query log: {self.reason}")
            return pd.DataFrame(columns=COLUMNS)
        rows = []
        for pod in self._pods():
            mark = self._marks.get(pod)
            rows += [r for r in parse_log(self._read(pod), pod) if mark is None or _key(r["time"]) > _key(mark)]
        rows.sort(key=lambda r: _key(r["time"]))
        owners = self._pod_ips()
        frame = [{"time": r["time"], "namespace": owners.get(r["client"], (None, None))[0],
                  "pod": owners.get(r["client"], (None, None))[1], "transport": r["proto"], "qname": r["qname"],
                  "qtype": r["qtype"], "rcode": r["rcode"], "answers": None,
                  "truncated": "tc" in r["flags"].split(","), "cached": None, "coredns_pod": r["coredns_pod"]}
                 for r in rows]
        return pd.DataFrame(frame, columns=COLUMNS + ["coredns_pod"])

    def _pod_ips(self) -> dict[str, tuple[str, str]]:
        owners = {}
        for ns in self.lab.lesson_namespaces:
            real = self.lab.ns(ns)
            for p in self.lab.list_objects("pods", ns):
                ip = (p.get("status") or {}).get("podIP")
                if ip:
                    owners[ip] = (real, p["metadata"]["name"])
        return owners

    def close(self) -> None:
        """Put the Corefile back as it was, if this log changed it."""
        if self._restore is not None:
            with quiet(self.lab):
                write_corefile(self.lab, self._restore)
            self._restore = None

    def __enter__(self) -> "QueryLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _key(stamp: str | None) -> str:
    """An RFC 3339 time that sorts as text: Go's RFC3339Nano drops trailing zeros of the fraction."""
    if not stamp:
        return ""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return f"{head}.{frac:0<9}"


def _last_stamp(text: str) -> str | None:
    lines = [ln for ln in text.splitlines() if ln[:4].isdigit()]
    return lines[-1].split(" ", 1)[0] if lines else None
