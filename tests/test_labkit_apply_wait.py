"""`Lab.apply(..., wait=True)`: returns once what it applied is ready, or names what is not.

Readiness as kubectl decides it: `kubectl wait --for=condition=Ready` for Pods, `kubectl
rollout status` for Deployments (kubectl/pkg/polymorphichelpers/rollout_status.go), phase
Active for Namespaces.
"""
from __future__ import annotations

import sys
import time

import pytest
from kubernetes import client

import labkit
from labkit import _readiness, errors
from labkit.sandbox import Sandbox, SandboxConfig

from .conftest import wait_for


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """Overrides conftest's: containers take a noticeable moment to start, as on a cluster."""
    with Sandbox(home=tmp_path_factory.mktemp("wait"), config=SandboxConfig(pod_start_seconds=1.0)) as sb:
        yield sb


@pytest.fixture(scope="module")
def wlab(sandbox):
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    yield lab
    lab.close()


def _manifest(ns: str, replicas: int = 2, node_selector: str = "") -> str:
    selector = f"\n      nodeSelector: {{{node_selector}}}" if node_selector else ""
    return f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: solo, namespace: {ns}}}
spec:
  containers: [{{name: solo, image: "centos:7", command: [sleep, infinity]}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:{selector}
      containers: [{{name: web, image: "nginxdemos/hello:plain-text"}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}
"""


def _state(api_client, ns: str) -> dict:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    pod = core.read_namespaced_pod("solo", ns)
    dep = apps.read_namespaced_deployment("web", ns)
    return {"namespace": core.read_namespace(ns).status.phase,
            "pod_ready": any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []),
            "rollout": (dep.status.updated_replicas, dep.status.available_replicas, dep.status.replicas)}


def test_without_wait_apply_returns_before_pods_run(wlab):
    # The control: in this sandbox a fresh pod is not ready the moment apply returns.
    wlab.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: early}\n"
               "spec: {containers: [{name: c, image: 'centos:7'}]}\n")
    pod = wlab._transport.request("GET", "/api/v1/namespaces/default/pods/early")
    assert _readiness.not_ready("pods", pod) is not None


def test_wait_returns_once_everything_applied_is_ready(wlab, api_client):
    result = wlab.apply(_manifest("waited"), wait=True, timeout=30)
    assert result.actions() == {"namespace/waited": "created", "pod/solo": "created",
                                "deployment.apps/web": "created", "service/web": "created"}
    assert _state(api_client, "waited") == {"namespace": "Active", "pod_ready": True, "rollout": (2, 2, 2)}


def test_wait_follows_a_rollout_of_a_changed_template(wlab, api_client):
    wlab.apply(_manifest("rolled", replicas=1), wait=True, timeout=30)
    changed = _manifest("rolled", replicas=3).replace("nginxdemos/hello:plain-text", "nginxdemos/hello:latest")
    result = wlab.apply(changed, wait=True, timeout=30)
    assert result.actions()["deployment.apps/web"] == "configured"
    dep = client.AppsV1Api(api_client).read_namespaced_deployment("web", "rolled")
    assert dep.status.observed_generation == dep.metadata.generation
    assert (dep.status.updated_replicas, dep.status.available_replicas, dep.status.replicas) == (3, 3, 3)


def test_timeout_names_what_is_not_ready_and_why(wlab):
    manifest = _manifest("stuck", node_selector="lab.example/none: 'true'")
    started = time.monotonic()
    with pytest.raises(errors.Timeout) as err:
        wlab.apply(manifest, wait=True, timeout=2)
    assert time.monotonic() - started < 10               # one deadline for the whole call
    text = str(err.value)
    assert text.startswith("timed out after 2 s waiting for 1 of 3 applied objects to be ready:")
    assert ('deployment.apps/web in stuck: Waiting for deployment "web" rollout to finish: '
            "0 of 2 updated replicas are available...; pod web-") in text
    # The scheduler's own account (pkg/scheduler/framework: FitError), through the pod's condition.
    assert text.rstrip().endswith(
        ": not scheduled: Unschedulable: 0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    assert "pod/solo" not in text and "namespace/stuck" not in text


def test_timeout_reports_a_pod_that_is_not_ready(wlab):
    pod = """
apiVersion: v1
kind: Pod
metadata: {name: nowhere}
spec:
  nodeSelector: {lab.example/none: "true"}
  containers: [{name: c, image: "centos:7"}]
"""
    with pytest.raises(errors.Timeout) as err:
        wlab.apply(pod, wait=True, timeout=1)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and lines[1].startswith("  pod/nowhere in default: not scheduled: Unschedulable: 0/3 nodes")


def test_wait_is_not_the_default(wlab):
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: quick}\nspec:\n  nodeSelector: {lab.example/none: 'x'}\n" \
          "  containers: [{name: c, image: 'centos:7'}]\n"
    assert wlab.apply(pod).actions() == {"pod/quick": "created"}    # returns although it never schedules


def test_kinds_without_readiness_need_no_wait(wlab):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
    started = time.monotonic()
    assert wlab.apply(cm, wait=True, timeout=5).actions() == {"configmap/settings": "created"}
    assert time.monotonic() - started < 2


def test_progress_as_text_without_ipywidgets(wlab, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails: the text fallback
    wlab.apply(_manifest("shown", replicas=1), wait=True, timeout=30, progress=True)
    assert capsys.readouterr().out.splitlines() == ["ready: 1/3 ready", "ready: 2/3 ready", "ready: 3/3 ready"]


def test_no_progress_outside_a_notebook_by_default(wlab, capsys):
    wlab.apply(_manifest("quiet", replicas=1), wait=True, timeout=30)
    assert capsys.readouterr().out == ""


# --- the readiness checks on objects as the kubelet and controllers report them -----------------
def _pod(status: dict, node: str | None = "lab-worker") -> dict:
    return {"metadata": {"name": "p"}, "spec": {"nodeName": node, "containers": [{"name": "web"}]},
            "status": status}


def test_pod_waiting_reason_is_the_kubelets():
    pod = _pod({"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "web", "ready": False, "state": {"waiting": {
                    "reason": "ErrImagePull",
                    "message": 'failed to pull and unpack image "docker.io/library/nginx:nope": not found'}}}]})
    assert _readiness.not_ready("pods", pod) == ('container web is waiting: ErrImagePull: failed to pull and '
                                                 'unpack image "docker.io/library/nginx:nope": not found')


def test_pod_unschedulable_reason_is_the_schedulers():
    pod = _pod({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                     "reason": "Unschedulable", "message": "0/3 nodes are available"}]},
               node=None)
    assert _readiness.not_ready("pods", pod) == "not scheduled: Unschedulable: 0/3 nodes are available"


def test_pod_ready_and_completed():
    assert _readiness.not_ready("pods", _pod({"phase": "Running",
                                              "conditions": [{"type": "Ready", "status": "True"}]})) is None
    assert "completed (phase Succeeded)" in _readiness.not_ready("pods", _pod({"phase": "Succeeded"}))


@pytest.mark.parametrize("status, generation, expected", [
    ({"observedGeneration": 1}, 2, "Waiting for deployment spec update to be observed..."),
    ({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 3}, 2,
     'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'),
    ({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}, 2,
     'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'),
    ({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}, 2,
     'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'),
    ({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3,
      "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}, 2,
     'deployment "web" exceeded its progress deadline'),
    ({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}, 2, None),
])
def test_deployment_as_rollout_status_decides(status, generation, expected):
    dep = {"metadata": {"name": "web", "generation": generation}, "spec": {"replicas": 3}, "status": status}
    assert _readiness.not_ready("deployments", dep) == expected


def test_namespace_active_and_terminating():
    assert _readiness.not_ready("namespaces", {"metadata": {"name": "a"}, "status": {"phase": "Active"}}) is None
    assert _readiness.not_ready("namespaces", {"metadata": {"name": "a"}, "status": {"phase": "Terminating"}}) \
        == "phase is Terminating"


def test_sandbox_scheduler_reports_an_unschedulable_pod(wlab, api_client):
    # A command that keeps it running: centos:7's own CMD (bash, no stdin) would exit at once.
    wlab.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: picky}\nspec:\n"
               "  nodeSelector: {disktype: ssd}\n"
               "  containers: [{name: c, image: 'centos:7', command: [sleep, infinity]}]\n")
    core = client.CoreV1Api(api_client)
    cond = wait_for(lambda: next((c for c in core.read_namespaced_pod("picky", "default").status.conditions or []
                                  if c.type == "PodScheduled" and c.status == "False"), None))
    assert cond.reason == "Unschedulable"
    assert cond.message.startswith("0/3 nodes are available: 1 node(s) had untolerated taint")
    events = core.list_namespaced_event("default", field_selector="involvedObject.name=picky").items
    assert [(e.type, e.reason, e.message) for e in events] == [("Warning", "FailedScheduling", cond.message)]
    # Once a node fits, the scheduler binds the pod and the condition turns True.
    core.patch_node("lab-worker2", {"metadata": {"labels": {"disktype": "ssd"}}})
    try:
        wlab.wait("pod", "picky", timeout=30)
        pod = core.read_namespaced_pod("picky", "default")
        assert pod.spec.node_name == "lab-worker2"
    finally:
        core.patch_node("lab-worker2", {"metadata": {"labels": {"disktype": None}}})
