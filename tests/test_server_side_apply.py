"""Server-side apply with field ownership, over real HTTP: the official Python client and
kubectl against the sandbox, checked against what kube-apiserver's field manager does
(k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager, sigs.k8s.io/structured-merge-diff
merge/update.go and typed/)."""
from __future__ import annotations

import json

import pytest
import yaml

from .conftest import wait_for
from labkit.sandbox.registry import _fieldpath, _managedfields

APPLY = "application/apply-patch+yaml"


@pytest.fixture
def core(api_client):
    from kubernetes import client
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client):
    from kubernetes import client
    return client.AppsV1Api(api_client)


def configmap(name: str, **data) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def managed(obj) -> list[dict]:
    """managedFields as plain dicts, from a client model or a dict."""
    if not isinstance(obj, dict):
        obj = obj.to_dict()
        entries = obj["metadata"]["managed_fields"] or []
        return [{"manager": e["manager"], "operation": e["operation"], "apiVersion": e["api_version"],
                 "fieldsV1": e["fields_v1"], "subresource": e.get("subresource")} for e in entries]
    return obj["metadata"].get("managedFields") or []


def by_manager(obj) -> dict[str, dict]:
    return {e["manager"]: e for e in managed(obj)}


def apply_cm(core, namespace, body, manager, force=None):
    kwargs = {"force": force} if force is not None else {}
    return core.patch_namespaced_config_map(body["metadata"]["name"], namespace, body, field_manager=manager,
                                            _content_type=APPLY, **kwargs)


def api_error(call):
    from kubernetes.client.rest import ApiException
    with pytest.raises(ApiException) as exc:
        call()
    return exc.value.status, json.loads(exc.value.body)


# ------------------------------------------------------------------ managedFields shapes

def test_create_records_an_update_entry_named_after_the_user_agent(core, namespace):
    # handlers/rest.go managerOrUserAgent: no fieldManager, so the User-Agent's first segment
    # (the Python client sends "OpenAPI-Generator/<version>/python").
    created = core.create_namespaced_config_map(namespace, configmap("ua", a="1"))
    (entry,) = managed(created)
    assert entry["manager"] == "OpenAPI-Generator"
    assert (entry["operation"], entry["apiVersion"]) == ("Update", "v1")
    assert entry["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    raw = created.metadata.managed_fields[0]
    assert raw.fields_type == "FieldsV1" and raw.time is not None


def test_apply_records_an_apply_entry_and_the_update_keeps_its_own(core, namespace):
    core.create_namespaced_config_map(namespace, configmap("mix", a="1"), field_manager="creator")
    applied = apply_cm(core, namespace, configmap("mix", b="2"), "alice")
    entries = by_manager(applied)
    assert entries["alice"]["operation"] == "Apply"
    assert entries["alice"]["fieldsV1"] == {"f:data": {"f:b": {}}}
    assert entries["creator"]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    # managedfields.go sorts Apply entries before Update ones.
    assert [e["operation"] for e in managed(applied)] == ["Apply", "Update"]
    # An update by the same manager merges into its entry; what it changes leaves others.
    cm = core.read_namespaced_config_map("mix", namespace)
    cm.data["b"] = "3"
    cm.data["c"] = "4"
    updated = core.replace_namespaced_config_map("mix", namespace, cm, field_manager="creator")
    entries = by_manager(updated)
    assert entries["creator"]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}, "f:b": {}, "f:c": {}}}
    assert "alice" not in entries               # its only field was taken: the entry goes
    assert len(managed(updated)) == 1


def test_controllers_write_as_kube_controller_manager_and_kubelet(apps, core, namespace):
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})

    def ready_pod():
        pods = core.list_namespaced_pod(namespace).items
        return pods and pods[0].status.pod_ip and "kubelet" in by_manager(pods[0]) and pods[0]
    pod = wait_for(ready_pod)
    entries = by_manager(pod)
    kcm, kubelet = entries["kube-controller-manager"], entries["kubelet"]
    assert (kcm["operation"], kcm["subresource"]) == ("Update", None)
    uid = pod.metadata.owner_references[0].uid
    assert kcm["fieldsV1"]["f:metadata"]["f:ownerReferences"] == {".": {}, f'k:{{"uid":"{uid}"}}': {}}
    container = kcm["fieldsV1"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert {".", "f:image", "f:name", "f:imagePullPolicy"} <= set(container)
    assert (kubelet["operation"], kubelet["subresource"]) == ("Update", "status")
    status = kubelet["fieldsV1"]["f:status"]
    assert {"f:phase", "f:podIP", "f:containerStatuses"} <= set(status)
    assert f'k:{{"ip":"{pod.status.pod_ip}"}}' in status["f:podIPs"]


def test_status_writes_record_the_status_subresource(core, namespace):
    core.create_namespaced_service(namespace, {"metadata": {"name": "s"},
                                               "spec": {"ports": [{"port": 80}]}}, field_manager="me")
    svc = core.read_namespaced_service("s", namespace).to_dict()
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}}
    core.patch_namespaced_service_status("s", namespace, body, field_manager="lb")
    entries = by_manager(core.read_namespaced_service("s", namespace))
    assert entries["lb"]["subresource"] == "status"
    assert "f:status" in entries["lb"]["fieldsV1"] and "f:spec" not in entries["lb"]["fieldsV1"]
    assert svc["spec"]["cluster_ip"]
    # The create's entry holds what the client sent and defaulting added, not the allocation.
    spec = entries["me"]["fieldsV1"]["f:spec"]
    assert 'k:{"port":80,"protocol":"TCP"}' in spec["f:ports"] and "f:clusterIP" not in spec


def test_sending_managed_fields_as_a_list_of_one_empty_entry_clears_them(core, namespace):
    core.create_namespaced_config_map(namespace, configmap("reset", a="1"), field_manager="me")
    patched = core.patch_namespaced_config_map("reset", namespace, {"metadata": {"managedFields": [{}]}})
    assert patched.metadata.managed_fields is None
    # skipnonapplied.go: an object without entries is not tracked again by updates...
    again = core.patch_namespaced_config_map("reset", namespace, {"data": {"b": "2"}}, field_manager="me")
    assert again.metadata.managed_fields is None
    # ... until someone applies.
    applied = apply_cm(core, namespace, configmap("reset", c="3"), "alice")
    assert list(by_manager(applied)) == ["alice"]


def test_update_entries_are_capped_at_ten_with_the_oldest_in_ancient_changes(sandbox, core, namespace):
    core.create_namespaced_config_map(namespace, configmap("cap"), field_manager="m0")
    for i in range(1, 13):
        sandbox.clock.advance(1)         # the cap merges the oldest by time
        core.patch_namespaced_config_map("cap", namespace, {"data": {f"k{i}": "v"}}, field_manager=f"m{i}")
    entries = managed(core.read_namespaced_config_map("cap", namespace))
    assert len(entries) == 10
    assert "ancient-changes" in {e["manager"] for e in entries}


# ------------------------------------------------------------------ conflicts

def test_a_conflict_names_the_other_manager_and_the_field(core, namespace):
    apply_cm(core, namespace, configmap("c1", x="1"), "alice")
    status, body = api_error(lambda: apply_cm(core, namespace, configmap("c1", x="2"), "bob"))
    assert status == 409
    assert body["reason"] == "Conflict"
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "alice": .data.x'
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict",
                                          "message": 'conflict with "alice"', "field": ".data.x"}]


def test_several_conflicts_are_listed_by_manager(core, namespace):
    core.create_namespaced_config_map(namespace, configmap("c2", x="1", y="1"), field_manager="kubectl-create")
    apply_cm(core, namespace, configmap("c2", z="1"), "alice")
    status, body = api_error(lambda: apply_cm(core, namespace, configmap("c2", x="2", y="2", z="2"), "bob"))
    assert status == 409
    assert body["message"] == ('Apply failed with 3 conflicts: conflicts with "alice":\n- .data.z\n'
                               'conflicts with "kubectl-create" using v1:\n- .data.x\n- .data.y')
    assert [c["field"] for c in body["details"]["causes"]] == [".data.z", ".data.x", ".data.y"]


def test_force_takes_ownership_and_the_same_value_shares_it(core, namespace):
    apply_cm(core, namespace, configmap("c3", x="1", y="1"), "alice")
    shared = apply_cm(core, namespace, configmap("c3", y="1"), "bob")          # same value: no conflict
    entries = by_manager(shared)
    assert entries["alice"]["fieldsV1"] == {"f:data": {"f:x": {}, "f:y": {}}}
    assert entries["bob"]["fieldsV1"] == {"f:data": {"f:y": {}}}
    forced = apply_cm(core, namespace, configmap("c3", x="9"), "bob", force=True)
    assert forced.data == {"x": "9", "y": "1"}
    entries = by_manager(forced)
    assert entries["alice"]["fieldsV1"] == {"f:data": {"f:y": {}}}
    assert entries["bob"]["fieldsV1"] == {"f:data": {"f:x": {}}}     # bob no longer applies y


def test_apply_without_a_field_manager_is_a_422(api_client, namespace):
    body = json.dumps(configmap("nomgr", a="1"))
    resp = api_client.rest_client.pool_manager.request(
        "PATCH", f"{api_client.configuration.host}/api/v1/namespaces/{namespace}/configmaps/nomgr",
        body=body, headers={"Content-Type": APPLY, **_auth(api_client)})
    doc = json.loads(resp.data)
    assert resp.status == 422
    assert doc["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                              "is required for apply patch")
    assert doc["details"]["causes"][0]["field"] == "fieldManager"


def _auth(api_client) -> dict:
    headers: dict = {}
    api_client.update_params_for_auth(headers, [], ["BearerToken"], "", "", None)
    return headers


# ------------------------------------------------------------------ removal

def test_a_key_no_longer_applied_is_removed_unless_another_manager_owns_it(core, namespace):
    apply_cm(core, namespace, configmap("r1", a="1", b="2", c="3"), "alice")
    apply_cm(core, namespace, configmap("r1", c="3"), "bob")                   # shares c
    out = apply_cm(core, namespace, configmap("r1", a="1"), "alice")
    assert out.data == {"a": "1", "c": "3"}


def test_a_container_and_a_port_dropped_from_the_config_are_removed(apps, namespace):
    def deployment(containers):
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"selector": {"matchLabels": {"app": "d"}},
                         "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": containers}}}}
    web = {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}, {"containerPort": 443}]}
    apps.patch_namespaced_deployment("d", namespace, deployment([web, {"name": "side", "image": "busybox"}]),
                                     field_manager="ci", _content_type=APPLY)
    web = dict(web, ports=[{"containerPort": 80}])
    out = apps.patch_namespaced_deployment("d", namespace, deployment([web]), field_manager="ci",
                                           _content_type=APPLY).to_dict()
    (container,) = out["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "web"
    assert [p["container_port"] for p in container["ports"]] == [80]
    fields = by_manager(apps.read_namespaced_deployment("d", namespace))["ci"]["fieldsV1"]
    ports = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']["f:ports"]
    assert list(ports) == ['k:{"containerPort":80,"protocol":"TCP"}']


# ------------------------------------------------------------------ kubectl

def _cm_yaml(name: str, **data) -> str:
    return yaml.safe_dump(configmap(name, **data))


def test_kubectl_server_side_apply_conflicts_and_force(kubectl, namespace):
    out = kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=_cm_yaml("k1", x="1")).stdout
    assert out.strip() == "configmap/k1 serverside-applied"
    proc = kubectl("apply", "--server-side", "--field-manager=bob", "-n", namespace, "-f", "-",
                   input=_cm_yaml("k1", x="2"), check=False)
    assert proc.returncode != 0
    assert 'conflict with "kubectl": .data.x' in proc.stderr
    kubectl("apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-n", namespace, "-f", "-",
            input=_cm_yaml("k1", x="2"))
    shown = yaml.safe_load(kubectl("get", "cm", "k1", "-n", namespace, "-o", "yaml",
                                   "--show-managed-fields").stdout)
    managers = {e["manager"]: e for e in shown["metadata"]["managedFields"]}
    assert managers["bob"]["fieldsV1"] == {"f:data": {"f:x": {}}}
    assert "kubectl" not in managers            # its only field was taken
    plain = yaml.safe_load(kubectl("get", "cm", "k1", "-n", namespace, "-o", "yaml").stdout)
    assert "managedFields" not in plain["metadata"]      # kubectl hides them by default


def test_kubectl_dry_run_server_apply_stores_nothing(kubectl, core, namespace):
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=_cm_yaml("k2", x="1"))
    out = kubectl("apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", "-",
                  input=_cm_yaml("k2", y="1")).stdout
    assert "serverside-applied (server dry run)" in out
    cm = core.read_namespaced_config_map("k2", namespace)
    assert cm.data == {"x": "1"}
    assert by_manager(cm)["kubectl"]["fieldsV1"] == {"f:data": {"f:x": {}}}


def test_kubectl_client_side_apply_and_edit_managers(kubectl, core, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", input=_cm_yaml("k3", x="1"))
    entries = by_manager(core.read_namespaced_config_map("k3", namespace))
    assert entries["kubectl-client-side-apply"]["operation"] == "Update"
    fields = entries["kubectl-client-side-apply"]["fieldsV1"]
    assert "f:kubectl.kubernetes.io/last-applied-configuration" in fields["f:metadata"]["f:annotations"]


# ------------------------------------------------------------------ field paths

@pytest.mark.parametrize("path, text", [
    (("f:data", "f:x"), ".data.x"),
    (("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:name"), '.spec.ports[port=80,protocol="TCP"].name'),
    (("f:metadata", "f:finalizers", 'v:"a"'), '.metadata.finalizers[="a"]'),
])
def test_path_strings_read_as_structured_merge_diff_prints_them(path, text):
    # fieldpath/path.go Path.String and element.go PathElement.String
    assert _fieldpath.path_string(path) == text


def test_fields_v1_round_trips_with_members_that_have_children():
    paths = {("f:data",), ("f:data", "f:a"), ("f:spec", "f:x")}
    encoded = _fieldpath.encode(paths)
    assert encoded == {"f:data": {".": {}, "f:a": {}}, "f:spec": {"f:x": {}}}
    assert _fieldpath.decode(encoded) == paths


def test_update_by_a_manager_that_changed_nothing_adds_no_entry():
    live = _managedfields.update(None, configmap("n", a="1"), "one", "v1", "ConfigMap", "2026-01-01T00:00:00Z")
    again = _managedfields.update(live, json.loads(json.dumps(live)), "two", "v1", "ConfigMap",
                                  "2026-01-01T00:00:01Z")
    assert [e["manager"] for e in again["metadata"]["managedFields"]] == ["one"]
