"""Protobuf request bodies: kubectl 1.32+ `create` generators against the sandbox, and
the wire-format reader on hand-built and malformed bytes."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from labkit.sandbox.apiserver import _protobuf
from labkit.sandbox.apis._errors import ApiError
from tests.conftest import wait_for


# --- a minimal encoder, only to build test inputs ---------------------------------------
def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vfield(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def lfield(number: int, payload: bytes | str) -> bytes:
    payload = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = lfield(1, api_version) + lfield(2, kind)
    return _protobuf.MAGIC + lfield(1, type_meta) + lfield(2, raw) + lfield(3, "") + lfield(4, "")


def entry(key: str, value: bytes | str) -> bytes:
    return lfield(1, key) + lfield(2, value)


def meta(name: str, **labels: str) -> bytes:
    # the Go encoder writes every non-pointer field, empty ones included
    body = lfield(1, name) + lfield(2, "") + lfield(3, "") + vfield(7, 0) + lfield(8, b"")
    return body + b"".join(lfield(11, entry(k, v)) for k, v in labels.items())


# --- the reader -------------------------------------------------------------------------
def test_namespace_decodes_like_kubectls_json():
    body = envelope("v1", "Namespace", lfield(1, meta("demo")) + lfield(2, b"") + lfield(3, b""))
    assert _protobuf.decode(body, "Namespace") == {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}, "spec": {}, "status": {}}


def test_zero_pointer_fields_are_kept_and_zero_plain_fields_dropped():
    container = lfield(1, "c") + lfield(2, "busybox") + lfield(5, "") + lfield(8, b"") + vfield(16, 0)
    template = lfield(1, meta("", app="x")) + lfield(2, lfield(2, container) + lfield(3, ""))
    spec = vfield(1, 0) + lfield(2, lfield(1, entry("app", "x"))) + lfield(3, template) + vfield(5, 0)
    obj = _protobuf.decode(envelope("apps/v1", "Deployment", lfield(1, meta("d")) + lfield(2, spec)))
    assert obj["spec"]["replicas"] == 0          # *int32: zero is a value, not "unset"
    assert "minReadySeconds" not in obj["spec"]
    assert obj["spec"]["template"]["spec"]["containers"] == [
        {"name": "c", "image": "busybox", "resources": {}}]
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "x"}}


def test_int_or_string_negative_ints_time_and_quantities():
    port = lfield(1, "http") + lfield(2, "TCP") + vfield(3, 80) + lfield(4, vfield(1, 1) + lfield(3, "web"))
    svc = envelope("v1", "Service", lfield(1, meta("s")) + lfield(2, lfield(1, port) + vfield(12, -1)))
    spec = _protobuf.decode(svc)["spec"]
    assert spec["ports"][0]["targetPort"] == "web"
    assert spec["healthCheckNodePort"] == -1     # ten-byte two's complement varint
    stamp = lfield(1, "n") + lfield(8, vfield(1, 1700000000))
    resources = lfield(2, entry("cpu", lfield(1, "250m")))
    pod = lfield(1, stamp) + lfield(2, lfield(2, lfield(1, "c") + lfield(8, resources)))
    obj = _protobuf.decode(envelope("v1", "Pod", pod))
    assert obj["metadata"]["creationTimestamp"] == "2023-11-14T22:13:20Z"
    assert obj["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "250m"}}


def test_inlined_reference_and_configmap_binary_data():
    env = lfield(1, "X") + lfield(3, lfield(3, lfield(1, lfield(1, "cfg")) + lfield(2, "k")))
    obj = _protobuf.decode(envelope("v1", "Pod", lfield(2, lfield(2, lfield(1, "c") + lfield(7, env)))))
    assert obj["spec"]["containers"][0]["env"] == [
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]
    cm = _protobuf.decode(envelope("v1", "ConfigMap", lfield(1, meta("c")) + lfield(3, entry("b", b"\x00\xff"))))
    assert cm["binaryData"] == {"b": "AP8="}


def test_unknown_fields_are_skipped_and_listed():
    unknown: list[str] = []
    raw = lfield(1, meta("cfg") + lfield(99, "future")) + lfield(2, entry("a", "b")) + vfield(50, 7)
    obj = _protobuf.decode(envelope("v1", "ConfigMap", raw), "ConfigMap", unknown)
    assert obj["data"] == {"a": "b"} and obj["metadata"] == {"name": "cfg"}
    assert unknown == ["ObjectMeta.99", "ConfigMap.50"]


@pytest.mark.parametrize("raw, reason", [
    (lfield(1, meta("d"))[:-1], "unexpected EOF"),                  # length beyond the end
    (lfield(1, meta("d")) + b"\x10\xff", "unexpected EOF"),          # truncated varint
    (b"\x10" + b"\xff" * 10 + b"\x01", "proto: integer overflow"),
    (vfield(1, 3), "proto: wrong wireType = 0 for field Metadata"),
    (b"\x0c", "proto: Deployment: wiretype end group for non-group"),
])
def test_malformed_object_is_400_as_the_api_server_words_it(raw, reason):
    with pytest.raises(ApiError) as e:
        _protobuf.decode(envelope("apps/v1", "Deployment", raw), "Deployment")
    assert (e.value.code, e.value.reason) == (400, "BadRequest")
    # apiserver handlers/rest.go transformDecodeError, with the envelope's kind known
    assert e.value.message == f'Deployment in version "v1" cannot be handled as a Deployment: {reason}'


def test_missing_magic_and_broken_envelope_are_400():
    with pytest.raises(ApiError) as e:
        _protobuf.decode(b'{"kind":"Namespace"}', "Namespace")
    assert e.value.code == 400 and e.value.message == (
        "the object provided is unrecognized (must be of type Namespace): provided data does not appear "
        'to be a protobuf message, expected prefix [107 56 115 0] ({"kind":"Namespace"})')
    with pytest.raises(ApiError) as e:
        _protobuf.decode(_protobuf.MAGIC + b"\x0a\x05\x0a", "Namespace")
    assert e.value.message.startswith(
        "the object provided is unrecognized (must be of type Namespace): unexpected EOF (6b3873000a050a")
    with pytest.raises(ApiError) as e:
        _protobuf.decode(envelope("v1", "Frobnicator", b""), "Namespace")
    assert e.value.message.startswith('Frobnicator in version "v1" cannot be handled as a Namespace: no kind')


# --- the real kubectl against the sandbox -----------------------------------------------
def get(kubectl, *args) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def test_create_deployment_runs_its_pods(kubectl, namespace):
    out = kubectl("create", "deployment", "hello", "--image=nginxdemos/hello:plain-text", "--replicas=2",
                  "--port=80", "-n", namespace)
    assert out.stdout == "deployment.apps/hello created\n"
    d = get(kubectl, "deploy", "hello", "-n", namespace)
    assert d["metadata"]["labels"] == {"app": "hello"}
    assert d["spec"]["replicas"] == 2 and d["spec"]["selector"] == {"matchLabels": {"app": "hello"}}
    (c,) = d["spec"]["template"]["spec"]["containers"]
    assert (c["name"], c["image"], c["ports"][0]["containerPort"]) == ("hello", "nginxdemos/hello:plain-text", 80)
    assert c["ports"][0]["protocol"] == "TCP"            # API defaulting still applies
    pods = wait_for(lambda: [p for p in get(kubectl, "pods", "-l", "app=hello", "-n", namespace)["items"]
                             if p["status"].get("phase") == "Running"] or None)
    assert len(pods) == 2
    # `expose` sends JSON; the Service it builds follows the deployment's selector
    kubectl("expose", "deployment", "hello", "--port", "80", "-n", namespace)
    svc = get(kubectl, "svc", "hello", "-n", namespace)
    assert svc["spec"]["selector"] == {"app": "hello"} and svc["spec"]["ports"][0]["targetPort"] == 80


def test_create_deployment_with_command(kubectl, namespace):
    kubectl("create", "deployment", "sleeper", "--image=busybox", "-n", namespace, "--", "sleep", "3600")
    (c,) = get(kubectl, "deploy", "sleeper", "-n", namespace)["spec"]["template"]["spec"]["containers"]
    assert (c["name"], c["command"]) == ("busybox", ["sleep", "3600"]) and "args" not in c
    kubectl("create", "deployment", "idle", "--image=busybox", "--replicas=0", "-n", namespace)
    assert get(kubectl, "deploy", "idle", "-n", namespace)["spec"]["replicas"] == 0   # not defaulted to 1
    assert kubectl("create", "serviceaccount", "robot", "-n", namespace).stdout == "serviceaccount/robot created\n"


def test_create_namespace_and_configmaps(kubectl, namespace, tmp_path):
    name = f"{namespace}-demo"
    assert kubectl("create", "namespace", name).stdout == f"namespace/{name} created\n"
    assert get(kubectl, "namespace", name)["status"]["phase"] == "Active"
    kubectl("create", "configmap", "cfg", "--from-literal=a=b", "--from-literal=c=d", "-n", namespace)
    assert get(kubectl, "cm", "cfg", "-n", namespace)["data"] == {"a": "b", "c": "d"}
    (tmp_path / "app.conf").write_text("listen 80;\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\xff")
    kubectl("create", "configmap", "files", f"--from-file={tmp_path / 'app.conf'}",
            f"--from-file={tmp_path / 'blob.bin'}", "-n", namespace)
    cm = get(kubectl, "cm", "files", "-n", namespace)
    assert cm["data"] == {"app.conf": "listen 80;\n"} and cm["binaryData"] == {"blob.bin": "AP8="}


@pytest.mark.parametrize("args, expected_type, port", [
    (("clusterip", "svc1", "--tcp=80:8080"), "ClusterIP", {"name": "80-8080", "port": 80, "targetPort": 8080}),
    (("nodeport", "svc1", "--tcp=80:http", "--node-port=30080"), "NodePort",
     {"name": "80-http", "port": 80, "targetPort": "http", "nodePort": 30080}),
    (("loadbalancer", "svc1", "--tcp=443:8443"), "LoadBalancer",
     {"name": "443-8443", "port": 443, "targetPort": 8443}),
])
def test_create_service(kubectl, namespace, args, expected_type, port):
    kubectl("create", "service", *args, "-n", namespace)
    svc = get(kubectl, "svc", "svc1", "-n", namespace)
    assert svc["spec"]["type"] == expected_type
    assert svc["spec"]["selector"] == {"app": "svc1"} and svc["metadata"]["labels"] == {"app": "svc1"}
    assert {k: svc["spec"]["ports"][0][k] for k in port} == port
    assert svc["spec"]["ports"][0]["protocol"] == "TCP"
    assert svc["spec"]["clusterIP"].startswith("10.0.0.")


def test_create_headless_and_externalname_services(kubectl, namespace):
    kubectl("create", "service", "clusterip", "hl", "--clusterip=None", "-n", namespace)
    assert get(kubectl, "svc", "hl", "-n", namespace)["spec"]["clusterIP"] == "None"
    kubectl("create", "service", "externalname", "ext", "--external-name=example.com", "-n", namespace)
    spec = get(kubectl, "svc", "ext", "-n", namespace)["spec"]
    assert (spec["type"], spec["externalName"]) == ("ExternalName", "example.com")


def test_server_dry_run_prints_yaml_and_stores_nothing(kubectl, namespace):
    out = kubectl("create", "deployment", "dry", "--image=busybox", "--dry-run=server", "-o", "yaml",
                  "-n", namespace).stdout
    obj = yaml.safe_load(out)
    assert obj["kind"] == "Deployment" and obj["metadata"]["namespace"] == namespace
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox"
    # server-side defaulting, which a client-side dry run would not show
    assert obj["spec"]["strategy"] == {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    gone = kubectl("get", "deploy", "dry", "-n", namespace, check=False)
    assert gone.returncode == 1 and 'deployments.apps "dry" not found' in gone.stderr


def test_malformed_protobuf_over_http_is_a_status(sandbox, namespace):
    ctx = ssl.create_default_context(cafile=str(sandbox.ca_file))
    body = envelope("v1", "ConfigMap", lfield(1, meta("x"))[:-2])
    request = urllib.request.Request(
        f"{sandbox.server}/api/v1/namespaces/{namespace}/configmaps", data=body, method="POST",
        headers={"Content-Type": _protobuf.CONTENT_TYPE, "Authorization": f"Bearer {sandbox.token}"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, context=ctx, timeout=10)
    status = json.loads(e.value.read())
    assert (e.value.code, status["kind"], status["reason"]) == (400, "Status", "BadRequest")
    assert status["message"] == 'ConfigMap in version "v1" cannot be handled as a ConfigMap: unexpected EOF'
