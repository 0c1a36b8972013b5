"""Graceful pod termination as a real cluster does it: the API server's part
(pkg/registry/core/pod/strategy.go CheckGracefulDelete, staging/.../registry/rest/delete.go
BeforeDelete) and the kubelet's (kuberuntime_container.go killContainer: SIGTERM, then
SIGKILL when the grace period ends), over real HTTP with the official client and kubectl.
The grace periods run on the sandbox clock, which the tests advance instead of waiting."""
from __future__ import annotations

import datetime as dt

import pytest
from kubernetes import client, watch

from .conftest import wait_for


def _pod(name: str, image: str, command=None, grace=None, node=True) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": image, **({"command": command} if command else {})}]}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    if not node:
        spec["nodeSelector"] = {"no-such": "node"}       # never scheduled
    return {"metadata": {"name": name, "labels": {"app": name}}, "spec": spec}


def _running(core, namespace: str, name: str):
    return wait_for(lambda: (p := core.read_namespaced_pod(name, namespace)).status.phase == "Running" and p)


def _gone(core, namespace: str, name: str) -> bool:
    return name not in {p.metadata.name for p in core.list_namespaced_pod(namespace).items}


def _stamp(text) -> dt.datetime:
    return text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_delete_sets_deletion_timestamp_to_now_plus_the_grace_period(sandbox, api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("sleeper", "busybox:1.36", ["sleep", "3600"], grace=45))
    _running(core, namespace, "sleeper")
    before = sandbox.clock.now().replace(microsecond=0)
    marked = core.delete_namespaced_pod("sleeper", namespace)
    assert marked.metadata.deletion_grace_period_seconds == 45
    delta = (_stamp(marked.metadata.deletion_timestamp) - before).total_seconds()
    assert 44 <= delta <= 46
    # The request's grace period wins over the spec's; a later delete may only shorten it.
    again = core.delete_namespaced_pod("sleeper", namespace, grace_period_seconds=60)
    assert again.metadata.deletion_grace_period_seconds == 45
    shorter = core.delete_namespaced_pod("sleeper", namespace, grace_period_seconds=5)
    assert shorter.metadata.deletion_grace_period_seconds == 5
    assert (_stamp(shorter.metadata.deletion_timestamp) - before).total_seconds() <= 7


def test_pid1_that_ignores_sigterm_runs_to_the_end_of_the_grace_period_and_is_killed(sandbox, api_client, namespace):
    """`sleep` as PID 1 has no TERM handler, so the kernel drops the kubelet's SIGTERM:
    the pod stays Terminating for its whole grace period, then SIGKILL: exit 137."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("stubborn", "busybox:1.36", ["sleep", "infinity"], grace=20))
    _running(core, namespace, "stubborn")
    core.delete_namespaced_pod("stubborn", namespace)
    pod = wait_for(lambda: (p := core.read_namespaced_pod("stubborn", namespace)).status.container_statuses[0]
                   .ready is False and p)
    ready = next(c for c in pod.status.conditions if c.type == "Ready")
    assert ready.status == "False"
    assert pod.status.container_statuses[0].state.running is not None     # TERM ignored: still running
    seen = []
    core_events = lambda: [e.reason for e in core.list_namespaced_event(     # noqa: E731
        namespace, field_selector="involvedObject.name=stubborn").items]
    assert "Killing" in wait_for(core_events)
    # A watch from the pod's current version sees its last status, then its deletion.
    since = core.read_namespaced_pod("stubborn", namespace).metadata.resource_version
    stream = watch.Watch()
    sandbox.advance_clock(21)
    for event in stream.stream(core.list_namespaced_pod, namespace, field_selector="metadata.name=stubborn",
                               resource_version=since, timeout_seconds=10):
        seen.append((event["type"], event["object"]))
        if event["type"] == "DELETED":
            stream.stop()
    last = seen[-1][1]
    assert seen[-1][0] == "DELETED"
    terminated = last.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (137, "Error")
    assert last.status.phase == "Failed"


def test_nginx_exits_on_sigterm_at_once(sandbox, api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("web", "nginx:1.27"))
    _running(core, namespace, "web")
    marked = core.delete_namespaced_pod("web", namespace)
    assert marked.metadata.deletion_grace_period_seconds == 30      # spec default
    wait_for(lambda: _gone(core, namespace, "web"), timeout=10)     # without advancing the clock


def test_without_advancing_the_clock_a_term_ignoring_pod_stays_terminating(sandbox, api_client, namespace, kubectl):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("waiting", "nicolaka/netshoot:v0.13", ["sleep", "infinity"]))
    _running(core, namespace, "waiting")
    kubectl("delete", "pod", "waiting", "-n", namespace, "--wait=false")
    wait_for(lambda: "Terminating" in kubectl("get", "pods", "-n", namespace, "waiting").stdout)
    # Still there after the nginx-like stop time has long passed.
    wait_for(lambda: "Killing" in kubectl("get", "events", "-n", namespace).stdout)
    assert not _gone(core, namespace, "waiting")
    # --grace-period=0 --force removes it at once, with kubectl's own warning.
    proc = kubectl("delete", "pod", "waiting", "-n", namespace, "--grace-period=0", "--force")
    assert "Immediate deletion does not wait for confirmation" in proc.stderr
    assert _gone(core, namespace, "waiting")


def test_an_unscheduled_pod_is_deleted_at_once(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("pending", "busybox:1.36", ["sleep", "infinity"], node=False))
    core.delete_namespaced_pod("pending", namespace)
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_pod("pending", namespace)
    assert err.value.status == 404


def test_a_terminating_pod_leaves_ready_addresses_at_once(sandbox, api_client, namespace):
    core, discovery = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("backend", "busybox:1.36", ["sleep", "infinity"]))
    core.create_namespaced_service(namespace, {"metadata": {"name": "backend"}, "spec": {
        "selector": {"app": "backend"}, "ports": [{"port": 80}]}})
    pod = _running(core, namespace, "backend")
    wait_for(lambda: (core.read_namespaced_endpoints("backend", namespace).subsets or [None])[0]
             and core.read_namespaced_endpoints("backend", namespace).subsets[0].addresses)
    core.delete_namespaced_pod("backend", namespace)

    def condition():
        eps = [e for s in discovery.list_namespaced_endpoint_slice(namespace).items for e in s.endpoints or []]
        return eps and eps[0].conditions.terminating and eps[0]
    ep = wait_for(condition)
    # k8s.io/endpointslice podToEndpoint: serving follows the Ready condition, which the kubelet
    # set False when it sent SIGTERM; ready is never true for a terminating pod.
    assert ep.addresses == [pod.status.pod_ip]
    assert (ep.conditions.ready, ep.conditions.terminating) == (False, True)
    wait_for(lambda: ep.conditions.serving is False or condition().conditions.serving is False)
    subsets = core.read_namespaced_endpoints("backend", namespace).subsets or []
    assert not any(s.addresses for s in subsets)
    # The endpoints controller leaves a terminating pod out of Endpoints altogether
    # (pkg/controller/util/endpoint ShouldPodBeInEndpoints, without publishNotReadyAddresses).
    assert not any(s.not_ready_addresses for s in subsets)
    sandbox.advance_clock(31)
    wait_for(lambda: _gone(core, namespace, "backend"))


def test_the_kubelet_waits_at_least_two_seconds_before_sigkill(sandbox, api_client, namespace):
    """kuberuntime_container.go minimumGracePeriodInSeconds: `kubectl delete --now` asks for
    1 s, but a container that ignores TERM is killed no sooner than 2 s after it."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("brief", "alpine:3.20", ["sh", "-c", "while true; do sleep 1; done"]))
    _running(core, namespace, "brief")
    marked = core.delete_namespaced_pod("brief", namespace, grace_period_seconds=1)
    assert marked.metadata.deletion_grace_period_seconds == 1
    wait_for(lambda: core.read_namespaced_pod("brief", namespace).status.container_statuses[0].ready is False)
    sandbox.advance_clock(1.2)
    assert not _gone(core, namespace, "brief")
    sandbox.advance_clock(1.0)
    wait_for(lambda: _gone(core, namespace, "brief"))


@pytest.mark.parametrize("image, command, exits", [
    ("nginx:1.27", None, True),                          # docker-entrypoint.sh execs nginx: TERM is fast shutdown
    ("nginxdemos/hello:plain-text", None, True),
    ("registry.k8s.io/coredns/coredns:v1.11.3", None, True),   # an image's own server
    ("busybox:1.36", ["sleep", "3600"], False),          # sleep installs no TERM handler
    ("centos:7", ["sleep", "infinity"], False),
    ("nicolaka/netshoot:v0.13", ["tail", "-f", "/dev/null"], False),
    ("alpine:3.20", ["sh", "-c", "while true; do sleep 5; done"], False),    # a shell as PID 1
])
def test_which_pid_1_ends_on_sigterm(image, command, exits):
    from labkit.sandbox.controllers._containers import exits_on_sigterm, plan
    container = {"name": "c", "image": image, **({"command": command} if command else {})}
    assert exits_on_sigterm(plan(container)) is exits


def _deployment(name: str, replicas: int) -> dict:
    template = _pod(name, "busybox:1.36", ["sleep", "infinity"], grace=30)
    return {"metadata": {"name": name}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                                 "template": template}}


def _terminating(core, namespace: str, name: str) -> set[str]:
    return {p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
            if p.metadata.deletion_timestamp}


def test_scaling_down_deletes_pods_through_the_api_so_they_terminate_gracefully(sandbox, api_client, namespace):
    """The ReplicaSet controller deletes surplus pods with PodControl.DeletePod, a DELETE
    with default options: each pod is Terminating for its grace period, not gone at once."""
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("shrink", 3))
    wait_for(lambda: sum(p.status.phase == "Running" for p in
                         core.list_namespaced_pod(namespace, label_selector="app=shrink").items) == 3)
    apps.patch_namespaced_deployment_scale("shrink", namespace, {"spec": {"replicas": 1}})
    leaving = wait_for(lambda: len(t := _terminating(core, namespace, "shrink")) == 2 and t)
    assert len(core.list_namespaced_pod(namespace, label_selector="app=shrink").items) == 3
    sandbox.advance_clock(31)
    wait_for(lambda: not (leaving & {p.metadata.name for p in core.list_namespaced_pod(namespace).items}))


def test_a_deleted_deployments_pods_terminate_gracefully_in_the_background(sandbox, api_client, namespace):
    """The garbage collector deletes the dependents of a Deployment deleted in the
    background through the API: its ReplicaSet goes, and its pods are Terminating."""
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("bye", 2))
    wait_for(lambda: sum(p.status.phase == "Running" for p in
                         core.list_namespaced_pod(namespace, label_selector="app=bye").items) == 2)
    apps.delete_namespaced_deployment("bye", namespace)
    wait_for(lambda: not apps.list_namespaced_replica_set(namespace).items)
    assert wait_for(lambda: len(_terminating(core, namespace, "bye")) == 2)
    sandbox.advance_clock(31)
    wait_for(lambda: not core.list_namespaced_pod(namespace, label_selector="app=bye").items)
