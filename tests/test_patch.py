"""PATCH semantics: RFC 7386, strategic merge patch, RFC 6902, server-side apply.

Expected results follow apimachinery's strategicpatch (patch.go, patch_test.go)
and the apiserver's patch handler (endpoints/handlers/patch.go).
"""
import copy
import json

import pytest

from labkit.sandbox.registry._patch import (APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH,
                                            PatchError, apply_patch, decode_patch, json_patch,
                                            merge_patch, server_side_apply)
from labkit.sandbox.registry._strategic import list_merge_key, strategic_merge_patch

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def deployment(**spec_overrides):
    obj = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "namespace": "default",
                     "labels": {"app": "web"}, "resourceVersion": "7"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "hello:1",
                         "ports": [{"containerPort": 80, "protocol": "TCP"},
                                   {"containerPort": 8080, "name": "metrics", "protocol": "TCP"}],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "args": ["--x", "--y"],
                         "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                },
            },
        },
    }
    obj["spec"].update(spec_overrides)
    return obj


def service():
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web-svc", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "clusterIP": "None",
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}]},
    }


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def names(items, key="name"):
    return [i[key] for i in items]


# ---------------------------------------------------------------- RFC 7386

# RFC 7386 Appendix A, every example.
RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target,patch,expected", RFC7386)
def test_merge_patch_rfc7386_appendix_a(target, patch, expected):
    assert merge_patch(target, patch) == expected


def test_merge_patch_scale_and_label_like_kubectl():
    obj = deployment()
    # kubectl scale on /scale and kubectl label send merge patches
    out = merge_patch(obj, {"spec": {"replicas": 3}, "metadata": {"labels": {"tier": "fe", "app": None}}})
    assert out["spec"]["replicas"] == 3
    assert out["metadata"]["labels"] == {"tier": "fe"}
    # lists are replaced wholesale by a merge patch
    out = merge_patch(obj, {"spec": {"template": {"spec": {"containers": [{"name": "web"}]}}}})
    assert pod_spec(out)["containers"] == [{"name": "web"}]
    assert obj == deployment()  # input untouched


# ---------------------------------------------------------------- strategic merge patch

def test_added_container_is_listed_first_like_kubectl_patch():
    # The "Update API Objects in Place Using kubectl patch" task: patching in
    # patch-demo-ctr-2 lists it before the existing container.
    live = {"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr",
                                                           "image": "nginx"}]}}}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2",
                                                            "image": "redis"}]}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert names(pod_spec(out)["containers"]) == ["patch-demo-ctr-2", "patch-demo-ctr"]


def test_set_image_changes_one_container_and_keeps_the_other():
    live = deployment()
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "hello:2"}]}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    containers = pod_spec(out)["containers"]
    assert names(containers) == ["web", "sidecar"]
    assert containers[0]["image"] == "hello:2"
    assert containers[0]["ports"] == pod_spec(live)["containers"][0]["ports"]
    assert containers[1] == {"name": "sidecar", "image": "busybox:1.36"}
    assert live == deployment()


def test_kubectl_apply_patch_with_set_element_order_and_delete():
    # What kubectl apply sends after removing the sidecar and adding "init" first.
    live = deployment()
    patch = {
        "metadata": {"annotations": {LAST_APPLIED: '{"kind":"Deployment","spec":{"replicas":2}}\n'}},
        "spec": {"replicas": 2, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "init"}, {"name": "web"}],
            "containers": [{"name": "init", "image": "busybox"},
                           {"name": "sidecar", "$patch": "delete"}],
        }}},
    }
    out = strategic_merge_patch(live, patch, "Deployment")
    assert names(pod_spec(out)["containers"]) == ["init", "web"]
    assert pod_spec(out)["containers"][1]["image"] == "hello:1"
    assert out["metadata"]["annotations"][LAST_APPLIED] == \
        '{"kind":"Deployment","spec":{"replicas":2}}\n'
    assert out["spec"]["replicas"] == 2


def test_set_element_order_reorders_without_content_change():
    live = deployment()
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert names(pod_spec(out)["containers"]) == ["sidecar", "web"]


def test_set_element_order_from_upstream_example():
    live = {"spec": {"containers": [{"name": "1"}, {"name": "2"}, {"name": "3"}]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "4"}, {"name": "2"},
                                                      {"name": "3"}, {"name": "1"}],
                      "containers": [{"name": "4", "image": "x"}]}}
    out = strategic_merge_patch(live, patch, "Pod")
    assert names(out["spec"]["containers"]) == ["4", "2", "3", "1"]


def test_patch_delete_removes_a_container_port_by_container_port():
    live = deployment()
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "ports": [{"containerPort": 8080, "$patch": "delete"}]}]}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert pod_spec(out)["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_service_ports_merge_by_port():
    live = service()
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 8080},
                                {"name": "https", "port": 443, "targetPort": 8443}]}}
    out = strategic_merge_patch(live, patch, "Service")
    assert out["spec"]["ports"] == [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
        {"name": "https", "port": 443, "targetPort": 8443},
    ]
    assert out["spec"]["selector"] == {"app": "web"}


@pytest.mark.parametrize("kind,path,expected", [
    ("Pod", ("spec", "containers"), ("merge", "name")),
    ("Pod", ("spec", "initContainers"), ("merge", "name")),
    ("Pod", ("spec", "ephemeralContainers"), ("merge", "name")),
    ("Pod", ("spec", "containers", "ports"), ("merge", "containerPort")),
    ("Pod", ("spec", "containers", "env"), ("merge", "name")),
    ("Pod", ("spec", "containers", "volumeMounts"), ("merge", "mountPath")),
    ("Pod", ("spec", "volumes"), ("merge", "name")),
    ("Pod", ("spec", "imagePullSecrets"), ("merge", "name")),
    ("Pod", ("spec", "hostAliases"), ("merge", "ip")),
    ("Pod", ("spec", "tolerations"), (None, None)),
    ("Pod", ("status", "conditions"), ("merge", "type")),
    ("Pod", ("metadata", "ownerReferences"), ("merge", "uid")),
    ("Pod", ("metadata", "finalizers"), ("merge", None)),
    ("Deployment", ("spec", "template", "spec", "containers"), ("merge", "name")),
    ("ReplicaSet", ("spec", "template", "spec", "containers", "env"), ("merge", "name")),
    ("Deployment", ("status", "conditions"), ("merge", "type")),
    ("Service", ("spec", "ports"), ("merge", "port")),
    ("Node", ("status", "addresses"), ("merge", "type")),
    ("Endpoints", ("subsets",), (None, None)),
    ("EndpointSlice", ("endpoints",), (None, None)),
])
def test_merge_keys_by_field_path(kind, path, expected):
    assert list_merge_key(kind, path) == expected


def test_env_volume_mounts_and_volumes_merge_by_their_keys():
    live = deployment()
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "web",
                        "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                        "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]}],
        "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}],
    }}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    web = pod_spec(out)["containers"][0]
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "20"},
                          {"name": "C", "value": "3"}]
    # New items go before live-only ones (mergeSortedSlice; the kubectl patch task page
    # shows an added container listed first).
    assert names(web["volumeMounts"], "mountPath") == ["/etc/cfg", "/data"]
    assert names(pod_spec(out)["volumes"]) == ["cfg", "data"]


def test_lists_without_strategy_are_replaced():
    live = deployment()
    patch = {"spec": {"template": {"spec": {
        "tolerations": [{"key": "b", "operator": "Exists"}],
        "containers": [{"name": "web", "args": ["--z"]}]}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert pod_spec(out)["tolerations"] == [{"key": "b", "operator": "Exists"}]
    assert pod_spec(out)["containers"][0]["args"] == ["--z"]


def test_endpoints_subsets_are_replaced():
    live = {"kind": "Endpoints", "metadata": {"name": "web-svc"},
            "subsets": [{"addresses": [{"ip": "10.10.100.1"}], "ports": [{"port": 80}]}]}
    patch = {"subsets": [{"addresses": [{"ip": "10.10.100.2"}]}]}
    out = strategic_merge_patch(live, patch, "Endpoints")
    assert out["subsets"] == [{"addresses": [{"ip": "10.10.100.2"}]}]


def test_null_deletes_fields_and_maps_merge():
    live = deployment()
    patch = {"metadata": {"labels": {"app": None, "tier": "fe"}, "annotations": {"x": None}},
             "spec": {"strategy": {"rollingUpdate": None}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert out["metadata"]["labels"] == {"tier": "fe"}
    assert out["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_rollout_restart_patch_adds_template_annotation():
    live = deployment()
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"}}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert out["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"}}


def test_patch_replace_on_a_list_and_on_a_map():
    live = deployment()
    patch = {"metadata": {"labels": {"$patch": "replace", "only": "this"}},
             "spec": {"template": {"spec": {"containers": [
                 {"$patch": "replace"}, {"name": "solo", "image": "x"}]}}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert out["metadata"]["labels"] == {"only": "this"}
    assert pod_spec(out)["containers"] == [{"name": "solo", "image": "x"}]


def test_patch_delete_on_a_map_empties_it():
    live = deployment()
    out = strategic_merge_patch(live, {"spec": {"strategy": {"$patch": "delete"}}}, "Deployment")
    assert out["spec"]["strategy"] == {}


def test_finalizers_are_a_merged_set_and_delete_from_primitive_list():
    live = {"metadata": {"name": "x", "finalizers": ["a", "b", "c"]}}
    out = strategic_merge_patch(live, {"metadata": {"finalizers": ["d", "b"]}}, "ConfigMap")
    # upstream order: patch items by patch order interleaved with live order
    assert out["metadata"]["finalizers"] == ["d", "a", "b", "c"]
    out = strategic_merge_patch(
        live, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}}, "ConfigMap")
    assert out["metadata"]["finalizers"] == ["a", "c"]
    out = strategic_merge_patch(
        {"metadata": {}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}, "Pod")
    assert out == {"metadata": {}}


def test_retain_keys_clears_fields_not_listed():
    live = deployment()
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    out = strategic_merge_patch(live, patch, "Deployment")
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_must_cover_the_patch():
    live = deployment()
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate",
                                   "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(PatchError) as exc:
        strategic_merge_patch(live, patch, "Deployment")
    assert (exc.value.reason, exc.value.code) == ("BadRequest", 400)
    assert exc.value.message == "invalid patch format of retainKeys"


def test_status_conditions_merge_by_type():
    live = {"kind": "Pod", "metadata": {"name": "p"},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False"}]}}
    patch = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                        "podIPs": [{"ip": "10.10.100.37"}]}}
    out = strategic_merge_patch(live, patch, "Pod")
    assert out["status"]["conditions"] == [{"type": "PodScheduled", "status": "True"},
                                           {"type": "Ready", "status": "True"}]
    assert out["status"]["phase"] == "Running"


def test_owner_references_merge_by_uid_and_host_aliases_by_ip():
    live = {"metadata": {"ownerReferences": [{"uid": "u1", "name": "rs-1", "kind": "ReplicaSet"}]},
            "spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "u2", "name": "rs-2", "kind": "ReplicaSet"}]},
             "spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}]}}
    out = strategic_merge_patch(live, patch, "Pod")
    assert names(out["metadata"]["ownerReferences"], "uid") == ["u2", "u1"]
    assert out["spec"]["hostAliases"] == [{"ip": "10.0.0.1", "hostnames": ["b"]}]


def test_new_list_from_patch_drops_directive_elements():
    live = {"spec": {}}
    patch = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "$patch": "delete"}]}}
    out = strategic_merge_patch(live, patch, "Pod")
    assert out["spec"]["containers"] == [{"name": "a", "image": "x"}]


def test_strategic_merge_does_not_mutate_inputs():
    live, patch = deployment(), {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    before = copy.deepcopy(patch)
    strategic_merge_patch(live, patch, "Deployment")
    assert live == deployment() and patch == before


@pytest.mark.parametrize("patch,reason,code,message", [
    ({"spec": {"$patch": "merge"}}, "", 500, "unknown patch type: merge in map: map[$patch:merge]"),
    ({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, "", 500,
     "map: map[image:x] does not contain declared merge key: name"),
    ({"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}}, "", 500,
     "merging lists cannot yet be specified in the patch"),
    ({"spec": {"$setElementOrder": []}}, "BadRequest", 400,
     "invalid patch format of setElementOrder list"),
    ({"spec": {"strategy": {"$retainKeys": "type"}}}, "BadRequest", 400,
     "invalid patch format of retainKeys"),
])
def test_strategic_merge_errors_as_the_apiserver_reports_them(patch, reason, code, message):
    with pytest.raises(PatchError) as exc:
        strategic_merge_patch(deployment(), patch, "Deployment")
    assert (exc.value.reason, exc.value.code, exc.value.message) == (reason, code, message)


# ---------------------------------------------------------------- RFC 6902

def test_json_patch_operations():
    live = deployment()
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/tier", "value": "fe"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "web"},
        {"op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/copy"},
        {"op": "move", "from": "/metadata/labels/copy", "path": "/metadata/labels/moved"},
        {"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--z"},
    ]
    out = json_patch(live, ops)
    assert out["spec"]["replicas"] == 3
    assert out["metadata"]["labels"] == {"app": "web", "tier": "fe", "moved": "web"}
    assert names(pod_spec(out)["containers"]) == ["web"]
    assert pod_spec(out)["containers"][0]["args"] == ["--x", "--y", "--z"]
    assert live == deployment()


@pytest.mark.parametrize("ops", [
    [{"op": "test", "path": "/spec/replicas", "value": 5}],
    [{"op": "remove", "path": "/spec/nothing"}],
    [{"op": "replace", "path": "/metadata/labels/missing", "value": "x"}],
    [{"op": "add", "path": "/no/such/parent", "value": 1}],
    [{"op": "frobnicate", "path": "/spec"}],
])
def test_json_patch_failures_are_422_with_the_generic_message(ops):
    with pytest.raises(PatchError) as exc:
        json_patch(deployment(), ops)
    assert (exc.value.reason, exc.value.code) == ("Invalid", 422)
    assert exc.value.message == "the server rejected our request due to an error in our request"
    assert exc.value.detail


def test_json_patch_body_must_be_a_list():
    with pytest.raises(PatchError) as exc:
        json_patch(deployment(), {"op": "add"})
    assert exc.value.reason == "BadRequest"
    assert exc.value.message == "json: cannot unmarshal object into Go value of type jsonpatch.Patch"


# ---------------------------------------------------------------- server-side apply

def test_server_side_apply_creates_when_missing():
    applied = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-svc"},
               "spec": {"clusterIP": "None", "ports": [{"port": 80}], "selector": {"app": "web"}}}
    out = server_side_apply(None, applied, "Service")
    assert out == applied and out is not applied


def test_server_side_apply_merges_into_live():
    live = deployment()
    live["metadata"]["finalizers"] = ["a"]
    applied = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "nginx-deployment", "labels": {"tier": "fe"},
                            "finalizers": ["b"]},
               "spec": {"replicas": 3, "template": {"spec": {
                   "containers": [{"name": "web", "image": "hello:2", "args": ["--only"],
                                   "ports": [{"containerPort": 9090}]}],
                   "tolerations": []}}}}
    out = server_side_apply(live, applied, "Deployment")
    assert out["spec"]["replicas"] == 3
    assert out["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    assert out["metadata"]["finalizers"] == ["a", "b"]
    web, sidecar = pod_spec(out)["containers"]
    assert (web["image"], web["args"]) == ("hello:2", ["--only"])
    assert [p["containerPort"] for p in web["ports"]] == [80, 8080, 9090]
    assert sidecar["name"] == "sidecar"  # no ownership tracking: kept
    assert pod_spec(out)["tolerations"] == []
    assert live["spec"]["replicas"] == 1


def test_server_side_apply_refuses_managed_fields():
    with pytest.raises(PatchError) as exc:
        server_side_apply(None, {"metadata": {"name": "x", "managedFields": [{"manager": "m"}]}}, "Pod")
    assert (exc.value.reason, exc.value.message) == ("BadRequest", "metadata.managedFields must be nil")


# ---------------------------------------------------------------- decoding and dispatch

def test_decode_each_content_type():
    assert decode_patch("application/merge-patch+json", b'{"spec":{"replicas":2}}') == \
        (MERGE_PATCH, {"spec": {"replicas": 2}})
    assert decode_patch("application/strategic-merge-patch+json; charset=utf-8", b'{"a":1}') == \
        (STRATEGIC_MERGE_PATCH, {"a": 1})
    assert decode_patch("application/json-patch+json", b'[{"op":"remove","path":"/a"}]') == \
        (JSON_PATCH, [{"op": "remove", "path": "/a"}])


def test_decode_apply_accepts_yaml_and_json_and_keeps_scalars_as_the_apiserver():
    yaml_body = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
                 b"data:\n  when: 2024-05-01T10:00:00Z\n  time: 1:20\n  eq: =\n  port: 8080\n")
    kind, obj = decode_patch("application/apply-patch+yaml", yaml_body)
    assert kind == APPLY_PATCH
    assert obj["data"] == {"when": "2024-05-01T10:00:00Z", "time": "1:20", "eq": "=", "port": 8080}
    body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}).encode()
    assert decode_patch("application/apply-patch+yaml", body)[1]["metadata"] == {"name": "p"}


def test_unknown_content_type_is_415_with_the_apiserver_message():
    with pytest.raises(PatchError) as exc:
        decode_patch("application/json", b"{}")
    assert (exc.value.reason, exc.value.code) == ("UnsupportedMediaType", 415)
    assert exc.value.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml")


@pytest.mark.parametrize("ctype,body,message", [
    ("application/merge-patch+json", b"{not json", "invalid JSON patch"),
    ("application/strategic-merge-patch+json", b"{\"a\": NaN}", "invalid JSON patch"),
    ("application/strategic-merge-patch+json", b"[1]",
     "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ("application/json-patch+json", b'{"op":"add"}',
     "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
    ("application/apply-patch+yaml", b"- a\n- b\n",
     "error decoding patch: json: cannot unmarshal array into Go value of type "
     "map[string]interface {}"),
])
def test_malformed_bodies_are_bad_requests(ctype, body, message):
    with pytest.raises(PatchError) as exc:
        decode_patch(ctype, body)
    assert (exc.value.reason, exc.value.code, exc.value.message) == ("BadRequest", 400, message)


def test_malformed_yaml_is_a_bad_request():
    with pytest.raises(PatchError) as exc:
        decode_patch("application/apply-patch+yaml", b"a: [1, 2\nb: c\n")
    assert exc.value.reason == "BadRequest"
    assert exc.value.message.startswith("error encoding patch: yaml: ")


def test_apply_patch_dispatches_each_type():
    live = deployment()
    body = b'{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"hello:3"}]}}}}'
    ptype, decoded = decode_patch(STRATEGIC_MERGE_PATCH, body)
    out = apply_patch("Deployment", ptype, live, decoded)
    assert names(pod_spec(out)["containers"]) == ["web", "sidecar"]
    out = apply_patch("Deployment", MERGE_PATCH, live,
                      {"spec": {"template": {"spec": {"containers": [{"name": "web"}]}}}})
    assert names(pod_spec(out)["containers"]) == ["web"]
    out = apply_patch("Deployment", JSON_PATCH, live,
                      [{"op": "replace", "path": "/spec/replicas", "value": 4}])
    assert out["spec"]["replicas"] == 4
    created = apply_patch("ConfigMap", APPLY_PATCH, None, {"kind": "ConfigMap",
                                                           "metadata": {"name": "c"}})
    assert created["metadata"]["name"] == "c"


def test_apply_patch_needs_a_live_object_except_for_apply():
    with pytest.raises(PatchError) as exc:
        apply_patch("Pod", MERGE_PATCH, None, {"a": 1})
    assert (exc.value.reason, exc.value.code) == ("NotFound", 404)


def test_patch_that_turns_the_object_into_a_list_is_invalid():
    with pytest.raises(PatchError) as exc:
        apply_patch("Pod", MERGE_PATCH, {"metadata": {"name": "p"}}, [1])
    assert (exc.value.reason, exc.value.code) == ("Invalid", 422)
