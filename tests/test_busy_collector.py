"""While the controllers work through many writes (a scale-out), the cyclic collector's first
threshold is raised (controllers/_manager.py `_busy_spell`), and put back after a quiet second:
fewer collections over a heap of thousands of pods. Several sandboxes in one process share it."""
from __future__ import annotations

import gc
import time

from labkit.sandbox import Sandbox, SandboxConfig
from labkit.sandbox.controllers import _manager


def test_the_threshold_is_raised_once_and_put_back_when_no_sandbox_is_busy():
    before = gc.get_threshold()
    a, b = object(), object()
    try:
        _manager._busy_spell(a, True)
        assert gc.get_threshold() == (max(_manager.BUSY_GC_THRESHOLD, before[0]),) + before[1:]
        _manager._busy_spell(b, True)
        _manager._busy_spell(a, True)
        _manager._busy_spell(a, False)
        assert gc.get_threshold()[0] == max(_manager.BUSY_GC_THRESHOLD, before[0])     # b is still busy
        _manager._busy_spell(b, False)
        assert gc.get_threshold() == before
        _manager._busy_spell(b, False)          # not busy: nothing to put back
        assert gc.get_threshold() == before
    finally:
        _manager._busy_spell(a, False)
        _manager._busy_spell(b, False)
        gc.set_threshold(*before)


def test_a_scale_out_raises_it_until_the_controllers_are_quiet(tmp_path):
    from kubernetes import client, config
    before = gc.get_threshold()
    with Sandbox(home=tmp_path / "sb", config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        api = config.new_client_from_config(str(sb.kubeconfig))
        try:
            client.AppsV1Api(api).create_namespaced_deployment("default", {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "many"},
                "spec": {"replicas": 100, "selector": {"matchLabels": {"app": "many"}},
                         "template": {"metadata": {"labels": {"app": "many"}},
                                      "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
            seen, deadline = set(), time.monotonic() + 30
            while time.monotonic() < deadline:
                seen.add(gc.get_threshold()[0])
                running = [p for p in sb.store.list("pods", "default") if p["status"].get("phase") == "Running"]
                if len(running) == 100 and gc.get_threshold() == before:
                    break
                time.sleep(0.01)
            assert max(_manager.BUSY_GC_THRESHOLD, before[0]) in seen
            assert gc.get_threshold() == before      # back after a quiet second
        finally:
            api.close()
    assert gc.get_threshold() == before
