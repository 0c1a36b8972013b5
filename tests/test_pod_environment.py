"""runtime.run takes one typed PodEnvironment, built in one place (PodEnvironment.build)."""
from __future__ import annotations

import dataclasses

import pytest

from labkit.sandbox._clock import Clock
from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox import runtime

CFG = SandboxConfig()
POD = {"kind": "Pod", "metadata": {"name": "client", "namespace": "test"},
       "spec": {"containers": [{"name": "c", "image": "nginx",
                                "env": [{"name": "GREETING", "value": "hi"}]}], "nodeName": "lab-worker"},
       "status": {"podIP": "10.10.100.37"}}


def _env(**kw) -> runtime.PodEnvironment:
    return runtime.PodEnvironment.build(POD, None, config=CFG, cluster=StaticCluster([POD]), clock=Clock(), **kw)


def test_the_environment_holds_what_the_process_sees():
    env = _env()
    assert env.container["name"] == "c" and env.image.profile.ref.startswith("nginx")
    assert "search test.svc.cluster.local svc.cluster.local cluster.local" in env.files["/etc/resolv.conf"]
    assert "10.10.100.37\tclient" in env.files["/etc/hosts"]
    assert env.env["GREETING"] == "hi" and env.env["HOSTNAME"] == "client"
    assert env.timeout == CFG.exec_timeout_seconds
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.timeout = 1


def test_a_command_changes_its_own_copy_not_the_environment():
    env = _env()
    first = runtime.run(env, ["sh", "-c", "export GREETING=bye; echo x > /etc/hostname; cat /etc/hostname"])
    assert first.stdout == b"x\n"
    again = runtime.run(env, ["sh", "-c", 'echo "$GREETING"; cat /etc/hostname'])
    assert again.stdout == b"hi\nclient\n"


def test_the_time_limit_comes_with_the_environment():
    res = runtime.run(_env(timeout=0.2), ["sh", "-c", "echo a; sleep 5; echo b"])
    assert (res.stdout, res.exit_code) == (b"a\n", 137)


def test_an_unknown_container_is_refused_when_building():
    with pytest.raises(ValueError, match="container web is not valid for pod client"):
        runtime.PodEnvironment.build(POD, "web", config=CFG, cluster=StaticCluster([POD]), clock=Clock())
