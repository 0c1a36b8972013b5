"""Field validation typed by the release's OpenAPI definitions, worded as kube-apiserver's decoder.

The decoder is sigs.k8s.io/json's fork of encoding/json (internal/golang/encoding/json/
decode.go); the types with their own UnmarshalJSON are k8s.io/apimachinery's
(pkg/api/resource/quantity.go, pkg/util/intstr/intstr.go, pkg/apis/meta/v1/time.go).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.sandbox.apis import _errors, _schema

ROOT = Path(__file__).resolve().parent.parent


def _error(kind: str, api_version: str, obj: dict, mode: str = "Strict") -> str:
    with pytest.raises(_errors.ApiError) as caught:
        _schema.check(kind, api_version, obj, mode)
    assert caught.value.code == 400 and caught.value.reason == "BadRequest"
    return caught.value.message


def _pod(**spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


# --- what stays as it was --------------------------------------------------------------------

def test_unknown_fields_per_mode():
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"replica": 2, "template": {"spec": {"containers": [{"name": "c", "imagePolicy": "x"}]}}}}
    assert _error("Deployment", "apps/v1", deploy) == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.replica", unknown field "spec.template.spec.containers[0].imagePolicy"')
    assert _schema.check("Deployment", "apps/v1", deploy, "Warn") == [
        'unknown field "spec.replica"', 'unknown field "spec.template.spec.containers[0].imagePolicy"']
    assert _schema.check("Deployment", "apps/v1", deploy, "") == _schema.check("Deployment", "apps/v1", deploy, "Warn")
    assert _schema.check("Deployment", "apps/v1", deploy, "Ignore") == []
    assert _error("Deployment", "apps/v1", deploy, "strict") == (
        'fieldValidation parameter unsupported: strict. Supported values are "Ignore", "Warn", "Strict"')


def test_field_names_are_case_sensitive():
    """sigs.k8s.io/json decodes case-sensitively: `Replicas` is not `replicas`."""
    assert _schema.check("Deployment", "apps/v1", {"spec": {"Replicas": 1}}, "Warn") == [
        'unknown field "spec.Replicas"']


def test_integer_literals_and_widths_as_encoding_json_words_them():
    assert _error("Deployment", "apps/v1", {"spec": {"replicas": 1.5}}).endswith(
        "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32")
    pod = _pod(terminationGracePeriodSeconds=2 ** 40)
    assert _schema.check("Pod", "v1", pod, "Strict") == []
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 2 ** 40}]
    assert _error("Pod", "v1", pod) == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number 1099511627776 into '
        "Go struct field ContainerPort.spec.containers.ports.containerPort of type int32")
    assert _error("Scale", "autoscaling/v1", {"spec": {"replicas": "3"}}, "Ignore").endswith(
        "json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32")


def test_a_type_error_fails_whatever_the_mode():
    for mode in ("Strict", "Warn", "Ignore"):
        assert "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas" in \
            _error("Deployment", "apps/v1", {"spec": {"replicas": "two", "typo": 1}}, mode)


def test_secret_data_is_base64():
    assert _error("Secret", "v1", {"data": {"a": "bad!"}}) == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3')
    assert _schema.check("Secret", "v1", {"data": {"a": "aGk=\n"}}, "Strict") == []


# --- what the client's models got wrong ------------------------------------------------------

def test_int64_comes_from_the_definitions_not_a_hand_kept_table():
    """batch/v1 CronJobSpec.startingDeadlineSeconds is an *int64 (format int64 in the
    definitions); the models said `int` and the old table did not list it, so it was int32."""
    cron = {"spec": {"startingDeadlineSeconds": 2 ** 40}}
    assert _schema.check("CronJob", "batch/v1", cron, "Strict") == []
    cron["spec"]["startingDeadlineSeconds"] = 2 ** 63
    assert _error("CronJob", "batch/v1", cron).endswith(
        f"cannot unmarshal number {2 ** 63} into Go struct field CronJobSpec.spec.startingDeadlineSeconds "
        "of type int64")


def test_named_types_are_written_as_reflect_names_them():
    """UnmarshalTypeError.Type.String(): package and name, `[]v1.Container`, `v1.ObjectMeta`."""
    assert _error("Pod", "v1", {"spec": {"containers": "web"}}).endswith(
        "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container")
    assert _error("ConfigMap", "v1", {"metadata": 1.5}).endswith(
        "json: cannot unmarshal number into Go struct field ConfigMap.metadata of type v1.ObjectMeta")
    assert _error("Deployment", "apps/v1", {"spec": {"template": []}}).endswith(
        "json: cannot unmarshal array into Go struct field DeploymentSpec.spec.template of type v1.PodTemplateSpec")


def test_map_keys_are_not_in_the_error_context():
    """decode.go object(): a map's key is never pushed on the field stack."""
    assert _error("ConfigMap", "v1", {"metadata": {"labels": {"app": 5}}}).endswith(
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string")


def test_a_number_is_a_quantity():
    """Quantity.UnmarshalJSON parses the raw JSON (a string's without quotes): `cpu: 1` is
    legal, which the models' dict(str, str) refused."""
    pod = _pod()
    pod["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 1, "memory": "64Mi"},
                                                 "requests": {"cpu": 0.5, "memory": 1e6}}
    assert _schema.check("Pod", "v1", pod, "Strict") == []


@pytest.mark.parametrize("quantity, message", [
    ("one", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    (True, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1ki", "unable to parse quantity's suffix"),
    ("5e", "unable to parse quantity's suffix"),
])
def test_a_bad_quantity_fails_as_parse_quantity_words_it(quantity, message):
    pod = _pod()
    pod["spec"]["containers"][0]["resources"] = {"limits": {"cpu": quantity}}
    assert _error("Pod", "v1", pod) == f'Pod in version "v1" cannot be handled as a Pod: {message}'


@pytest.mark.parametrize("quantity", ["100m", " 1Gi ", "1.5", ".5", "1e3", "2E", "1Ei", "0", "-1", "+1k"])
def test_quantities_parse_quantity_takes(quantity):
    pod = _pod()
    pod["spec"]["containers"][0]["resources"] = {"requests": {"memory": quantity}}
    assert _schema.check("Pod", "v1", pod, "Strict") == []


def test_int_or_string_takes_an_int32_or_a_string_only():
    """intstr.go UnmarshalJSON: not a string, so into IntVal (int32) with encoding/json; the
    models typed it `object` and let `true` through."""
    svc = {"spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8080}]}}
    assert _schema.check("Service", "v1", svc, "Strict") == []
    for bad, sent in ((True, "bool"), (1.5, "number 1.5"), ({}, "object"), (2 ** 31, f"number {2 ** 31}")):
        svc["spec"]["ports"][1]["targetPort"] = bad
        assert _error("Service", "v1", svc).endswith(
            f"json: cannot unmarshal {sent} into Go struct field ServicePort.spec.ports.targetPort of type int32")


def test_a_time_is_read_as_a_string_first():
    """metav1.Time UnmarshalJSON: json.Unmarshal into a string, so a number fails as `string`."""
    assert _error("ConfigMap", "v1", {"metadata": {"creationTimestamp": 5}}).endswith(
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string")


@pytest.mark.parametrize("stamp", ["2024-01-02T03:04:05Z", "2024-02-29T00:00:00.5+02:00", "2024-01-02T3:04:05Z",
                                   "2024-01-02T03:04:05,123456789-07:00", None])
def test_times_go_s_time_parse_takes(stamp):
    assert _schema.check("ConfigMap", "v1", {"metadata": {"creationTimestamp": stamp}}, "Strict") == []


@pytest.mark.parametrize("stamp, message", [
    ("yesterday", 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
    ("2024/01/02", 'parsing time "2024/01/02" as "2006-01-02T15:04:05Z07:00": cannot parse "/01/02" as "-"'),
    ("2024-01-02", 'parsing time "2024-01-02" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"'),
    ("2024-01-02T03:04:05", 'parsing time "2024-01-02T03:04:05" as "2006-01-02T15:04:05Z07:00": '
                            'cannot parse "" as "Z07:00"'),
    ("2024-13-01T00:00:00Z", 'parsing time "2024-13-01T00:00:00Z": month out of range'),
    ("2023-02-29T00:00:00Z", 'parsing time "2023-02-29T00:00:00Z": day out of range'),
    ("2024-01-02T24:00:00Z", 'parsing time "2024-01-02T24:00:00Z": hour out of range'),
    ("2024-01-02T03:04:05+25:00", 'parsing time "2024-01-02T03:04:05+25:00": time zone offset hour out of range'),
    ("2024-01-02T03:04:05Z!", 'parsing time "2024-01-02T03:04:05Z!": extra text: "!"'),
])
def test_a_bad_time_fails_as_time_parse_words_it(stamp, message):
    """time/format.go parse over RFC3339: the element that failed and what was left of the value."""
    assert _error("ConfigMap", "v1", {"metadata": {"creationTimestamp": stamp}}) == (
        f'ConfigMap in version "v1" cannot be handled as a ConfigMap: {message}')


def test_a_micro_time_needs_its_six_digits():
    """metav1.MicroTime parses with RFC3339Micro, whose .000000 takes exactly six digits."""
    lease = {"spec": {"renewTime": "2024-01-02T03:04:05.123456Z"}}
    assert _schema.check("Lease", "coordination.k8s.io/v1", lease, "Strict") == []
    lease["spec"]["renewTime"] = "2024-01-02T03:04:05Z"
    assert _error("Lease", "coordination.k8s.io/v1", lease).endswith(
        'parsing time "2024-01-02T03:04:05Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"')


def test_bytes_are_uint8_slices():
    assert _error("Secret", "v1", {"data": {"a": 5}}).endswith(
        "json: cannot unmarshal number into Go struct field Secret.data of type []uint8")
    assert _schema.check("Secret", "v1", {"data": {"a": [104, 105]}}, "Strict") == []
    assert _error("Secret", "v1", {"data": {"a": [256]}}).endswith(
        "json: cannot unmarshal number 256 into Go struct field Secret.data of type uint8")


def test_free_form_fields_take_any_json():
    """FieldsV1 and RawExtension keep the raw JSON (their UnmarshalJSON takes anything)."""
    meta = {"managedFields": [{"manager": "m", "fieldsV1": {"f:data": {"anything": [1, True]}}}]}
    assert _schema.check("ConfigMap", "v1", {"metadata": meta}, "Strict") == []


def test_the_first_saved_error_is_reported_unless_an_unmarshaler_stops_decoding():
    """decode.go: type errors are saved (the first one wins); an UnmarshalJSON's error
    returns at once, so it wins over one saved before it."""
    both = {"spec": {"replicas": "x", "minReadySeconds": "y"}}
    assert "DeploymentSpec.spec.replicas" in _error("Deployment", "apps/v1", both)
    pod = {"metadata": {"name": 5}, "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "x"}}}]}}
    assert _error("Pod", "v1", pod).endswith("quantities must match the regular expression "
                                             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_core_and_events_api_events_are_told_apart():
    assert _schema.check("Event", "v1", {"involvedObject": {"kind": "Pod"}}, "Warn") == []
    assert _schema.check("Event", "v1", {"regarding": {}}, "Warn") == ['unknown field "regarding"']


# --- no client in the server -----------------------------------------------------------------

_STRICT_WRITE = """
import http.client, json, ssl, sys
from pathlib import Path
from labkit.sandbox import Sandbox
sb = Sandbox(home=Path(sys.argv[1]))
sb.start()
try:
    conn = http.client.HTTPSConnection("127.0.0.1", sb.port, timeout=60,
                                       context=ssl.create_default_context(cafile=str(sb.ca_file)))
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}, "dta": 1}
    conn.request("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", json.dumps(body),
                 {"Authorization": f"Bearer {sb.token}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    answer = json.loads(resp.read())
finally:
    sb.stop()
print(json.dumps({"code": resp.status, "message": answer.get("message"),
                  "client": sorted(m for m in sys.modules if m.split(".")[0] == "kubernetes")}))
"""


def test_a_serving_process_validates_without_importing_the_client(tmp_path):
    """Pytest imports the official client, so the server is started in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _STRICT_WRITE, str(tmp_path / "sandbox")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"code": 400, "client": [], "message": (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta"')}
