"""Probes that run inside a pod: N samples cost one exec (a shell loop in the pod).

Each returns a tidy DataFrame, one row per sample (or per query/reply).

>>> df = labkit.probes.dns(lab, "client", "web-svc", samples=200)
>>> df["first"].value_counts()
"""
from __future__ import annotations

import math
import shlex

from . import _parse, errors
from ._kubectl_lines import quietly

_RCODE = {0: "NOERROR", 2: "NXDOMAIN"}     # getent: 0 found, 2 not found (glibc getent.c)


def _loop(samples: int, body: str) -> str:
    return f"i=0; while [ $i -lt {int(samples)} ]; do i=$((i+1)); {body}; done"


MODELLED = "sandbox: times from its network model, not measured"


def _mark_modelled(lab, df):
    """On the sandbox no packet is sent: the times curl and ping print come from its seeded
    network model. Record that in `df.attrs["timings"]`, which plots.rtt_histogram shows on
    the figure. On a cluster the times are the tools' own measurements and nothing is added."""
    if getattr(lab, "sandbox_extras", None) is not None:
        df.attrs["timings"] = MODELLED
    return df


@quietly
def dns(lab, pod: str, name: str, samples: int = 100, namespace: str = "default", tool: str = "getent",
        timeout: float = 120):
    """Resolve `name` `samples` times from `pod`, through the pod's resolv.conf.

    tool "getent" runs `getent hosts NAME` (glibc images: gethostbyname2, AAAA then A over the
    search list, glibc nss/getent.c); "dig" runs `dig +short +search NAME`: both show the DNS
    answer's order. "ahosts" runs `getent ahosts NAME`: getaddrinfo()'s
    order, which is what curl, ping and wget connect to. glibc sorts it by RFC 6724, so on a
    cluster whose pods have a node's /24 on eth0 (kind, flannel) a same-node pod comes first
    whatever CoreDNS shuffled; musl images and /32 pods (Calico) keep the DNS order.
    Columns: sample, name, answers (list of addresses in answer order), first (answers[0] or
    None), rcode ("NOERROR"/"NXDOMAIN"; getent cannot tell NODATA from NXDOMAIN), latency_ms
    (from `date +%s%N` around each lookup).
    """
    import pandas as pd
    q = shlex.quote(name)
    if tool not in ("getent", "ahosts", "dig"):
        raise ValueError(f'tool must be "getent", "ahosts" or "dig", not {tool!r}')
    getent = tool in ("getent", "ahosts")
    lookup = {"getent": f"getent hosts {q}", "ahosts": f"getent ahosts {q}",
              "dig": f"dig +short +search {q}"}[tool]
    body = f's=$(date +%s%N); out=$({lookup}); rc=$?; e=$(date +%s%N); echo "@@ $i $rc $s $e"; echo "$out"'
    result = lab.exec(pod, _loop(samples, body), namespace=namespace, timeout=timeout)
    rows = []
    for fields, text in _parse.records(result.stdout):
        i, rc, start, end = fields[:4]
        answers = ([a for a, _ in _parse.getent_hosts(text)] if getent else
                   [a for a in _parse.dig_short(text) if not a.endswith(".")])
        rc = int(rc)
        rcode = _RCODE.get(rc, f"EXIT{rc}") if getent else ("NOERROR" if answers else "NXDOMAIN")
        try:
            latency = (int(end) - int(start)) / 1e6
        except ValueError:
            latency = math.nan                 # a `date` without %N prints it literally
        rows.append({"sample": int(i), "name": name, "answers": answers,
                     "first": answers[0] if answers else None, "rcode": rcode, "latency_ms": latency})
    if not rows and not result.ok:
        result.check()
    return pd.DataFrame(rows, columns=["sample", "name", "answers", "first", "rcode", "latency_ms"])


@quietly
def http(lab, pod: str, url: str, samples: int = 50, namespace: str = "default", max_time: float = 2,
         timeout: float = 120):
    """GET `url` `samples` times with curl from `pod` (new connection each time).

    Columns: sample, server_name, server_address (from the hello page's `Server name:` and
    `Server address:` lines), remote_ip (curl's %{remote_ip}: the address connected to, a
    ClusterIP shows its virtual IP), status (HTTP code, 0 on failure), latency_ms (%{time_total}).
    On the sandbox latency_ms comes from its network model, and `df.attrs["timings"]` says so.
    """
    import pandas as pd
    body = (f'echo "@@ $i"; curl -s -m {max_time:g} -w "\\n@@w %{{remote_ip}} %{{http_code}} %{{time_total}}\\n" '
            f"{shlex.quote(url)}")
    result = lab.exec(pod, _loop(samples, body), namespace=namespace, timeout=timeout)
    rows = []
    for fields, text in _parse.records(result.stdout):
        trailer = next((ln.split()[1:] for ln in text.splitlines() if ln.startswith("@@w")), [])
        page = _parse.hello_page(text)
        remote, code, total = (trailer + ["", "000", "nan"])[:3] if len(trailer) < 3 else trailer[:3]
        rows.append({"sample": int(fields[0]), "server_name": page.get("server_name"),
                     "server_address": page.get("server_address"), "remote_ip": remote or None,
                     "status": int(code), "latency_ms": float(total) * 1000})
    return _mark_modelled(lab, pd.DataFrame(
        rows, columns=["sample", "server_name", "server_address", "remote_ip", "status", "latency_ms"]))


@quietly
def ping(lab, pod: str, target: str, count: int = 5, namespace: str = "default", timeout: float = 60):
    """`ping -c COUNT TARGET` in `pod`; one row per reply: seq, address, ptr_name (the reverse
    name ping printed, None when it printed only the address), ttl, rtt_ms (on the sandbox from
    its network model, and `df.attrs["timings"]` says so)."""
    import pandas as pd
    result = lab.exec(pod, ["ping", "-c", str(int(count)), target], namespace=namespace, timeout=timeout)
    rows = _parse.ping(result.stdout)
    if not rows and not result.ok:
        result.check()
    return _mark_modelled(lab, pd.DataFrame(rows, columns=["seq", "address", "ptr_name", "ttl", "rtt_ms"]))


@quietly
def search_walk(lab, pod: str, name: str, namespace: str = "default", log=None):
    """Every query the pod's resolver sends for `name`, in order (the search-list walk).

    Runs `getent ahosts NAME` in `pod` and reads what the cluster DNS logged meanwhile:
    `log` is a `labkit.clusterdns.QueryLog` (on the sandbox one is made when none is given).
    Without a query log it runs `dig +search +showsearch NAME` in `pod` instead (A queries
    only), which needs a pod with dig.
    Columns: step, query, qtype, rcode, answered.
    """
    import pandas as pd
    from .clusterdns import QueryLog
    cols = ["step", "query", "qtype", "rcode", "answered"]
    if log is None and lab.sandbox_extras is not None:
        log = QueryLog(lab)
    if log is not None and not log.available:
        print(f"labkit: search_walk skipped: {log.reason}")
        return pd.DataFrame(columns=cols)
    if log is not None:
        log.clear()
        lab.exec(pod, ["getent", "ahosts", name], namespace=namespace)
        queries = log.frame()
        ns = lab.ns(namespace)
        mine = queries[(queries["namespace"] == ns) & (queries["pod"] == pod)] if len(queries) else queries
        rows = [{"query": r.qname, "qtype": r.qtype, "rcode": r.rcode,
                 "answered": bool(r.answers) if r.answers is not None else r.rcode == "NOERROR"}
                for r in mine.itertuples()]
    else:
        result = lab.exec(pod, ["dig", "+search", "+showsearch", name], namespace=namespace)
        if result.exit_code in (126, 127):
            raise errors.LabkitError(
                f"search_walk needs the cluster DNS's query log (labkit.clusterdns.QueryLog) or a pod with dig: "
                f"{pod} has no dig ({result.stderr.strip()})")
        rows = _parse.dig_showsearch(result.stdout)
    for step, row in enumerate(rows, 1):
        row["step"] = step
    return pd.DataFrame(rows, columns=cols)


@quietly
def resolution_matrix(lab, names: list[str], client_namespaces: list[str] = ("default", "test"),
                      pod: str = "client"):
    """Which name forms resolve from which namespace: one exec per client namespace.

    Columns: name, namespace (the lesson's name), resolves (bool), addresses (list).
    """
    import pandas as pd
    rows = []
    for ns in client_namespaces:
        script = "; ".join(f'echo "@@ {k}"; getent hosts {shlex.quote(n)}' for k, n in enumerate(names))
        out = lab.exec(pod, script, namespace=ns).stdout
        for fields, text in _parse.records(out):
            addrs = [a for a, _ in _parse.getent_hosts(text)]
            rows.append({"name": names[int(fields[0])], "namespace": ns, "resolves": bool(addrs), "addresses": addrs})
    return pd.DataFrame(rows, columns=["name", "namespace", "resolves", "addresses"])


@quietly
def scale_timeline(lab, deployment: str, replicas: int, service: str, pod: str = "client",
                   namespace: str = "default", interval: float = 0.1, duration: float = 45.0,
                   skip_cache: bool = True, cache_seconds: float | None = None):
    """Scale `deployment` to `replicas` and watch the change reach each layer, tick by tick.

    Each tick (every `interval` s, until every layer shows `replicas` for two ticks or
    `duration` s pass) records: t (s since the scale request), replicas_desired, pods_ready
    (Ready, not terminating), endpoints_ready (ready addresses of `service`'s Endpoints),
    pods_seen_in_dns (addresses `getent hosts SERVICE` returns in `pod`) and clock_skipped.
    A first row (t=0) is taken before scaling, which also primes the DNS cache.

    The cluster DNS caches answers (CoreDNS `cache 30` with the kubernetes plugin's `ttl 30`),
    so new pods can appear in DNS up to that long after their endpoints: on a real cluster
    the timeline waits for that. `cache_seconds` (default: read from the Corefile, see
    `clusterdns.cache_seconds`, else 30 with a note) is how long. On the
    sandbox, with `skip_cache`, once endpoints are complete but DNS still lags for three
    ticks, the sandbox clock jumps to where the answer cached by the first tick expires
    (`lab.sandbox_extras.advance_clock`), so the lag shown is never more than the cache
    time: `t` includes the skipped time and `clock_skipped` says how much was skipped.
    """
    import time

    import pandas as pd
    from .kube.labels import selector_string
    dep = lab.get_object("deployment", deployment, namespace)
    selector = selector_string(dep["spec"].get("selector"))
    cols = ["t", "replicas_desired", "pods_ready", "endpoints_ready", "pods_seen_in_dns", "clock_skipped"]
    rows, skipped, stale, settled = [], 0.0, 0, 0
    extras = lab.sandbox_extras if skip_cache else None

    def tick(t: float, desired: int) -> dict:
        seen = len(set(_addresses(lab, pod, service, namespace)))
        row = {"t": round(t + skipped, 3), "replicas_desired": desired,
               "pods_ready": len(lab.ready_pods(namespace, selector)),
               "endpoints_ready": len(lab.ready_endpoints(service, namespace)), "pods_seen_in_dns": seen,
               "clock_skipped": skipped}
        rows.append(row)
        return row

    tick(0.0, dep["spec"].get("replicas", 1))
    start = time.monotonic()
    lab.scale(deployment, replicas, namespace=namespace, wait=False)
    while True:
        time.sleep(interval)
        row = tick(time.monotonic() - start, int(replicas))
        layers = (row["pods_ready"], row["endpoints_ready"], row["pods_seen_in_dns"])
        settled = settled + 1 if all(n == replicas for n in layers) else 0
        if settled >= 2 or time.monotonic() - start > duration:
            break
        stale = stale + 1 if layers[:2] == (replicas, replicas) and layers[2] != replicas else 0
        if extras is not None and stale >= 3 and not skipped:
            # The first tick's lookup filled the cache (or found an older entry, which expires
            # sooner); past its time the next lookup asks the kubernetes plugin afresh.
            cache_seconds = _cache_seconds(lab, cache_seconds)
            skipped = round(max(cache_seconds - (time.monotonic() - start), 0.0) + 0.05, 3)
            extras.advance_clock(skipped)
            stale = 0
    return pd.DataFrame(rows, columns=cols)


def _cache_seconds(lab, given: float | None) -> float:
    """How long the cluster DNS may answer with an old address set: `given`, else the Corefile's."""
    if given is not None:
        return float(given)
    from .clusterdns import cluster_cache_seconds
    seconds, source = cluster_cache_seconds(lab)
    if source != "the Corefile":
        print(f"labkit: DNS cache time {seconds:g} s {source}")
    return float(seconds)


def _addresses(lab, pod: str, name: str, namespace: str) -> list[str]:
    got = lab.exec(pod, ["getent", "hosts", name], namespace=namespace)
    return [line.split()[0] for line in got.stdout.splitlines() if line.split()]


@quietly
def wait_dns(lab, pod: str, name: str, count: int, namespace: str = "default", timeout: float = 40.0,
             interval: float = 0.5, skip_cache: bool = True, cache_seconds: float | None = None) -> float:
    """Wait until `getent hosts NAME` in `pod` returns `count` addresses; return the seconds it took.

    After a scale, the cluster DNS cache (CoreDNS `cache 30`) may answer with the old set for
    up to its cache time: on a real cluster this waits, with a progress bar. On the sandbox, with
    `skip_cache`, it moves the sandbox clock past the cache time (`cache_seconds`, by default
    read from the Corefile as `scale_timeline` does) instead (the returned
    seconds include the skip). Raises errors.Timeout when the answers do not match in time.
    """
    import time

    from ._progress import Deadline
    waiting, skipped = Deadline(f"{name} in DNS", timeout), 0.0
    while True:
        seen = len(set(_addresses(lab, pod, name, namespace)))
        if seen == count:
            waiting.done()
            return round(waiting.elapsed + skipped, 3)
        if waiting.expired:
            raise errors.Timeout(f"{name}: DNS did not answer with {count} addresses within {timeout:g} s")
        if skip_cache and lab.sandbox_extras is not None and skipped == 0:
            skipped = _cache_seconds(lab, cache_seconds) + 1
            lab.sandbox_extras.advance_clock(skipped)
            continue
        waiting.tick(f"{seen} of {count} addresses")
        time.sleep(interval)


@quietly
def wait_shuffled(lab, pod: str, name: str, shuffled: bool = True, namespace: str = "default",
                  samples: int = 12, timeout: float = 240.0, interval: float = 2.0) -> float:
    """Wait until the cluster DNS shuffles the addresses of `name` (`shuffled=False`: until it
    no longer does); return the seconds it took.

    What a Corefile edit of `loadbalance` changes, observed from `pod`: `samples` lookups in
    one exec come back in more than one order, or all in one. A real cluster applies an edit
    within a minute or two (the kubelet's ConfigMap sync, then `reload`), pod by pod, so the
    new behaviour must show in two rounds in a row. Needs a name with two or more addresses.
    """
    import time

    from ._progress import Deadline
    waiting, streak = Deadline("Corefile reload", timeout), 0
    while True:
        orders = {tuple(a) for a in dns(lab, pod, name, samples=samples, namespace=namespace)["answers"]}
        streak = streak + 1 if (len(orders) > 1) == shuffled else 0
        if streak >= 2:
            waiting.done()
            return round(waiting.elapsed, 3)
        if waiting.expired:
            raise errors.Timeout(f"{name}: the cluster DNS {'did not start' if shuffled else 'kept'} shuffling "
                                 f"its answers within {timeout:g} s")
        waiting.tick(f"{len(orders)} orders in {samples} answers")
        if not streak:
            time.sleep(interval)


@quietly
def lookup_times(lab, pod: str, name: str, samples: int = 30, namespace: str = "default",
                 timeout: float = 600):
    """Name-lookup time of `samples` curls of `http://NAME/` from `pod`, one row per curl:
    sample, namelookup_s (curl's %{time_namelookup}: getaddrinfo's A and AAAA, and any
    wait for a lost reply), total_s (%{time_total}), status. `-m 30` leaves room for a
    resolver's 5 s retry. On the sandbox the times come from its network model
    (`df.attrs["timings"]` says so), a lost reply's 5 s from its clock, not waited."""
    import pandas as pd
    body = (f'echo "@@ $i"; curl -s -o /dev/null -m 30 -w "@@w %{{time_namelookup}} %{{time_total}} '
            f'%{{http_code}}\\n" {shlex.quote("http://" + name + "/")}')
    result = lab.exec(pod, _loop(samples, body), namespace=namespace, timeout=timeout)
    rows = []
    for fields, text in _parse.records(result.stdout):
        trailer = next((ln.split()[1:] for ln in text.splitlines() if ln.startswith("@@w")), [])
        lookup, total, code = (trailer + ["nan", "nan", "000"])[:3]
        rows.append({"sample": int(fields[0]), "namelookup_s": float(lookup), "total_s": float(total),
                     "status": int(code)})
    if not rows and not result.ok:
        result.check()
    return _mark_modelled(lab, pd.DataFrame(rows, columns=["sample", "namelookup_s", "total_s", "status"]))
