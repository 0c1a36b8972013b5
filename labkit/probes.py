"""Probes that run inside a pod: N samples cost one exec (a shell loop in the pod).

Each returns a tidy DataFrame, one row per sample (or per query/reply).

>>> df = labkit.probes.dns(lab, "client", "web-svc", samples=200)
>>> df["first"].value_counts()
"""
from __future__ import annotations

import math
import shlex

from . import _parse, errors

_RCODE = {0: "NOERROR", 2: "NXDOMAIN"}     # getent: 0 found, 2 not found (glibc getent.c)


def _loop(samples: int, body: str) -> str:
    return f"i=0; while [ $i -lt {int(samples)} ]; do i=$((i+1)); {body}; done"


def dns(lab, pod: str, name: str, samples: int = 100, namespace: str = "default", tool: str = "getent",
        timeout: float = 120):
    """Resolve `name` `samples` times from `pod`, as the pod's resolver does.

    tool "getent" runs `getent hosts NAME` (glibc images); "dig" runs `dig +short +search NAME`.
    Columns: sample, name, answers (list of addresses in answer order), first (answers[0] or
    None), rcode ("NOERROR"/"NXDOMAIN"; getent cannot tell NODATA from NXDOMAIN), latency_ms
    (from `date +%s%N` around each lookup).
    """
    import pandas as pd
    q = shlex.quote(name)
    lookup = f"getent hosts {q}" if tool == "getent" else f"dig +short +search {q}"
    body = f's=$(date +%s%N); out=$({lookup}); rc=$?; e=$(date +%s%N); echo "@@ $i $rc $s $e"; echo "$out"'
    result = lab.exec(pod, _loop(samples, body), namespace=namespace, timeout=timeout)
    rows = []
    for fields, text in _parse.records(result.stdout):
        i, rc, start, end = fields[:4]
        answers = ([a for a, _ in _parse.getent_hosts(text)] if tool == "getent" else
                   [a for a in _parse.dig_short(text) if not a.endswith(".")])
        rc = int(rc)
        rcode = _RCODE.get(rc, f"EXIT{rc}") if tool == "getent" else ("NOERROR" if answers else "NXDOMAIN")
        try:
            latency = (int(end) - int(start)) / 1e6
        except ValueError:
            latency = math.nan                 # a `date` without %N prints it literally
        rows.append({"sample": int(i), "name": name, "answers": answers,
                     "first": answers[0] if answers else None, "rcode": rcode, "latency_ms": latency})
    if not rows and not result.ok:
        result.check()
    return pd.DataFrame(rows, columns=["sample", "name", "answers", "first", "rcode", "latency_ms"])


def http(lab, pod: str, url: str, samples: int = 50, namespace: str = "default", max_time: float = 2,
         timeout: float = 120):
    """GET `url` `samples` times with curl from `pod` (new connection each time).

    Columns: sample, server_name, server_address (from the hello page's `Server name:` and
    `Server address:` lines), remote_ip (curl's %{remote_ip}: the address connected to, a
    ClusterIP shows its virtual IP), status (HTTP code, 0 on failure), latency_ms (%{time_total}).
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
    return pd.DataFrame(rows, columns=["sample", "server_name", "server_address", "remote_ip", "status", "latency_ms"])


def ping(lab, pod: str, target: str, count: int = 5, namespace: str = "default", timeout: float = 60):
    """`ping -c COUNT TARGET` in `pod`; one row per reply: seq, address, ptr_name (the reverse
    name ping printed, None when it printed only the address), ttl, rtt_ms."""
    import pandas as pd
    result = lab.exec(pod, ["ping", "-c", str(int(count)), target], namespace=namespace, timeout=timeout)
    rows = _parse.ping(result.stdout)
    if not rows and not result.ok:
        result.check()
    return pd.DataFrame(rows, columns=["seq", "address", "ptr_name", "ttl", "rtt_ms"])


def search_walk(lab, pod: str, name: str, namespace: str = "default", dig_pod: str = "dnsutils"):
    """Every query the pod's resolver sends for `name`, in order (the search-list walk).

    On the sandbox: from the cluster DNS query log while `getent ahosts NAME` runs in `pod`.
    On a real cluster: from `dig +search +showsearch NAME` in `dig_pod` (A queries only).
    Columns: step, query, qtype, rcode, answered.
    """
    import pandas as pd
    cols = ["step", "query", "qtype", "rcode", "answered"]
    if lab.sandbox_extras is not None:
        extras = lab.sandbox_extras
        extras.clear_dns_cache()
        extras.clear_dns_log()
        lab.exec(pod, ["getent", "ahosts", name], namespace=namespace)
        log = extras.dns_log()
        ns = lab.ns(namespace)
        mine = log[(log["namespace"] == ns) & (log["pod"] == pod)] if len(log) else log
        rows = [{"query": r.qname, "qtype": r.qtype, "rcode": r.rcode, "answered": bool(r.answers)}
                for r in mine.itertuples()]
    else:
        result = lab.exec(dig_pod, ["dig", "+search", "+showsearch", name], namespace=namespace)
        rows = _parse.dig_showsearch(result.stdout)
    for step, row in enumerate(rows, 1):
        row["step"] = step
    return pd.DataFrame(rows, columns=cols)


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
