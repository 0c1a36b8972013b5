"""`labkit sandbox up|status|down` as a learner or an outside check runs them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from kubernetes import client, config


def labkit(home, *args, check=True):
    env = dict(os.environ, LABKIT_HOME=str(home))
    proc = subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True, env=env,
                          timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"labkit {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    labkit(tmp_path, "sandbox", "down", check=False)


def test_up_status_down_and_restart_keeps_objects(home):
    assert labkit(home, "sandbox", "status", "--json", check=False).returncode == 1
    status = json.loads(labkit(home, "sandbox", "up", "--seed", "3", "--json").stdout)
    assert set(status) == {"server", "kubeconfig", "dns", "pid", "home"}
    assert status["server"].startswith("https://127.0.0.1:") and status["dns"].startswith("127.0.0.1:")
    assert status["home"] == str(home / "sandbox")
    assert json.loads(labkit(home, "sandbox", "status", "--json").stdout) == status
    # `up` again is a no-op that reports the running sandbox.
    assert json.loads(labkit(home, "sandbox", "up", "--json").stdout)["pid"] == status["pid"]

    api = config.new_client_from_config(status["kubeconfig"])
    core = client.CoreV1Api(api)
    core.create_namespaced_pod("default", {"metadata": {"name": "keeper"}, "spec": {
        "containers": [{"name": "c", "image": "centos:7", "command": ["sleep", "infinity"]}]}})
    import time
    deadline = time.monotonic() + 10
    while not core.read_namespaced_pod("keeper", "default").status.pod_ip and time.monotonic() < deadline:
        time.sleep(0.05)
    before = core.read_namespaced_pod("keeper", "default")
    api.close()

    assert "stopped" in labkit(home, "sandbox", "down").stdout
    assert labkit(home, "sandbox", "status", "--json", check=False).returncode == 1

    again = json.loads(labkit(home, "sandbox", "up", "--json").stdout)
    api = config.new_client_from_config(again["kubeconfig"])
    after = client.CoreV1Api(api).read_namespaced_pod("keeper", "default")
    api.close()
    assert (after.metadata.uid, after.status.pod_ip, after.spec.node_name) == \
        (before.metadata.uid, before.status.pod_ip, before.spec.node_name)
