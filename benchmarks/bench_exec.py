"""exec: 1000 `getent hosts web-svc` in one exec in the client pod, through the official client's stream.

The course's probes take N samples in one exec round trip (a shell loop in the pod); every
lookup still goes over the wire to the sandbox's DNS server, as the pod's resolver would.
"""
from __future__ import annotations

import time

from _common import BackgroundSandbox, Figure, apply_manifests, cpu_seconds, endpoint_addresses, median, wait_until

LOOKUPS = 1000
RUNS = 3
SCRIPT = f"for i in $(seq {LOOKUPS}); do getent hosts web-svc; done"


def run(ctx) -> list[Figure]:
    from kubernetes import client, stream
    with BackgroundSandbox(profile=ctx.profile_path("exec")) as sb:
        api = sb.api_client()
        core = client.CoreV1Api(api)
        apply_manifests(api, "namespace-test.yaml", "nginx-deployment.yaml", "web-svc.yaml", "client-pods.yaml")
        wait_until(lambda: endpoint_addresses(api, "default", "web-svc") == 1, 30, what="1 endpoint")
        wait_until(lambda: core.read_namespaced_pod("client", "default").status.phase == "Running", 30,
                   what="client pod Running")
        times, cpu, lines = [], [], []
        for _ in range(RUNS):
            c0, t0 = cpu_seconds(sb.pid), time.perf_counter()
            out = stream.stream(core.connect_get_namespaced_pod_exec, "client", "default",
                                command=["sh", "-c", SCRIPT], stderr=True, stdin=False, stdout=True, tty=False,
                                _request_timeout=120)
            times.append(time.perf_counter() - t0)
            cpu.append(cpu_seconds(sb.pid) - c0)
            lines.append(sum(1 for line in out.splitlines() if "web-svc.default.svc.cluster.local" in line))
        t0 = time.perf_counter()
        stream.stream(core.connect_get_namespaced_pod_exec, "client", "default", command=["true"],
                      stderr=True, stdin=False, stdout=True, tty=False)
        round_trip = time.perf_counter() - t0
        api.close()
    if lines[-1] != LOOKUPS:
        raise RuntimeError(f"expected {LOOKUPS} answer lines, got {lines[-1]}: {out[:300]!r}")
    best = median(times)
    return [
        Figure(f"exec: {LOOKUPS} x getent hosts web-svc (median of {RUNS})", best, "s", "<= 1",
               f"{LOOKUPS / best:,.0f} lookups/s"),
        # The sandbox process's CPU time for one such exec (its threads: the exec, the DNS
        # server, the API server's loop): what the machine's load moves much less than wall time.
        Figure(f"exec: sandbox CPU per {LOOKUPS} x getent (median of {RUNS})", median(cpu), "s", "",
               "user + system, all threads"),
        Figure("exec round trip of `true`", round_trip, "s", "", "WebSocket connect + Status"),
    ]
