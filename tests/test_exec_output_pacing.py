"""How an exec's output reaches the client: a busy command's writes gathered into frames
(as the container runtime reads a pipe), a quiet command's first write sent at once."""
from __future__ import annotations

import asyncio
import ssl
import time

import aiohttp
import pytest
from kubernetes import client

from labkit.sandbox.apiserver._exec import OUTPUT_INTERVAL

from .conftest import wait_for

POD = {"metadata": {"name": "pacer"},
       "spec": {"containers": [{"name": "pacer", "image": "centos:7", "command": ["sleep", "infinity"]}]}}


def _frames(sandbox, namespace: str, script: str) -> tuple[list[tuple[float, int, bytes]], float]:
    """Every frame of `sh -c script` with its arrival time, and the time the exec took."""
    query = [("command", "sh"), ("command", "-c"), ("command", script),
             ("stdout", "true"), ("stderr", "true")]
    url = f"{sandbox.server}/api/v1/namespaces/{namespace}/pods/pacer/exec"
    ctx = ssl.create_default_context(cafile=str(sandbox.ca_file))

    async def run():
        frames = []
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, params=query, protocols=("v5.channel.k8s.io",), ssl=ctx,
                                          headers={"Authorization": f"Bearer {sandbox.token}"}) as ws:
                start = time.monotonic()
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        frames.append((time.monotonic() - start, msg.data[0], msg.data[1:]))
                return frames, time.monotonic() - start
    return asyncio.run(run())


@pytest.fixture
def pacer(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, POD)
    wait_for(lambda: core.read_namespaced_pod("pacer", namespace).status.phase == "Running")
    return namespace


def test_a_busy_loop_is_sent_in_a_frame_per_interval_not_a_frame_per_line(sandbox, pacer):
    # Each `sleep` lets the server's loop run between two lines: sent as written, every
    # line was a frame of its own (200 frames for 200 lines).
    frames, took = _frames(sandbox, pacer, "for i in $(seq 200); do echo line $i; sleep 0.002; done")
    out = [data for _, channel, data in frames if channel == 1]
    assert b"".join(out) == b"".join(b"line %d\n" % i for i in range(1, 201))
    assert len(out) <= took / OUTPUT_INTERVAL + 2, (len(out), took)
    assert len(out) < 200


def test_the_first_write_after_a_quiet_spell_goes_at_once(sandbox, pacer):
    frames, took = _frames(sandbox, pacer, "echo first; sleep 1; echo second")
    out = [(at, data) for at, channel, data in frames if channel == 1]
    assert [data for _, data in out] == [b"first\n", b"second\n"]
    # `first` left long before `second` was written (not held back to the command's end).
    assert out[1][0] - out[0][0] >= 0.9
