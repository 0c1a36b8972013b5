"""Parsers for what the real tools print (iputils ping, glibc getent, curl, bind9 dig)."""
from __future__ import annotations

import re

MARK = "@@"    # starts each probe record line; no tool prints it at a line start

# iputils ping_common.c: "64 bytes from NAME (IP): icmp_seq=N ttl=T time=X ms", or without NAME.
_PING = re.compile(r"^\d+ bytes from (?:(?P<name>\S+) \((?P<paren>[^)]+)\)|(?P<addr>[^\s:]+)):"
                   r" icmp_seq=(?P<seq>\d+) ttl=(?P<ttl>\d+) time=(?P<time>[\d.]+) ms")
_DIG_STATUS = re.compile(r"->>HEADER<<- opcode: \w+, status: (\w+)")


def ping(text: str) -> list[dict]:
    """One row per reply: seq, address, ptr_name (None when ping printed only the address), ttl, rtt_ms."""
    rows = []
    for line in text.splitlines():
        m = _PING.match(line)
        if m:
            rows.append({"seq": int(m["seq"]), "address": m["paren"] or m["addr"],
                         "ptr_name": m["name"], "ttl": int(m["ttl"]), "rtt_ms": float(m["time"])})
    return rows


def getent_hosts(text: str) -> list[tuple[str, str]]:
    """(address, canonical name) per line of `getent hosts` / the STREAM lines of `getent ahosts`
    (which prints the canonical name on the first line only)."""
    out = []
    canonical = ""
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[1] in ("DGRAM", "RAW"):
            continue
        if len(words) >= 2 and words[1] == "STREAM":
            canonical = words[2] if len(words) >= 3 else canonical
            out.append((words[0], canonical))
        elif len(words) >= 2:
            out.append((words[0], words[1]))
    return out


def hello_page(text: str) -> dict:
    """`Server address:` and `Server name:` of the nginxdemos/hello plain-text page."""
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key == "Server address":
            found["server_address"] = value.strip()
        elif key == "Server name":
            found["server_name"] = value.strip()
    return found


def dig_short(text: str) -> list[str]:
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith(";")]


def dig_showsearch(text: str) -> list[dict]:
    """One row per query of `dig +search +showsearch`: query, qtype, rcode, answered."""
    rows, question = [], False
    current: dict | None = None
    for line in text.splitlines():
        m = _DIG_STATUS.search(line)
        if m:
            if current:
                rows.append(current)
            current = {"query": None, "qtype": None, "rcode": m.group(1), "answered": False}
            continue
        if current is None:
            continue
        if line.startswith(";; flags:"):
            mm = re.search(r"ANSWER: (\d+)", line)
            current["answered"] = bool(mm and int(mm.group(1)) > 0)
        elif line.startswith(";; QUESTION SECTION:"):
            question = True
        elif question and line.startswith(";") and not line.startswith(";;"):
            parts = line[1:].split()
            current["query"], current["qtype"] = parts[0], parts[-1]
            question = False
    if current:
        rows.append(current)
    return rows


def records(text: str) -> list[tuple[list[str], str]]:
    """Split probe output into (marker fields, body text) per `@@` record line."""
    out: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines():
        if line.startswith(MARK + " "):
            out.append((line.split()[1:], []))
        elif out:
            out[-1][1].append(line)
    return [(fields, "\n".join(body)) for fields, body in out]
