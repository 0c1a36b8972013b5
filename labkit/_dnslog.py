"""CoreDNS's query log, read as `kubectl logs -n kube-system -l k8s-app=kube-dns` shows it.

With the `log` plugin in the Corefile, every CoreDNS pod writes one line per query in
the plugin's Common Log Format (coredns plugin/log, plugin/pkg/replacer):

    [INFO] 10.10.100.5:46349 - 4829 "A IN web-svc.default.svc.cluster.local. udp 51 false 512" NOERROR qr,aa,rd 106 0.000150858s

This reads those lines from any cluster through the Kubernetes API (pods/log), the
sandbox's and a real one's alike. Lines of other formats (start-up, reloads, errors)
are skipped.
"""
from __future__ import annotations

import re

COMMON_LOG_LINE = re.compile(
    r'\[INFO\] \[?(?P<client>[0-9a-fA-F.:]+?)\]?:(?P<port>\d+) - (?P<id>\d+) '
    r'"(?P<qtype>\S+) (?P<qclass>\S+) (?P<qname>\S+) (?P<proto>udp|tcp) (?P<size>\d+) '
    r'(?P<do>true|false) (?P<bufsize>\d+)" (?P<rcode>\S+) (?P<flags>[a-z,]*) '
    r'(?P<rsize>\d+) (?P<duration>[0-9.e+-]+)s')

COLUMNS = ["coredns_pod", "client", "port", "id", "qtype", "qname", "proto", "size", "do",
           "bufsize", "rcode", "flags", "rsize", "duration"]


def parse_lines(text: str, coredns_pod: str | None = None) -> list[dict]:
    """The query lines of one CoreDNS pod's log, as records (numbers as numbers)."""
    rows = []
    for line in text.splitlines():
        m = COMMON_LOG_LINE.fullmatch(line.strip())
        if m is None:
            continue
        row = m.groupdict()
        rows.append({
            "coredns_pod": coredns_pod, "client": row["client"], "port": int(row["port"]),
            "id": int(row["id"]), "qtype": row["qtype"], "qname": row["qname"],
            "proto": row["proto"], "size": int(row["size"]), "do": row["do"] == "true",
            "bufsize": int(row["bufsize"]), "rcode": row["rcode"], "flags": row["flags"],
            "rsize": int(row["rsize"]), "duration": float(row["duration"]),
        })
    return rows
