"""scaleout: a 1000-replica Deployment until all pods Run and its headless Service lists them all;
and the lesson's case, scaling 1 -> 3 until the Endpoints list 3 addresses.
"""
from __future__ import annotations

import time

from _common import Figure, deployment, endpoint_addresses, headless_service, median, wait_until

LESSON_RUNS = 5


def lesson_case(api) -> float:
    """Scale 1 -> 3 in a fresh namespace; seconds until the Endpoints list 3 addresses."""
    from kubernetes import client
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    times = []
    for i in range(LESSON_RUNS):
        ns = f"scale-{i}"
        core.create_namespace({"metadata": {"name": ns}})
        core.create_namespaced_service(ns, headless_service("web-svc"))
        apps.create_namespaced_deployment(ns, deployment("nginx-deployment", 1))
        wait_until(lambda: endpoint_addresses(api, ns, "web-svc") == 1, 30, what="1 endpoint")
        t0 = time.perf_counter()
        apps.patch_namespaced_deployment_scale("nginx-deployment", ns, {"spec": {"replicas": 3}})
        wait_until(lambda: endpoint_addresses(api, ns, "web-svc") == 3, 30, interval=0.005, what="3 endpoints")
        times.append(time.perf_counter() - t0)
    return median(times)


def run(ctx) -> list[Figure]:
    fleet = ctx.fleet()
    return [
        Figure("1000 replicas: create -> Endpoints list 1000", fleet.figures["endpoints_s"], "s", "<= 2",
               "pod CIDR 10.10.0.0/16, 11 nodes x maxPods 110, default pod_start_seconds"),
        Figure("1000 replicas: create -> all pods Running", fleet.figures["converged_s"], "s", "<= 2"),
        Figure("1000 replicas: the server's CPU time until all Running", fleet.figures["converged_cpu_s"], "s", "",
               "user + system of the server process, less moved by the machine's load than wall time"),
        Figure("scale 1 -> 3: Endpoints list 3 (median of 5)", lesson_case(fleet.api), "s", "",
               "in the same sandbox, beside the 1000 pods"),
    ]
