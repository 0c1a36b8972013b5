"""One sandbox with a 1000-replica Deployment, shared by scaleout, list and memory.

Built once per run: start with room for 1000 pods (a /16 pod CIDR, as the default /24 holds
253 pods; and 11 nodes, as each kubelet runs at most maxPods = 110: 10 workers take 1100),
settle and read the idle RSS, then create the Deployment and its headless Service and time until
the Endpoints list every replica and every pod is Running.
"""
from __future__ import annotations

import json
import time

from _common import (BackgroundSandbox, cpu_seconds, deployment, endpoint_addresses, headless_service,
                     rss_mb, wait_until)

REPLICAS = 1000
NODES, MAX_PODS = 11, 110      # the control plane is tainted: 10 workers x 110 pods
NAMESPACE = "default"
SETTLE_SECONDS = 1.0
CONVERGE_TIMEOUT = 120.0


class Fleet:
    def __init__(self, profile=None) -> None:
        self.sandbox = BackgroundSandbox("--pod-cidr", "10.10.0.0/16", "--nodes", str(NODES),
                                         "--max-pods", str(MAX_PODS), profile=profile)
        self.figures: dict[str, float] = {}

    def __enter__(self) -> "Fleet":
        from kubernetes import client
        sb = self.sandbox.__enter__()
        try:
            self.api = sb.api_client()
            time.sleep(SETTLE_SECONDS)
            self.figures["rss_idle_mb"] = rss_mb(sb.pid)
            core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
            cpu0 = cpu_seconds(sb.pid)
            t0 = time.perf_counter()
            core.create_namespaced_service(NAMESPACE, headless_service("web-svc"))
            apps.create_namespaced_deployment(NAMESPACE, deployment("web", REPLICAS))
            wait_until(lambda: endpoint_addresses(self.api, NAMESPACE, "web-svc") >= REPLICAS,
                       CONVERGE_TIMEOUT, interval=0.02, what=f"{REPLICAS} endpoint addresses")
            self.figures["endpoints_s"] = time.perf_counter() - t0
            # The server picks the pods not Running yet (fieldSelector): reading the whole list
            # of 1000 pods every 50 ms would cost more than the work being timed, and add one
            # such read's latency to the figure. 1000 ready addresses mean 1000 pods exist.
            wait_until(lambda: self.pods_not_running() == 0, CONVERGE_TIMEOUT, interval=0.05,
                       what=f"{REPLICAS} Running pods")
            self.figures["converged_s"] = time.perf_counter() - t0
            self.figures["converged_cpu_s"] = cpu_seconds(sb.pid) - cpu0
            time.sleep(SETTLE_SECONDS)
            self.figures["rss_1000_mb"] = rss_mb(sb.pid)
            self.figures["rss_peak_mb"] = rss_mb(sb.pid, "VmHWM")
        except BaseException:
            self.__exit__()
            raise
        return self

    def pods_not_running(self) -> int:
        from kubernetes import client
        resp = client.CoreV1Api(self.api).list_namespaced_pod(
            NAMESPACE, label_selector="app=web", field_selector="status.phase!=Running", _preload_content=False)
        return len(json.loads(resp.data)["items"])

    def running_pods(self) -> int:
        from kubernetes import client
        resp = client.CoreV1Api(self.api).list_namespaced_pod(NAMESPACE, label_selector="app=web",
                                                              _preload_content=False)
        return sum(1 for p in json.loads(resp.data)["items"] if p["status"].get("phase") == "Running")

    def __exit__(self, *exc) -> None:
        api = getattr(self, "api", None)
        if api is not None:
            api.close()
        self.sandbox.__exit__()
