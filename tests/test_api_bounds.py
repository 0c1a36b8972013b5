"""Numeric bounds and dryRun over the real HTTP API, with the official client and kubectl.

A replica count of 10**30 once made the sandbox chase two billion pods; kube-apiserver
refuses it while decoding, since spec.replicas is an int32 (k8s.io/api apps/v1 types.go).
`?dryRun=All` validates and answers as if applied but stores nothing, on every verb and
subresource (apiserver/pkg/endpoints/handlers: create.go, update.go, patch.go, delete.go).
"""
from __future__ import annotations

import json

import pytest

from tests.conftest import wait_for

HUGE = 10 ** 30


def _deployment(name: str, replicas) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def _call(api_client, method: str, path: str, body=None, content_type: str = "application/json",
          query: list | None = None):
    """One raw request through the official client's transport and auth; (status, decoded body).
    The body is sent as JSON text exactly as Python writes it (10**30 stays an integer literal)."""
    method, url, hdrs, _, _ = api_client.param_serialize(
        method, path, query_params=list(query or []), header_params={"Content-Type": content_type},
        auth_settings=["BearerToken"])
    resp = api_client.call_api(method, url, header_params=hdrs, body=body)
    return resp.status, json.loads(resp.read())


def _objects(sandbox, plural: str, namespace: str) -> list[dict]:
    return sandbox.store.list(plural, namespace)


# --- int32 bounds: decoding (encoding/json literalStore via sigs.k8s.io/json) -------------

def test_deployment_created_with_1e30_replicas_is_a_400_decode_error(api_client, sandbox, namespace):
    status, body = _call(api_client, "POST", f"/apis/apps/v1/namespaces/{namespace}/deployments",
                         _deployment("huge", HUGE))
    assert status == 400
    assert body["reason"] == "BadRequest"
    assert body["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number '
        "1000000000000000000000000000000 into Go struct field DeploymentSpec.spec.replicas of type int32")
    assert _objects(sandbox, "deployments", namespace) == []


def test_replicaset_one_past_int32_is_refused_and_int32_max_decodes(api_client, sandbox, namespace):
    rs = dict(_deployment("edge", 2 ** 31), apiVersion="apps/v1", kind="ReplicaSet")
    status, body = _call(api_client, "POST", f"/apis/apps/v1/namespaces/{namespace}/replicasets", rs)
    assert status == 400
    assert "number 2147483648 into Go struct field ReplicaSetSpec.spec.replicas of type int32" in body["message"]
    # int32's largest value decodes; a dry run keeps the controller from chasing it.
    rs["spec"]["replicas"] = 2 ** 31 - 1
    status, body = _call(api_client, "POST", f"/apis/apps/v1/namespaces/{namespace}/replicasets", rs,
                         query=[("dryRun", "All")])
    assert status == 201, body
    assert body["spec"]["replicas"] == 2 ** 31 - 1
    assert _objects(sandbox, "replicasets", namespace) == []


def test_int64_fields_take_what_int32_fields_refuse(api_client, namespace):
    """terminationGracePeriodSeconds is an int64 in core/v1 PodSpec; containerPort an int32."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wide"},
           "spec": {"terminationGracePeriodSeconds": 2 ** 40,
                    "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}}
    status, body = _call(api_client, "POST", f"/api/v1/namespaces/{namespace}/pods", pod,
                         query=[("dryRun", "All")])
    assert status == 201, body
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 2 ** 40
    status, body = _call(api_client, "POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    assert status == 400
    # The error context names the innermost struct and the field path without list indexes.
    assert body["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number 1099511627776 into '
        "Go struct field ContainerPort.spec.containers.ports.containerPort of type int32")


def test_ports_out_of_range_are_invalid(api_client, namespace):
    """pkg/apis/core/validation: container and service ports must be 1-65535."""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "big"},
           "spec": {"selector": {"app": "x"}, "ports": [{"port": 70000}]}}
    status, body = _call(api_client, "POST", f"/api/v1/namespaces/{namespace}/services", svc)
    assert status == 422
    assert "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive" in body["message"]


def test_scale_put_with_1e30_is_a_400_and_changes_nothing(api_client, sandbox, namespace):
    from kubernetes import client
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("web", 1))
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale"
    status, body = _call(api_client, "PUT", path,
                         {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"},
                          "spec": {"replicas": HUGE}})
    assert status == 400
    assert body["message"] == (
        'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal number '
        "1000000000000000000000000000000 into Go struct field ScaleSpec.spec.replicas of type int32")
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1


def test_scale_patch_with_1e30_is_a_422_on_the_patch(api_client, namespace):
    """A patched object that does not decode: patch.go's Invalid on field "patch", kind and
    name empty, so the message starts ` "" is invalid` (kubectl: `The  "" is invalid`)."""
    from kubernetes import client
    client.AppsV1Api(api_client).create_namespaced_deployment(namespace, _deployment("web", 1))
    status, body = _call(api_client, "PATCH", f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale",
                         {"spec": {"replicas": HUGE}}, content_type="application/merge-patch+json")
    assert status == 422
    assert body["reason"] == "Invalid"
    assert body["message"].startswith(' "" is invalid: patch: Invalid value: "{\\"kind\\":\\"Scale\\"')
    assert body["message"].endswith(
        "json: cannot unmarshal number 1000000000000000000000000000000 into Go struct field "
        "ScaleSpec.spec.replicas of type int32")
    assert body["details"]["causes"][0]["field"] == "patch"


def test_negative_replicas_are_invalid_on_scale_and_deployment(api_client, namespace):
    """pkg/apis/apps/validation and autoscaling ValidateScale: must be >= 0."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    apps = client.AppsV1Api(api_client)
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment(namespace, _deployment("neg", -1))
    body = json.loads(err.value.body)
    assert err.value.status == 422
    assert body["message"] == ('Deployment.apps "neg" is invalid: spec.replicas: Invalid value: -1: '
                               "must be greater than or equal to 0")
    apps.create_namespaced_deployment(namespace, _deployment("web", 1))
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": -3}})
    assert err.value.status == 422
    assert json.loads(err.value.body)["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -3: must be greater than or equal to 0')


def test_kubectl_create_with_huge_replicas_prints_the_decode_error(kubectl, namespace, tmp_path):
    manifest = tmp_path / "huge.json"
    manifest.write_text(json.dumps(_deployment("huge", HUGE)))
    proc = kubectl("create", "-n", namespace, "-f", str(manifest), "--validate=false", check=False)
    assert proc.returncode != 0
    # kubectl reads manifests through YAML into float64s, so it sends the literal 1e+30.
    assert 'Error from server (BadRequest): error when creating' in proc.stderr
    assert 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 1e+30 ' \
           "into Go struct field DeploymentSpec.spec.replicas of type int32" in proc.stderr


# --- dryRun ------------------------------------------------------------------------------

def test_dry_run_scale_put_and_patch_store_nothing(api_client, sandbox, namespace):
    from kubernetes import client
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("web", 1))
    wait_for(lambda: len(_objects(sandbox, "pods", namespace)) == 1)
    rv = apps.read_namespaced_deployment("web", namespace).metadata.resource_version
    scale = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 7}}, dry_run="All")
    assert scale.spec.replicas == 7
    put = apps.replace_namespaced_deployment_scale(
        "web", namespace, {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"},
                           "spec": {"replicas": 9}}, dry_run="All")
    assert put.spec.replicas == 9
    live = apps.read_namespaced_deployment("web", namespace)
    assert live.spec.replicas == 1 and live.metadata.resource_version == rv
    assert [rs["spec"]["replicas"] for rs in _objects(sandbox, "replicasets", namespace)] == [1]
    assert len(_objects(sandbox, "pods", namespace)) == 1


def test_kubectl_scale_dry_run_server(kubectl, api_client, namespace):
    from kubernetes import client
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("web", 1))
    proc = kubectl("scale", "-n", namespace, "deployment/web", "--replicas=5", "--dry-run=server")
    assert "deployment.apps/web scaled (server dry run)" in proc.stdout
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1


def test_dry_run_status_create_patch_delete(api_client, sandbox, namespace):
    from kubernetes import client
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("web", 1))
    before = apps.read_namespaced_deployment("web", namespace)
    # status subresource
    status = apps.patch_namespaced_deployment_status("web", namespace, {"status": {"replicas": 42}},
                                                     dry_run="All")
    assert status.status.replicas == 42
    # patch of the main resource
    patched = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 4}}, dry_run="All")
    assert patched.spec.replicas == 4
    after = apps.read_namespaced_deployment("web", namespace)
    assert after.metadata.resource_version == before.metadata.resource_version
    # create
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}}, dry_run="All")
    assert created.metadata.uid
    # (Every namespace holds kube-root-ca.crt, from the root-CA publisher.)
    assert [o for o in _objects(sandbox, "configmaps", namespace) if o["metadata"]["name"] != "kube-root-ca.crt"] \
        == []
    # delete
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "kept"}})
    core.delete_namespaced_config_map("kept", namespace, dry_run="All")
    assert core.read_namespaced_config_map("kept", namespace).metadata.name == "kept"
    apps.delete_namespaced_deployment("web", namespace, dry_run="All")
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1


@pytest.mark.parametrize("method,kind", [("POST", "CreateOptions"), ("PATCH", "PatchOptions"),
                                         ("DELETE", "DeleteOptions")])
def test_unknown_dry_run_value_is_refused(api_client, namespace, method, kind):
    """ValidateDryRun (apimachinery/pkg/apis/meta/v1/validation): only "All" is known, and
    the handlers answer 422 on the request's options kind."""
    from kubernetes import client
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    path = f"/api/v1/namespaces/{namespace}/configmaps" + ("" if method == "POST" else "/cm")
    body = {"metadata": {"name": "cm2"}} if method == "POST" else {}
    status, answer = _call(api_client, method, path, body,
                           content_type="application/merge-patch+json" if method == "PATCH" else "application/json",
                           query=[("dryRun", "Yes")])
    assert status == 422
    assert answer["message"] == (f'{kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                                 '["Yes"]: supported values: "All"')
    names = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    assert [n for n in names if n != "kube-root-ca.crt"] == ["cm"]     # (that one: the root-CA publisher's)


def test_strategic_merge_patch_with_1e30_shows_the_patch_map(api_client, namespace):
    """The Python client patches with a strategic merge patch: the 422 prints the patch as
    Go's %+v of the decoded map (smpPatcher), as live clusters show `map[spec:map[...]]`."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("web", 1))
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": HUGE}})
    body = json.loads(err.value.body)
    assert err.value.status == 422
    assert body["message"].startswith(' "" is invalid: patch: Invalid value: "map[spec:map[replicas:1e+30]]": ')
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1
