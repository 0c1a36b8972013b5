"""Containers run their command and args with the kubelet's lifecycle (pkg/kubelet:
kuberuntime_manager.go doBackOff, images/image_manager.go, kubelet_pods.go getPhase), seen
through kubectl as a learner would: phases, STATUS and RESTARTS columns, logs, events.
Back-offs run on the sandbox clock, which the tests advance instead of waiting."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from labkit.sandbox.controllers._containers import Backoff, plan, reference_problem

from .conftest import MANIFESTS, wait_for


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


def apply_lab(kubectl, namespace: str, *files: str) -> None:
    """The lab's manifests, applied in the test's own namespace."""
    for name in files:
        text = (MANIFESTS / name).read_text().replace("namespace: default", f"namespace: {namespace}")
        kubectl("apply", "-n", namespace, "-f", "-", input=text)


def pod_json(kubectl, namespace: str, name: str) -> dict:
    return json.loads(kubectl("get", "pod", "-n", namespace, name, "-o", "json").stdout)


def row(kubectl, namespace: str, name: str) -> list[str]:
    """The pod's line of `kubectl get pods`: NAME READY STATUS RESTARTS AGE."""
    header, line = kubectl("get", "pod", "-n", namespace, name).stdout.splitlines()[:2]
    starts = [header.index(col) for col in ("NAME", "READY", "STATUS", "RESTARTS", "AGE")]
    return [line[a:b].strip() for a, b in zip(starts, starts[1:] + [len(line)])]


def phase_is(kubectl, namespace: str, name: str, *phases: str) -> dict | None:
    pod = pod_json(kubectl, namespace, name)
    return pod if pod["status"].get("phase") in phases else None


def status_is(kubectl, namespace, name, status):
    return row(kubectl, namespace, name)[2] == status


# ---------------------------------------------------------------- run to completion

def test_run_restart_never_a_fully_qualified_lookup_succeeds_with_its_answer_in_the_logs(kubectl, namespace):
    apply_lab(kubectl, namespace, "web-svc.yaml", "nginx-deployment.yaml")
    kubectl("run", "tmp", "-n", namespace, "--image=busybox", "--restart=Never", "--",
            "nslookup", f"web-svc.{namespace}.svc.cluster.local")
    pod = wait_for(lambda: phase_is(kubectl, namespace, "tmp", "Succeeded", "Failed"))
    assert pod["status"]["phase"] == "Succeeded"
    term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    assert term["startedAt"] <= term["finishedAt"]
    assert row(kubectl, namespace, "tmp")[1:3] == ["0/1", "Completed"]
    logs = kubectl("logs", "-n", namespace, "tmp").stdout
    assert logs.startswith("Server:\t\t10.0.0.10\nAddress:\t10.0.0.10:53\n\n")
    assert f"Name:\tweb-svc.{namespace}.svc.cluster.local\n" in logs


def test_busybox_nslookup_of_a_short_name_exits_1_on_the_search_list_nxdomains(kubectl, namespace):
    # BusyBox's nslookup asks every search domain and exits 1 when any answer is NXDOMAIN
    # (networking/nslookup.c), so on a real cluster this pod ends `Error` too; the answer
    # is still in its log.
    apply_lab(kubectl, namespace, "web-svc.yaml", "nginx-deployment.yaml")
    kubectl("run", "tmp", "-n", namespace, "--image=busybox", "--restart=Never", "--", "nslookup", "web-svc")
    pod = wait_for(lambda: phase_is(kubectl, namespace, "tmp", "Succeeded", "Failed"))
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
    assert f"Name:\tweb-svc.{namespace}.svc.cluster.local\n" in kubectl("logs", "-n", namespace, "tmp").stdout


def test_sh_exit_3_fails_the_pod_with_error(kubectl, namespace):
    kubectl("run", "bad", "-n", namespace, "--image=busybox", "--restart=Never", "--",
            "sh", "-c", "echo going down; exit 3")
    pod = wait_for(lambda: phase_is(kubectl, namespace, "bad", "Failed", "Succeeded"))
    assert pod["status"]["phase"] == "Failed"
    term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (3, "Error")
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    assert row(kubectl, namespace, "bad")[1:4] == ["0/1", "Error", "0"]
    assert kubectl("logs", "-n", namespace, "bad").stdout == "going down\n"


def test_logs_follow_ends_when_the_container_does(kubectl, namespace, sandbox):
    kubectl("run", "nap", "-n", namespace, "--image=busybox", "--restart=Never", "--",
            "sh", "-c", "echo before; sleep 1; echo after")
    wait_for(lambda: phase_is(kubectl, namespace, "nap", "Running", "Succeeded"))
    assert kubectl("logs", "-f", "-n", namespace, "nap", timeout=30).stdout == "before\nafter\n"
    assert wait_for(lambda: phase_is(kubectl, namespace, "nap", "Succeeded"))


def test_run_it_rm_restart_never_returns_the_shells_exit_code(kubectl, namespace):
    proc = kubectl("run", "-i", "--rm", "--restart=Never", "-n", namespace, "sh1", "--image=busybox",
                   "--", "sh", check=False, input="echo in the pod\nexit 3\n")
    assert "in the pod\n" in proc.stdout
    assert proc.returncode == 3


def test_run_i_rm_prints_the_output_then_deletes_the_pod(kubectl, namespace, core):
    apply_lab(kubectl, namespace, "web-svc.yaml", "nginx-deployment.yaml")
    proc = kubectl("run", "-i", "--rm", "--restart=Never", "-n", namespace, "x", "--image=busybox", "--",
                   "nslookup", f"web-svc.{namespace}.svc.cluster.local", input="")
    assert f"Name:\tweb-svc.{namespace}.svc.cluster.local\n" in proc.stdout
    assert 'pod "x" deleted' in proc.stdout
    wait_for(lambda: not [p for p in core.list_namespaced_pod(namespace).items if p.metadata.name == "x"])


def test_on_failure_restarts_a_failed_command_and_never_a_completed_one(kubectl, namespace, sandbox):
    kubectl("run", "ok", "-n", namespace, "--image=busybox", "--restart=OnFailure", "--", "echo", "done")
    kubectl("run", "ko", "-n", namespace, "--image=busybox", "--restart=OnFailure", "--", "false")
    assert wait_for(lambda: phase_is(kubectl, namespace, "ok", "Succeeded"))
    wait_for(lambda: status_is(kubectl, namespace, "ko", "CrashLoopBackOff"))
    assert phase_is(kubectl, namespace, "ko", "Running")
    assert row(kubectl, namespace, "ko")[3].startswith("1 (")


# ---------------------------------------------------------------- restarts and back-off

def test_restart_always_crash_loops_with_the_kubelets_back_off_on_the_sandbox_clock(kubectl, namespace, sandbox):
    kubectl("run", "loop", "-n", namespace, "--image=busybox", "--", "sh", "-c", "echo run; exit 1")
    # The first restart is at once; the second exit finds the 10 s back-off running.
    wait_for(lambda: status_is(kubectl, namespace, "loop", "CrashLoopBackOff"))
    pod = pod_json(kubectl, namespace, "loop")
    cs = pod["status"]["containerStatuses"][0]
    uid = pod["metadata"]["uid"]
    assert pod["status"]["phase"] == "Running" and cs["restartCount"] == 1
    assert cs["state"]["waiting"] == {
        "reason": "CrashLoopBackOff",
        "message": f"back-off 10s restarting failed container=loop pod=loop_{namespace}({uid})"}
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert row(kubectl, namespace, "loop")[1:3] == ["0/1", "CrashLoopBackOff"]
    assert row(kubectl, namespace, "loop")[3].startswith("1 (") and "ago)" in row(kubectl, namespace, "loop")[3]
    assert kubectl("logs", "-n", namespace, "loop", "--previous").stdout == "run\n"
    sandbox.advance_clock(10)
    wait_for(lambda: pod_json(kubectl, namespace, "loop")["status"]["containerStatuses"][0]["restartCount"] == 2)
    wait_for(lambda: "back-off 20s" in json.dumps(pod_json(kubectl, namespace, "loop")["status"]))
    sandbox.advance_clock(20)
    wait_for(lambda: "back-off 40s" in json.dumps(pod_json(kubectl, namespace, "loop")["status"]))
    assert pod_json(kubectl, namespace, "loop")["status"]["containerStatuses"][0]["restartCount"] == 3
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=loop").stdout
    assert f"Back-off restarting failed container loop in pod loop_{namespace}({uid})" in events


def test_back_off_doubles_to_five_minutes_and_starts_over_after_a_quiet_spell():
    b, delays = Backoff(), []
    for t in range(8):
        b.next(float(t))
        delays.append(b.delay)
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]
    b.next(8 + 601.0)
    assert b.delay == 10


def test_sleep_n_runs_for_n_seconds_of_the_sandbox_clock(kubectl, namespace, sandbox):
    kubectl("run", "nap", "-n", namespace, "--image=busybox", "--restart=Never", "--", "sleep", "3600")
    wait_for(lambda: phase_is(kubectl, namespace, "nap", "Running"))
    assert row(kubectl, namespace, "nap")[1:3] == ["1/1", "Running"]
    sandbox.advance_clock(3601)
    pod = wait_for(lambda: phase_is(kubectl, namespace, "nap", "Succeeded"))
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


# ---------------------------------------------------------------- images

def test_an_unresolvable_registry_gives_err_image_pull_then_image_pull_back_off(kubectl, namespace, sandbox):
    kubectl("run", "nopull", "-n", namespace, "--image=registry.invalid/team/app:1.0")
    pod = wait_for(lambda: phase_is(kubectl, namespace, "nopull", "Pending") and
                   (pod_json(kubectl, namespace, "nopull")["status"].get("containerStatuses") or [None])[0]
                   and pod_json(kubectl, namespace, "nopull"))
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
    sandbox.advance_clock(1)
    wait_for(lambda: status_is(kubectl, namespace, "nopull", "ImagePullBackOff"))
    waiting = pod_json(kubectl, namespace, "nopull")["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["message"].startswith('Back-off pulling image "registry.invalid/team/app:1.0": ErrImagePull: '
                                         'rpc error: code = Unknown desc = failed to pull and unpack image '
                                         '"registry.invalid/team/app:1.0"')
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=nopull").stdout
    for text in ('Pulling image "registry.invalid/team/app:1.0"',
                 'Failed to pull image "registry.invalid/team/app:1.0": rpc error',
                 "Error: ErrImagePull", 'Back-off pulling image "registry.invalid/team/app:1.0"',
                 "Error: ImagePullBackOff"):
        assert text in events
    logs = kubectl("logs", "-n", namespace, "nopull", check=False)
    assert logs.returncode == 1
    assert 'is waiting to start: trying and failing to pull image' in logs.stderr
    sandbox.advance_clock(10)                       # the pull is tried again after its back-off
    wait_for(lambda: "x2" in kubectl("get", "events", "-n", namespace,
                                     "--field-selector", "involvedObject.name=nopull,reason=Pulling").stdout
             or '"count": 2' in kubectl("get", "events", "-n", namespace, "-o", "json",
                                        "--field-selector", "involvedObject.name=nopull,reason=Pulling").stdout)


def test_a_malformed_image_reference_is_invalid_image_name(kubectl, namespace, core):
    # kubectl run refuses it itself; the API server takes it, the kubelet cannot.
    core.create_namespaced_pod(namespace, {"metadata": {"name": "caps"},
                                           "spec": {"containers": [{"name": "caps", "image": "BUSYBOX"}]}})
    wait_for(lambda: status_is(kubectl, namespace, "caps", "InvalidImageName"))
    waiting = pod_json(kubectl, namespace, "caps")["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["message"] == ('Failed to apply default image tag "BUSYBOX": couldn\'t parse image '
                                  'reference "BUSYBOX": invalid reference format: repository name must be lowercase')
    assert phase_is(kubectl, namespace, "caps", "Pending")


def test_reference_grammar():
    for good in ("busybox", "busybox:1.36", "nicolaka/netshoot:v0.13", "registry.k8s.io/coredns/coredns:v1.14.6",
                 "localhost:5000/app", "nginx@sha256:" + "a" * 64):
        assert reference_problem(good) is None, good
    assert reference_problem("BusyBox") == "invalid reference format: repository name must be lowercase"
    assert reference_problem("busybox:") == "invalid reference format"
    assert reference_problem("bad image") == "invalid reference format"


# ---------------------------------------------------------------- what keeps running

def test_the_labs_pods_run_and_are_ready_as_before(kubectl, namespace):
    apply_lab(kubectl, namespace, "nginx-deployment.yaml")
    kubectl("rollout", "status", "-n", namespace, "deployment/nginx-deployment", "--timeout=30s")
    for pod in json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]:
        cs = pod["status"]["containerStatuses"][0]
        assert pod["status"]["phase"] == "Running" and cs["ready"] and "running" in cs["state"]
        assert cs["restartCount"] == 0 and cs["lastState"] == {}


@pytest.mark.parametrize("container, kind", [
    ({"image": "centos:7", "command": ["sleep", "infinity"]}, "serve"),
    ({"image": "nginxdemos/hello:plain-text"}, "serve"),
    ({"image": "registry.k8s.io/coredns/coredns:v1.14.6", "args": ["-conf", "/etc/coredns/Corefile"]}, "serve"),
    ({"image": "busybox", "command": ["sh", "-c", "while true; do sleep 3600; done"]}, "serve"),
    ({"image": "busybox", "args": ["sleep", "30"]}, "sleep"),
    ({"image": "busybox"}, "exit"),
    ({"image": "busybox", "args": ["sh"], "stdin": True, "tty": True}, "attach"),
    ({"image": "busybox", "args": ["nslookup", "web-svc"]}, "run"),
])
def test_what_a_container_start_amounts_to(container, kind):
    assert plan(container).kind == kind


def test_commands_past_the_cap_wait_in_container_creating(kubectl, namespace, monkeypatch, sandbox):
    from labkit.sandbox.controllers import _pod_containers
    monkeypatch.setattr(_pod_containers, "MAX_RUNNING_COMMANDS", 1)
    # The first command sleeps on the sandbox clock: it holds the only place until advanced.
    kubectl("run", "first", "-n", namespace, "--image=busybox", "--restart=Never", "--",
            "sh", "-c", "sleep 30; echo one")
    wait_for(lambda: phase_is(kubectl, namespace, "first", "Running"))
    kubectl("run", "second", "-n", namespace, "--image=busybox", "--restart=Never", "--", "echo", "two")
    wait_for(lambda: status_is(kubectl, namespace, "second", "ContainerCreating"))
    assert phase_is(kubectl, namespace, "first", "Running")
    sandbox.advance_clock(31)
    assert wait_for(lambda: phase_is(kubectl, namespace, "second", "Succeeded"))
    assert phase_is(kubectl, namespace, "first", "Succeeded")
    assert kubectl("logs", "-n", namespace, "first").stdout == "one\n"
    assert kubectl("logs", "-n", namespace, "second").stdout == "two\n"
