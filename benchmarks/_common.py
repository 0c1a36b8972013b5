"""What every benchmark shares: figures, bounded waits, and a sandbox in its own process.

The sandbox under measurement is the server `labkit sandbox up` starts (its fork; `labkit sandbox serve` when profiled)
in a fresh LABKIT_HOME, so the benchmark's own client work never shares its interpreter.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
BIN = Path(sys.executable).parent


class Skip(Exception):
    """A benchmark that cannot run here (a missing tool); the message says why."""


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""          # e.g. "<= 0.3"; empty when there is none
    note: str = ""

    @property
    def met(self) -> bool | None:
        if not self.target:
            return None
        op, bound = self.target.split()
        return {"<=": self.value <= float(bound), "<": self.value < float(bound),
                ">=": self.value >= float(bound), ">": self.value > float(bound)}[op]

    def to_dict(self) -> dict:
        return dict(asdict(self), met=self.met)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def wait_until(predicate, timeout: float, interval: float = 0.01, what: str = "condition"):
    """Poll predicate() until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def tool(name: str) -> str:
    """The path of a host tool, or Skip when it is not installed."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        raise Skip(f"`{name}` is not installed (make system-tools installs it)")
    return path


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far: the machine's load moves it much less
    than wall time (other processes' work is not counted)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} missing for pid {pid}")


class BackgroundSandbox:
    """`labkit sandbox up` in a fresh temporary LABKIT_HOME; `down` and removal on exit.

    With `profile` set, the serving process runs under cProfile and writes its stats
    there when it stops.
    """

    def __init__(self, *up_args: str, profile: Path | None = None) -> None:
        self.up_args = list(up_args)
        self.profile = profile
        self.root = Path(tempfile.mkdtemp(prefix="labkit-bench-"))
        self.env = dict(os.environ, LABKIT_HOME=str(self.root))
        self.home = self.root / "sandbox"
        self.status: dict = {}

    def __enter__(self) -> "BackgroundSandbox":
        try:
            self.status = self._start_profiled() if self.profile else self._up()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run([str(BIN / "labkit"), "sandbox", "down"], env=self.env, capture_output=True, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def _up(self) -> dict:
        proc = subprocess.run([str(BIN / "labkit"), "sandbox", "up", "--json", *self.up_args],
                              env=self.env, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"labkit sandbox up failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def _start_profiled(self) -> dict:
        # `serve` writes status.json once it answers, exactly as `up` waits for.
        self.home.mkdir(parents=True)
        log = open(self.home / "sandbox.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "cProfile", "-o", str(self.profile), "-m", "labkit",
                                 "sandbox", "serve", *self.up_args], env=self.env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True)
        status_file = self.home / "status.json"
        wait_until(lambda: status_file.exists() or proc.poll() is not None, 60, what="profiled sandbox")
        if proc.poll() is not None:
            raise RuntimeError(f"profiled sandbox exited; see {self.home / 'sandbox.log'}")
        return json.loads(status_file.read_text())

    @property
    def pid(self) -> int:
        return self.status["pid"]

    @property
    def kubeconfig(self) -> str:
        return self.status["kubeconfig"]

    @property
    def dns(self) -> tuple[str, int]:
        host, port = self.status["dns"].rsplit(":", 1)
        return host, int(port)

    def api_client(self):
        from kubernetes import config
        return config.new_client_from_config(self.kubeconfig)


def apply_manifests(api_client, *names: str) -> None:
    """Create the course's manifests (as the lessons apply them); existing objects are kept."""
    from kubernetes import utils
    for name in names:
        try:
            utils.create_from_yaml(api_client, str(MANIFESTS / name))
        except utils.FailToCreateError as e:   # e.g. the `test` namespace the sandbox already has
            if any(f.status != 409 for f in e.api_exceptions):
                raise


def endpoint_addresses(api_client, namespace: str, name: str) -> int:
    """Ready addresses in an Endpoints object, read raw (client-side decoding is not the server's time)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    try:
        resp = client.CoreV1Api(api_client).read_namespaced_endpoints(name, namespace, _preload_content=False)
    except ApiException as e:
        if e.status == 404:
            return 0
        raise
    body = json.loads(resp.data)
    return sum(len(s.get("addresses") or []) for s in body.get("subsets") or [])


def deployment(name: str, replicas: int, app: str = "web") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"containers": [{"name": "hello", "image": "nginxdemos/hello:plain-text",
                                                           "ports": [{"name": "http", "containerPort": 80}]}]}}}}


def headless_service(name: str, app: str = "web") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": app},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
