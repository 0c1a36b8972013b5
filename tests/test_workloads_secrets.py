"""Secrets as kube-apiserver serves them: `kubectl create secret generic|tls|docker-registry`,
stringData folded into data, base64 checked by the decoder, and the keys each type requires
in pkg/apis/core/validation ValidateSecret's words."""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _self_signed(tmp_path):
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web.example")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=36500))
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "tls.crt", tmp_path / "tls.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


def test_kubectl_create_secret_kinds_and_get_table(kubectl, namespace, tmp_path):
    kubectl("create", "secret", "generic", "db", "--from-literal=user=admin", "--from-literal=password=s3cret",
            "-n", namespace)
    crt, key = _self_signed(tmp_path)
    kubectl("create", "secret", "tls", "web-tls", f"--cert={crt}", f"--key={key}", "-n", namespace)
    kubectl("create", "secret", "docker-registry", "regcred", "--docker-server=registry.example",
            "--docker-username=u", "--docker-password=p", "-n", namespace)
    db = json.loads(kubectl("get", "secret", "db", "-n", namespace, "-o", "json").stdout)
    assert db["type"] == "Opaque"
    assert base64.b64decode(db["data"]["password"]) == b"s3cret"
    reg = json.loads(kubectl("get", "secret", "regcred", "-n", namespace, "-o", "json").stdout)
    assert reg["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(reg["data"][".dockerconfigjson"]))["auths"]
    assert auths["registry.example"]["username"] == "u"
    table = kubectl("get", "secrets", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in table[1:]}
    assert rows["db"] == ["Opaque", "2"]
    assert rows["web-tls"] == ["kubernetes.io/tls", "2"]
    assert rows["regcred"] == ["kubernetes.io/dockerconfigjson", "1"]


def test_string_data_is_folded_into_data(api_client, namespace):
    from kubernetes import client
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "data": {"a": _b64("old")},
                                              "stringData": {"a": "new", "b": "two"}})
    got = core.read_namespaced_secret("s", namespace)
    assert got.string_data is None and got.type == "Opaque"
    assert {k: base64.b64decode(v).decode() for k, v in got.data.items()} == {"a": "new", "b": "two"}


def _create_error(api_client, namespace, body):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(api_client).create_namespaced_secret(namespace, body)
    return info.value.status, json.loads(info.value.body)


def test_bad_base64_fails_decoding_as_the_api_server_does(api_client, namespace):
    status, body = _create_error(api_client, namespace, {"metadata": {"name": "s"}, "data": {"k": "abcde"}})
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ('Secret in version "v1" cannot be handled as a Secret: '
                               "illegal base64 data at input byte 4")


def test_type_specific_keys_are_required(api_client, namespace):
    status, body = _create_error(api_client, namespace, {
        "metadata": {"name": "t"}, "type": "kubernetes.io/tls", "data": {"tls.crt": _b64("x")}})
    assert status == 422
    assert body["message"] == 'Secret "t" is invalid: data[tls.key]: Required value'
    status, body = _create_error(api_client, namespace, {
        "metadata": {"name": "d"}, "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64("[")}})
    assert body["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "data[.dockerconfigjson]",
                                          "message": "Invalid value: \"<secret contents redacted>\": "
                                                     "unexpected end of JSON input"}]
    status, body = _create_error(api_client, namespace, {"metadata": {"name": "k"}, "data": {"a b": _b64("x")}})
    assert body["details"]["causes"][0]["field"] == "data[a b]"
    assert "a valid config key must consist of alphanumeric characters" in body["message"]


def test_type_is_immutable(api_client, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "stringData": {"a": "1"}})
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_secret("s", namespace, {"type": "kubernetes.io/basic-auth",
                                                      "stringData": {"username": "u"}})
    assert info.value.status == 422
    assert 'type: Invalid value: "kubernetes.io/basic-auth": field is immutable' in json.loads(info.value.body)["message"]
