"""Exec into a pod that is not running: what the API server and kubelet answer, what kubectl
prints, and what labkit says instead of a WebSocket dump.

A real cluster refuses in three ways:
  - not scheduled: the API server, 400 `pod NAME does not have a host assigned`
    (pkg/registry/core/pod/strategy.go, streamLocation);
  - scheduled, container not started (or exited): the kubelet, `container not found ("NAME")`
    (pkg/kubelet/kubelet_pods.go GetExec), which WebSocket clients receive from the API server
    as a 400 Status `unable to upgrade connection: container not found ("NAME")`;
  - completed: kubectl refuses by itself, `cannot exec into a container in a completed pod;
    current phase is Succeeded` (staging/src/k8s.io/kubectl/pkg/cmd/exec/exec.go).

This module's sandbox starts containers only after an hour, so pods stay "ContainerCreating".
"""
from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

import labkit
from labkit import errors
from labkit.sandbox import Sandbox, SandboxConfig

from .conftest import wait_for


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """Overrides conftest's: containers take an hour to start."""
    with Sandbox(home=tmp_path_factory.mktemp("slow"), config=SandboxConfig(pod_start_seconds=3600)) as sb:
        yield sb


@pytest.fixture(scope="module")
def slow_lab(sandbox):
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    yield lab
    lab.close()


def _pod(name: str, **spec) -> dict:
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": name, "image": "centos:7", "command": ["sleep", "infinity"]}],
                     **spec}}


def _unscheduled(api_client, namespace, name="unsched"):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod(name, nodeSelector={"lab.example/none": "true"}))
    return name


def _starting(api_client, namespace, name="starting"):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod(name))
    wait_for(lambda: core.read_namespaced_pod(name, namespace).spec.node_name)
    return name


def _completed(api_client, namespace, name="done"):
    """A pod whose container ran and exited 0, as the kubelet reports it."""
    core = client.CoreV1Api(api_client)
    _starting(api_client, namespace, name)
    core.patch_namespaced_pod_status(name, namespace, {"status": {
        "phase": "Succeeded",
        "containerStatuses": [{"name": name, "image": "docker.io/library/centos:7", "imageID": "",
                               "ready": False, "restartCount": 0, "started": False,
                               "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}})
    assert core.read_namespaced_pod(name, namespace).status.phase == "Succeeded"
    return name


def _client_exec_status(api_client, namespace, pod) -> dict:
    """The Status the official client's WebSocket handshake was refused with."""
    with pytest.raises(ApiException) as err:
        stream(client.CoreV1Api(api_client).connect_get_namespaced_pod_exec, pod, namespace,
               command=["hostname"], stdout=True, stderr=True, stdin=False, tty=False)
    assert "Handshake status 400" in err.value.reason
    return json.loads(err.value.reason.rsplit(" -+-+- ", 1)[1])


# --- the server's answers, through the official client -------------------------------------
def test_unscheduled_pod_is_refused_by_the_api_server(api_client, namespace):
    pod = _unscheduled(api_client, namespace)
    status = _client_exec_status(api_client, namespace, pod)
    assert (status["code"], status["reason"]) == (400, "BadRequest")
    assert status["message"] == "pod unsched does not have a host assigned"


def test_starting_container_is_not_found_by_the_kubelet(api_client, namespace):
    pod = _starting(api_client, namespace)
    status = _client_exec_status(api_client, namespace, pod)
    assert (status["code"], status["reason"]) == (400, "BadRequest")
    assert status["message"] == 'unable to upgrade connection: container not found ("starting")'


def test_completed_pod_has_no_container_to_exec_into(api_client, namespace):
    # The server does not check the phase: the kubelet simply finds no running container.
    pod = _completed(api_client, namespace)
    status = _client_exec_status(api_client, namespace, pod)
    assert status["message"] == 'unable to upgrade connection: container not found ("done")'


# --- what a real kubectl prints --------------------------------------------------------------
@pytest.mark.kubectl
def test_kubectl_reads_like_a_real_cluster(kubectl, api_client, namespace):
    unsched = _unscheduled(api_client, namespace)
    starting = _starting(api_client, namespace)
    done = _completed(api_client, namespace)
    # kubectl 1.37 tries a WebSocket, is refused, falls back to SPDY, is refused again and
    # reports the Status as an upgrade failure (older kubectl said "Error from server (BadRequest)").
    out = kubectl("exec", "-n", namespace, unsched, "--", "hostname", check=False)
    assert out.returncode == 1
    assert out.stderr == "error: unable to upgrade connection: pod unsched does not have a host assigned\n"
    # Over SPDY the API server passes the kubelet's plain-text answer through.
    out = kubectl("exec", "-n", namespace, starting, "--", "hostname", check=False)
    assert out.returncode == 1
    assert out.stderr == 'error: unable to upgrade connection: container not found ("starting")\n'
    out = kubectl("exec", "-n", namespace, done, "--", "hostname", check=False)
    assert out.returncode == 1
    assert out.stderr == "error: cannot exec into a container in a completed pod; current phase is Succeeded\n"


# --- what labkit says ------------------------------------------------------------------------
def test_labkit_says_the_reason_and_what_to_do(slow_lab, api_client, namespace):
    pod = _starting(api_client, namespace)
    with pytest.raises(errors.PodNotRunning) as err:
        slow_lab.exec(pod, "hostname", namespace=namespace)
    e = err.value
    assert isinstance(e, errors.BadRequest) and isinstance(e.__cause__, ApiException)
    assert e.message == 'unable to upgrade connection: container not found ("starting")'
    assert e.hint == f'wait until it is ready: lab.wait("pod", "starting", namespace="{namespace}")'
    assert str(e) == f"{e.message}\n{e.hint}"
    assert e.status["kind"] == "Status" and e.code == 400
    assert "-+-+-" not in str(e) and "Handshake" not in str(e)


def test_labkit_on_an_unscheduled_pod(slow_lab, api_client, namespace):
    pod = _unscheduled(api_client, namespace)
    with pytest.raises(errors.PodNotRunning) as err:
        slow_lab.exec(pod, ["hostname"], namespace=namespace)
    assert err.value.message == "pod unsched does not have a host assigned"
    assert err.value.hint.startswith('wait until it is ready: lab.wait("pod", "unsched"')


def test_labkit_on_a_completed_pod_speaks_as_kubectl(slow_lab, api_client, namespace):
    pod = _completed(api_client, namespace)
    with pytest.raises(errors.PodNotRunning) as err:
        slow_lab.exec(pod, "hostname", namespace=namespace)
    assert err.value.message == "cannot exec into a container in a completed pod; current phase is Succeeded"
    assert "lab.wait" not in err.value.hint
    assert err.value.status["message"] == 'unable to upgrade connection: container not found ("done")'


def test_labkit_hint_leaves_out_the_default_namespace(slow_lab, api_client):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", _pod("waiting"))
    try:
        with pytest.raises(errors.PodNotRunning) as err:
            slow_lab.exec("waiting", "hostname")
        assert err.value.hint == 'wait until it is ready: lab.wait("pod", "waiting")'
    finally:
        core.delete_namespaced_pod("waiting", "default")


def test_labkit_wrong_container_keeps_the_servers_error(slow_lab, api_client, namespace):
    pod = _starting(api_client, namespace, "twoname")
    with pytest.raises(errors.BadRequest) as err:
        slow_lab.exec(pod, "hostname", namespace=namespace, container="nope")
    assert not isinstance(err.value, errors.PodNotRunning)
    assert err.value.message == "container nope is not valid for pod twoname"


def test_missing_pod_is_not_found(slow_lab, namespace):
    with pytest.raises(errors.NotFound):
        slow_lab.exec("no-such-pod", "hostname", namespace=namespace)


# --- the translation itself, without a server -------------------------------------------------
def _handshake_failure(body: str | None) -> ApiException:
    headers = {"content-type": "application/json", "content-length": "180"}
    return ApiException(status=0, reason=f"Handshake status 400 Bad Request -+-+- {headers} -+-+- {body}")


def test_translate_reads_the_status_out_of_a_handshake_dump():
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": 'unable to upgrade connection: container not found ("centos7")',
              "reason": "BadRequest", "code": 400}
    e = errors.translate(_handshake_failure(json.dumps(status)))
    assert type(e) is errors.BadRequest
    assert e.message == status["message"] and e.status == status and e.code == 400


def test_translate_without_a_body_names_the_status_line():
    e = errors.translate(_handshake_failure(None))
    assert type(e) is errors.BadRequest and e.code == 400
    assert e.message == "Bad Request" and "-+-+-" not in str(e)


def test_a_pod_that_started_after_the_refusal_still_gets_the_servers_reason_and_the_hint():
    """The exec was refused while the container started; by the time labkit reads the pod it
    runs. The server's words decide, not the later state."""
    from labkit._exec import not_running
    status = {"kind": "Status", "code": 400, "reason": "BadRequest",
              "message": 'unable to upgrade connection: container not found ("client")'}
    refused = errors.BadRequest(status["message"], status=status)
    running = {"metadata": {"name": "client"}, "spec": {"nodeName": "lab-worker", "containers": [{"name": "client"}]},
               "status": {"phase": "Running", "containerStatuses": [{"name": "client", "state": {"running": {}}}]}}
    error = not_running(refused, running, None, "default")
    assert isinstance(error, errors.PodNotRunning)
    assert str(error) == ('unable to upgrade connection: container not found ("client")\n'
                          'wait until it is ready: lab.wait("pod", "client")')
    other = errors.BadRequest("some other refusal", status=dict(status, message="some other refusal"))
    assert not_running(other, running, None, "default") is None
