"""dns: dnsperf's queries per second against the sandbox's DNS server and against dnsmasq.

Both serve the same names, taken from the sandbox's own answers once the course's objects
are applied (web-svc headless, 3 ready pods). dnsmasq is the yardstick: a C server answering
from memory, started on 127.0.0.1 with no upstream (`--local=/cluster.local/` makes it
answer NXDOMAIN itself, as CoreDNS does, instead of REFUSED).

The two are measured in ROUNDS interleaved pairs (sandbox, dnsmasq, sandbox, ...), and the
figure is the median of the pairs' ratios, after one uncounted second of each: a burst of
load from elsewhere on the machine then spoils one pair, not the result. The sandbox's CPU time per answered query (from
/proc/<pid>/stat) is printed too: it moves far less with the machine's load than q/s.
"""
from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import tempfile
from pathlib import Path

from _common import BackgroundSandbox, Figure, Skip, apply_manifests, endpoint_addresses, tool, wait_until

SECONDS = 4
ROUNDS = 3
SVC = "web-svc.default.svc.cluster.local."
# A lesson's traffic: the headless name (A and glibc's parallel AAAA), the search-list walk's
# NXDOMAINs (ndots:5), the reverse name ping prints, and the named port's SRV.
MIX = [("A", SVC)] * 4 + [("AAAA", SVC)] * 2 + [
    ("A", "web-svc.default.default.svc.cluster.local."),
    ("A", "missing.default.svc.cluster.local."),
    ("SRV", "_http._tcp." + SVC),
]


def _query(server: tuple[str, int], name: str, rdtype: str):
    import dns.message
    import dns.query
    return dns.query.udp(dns.message.make_query(name, rdtype), server[0], port=server[1], timeout=2)


def _free_port() -> int:
    """A port free for both UDP and TCP just now (dnsmasq binds both)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t.bind(("127.0.0.1", port))
        return port


def _dnsperf(dnsperf: str, port: int, datafile: Path, seconds: int = SECONDS) -> dict:
    proc = subprocess.run([dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", str(datafile), "-l", str(seconds)],
                          capture_output=True, text=True, timeout=seconds + 30)
    out = proc.stdout
    qps = re.search(r"Queries per second:\s+([\d.]+)", out)
    if proc.returncode != 0 or qps is None:
        raise RuntimeError(f"dnsperf failed ({proc.returncode}): {proc.stderr.strip() or out[-500:]}")
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    done = re.search(r"Queries completed:\s+(\d+)", out)
    codes = re.search(r"Response codes:\s+(.*)", out)
    return {"qps": float(qps.group(1)), "lost": int(lost.group(1)) if lost else 0,
            "completed": int(done.group(1)) if done else 0,
            "codes": codes.group(1).strip() if codes else ""}


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads (proc(5): fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _records(sandbox_dns: tuple[str, int]) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Pod IPs, (PTR owner, target) and SRV rdata as the sandbox answers them."""
    ips = sorted(rr.address for rrset in _query(sandbox_dns, SVC, "A").answer for rr in rrset)
    ptrs = []
    for ip in ips:
        rev = ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
        ptrs += [(rev, rr.target.to_text()) for rrset in _query(sandbox_dns, rev, "PTR").answer for rr in rrset]
    srvs = [f"{rr.target.to_text().rstrip('.')},{rr.port},{rr.priority},{rr.weight}"
            for rrset in _query(sandbox_dns, "_http._tcp." + SVC, "SRV").answer for rr in rrset]
    return ips, ptrs, srvs


def _start_dnsmasq(dnsmasq: str, work: Path, ips, ptrs, srvs) -> tuple[subprocess.Popen, int]:
    hosts = work / "hosts"
    # The first name on a line is the one dnsmasq returns for the reverse (PTR) query.
    hosts.write_text("".join(f"{ip} {target.rstrip('.')} {SVC.rstrip('.')}\n"
                             for ip, (_, target) in zip(ips, ptrs)))
    for attempt in range(5):        # another process may take the free port before dnsmasq does
        try:
            return _run_dnsmasq(dnsmasq, work, hosts, srvs, _free_port())
        except _PortTaken:
            continue
    raise RuntimeError("dnsmasq found no free port in 5 attempts")


class _PortTaken(Exception):
    pass


def _run_dnsmasq(dnsmasq: str, work: Path, hosts: Path, srvs, port: int) -> tuple[subprocess.Popen, int]:
    args = [dnsmasq, "--conf-file=/dev/null", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", f"--addn-hosts={hosts}",
            "--local=/cluster.local/", "--local=/in-addr.arpa/", f"--pid-file={work / 'dnsmasq.pid'}",
            "--user=root" if _is_root() else "--user=", "--log-facility=-", "--quiet-dhcp"]
    args += [f"--srv-host=_http._tcp.{SVC.rstrip('.')},{s}" for s in srvs]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def answers() -> bool:
        if proc.poll() is not None:
            error = proc.stderr.read().strip()
            if "Address already in use" in error:
                raise _PortTaken(error)
            raise RuntimeError(f"dnsmasq exited: {error}")
        try:
            return bool(_query(("127.0.0.1", port), SVC, "A").answer)
        except Exception:
            return False
    wait_until(answers, 10, interval=0.05, what="dnsmasq answering")
    return proc, port


def _is_root() -> bool:
    return os.geteuid() == 0


def _same_answers(a: tuple[str, int], b: tuple[str, int], queries) -> list[str]:
    """Queries whose rcode or answer count differ between the two servers."""
    diffs = []
    for rdtype, name in sorted(set(queries)):
        ra, rb = _query(a, name, rdtype), _query(b, name, rdtype)
        na, nb = sum(len(r) for r in ra.answer), sum(len(r) for r in rb.answer)
        if ra.rcode() != rb.rcode() or na != nb:
            diffs.append(f"{name} {rdtype}: {ra.rcode()}/{na} vs {rb.rcode()}/{nb}")
    return diffs


def run(ctx) -> list[Figure]:
    dnsperf, dnsmasq = tool("dnsperf"), tool("dnsmasq")
    with BackgroundSandbox(profile=ctx.profile_path("dns")) as sb, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        from kubernetes import client
        api = sb.api_client()
        apply_manifests(api, "namespace-test.yaml", "nginx-deployment.yaml", "web-svc.yaml", "client-pods.yaml")
        client.AppsV1Api(api).patch_namespaced_deployment_scale("nginx-deployment", "default",
                                                                 {"spec": {"replicas": 3}})
        wait_until(lambda: endpoint_addresses(api, "default", "web-svc") == 3, 30, what="3 endpoints")
        api.close()
        ips, ptrs, srvs = _records(sb.dns)
        if len(ips) != 3 or len(ptrs) != 3:
            raise RuntimeError(f"unexpected sandbox answers: {ips} {ptrs}")
        queries = MIX + [("PTR", ptrs[0][0])]
        datafile = work / "queries.txt"
        datafile.write_text("".join(f"{name} {rdtype}\n" for rdtype, name in queries))

        proc, port = _start_dnsmasq(dnsmasq, work, ips, ptrs, srvs)
        sandbox_runs, yardstick_runs, cpu = [], [], []
        try:
            diffs = _same_answers(sb.dns, ("127.0.0.1", port), queries)
            # A second of each first, not counted: the first pair ran lowest every time
            # (the sandbox still settling after the apply, caches and kept replies filling).
            _dnsperf(dnsperf, sb.dns[1], datafile, seconds=1)
            _dnsperf(dnsperf, port, datafile, seconds=1)
            for _ in range(ROUNDS):
                before = _cpu_seconds(sb.pid)
                sandbox_runs.append(_dnsperf(dnsperf, sb.dns[1], datafile))
                if sandbox_runs[-1]["completed"]:
                    cpu.append((_cpu_seconds(sb.pid) - before) / sandbox_runs[-1]["completed"])
                yardstick_runs.append(_dnsperf(dnsperf, port, datafile))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    if any(r["qps"] == 0 for r in sandbox_runs + yardstick_runs):
        raise Skip("dnsperf got no answers")
    ratios = sorted(a["qps"] / b["qps"] for a, b in zip(sandbox_runs, yardstick_runs))
    sandbox = _median_run(sandbox_runs)
    yardstick = _median_run(yardstick_runs)
    spread = f"pairs {', '.join(f'{r:.2f}' for r in ratios)}"
    return [
        Figure(f"sandbox DNS (dnsperf -l {SECONDS}, median of {ROUNDS})", sandbox["qps"], "qps", "",
               f"lost {sandbox['lost']}; {sandbox['codes']}"),
        Figure("sandbox CPU per query (median)", statistics.median(cpu) * 1e6 if cpu else 0, "us", "",
               "utime+stime of the serving process / queries answered"),
        Figure(f"dnsmasq, same names (median of {ROUNDS})", yardstick["qps"], "qps", "",
               f"lost {yardstick['lost']}; {yardstick['codes']}"),
        Figure("ratio sandbox / dnsmasq (median pair)", statistics.median(ratios), "", ">= 0.5",
               f"{spread}; " + ("answers differ: " + "; ".join(diffs) if diffs
                                else "same rcodes and answer counts")),
    ]


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["qps"])[len(runs) // 2]
