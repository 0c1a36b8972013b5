"""resource.Quantity as kube-apiserver stores it: parsed, then written in canonical form.

The tables restate k8s.io/apimachinery pkg/api/resource/quantity_test.go (TestQuantityParse,
TestQuantityString, TestQuantityParseEmit, TestParseQuantity, TestJSONWhitespace) with
upstream's expected values; the end-to-end tests write quantities through the official
client, kubectl and each PATCH type and read them back as a real API server returns them.
"""
import json
from decimal import Decimal

import pytest

from labkit.sandbox.apis import _quantity
from labkit.sandbox.apis._quantity import BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, QuantityError

# TestQuantityString: (canonical form, another way to write it or None). Parsing the
# canonical form keeps the string; the other spelling is written back as the canonical one.
STRING_TABLE = [
    ("1Gi", "1024Mi"), ("300Mi", "307200Ki"), ("6Ki", None), ("1001Gi", "1025024Mi"), ("1Ti", "1024Gi"),
    ("5", "5000m"), ("500m", "0.5"), ("1G", "1000M"), ("1G", "0.001T"), ("1m", "1000u"), ("80m", None),
    ("1080m", "1.08"), ("1080m", "1080000000n"), ("300M", None), ("1T", None), ("1234567M", None),
    ("1234567m", None), ("3k", None), ("1025", None), ("0", None), ("1e9", ".001e12"), ("1e-3", "0.001e0"),
    ("1e-9", "1000e-12"), ("80e-3", None), ("300e6", None), ("1e12", None), ("1e3", None), ("3e3", None),
    ("0", "00"), ("1n", None), ("80n", None), ("1080n", None), ("1u", None), ("80u", None), ("1080u", None),
]

# TestQuantityParseEmit: what String() writes for each input, and "-" before both.
EMIT_TABLE = [
    ("1Ki", "1Ki"), ("1Mi", "1Mi"), ("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1000M", "1G"),
    (".001Ki", "1024m"), (".000001Ki", "1024u"), (".000000001Ki", "1024n"), (".000000000001Ki", "2n"),
]

# TestParseQuantity: inputs around the int64 and 18-digit edges and their serialized form
# (the input itself when upstream gives no canonical column).
EDGE_TABLE = [
    ("-999999999999999999", "-999999999999999999"), ("999999999999999999", "999999999999999999"),
    ("999999999999999999.0", "999999999999999999"), ("-999999999999999999.1", "-999999999999999999100m"),
    ("9999999999999999999", "9999999999999999999"), ("1E", "1E"), ("-1000000000000000000", "-1E"),
    ("1000000000000000000.0", "1E"), ("1.0E", "1E"), ("9999999999999999999000m", "9999999999999999999"),
    ("1.0000000000000000001E", "1000000000000000000100m"), ("-1000000000000000000.1", "-1000000000000000000100m"),
    ("1.000000000000000001E", "1000000000000000001"), ("10E", "10E"), ("-10000000000000000000", "-10E"),
    ("10000000000000000000000m", "10E"), ("10.0000000000000000001E", "10000000000000000000100m"),
    ("-10.000000000000000001E", "-10000000000000000001"), ("-9223372036854775809.0", "-9223372036854775809"),
    ("9223372036854775806000m", "9223372036854775806"), ("9223372036854775807.1", "9223372036854775807100m"),
    ("-9223372036854775808", "-9223372036854775808"), ("9223372036854775808.1", "9223372036854775808100m"),
]


@pytest.mark.parametrize("canonical,other", STRING_TABLE)
def test_quantity_string_table(canonical, other):
    parsed = _quantity.parse(canonical)
    assert parsed.cached == canonical and str(parsed) == canonical
    if other is not None:
        again = _quantity.parse(other)
        assert again.cached == "" and str(again) == canonical
    value = _quantity.parse(other or canonical)
    if value.value:      # the negated value is written with a "-" and never as "-0"
        negated = _quantity.Quantity(-value.value, value.format)
        assert _quantity.canonical_text(negated) == "-" + canonical


@pytest.mark.parametrize("text,expected", EMIT_TABLE)
def test_quantity_parse_emit_table(text, expected):
    assert _quantity.canonical(text) == expected
    assert _quantity.canonical("-" + text) == "-" + expected


@pytest.mark.parametrize("text,expected", EDGE_TABLE)
def test_parse_quantity_edges(text, expected):
    assert _quantity.canonical(text) == expected


# TestQuantityParse: the value and format each input parses to, as (mantissa, exponent).
PARSE_TABLE = [
    ("0", 0, 0, DECIMAL_SI), ("0n", 0, 0, DECIMAL_SI), ("0Ki", 0, 0, BINARY_SI), ("0Ti", 0, 0, BINARY_SI),
    ("1", 1, 0, DECIMAL_SI), ("1Ki", 1024, 0, BINARY_SI), ("7Mi", 7 * 2 ** 20, 0, BINARY_SI),
    ("3Ei", 3 * 2 ** 60, 0, BINARY_SI), ("100Ti", 100 * 2 ** 40, 0, BINARY_SI), ("5n", 5, -9, DECIMAL_SI),
    ("4u", 4, -6, DECIMAL_SI), ("50k", 5, 4, DECIMAL_SI), ("300T", 3, 14, DECIMAL_SI), ("1E", 1, 18, DECIMAL_SI),
    ("1E-3", 1, -3, DECIMAL_EXPONENT), ("1e15", 1, 15, DECIMAL_EXPONENT), ("1e13", 1, 13, DECIMAL_EXPONENT),
    ("100.035k", 100035, 0, DECIMAL_SI), ("0.0005k", 5, -1, DECIMAL_SI), ("0.00050k", 5, -1, DECIMAL_SI),
    ("0.5e-2", 5, -3, DECIMAL_EXPONENT), ("10.035M", 10035, 3, DECIMAL_SI), ("1.3E+6", 13, 5, DECIMAL_EXPONENT),
    ("1.53E12", 153, 10, DECIMAL_EXPONENT), ("6.987654321G", 6987654321, 0, DECIMAL_SI),
    ("1.01E", 101, 16, DECIMAL_SI), ("3.001n", 4, -9, DECIMAL_SI), ("1.1E-9", 2, -9, DECIMAL_EXPONENT),
    ("0.0000000001", 1, -9, DECIMAL_SI), ("0.00000000050", 1, -9, DECIMAL_SI), ("0.5e-9", 1, -9, DECIMAL_EXPONENT),
    ("0.9n", 1, -9, DECIMAL_SI), ("0.00000012345", 124, -9, DECIMAL_SI), ("9Ei", 2 ** 63 - 1, 0, BINARY_SI),
    ("9223372036854775807Ki", 2 ** 63 - 1, 0, BINARY_SI), ("12E", 12, 18, DECIMAL_SI),
    ("100.035Ki", 10243584, -2, BINARY_SI), ("0.5Mi", 2 ** 19, 0, BINARY_SI), ("0.05Gi", 536870912, -1, BINARY_SI),
    ("0.025Ti", 274877906944, -1, BINARY_SI), ("0.000000000001Ki", 2, -9, DECIMAL_SI), (".001", 1, -3, DECIMAL_SI),
    (".0001k", 100, -3, DECIMAL_SI), ("1.", 1, 0, DECIMAL_SI), ("1.G", 1, 9, DECIMAL_SI),
]


@pytest.mark.parametrize("text,mantissa,exponent,fmt", PARSE_TABLE)
def test_quantity_parse_table(text, mantissa, exponent, fmt):
    want = Decimal(mantissa).scaleb(exponent)
    for sign, prefix in ((1, ""), (1, "+"), (-1, "-")):
        parsed = _quantity.parse(prefix + text)
        assert parsed.value == sign * want and parsed.format == fmt, prefix + text


@pytest.mark.parametrize("text", ["", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i",
                                  "-3.01e-", " 1", "1 "])
def test_quantity_parse_refuses(text):
    with pytest.raises(QuantityError):
        _quantity.parse(text)
    if text == text.strip():     # (UnmarshalJSON trims what it parses: " 1" is "1" there)
        assert _quantity.canonical(text) == text       # left for decoding to refuse


@pytest.mark.parametrize("raw,expected", [('" 1"', "1"), ('"1 "', "1"), ("1", "1"), (" 1", "1"), ("1 ", "1"),
                                          ("10", "10"), ("-1", "-1"), (" -1", "-1")])
def test_json_whitespace(raw, expected):
    """TestJSONWhitespace: UnmarshalJSON trims the value, quoted or not."""
    assert _quantity.canonical(json.loads(raw)) == expected


def test_numbers_and_the_round_up_to_nano():
    # A JSON number is parsed from its literal: 0.5 is "500m", 1e3 (the client writes 1000.0) "1k".
    assert [_quantity.canonical(v) for v in (0.5, 1e3, 2, 0, 1.5)] == ["500m", "1k", "2", "0", "1500m"]
    # quantity.go's comment says 0.1m rounds up to 1m; the code rounds to the nano scale.
    assert _quantity.canonical("0.1m") == "100u"
    assert _quantity.canonical("0.0000000001m") == "1n"
    assert _quantity.canonical("1e-999999999") == "1e-9"        # no digits expanded
    assert _quantity.canonical("1e999999999") == "1e999999999"


def test_upstream_quirks_are_kept():
    """ParseQuantity keeps a string that passes its "already canonical" test, and a DecimalSI
    exponent past E loses its suffix (CanonicalizeBytes ignores constructBytes' ok)."""
    assert _quantity.canonical("1.500") == "1.500"       # kubernetes/kubernetes#138165
    assert _quantity.canonical("1.5") == "1500m"
    assert _quantity.canonical("+1") == "+1"
    assert _quantity.canonical("01Ki") == "01Ki"
    assert _quantity.canonical("8Ki") == "8Ki" and _quantity.canonical("2048Ki") == "2Mi"
    assert _quantity.canonical("1000E") == "1"


def test_readers_get_exact_amounts():
    assert _quantity.amount("1536Mi") == Decimal(1536 * 2 ** 20)
    assert _quantity.amount(0.5) == _quantity.amount("500m") == Decimal("0.5")
    assert _quantity.amount("500n") == Decimal("5E-7")
    assert _quantity.amount("bogus") is None and _quantity.amount(None) is None


# --- end to end: what a client reads back ---------------------------------------------

def _call(api_client, method: str, path: str, body=None) -> dict:
    """One request through the official client's transport and auth, the body sent as the
    JSON Python writes (the client's own models would refuse a number for a quantity)."""
    method, url, headers, _, _ = api_client.param_serialize(
        method, path, header_params={"Content-Type": "application/json"}, auth_settings=["BearerToken"])
    resp = api_client.call_api(method, url, header_params=headers, body=body)
    assert resp.status < 300, resp.read()
    return json.loads(resp.read())


def _pod(name: str, cpu, memory) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
                                     "resources": {"requests": {"cpu": cpu, "memory": memory},
                                                   "limits": {"cpu": "1000m", "memory": "2048Mi"}}}]}}


def test_pod_quantities_are_read_back_canonical(api_client, namespace, kubectl):
    pods = f"/api/v1/namespaces/{namespace}/pods"
    created = _call(api_client, "POST", pods, _pod("q", 0.5, "1.5Gi"))
    resources = created["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "500m", "memory": "1536Mi"},
                         "limits": {"cpu": "1", "memory": "2Gi"}}
    read = _call(api_client, "GET", f"{pods}/q")
    assert read["spec"]["containers"][0]["resources"] == resources
    out = kubectl("get", "pod", "q", "-n", namespace, "-o",
                  "jsonpath={.spec.containers[0].resources.requests.cpu} "
                  "{.spec.containers[0].resources.requests.memory}").stdout
    assert out == "500m 1536Mi"

    # The same amounts written another way are no change to the pod's (immutable) resources.
    patch = {"metadata": {"labels": {"patched": "yes"}},
             "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "0.5"}}}]}}
    from kubernetes import client
    patched = json.loads(client.CoreV1Api(api_client).patch_namespaced_pod(
        "q", namespace, patch, _preload_content=False).data)
    assert patched["spec"]["containers"][0]["resources"] == resources
    # Applied values are compared as written (structured-merge-diff), so "0.5" against the
    # creator's stored "500m" is a conflict, as on a real cluster; forced, it is no change.
    applied = kubectl("apply", "--server-side", "--force-conflicts", "-n", namespace, "-o", "json", "-f", "-",
                      input=json.dumps(_pod("q", "0.5", "1536Mi"))).stdout
    assert json.loads(applied)["spec"]["containers"][0]["resources"] == resources
    out = kubectl("get", "pod", "q", "-n", namespace, "-o",
                  "jsonpath={.spec.containers[0].resources.requests.cpu}").stdout
    assert out == "500m"


def _deployment(name: str, cpu) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
                                                           "resources": {"requests": {"cpu": cpu}}}],
                                           "volumes": [{"name": "scratch",
                                                        "emptyDir": {"sizeLimit": "0.5Gi"}}]}}}}


def _template(obj: dict) -> dict:
    spec = obj["spec"]["template"]["spec"]
    return {"cpu": spec["containers"][0]["resources"]["requests"]["cpu"],
            "sizeLimit": spec["volumes"][0]["emptyDir"]["sizeLimit"]}


def test_every_patch_type_stores_canonical_quantities(api_client, namespace, kubectl):
    created = _call(api_client, "POST", f"/apis/apps/v1/namespaces/{namespace}/deployments",
                    _deployment("d", 1.5))
    assert _template(created) == {"cpu": "1500m", "sizeLimit": "512Mi"}

    def patch(kind: str, body: str) -> dict:
        out = kubectl("patch", "deployment", "d", "-n", namespace, "--type", kind, "-p", body, "-o", "json")
        return _template(json.loads(out.stdout))
    merge = '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:1.36",' \
            '"resources":{"requests":{"cpu":0.25}}}]}}}}'
    assert patch("merge", merge)["cpu"] == "250m"
    strategic = '{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"2000m"}}}]}}}}'
    assert patch("strategic", strategic)["cpu"] == "2"
    json_patch = '[{"op":"replace","path":"/spec/template/spec/volumes/0/emptyDir/sizeLimit","value":"1024Mi"}]'
    assert patch("json", json_patch)["sizeLimit"] == "1Gi"

    applied = kubectl("apply", "--server-side", "--force-conflicts", "-n", namespace, "-o", "json", "-f", "-",
                      input=json.dumps(_deployment("d", "0.1"))).stdout
    assert _template(json.loads(applied)) == {"cpu": "100m", "sizeLimit": "512Mi"}
    # Re-applying the same amounts, written as sent, changes nothing.
    before = _call(api_client, "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/d")
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=json.dumps(_deployment("d", "0.1")))
    after = _call(api_client, "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/d")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert kubectl("get", "deployment", "d", "-n", namespace, "-o",
                   "jsonpath={.spec.template.spec.containers[0].resources.requests.cpu}").stdout == "100m"


def test_status_subresource_and_maps_of_quantities(kubectl):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "quantity-node"},
            "spec": {"unschedulable": True, "taints": [{"key": "quantity-test", "effect": "NoExecute"}]}}
    kubectl("create", "-f", "-", input=json.dumps(node))
    try:
        status = '{"status":{"capacity":{"cpu":4,"memory":"1048576Ki","example.com/widget":"1e1"},' \
                 '"allocatable":{"cpu":"3.5","memory":"0.5Gi","example.com/widget":"0.0"}}}'
        out = kubectl("patch", "node", "quantity-node", "--subresource=status", "--type=merge", "-p", status,
                      "-o", "json").stdout
        got = json.loads(out)["status"]
        assert got["capacity"] == {"cpu": "4", "memory": "1Gi", "example.com/widget": "10"}
        assert got["allocatable"] == {"cpu": "3500m", "memory": "512Mi", "example.com/widget": "0"}
    finally:
        kubectl("delete", "node", "quantity-node", "--wait=false")


def test_scheduler_reads_allocatable_pods_as_a_quantity():
    from labkit.sandbox.controllers._scheduler import node_max_pods
    assert node_max_pods({"status": {"allocatable": {"pods": _quantity.canonical(1000)}}}) == 1000
