"""The official Python client's create_from_yaml checks, run against the sandbox.

Each test checks what one of kubernetes-client/python's kubernetes/e2e_test/test_utils.py
tests checks (its docstring names it), with manifests of our own in a fresh namespace:
single objects, files of many documents, `kind: List` and typed lists (PodList,
NamespaceList, a ServiceList whose items name no kind), directories, and the
FailToCreateError that gathers every conflict of a file, worded byte for byte as the API
server's Status. Workloads that upstream writes as ReplicationControllers run twice, as a
Deployment and as a ReplicationController (see tests/test_client_e2e.py for the rest of
the suite).
"""
from __future__ import annotations

import json

import pytest
import yaml

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, utils  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

WORKLOADS = ["Deployment", "ReplicationController"]


def _deployment(name: str, replicas: int = 2, namespace: str | None = None) -> dict:
    meta = {"name": name, "labels": {"app": name}}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}}


def _workload(kind: str, name: str) -> dict:
    if kind == "Deployment":
        return _deployment(name, replicas=1)
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"app": name},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "pause", "image": "registry.k8s.io/pause:3.10",
                          "ports": [{"containerPort": 9949, "protocol": "TCP"}]}]}}}}


def _read_workload(api_client, kind: str, name: str, namespace: str):
    if kind == "Deployment":
        return client.AppsV1Api(api_client).read_namespaced_deployment(name, namespace)
    return client.CoreV1Api(api_client).read_namespaced_replication_controller(name, namespace)


def _service(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"ports": [{"port": 99, "protocol": "TCP", "targetPort": 9949}], "selector": {"app": name}}}


def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": "busybox:1.36",
                                     "command": ["sh", "-c", "echo hello && sleep 3600"]}]}}


def _write(tmp_path, name: str, *docs) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs) if not name.endswith(".json") else json.dumps(docs[0]))
    return str(path)


def _conflict(message: str, name: str, plural: str, group: str = "") -> str:
    """What FailToCreateError prints for one 409: the reason, then the Status body as sent."""
    details = {"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural}
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": "AlreadyExists", "details": details, "code": 409}
    return f"Error from server (Conflict): {json.dumps(body, separators=(',', ':'))}\n"


# --- one object per file ----------------------------------------------------------------------

def test_deployment_from_a_file_then_applied_again(api_client, namespace, tmp_path):
    """test_create_apps_deployment_from_yaml and ..._with_apply_is_idempotent: created, then
    applied (server-side, field manager python-client) again without change."""
    path = _write(tmp_path, "web.yaml", _deployment("web", replicas=3))
    utils.create_from_yaml(api_client, path, namespace=namespace)
    first = _read_workload(api_client, "Deployment", "web", namespace)
    c = first.spec.template.spec.containers[0]
    assert (first.spec.replicas, c.image, c.ports[0].container_port) == (3, "nginx:1.27", 80)
    utils.create_from_yaml(api_client, path, namespace=namespace, apply=True)
    again = _read_workload(api_client, "Deployment", "web", namespace)
    assert again.spec == first.spec and again.metadata.generation == first.metadata.generation


def test_deployment_from_yaml_objects_and_from_a_dict(api_client, namespace):
    """test_create_apps_deployment_from_yaml_object and ..._from_yaml_obj: parsed documents
    and a dict go the same way as a file."""
    utils.create_from_yaml(api_client, yaml_objects=yaml.safe_load_all(yaml.safe_dump(_deployment("a"))),
                           namespace=namespace)
    utils.create_from_dict(api_client, _deployment("b"), namespace=namespace)
    for name in ("a", "b"):
        assert _read_workload(api_client, "Deployment", name, namespace).spec.template.metadata.labels == \
            {"app": name}


def test_pod_service_and_role_from_files(api_client, namespace, tmp_path, capsys):
    """test_create_pod_from_yaml, test_create_service_from_yaml, test_create_rbac_role_from_yaml
    and ..._with_verbose_enabled (which prints what it created)."""
    utils.create_from_yaml(api_client, _write(tmp_path, "pod.yaml", _pod("box")), namespace=namespace)
    utils.create_from_yaml(api_client, _write(tmp_path, "svc.yaml", _service("front")), namespace=namespace)
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}]}
    utils.create_from_yaml(api_client, _write(tmp_path, "role.yaml", role), namespace=namespace, verbose=True)
    assert "role created." in capsys.readouterr().out
    core = client.CoreV1Api(api_client)
    assert core.read_namespaced_pod("box", namespace).spec.containers[0].image == "busybox:1.36"
    assert core.read_namespaced_service("front", namespace).spec.selector == {"app": "front"}
    read = client.RbacAuthorizationV1Api(api_client).read_namespaced_role("pod-reader", namespace)
    assert read.rules[0].resources == ["pods"]


def test_namespace_then_a_deployment_in_it(api_client, namespace, tmp_path):
    """test_create_namespace_from_yaml and test_create_deployment_non_default_namespace_from_yaml:
    an object that names its namespace goes there, whatever the call's default."""
    target = f"{namespace}-dep"
    utils.create_from_yaml(api_client, _write(tmp_path, "ns.yaml", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}}))
    utils.create_from_yaml(api_client, _write(tmp_path, "dep.yaml", _deployment("web", namespace=target)))
    assert client.CoreV1Api(api_client).read_namespace(target).metadata.name == target
    assert _read_workload(api_client, "Deployment", "web", target).metadata.namespace == target
    client.CoreV1Api(api_client).delete_namespace(target)


def test_the_namespace_argument_places_unnamespaced_objects(api_client, namespace, tmp_path):
    """test_create_namespaced_apps_deployment_from_yaml."""
    utils.create_from_yaml(api_client, _write(tmp_path, "web.yaml", _deployment("web")), namespace=namespace)
    assert _read_workload(api_client, "Deployment", "web", namespace).metadata.namespace == namespace


@pytest.mark.xfail(strict=True, reason="APIServices (apiregistration.k8s.io/v1) are not served")
def test_apiservice_then_its_conflict(api_client, tmp_path):
    """test_create_apiservice_from_yaml_with_conflict: a cluster-scoped object of another group,
    and the second create's AlreadyExists with that group in its details."""
    name = "v1alpha1.wardle.example.com"
    path = _write(tmp_path, "apiservice.yaml", {
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": name},
        "spec": {"group": "wardle.example.com", "version": "v1alpha1", "groupPriorityMinimum": 1000,
                 "versionPriority": 15, "insecureSkipTLSVerify": True,
                 "service": {"name": "api", "namespace": "wardle"}}})
    utils.create_from_yaml(api_client, path)
    assert client.ApiregistrationV1Api(api_client).read_api_service(name).spec.group == "wardle.example.com"
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api_client, path)
    assert str(err.value) == _conflict(f'apiservices.apiregistration.k8s.io "{name}" already exists', name,
                                       "apiservices", "apiregistration.k8s.io")
    client.ApiregistrationV1Api(api_client).delete_api_service(name)


# --- lists ---------------------------------------------------------------------------------------

def test_a_kind_list_of_service_and_deployment(api_client, namespace, tmp_path):
    """test_create_general_list_from_yaml."""
    path = _write(tmp_path, "list.yaml", {"apiVersion": "v1", "kind": "List",
                                          "items": [_service("listed"), _deployment("listed", replicas=1)]})
    utils.create_from_yaml(api_client, path, namespace=namespace)
    assert client.CoreV1Api(api_client).read_namespaced_service("listed", namespace).spec.selector == \
        {"app": "listed"}
    assert _read_workload(api_client, "Deployment", "listed", namespace).spec.replicas == 1


def test_a_namespace_list(api_client, namespace, tmp_path):
    """test_create_namespace_list_from_yaml."""
    names = [f"{namespace}-one", f"{namespace}-two"]
    utils.create_from_yaml(api_client, _write(tmp_path, "nslist.yaml", {
        "apiVersion": "v1", "kind": "NamespaceList",
        "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"name": n}}}
                  for n in names]}))
    core = client.CoreV1Api(api_client)
    for n in names:
        assert core.read_namespace(n).metadata.labels["name"] == n
        core.delete_namespace(n)


def test_a_service_list_whose_items_name_no_kind(api_client, namespace, tmp_path):
    """test_create_implicit_service_list_from_yaml_with_conflict: the items' kind comes from
    the list's; the duplicate fails, the others are created all the same."""
    item = {k: v for k, v in _service("svc-a").items() if k not in ("apiVersion", "kind")}
    other = {k: v for k, v in _service("svc-b").items() if k not in ("apiVersion", "kind")}
    path = _write(tmp_path, "svclist.json", {"apiVersion": "v1", "kind": "ServiceList", "items": [item, item, other]})
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api_client, path, namespace=namespace)
    assert str(err.value) == _conflict('services "svc-a" already exists', "svc-a", "services")
    core = client.CoreV1Api(api_client)
    assert {core.read_namespaced_service(n, namespace).metadata.labels["app"] for n in ("svc-a", "svc-b")} == \
        {"svc-a", "svc-b"}


def test_a_pod_list_beside_a_deployment(api_client, namespace, tmp_path):
    """test_create_from_list_in_multi_resource_yaml and ..._namespaced: a PodList as one
    document of several."""
    path = _write(tmp_path, "mixed.yaml",
                  {"apiVersion": "v1", "kind": "PodList", "items": [_pod("pod-0"), _pod("pod-1")]},
                  _deployment("mixed", replicas=3))
    utils.create_from_yaml(api_client, path, namespace=namespace)
    core = client.CoreV1Api(api_client)
    for name in ("pod-0", "pod-1"):
        pod = core.read_namespaced_pod(name, namespace)
        assert (pod.metadata.labels["app"], pod.spec.containers[0].name) == (name, name)
    assert _read_workload(api_client, "Deployment", "mixed", namespace).spec.replicas == 3


# --- many documents, directories, conflicts ----------------------------------------------------

@pytest.mark.parametrize("kind", WORKLOADS)
def test_a_service_and_its_workload_in_one_file(api_client, namespace, tmp_path, kind):
    """test_create_from_multi_resource_yaml (upstream's workload: a ReplicationController)."""
    utils.create_from_yaml(api_client, _write(tmp_path, "multi.yaml", _service("mock"), _workload(kind, "mock")),
                           namespace=namespace)
    assert client.CoreV1Api(api_client).read_namespaced_service("mock", namespace).spec.selector == \
        {"app": "mock"}
    workload = _read_workload(api_client, kind, "mock", namespace)
    assert (workload.metadata.name, workload.spec.replicas) == ("mock", 1)
    assert workload.spec.template.metadata.labels == {"app": "mock"}


@pytest.mark.parametrize("kind", WORKLOADS)
def test_a_directory_of_manifests(api_client, namespace, tmp_path, kind):
    """test_create_multi_resource_from_directory."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    _write(folder, "service.yaml", _service("mock"))
    _write(folder, "workload.yaml", _workload(kind, "mock"))
    utils.create_from_directory(api_client, str(folder), namespace=namespace)
    assert client.CoreV1Api(api_client).read_namespaced_service("mock", namespace).metadata.labels == \
        {"app": "mock"}
    assert _read_workload(api_client, kind, "mock", namespace).spec.replicas == 1


@pytest.mark.parametrize("kind", WORKLOADS)
def test_a_conflict_in_a_later_file_spares_the_rest(api_client, namespace, tmp_path, kind):
    """test_create_from_multi_resource_yaml_with_conflict: the service exists already, so the
    second file's copy fails with the server's Status, while its workload is created."""
    utils.create_from_yaml(api_client, _write(tmp_path, "first.yaml", _service("mock-2")), namespace=namespace)
    assert client.CoreV1Api(api_client).read_namespaced_service("mock-2", namespace).spec.ports[0].port == 99
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api_client, _write(tmp_path, "second.yaml", _service("mock-2"),
                                                  _workload(kind, "mock-2")), namespace=namespace)
    assert str(err.value) == _conflict('services "mock-2" already exists', "mock-2", "services")
    assert _read_workload(api_client, kind, "mock-2", namespace) is not None


def test_every_conflict_of_a_file_is_reported(api_client, namespace, tmp_path):
    """test_create_from_multi_resource_yaml_with_multi_conflicts: three copies of one
    Deployment, one created, two AlreadyExists in one FailToCreateError."""
    path = _write(tmp_path, "triple.yaml", *[_deployment("triple", replicas=3)] * 3)
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api_client, path, namespace=namespace)
    one = _conflict('deployments.apps "triple" already exists', "triple", "deployments", "apps")
    assert str(err.value) == one + one
    assert [e.status for e in err.value.api_exceptions] == [409, 409]
    assert _read_workload(api_client, "Deployment", "triple", namespace).spec.replicas == 3


@pytest.mark.xfail(strict=True, reason="the metrics API (metrics.k8s.io, metrics-server) is not served")
def test_metrics_utilities(api_client, namespace, tmp_path):
    """test_metrics_utilities_integration: node and pod usage through utils.get_*_metrics."""
    utils.create_from_yaml(api_client, _write(tmp_path, "pod.yaml", _pod("box")), namespace=namespace)
    try:
        nodes = utils.get_nodes_metrics(api_client)
    except ApiException as e:
        raise AssertionError(f"metrics.k8s.io answered {e.status}") from None
    assert nodes["items"] and "usage" in nodes["items"][0]
    pods = utils.get_pods_metrics(api_client, namespace, "app=box")
    assert [p["metadata"]["name"] for p in pods["items"]] == ["box"]
