"""Discovery and OpenAPI over real HTTPS: what kubectl reads before anything else.

Both discovery forms and both OpenAPI versions derive from the served-resource table
(labkit/sandbox/apis/_resources.py): every served kind appears with its real schema, and
nothing unserved is advertised (`kubectl api-resources` exits 1 on a group without resources).
"""
from __future__ import annotations

import http.client
import json
import ssl

import pytest

from labkit.sandbox.apis import _openapi
from labkit.sandbox.apis._resources import RESOURCES, Resource

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
# What kubectl 1.30+ (client-go discovery) sends.
CLIENT_GO_ACCEPT = f"{AGGREGATED_V2},{AGGREGATED_V2BETA1},application/json"


def get(sandbox, path: str, accept: str = "application/json") -> tuple[int, dict, bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=10,
                                       context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {sandbox.token}", "Accept": accept})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# --- legacy and aggregated discovery ------------------------------------------------------
def test_api_resources_lists_every_served_resource_and_exits_0(kubectl):
    out = kubectl("api-resources").stdout.splitlines()
    assert out[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == {r.plural for r in RESOURCES}
    for r in RESOURCES:
        row = rows[r.plural]
        assert row[-1] == r.kind and row[-2] == str(r.namespaced).lower() and row[-3] == r.api_version
        assert row[1:-3] == ([",".join(r.short_names)] if r.short_names else [])   # kubectl joins them
    wide = kubectl("api-resources", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-2:] == ["VERBS", "CATEGORIES"]
    pods = next(line.split() for line in wide if line.startswith("pods "))
    assert pods[-2:] == ["create,delete,deletecollection,get,list,patch,update,watch", "all"]


def test_every_advertised_group_version_has_resources(sandbox):
    status, _, body = get(sandbox, "/apis")
    groups = json.loads(body)["groups"]
    assert "autoscaling" not in {g["name"] for g in groups}      # no HPA served: not advertised
    for g in groups:
        for v in g["versions"]:
            status, _, body = get(sandbox, f"/apis/{v['groupVersion']}")
            assert status == 200 and json.loads(body)["resources"], v
    status, _, _ = get(sandbox, "/apis/autoscaling/v1")
    assert status == 404


def test_scale_subresource_names_autoscaling_scale_in_legacy_discovery(sandbox):
    resources = json.loads(get(sandbox, "/apis/apps/v1")[2])["resources"]
    scale = next(r for r in resources if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    status = next(r for r in resources if r["name"] == "deployments/status")
    assert status["kind"] == "Deployment" and "group" not in status


@pytest.mark.parametrize("accept,version", [(CLIENT_GO_ACCEPT, "v2"), (AGGREGATED_V2BETA1, "v2beta1")])
def test_aggregated_discovery_answers_what_the_client_asks_for(sandbox, accept, version):
    served = {(r.group, r.version, r.plural): r for r in RESOURCES}
    seen = {}
    for path in ("/api", "/apis"):
        status, headers, body = get(sandbox, path, accept)
        assert status == 200
        assert headers["Content-Type"] == f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
        doc = json.loads(body)
        assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", f"apidiscovery.k8s.io/{version}")
        for item in doc["items"]:
            group = item["metadata"].get("name", "")
            assert (group == "") == (path == "/api")
            for v in item["versions"]:
                assert v["freshness"] == "Current" and v["resources"]
                for res in v["resources"]:
                    seen[(group, v["version"], res["resource"])] = res
    assert set(seen) == set(served)
    deploy = seen[("apps", "v1", "deployments")]
    assert deploy["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert deploy["scope"] == "Namespaced" and deploy["singularResource"] == "deployment"
    assert deploy["shortNames"] == ["deploy"] and deploy["categories"] == ["all"]
    subs = {s["subresource"]: s for s in deploy["subresources"]}
    assert subs["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert seen[("", "v1", "nodes")]["scope"] == "Cluster"


def test_plain_accept_gets_legacy_discovery(sandbox):
    status, headers, body = get(sandbox, "/apis")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["kind"] == "APIGroupList"
    assert json.loads(get(sandbox, "/api")[2])["kind"] == "APIVersions"


# --- OpenAPI ---------------------------------------------------------------------------
def test_openapi_v3_documents_hold_every_served_kinds_schema(sandbox):
    index = json.loads(get(sandbox, "/openapi/v3")[2])["paths"]
    assert set(index) == {f"apis/{r.group}/{r.version}" if r.group else "api/v1" for r in RESOURCES}
    for r in RESOURCES:
        prefix = f"apis/{r.group}/{r.version}" if r.group else "api/v1"
        status, headers, body = get(sandbox, index[prefix]["serverRelativeURL"])
        assert status == 200 and headers["Content-Type"] == "application/json"
        doc = json.loads(body)
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        kinds = [s for s in doc["components"]["schemas"].values()
                 if gvk in s.get("x-kubernetes-group-version-kind", [])]
        assert len(kinds) == 1 and kinds[0]["properties"]["metadata"], r.kind
        base = r.base_path("{namespace}" if r.namespaced else None)
        if "patch" in r.verbs:
            item = doc["paths"][base + "/{name}"]
            assert item["patch"]["x-kubernetes-group-version-kind"] == gvk
            assert "fieldValidation" in [p["name"] for p in item["patch"]["parameters"]]
        elif "create" in r.verbs:   # create-only (the access reviews): the collection's POST names the kind
            assert doc["paths"][base]["post"]["x-kubernetes-group-version-kind"] == gvk
            assert base + "/{name}" not in doc["paths"]
        else:                       # read-only (CRDs): get and list, nothing that writes
            assert set(doc["paths"][base + "/{name}"]) == {"get"} and set(doc["paths"][base]) == {"get"}
    assert get(sandbox, "/openapi/v3/apis/autoscaling/v1")[0] == 404


def test_openapi_v3_references_resolve_and_name_int_or_string(sandbox):
    doc = json.loads(get(sandbox, "/openapi/v3/api/v1")[2])
    schemas = doc["components"]["schemas"]
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    assert refs and all(r.removeprefix("#/components/schemas/") in schemas for r in refs)
    # kube-openapi's v3 form: a field's reference with a description is wrapped in allOf,
    # IntOrString is a oneOf with no type (k8s.io/apimachinery OpenAPIV3OneOfTypes).
    target = schemas["io.k8s.api.core.v1.ServicePort"]["properties"]["targetPort"]
    assert target["allOf"] == [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]
    ios = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert ios["oneOf"] == [{"type": "integer"}, {"type": "string"}] and "type" not in ios


def test_openapi_v2_is_json_with_definitions_unless_protobuf_is_asked(sandbox):
    status, headers, body = get(sandbox, "/openapi/v2")
    doc = json.loads(body)
    assert doc["swagger"] == "2.0"
    assert doc["definitions"]["io.k8s.api.core.v1.PodDNSConfig"]["properties"]["nameservers"]["type"] == "array"
    assert doc["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "description": doc["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["description"],
        "type": "string", "format": "int-or-string"}
    status, headers, body = get(sandbox, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert headers["Content-Type"].endswith("+protobuf") and body.startswith(b"\x0a\x032.0")


def test_a_kind_added_to_the_table_gets_its_real_schema(monkeypatch):
    """Discovery and OpenAPI read the table: others add kinds there and nothing else."""
    job = Resource("batch", "v1", "jobs", "Job", categories=("all",), subresources=("status",))
    monkeypatch.setattr(_openapi, "RESOURCES", RESOURCES + (job,))
    _openapi._documents.cache_clear()
    try:
        doc = json.loads(_openapi.v3("apis/batch/v1"))
        spec = doc["components"]["schemas"]["io.k8s.api.batch.v1.JobSpec"]
        assert "backoffLimit" in spec["properties"]
        assert "/apis/batch/v1/namespaces/{namespace}/jobs/{name}" in doc["paths"]
    finally:
        _openapi._documents.cache_clear()


def test_vendored_definitions_are_swagger_not_json_schema():
    """scripts/vendor_openapi.py undid openapi2jsonschema: no nullable types, no $defs."""
    defs = _openapi._definitions()
    text = json.dumps(defs)
    assert '"null"' not in text and "#/$defs/" not in text
    assert "enum" not in defs["io.k8s.api.apps.v1.Deployment"]["properties"]["kind"]
    assert defs["io.k8s.api.core.v1.ServicePort"]["required"] == ["port"]


def test_shapes_are_the_vendored_definitions_without_descriptions():
    """shapes.json.gz (field ownership and validation read it) is kept by the vendoring script:
    the same definitions with every schema's description taken out, and nothing else."""
    defs, shapes = _openapi._definitions(), _openapi._shapes()
    assert shapes == _openapi.without_descriptions(defs)
    assert '"description":"' not in json.dumps(shapes, separators=(",", ":")).replace(
        '"description":{"type":"string"}', "")
    # a field called `description` is a field, not a description
    props = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    assert shapes[props]["properties"]["description"] == {"type": "string"}
    assert "description" in defs["io.k8s.api.core.v1.PodDNSConfig"]
    assert "description" not in shapes["io.k8s.api.core.v1.PodDNSConfig"]


# --- kubectl explain ----------------------------------------------------------------
def test_explain_a_field_with_its_real_description(kubectl):
    out = kubectl("explain", "pod.spec.dnsConfig").stdout
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n\nFIELD: dnsConfig <PodDNSConfig>\n")
    assert "Specifies the DNS parameters of a pod." in out
    assert "  nameservers\t<[]string>" in out and "  options\t<[]PodDNSConfigOption>" in out
    port = kubectl("explain", "svc.spec.ports.targetPort").stdout
    assert "FIELD: targetPort <IntOrString>" in port
    assert "Number or name of the port to access on the pods targeted by the service." in port
    assert "IntOrString is a type that can hold an int32 or a string." in port


def test_explain_recursive_reaches_every_depth(kubectl):
    out = kubectl("explain", "deployment", "--recursive").stdout
    assert out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n")
    # spec.template.spec.dnsConfig.options.name: five levels down.
    assert "\n          options\t<[]PodDNSConfigOption>\n            name\t<string>\n" in out
    assert len(out.splitlines()) > 500


def test_explain_an_unknown_field_fails_as_kubectl_does(kubectl):
    out = kubectl("explain", "pod.spec.nosuchfield", check=False)
    assert out.returncode == 1
    assert out.stderr.strip() == 'error: field "nosuchfield" does not exist'


def test_explain_every_served_resource(kubectl):
    """A kind added to the table without a schema in the release's definitions fails here."""
    for r in RESOURCES:
        out = kubectl("explain", f"{r.plural}.{r.group}" if r.group else r.plural).stdout
        head = (f"GROUP:      {r.group}\n" if r.group else "") + f"KIND:       {r.kind}\nVERSION:    {r.version}\n"
        assert out.startswith(head), out[:200]
        assert "\nFIELDS:\n" in out and "  metadata\t<ObjectMeta>" in out


def test_openapi_v3_hash_urls_are_cacheable_and_stale_ones_redirect(sandbox):
    """kube-openapi handler3: ETag always; the current ?hash= is immutable; a stale one is a 301."""
    url = json.loads(get(sandbox, "/openapi/v3")[2])["paths"]["apis/apps/v1"]["serverRelativeURL"]
    etag = url.rsplit("=", 1)[1]
    status, headers, body = get(sandbox, url)
    assert status == 200 and headers["Etag"] == f'"{etag}"' and _openapi.etag(body) == etag
    assert headers["Cache-Control"] == "public, immutable" and headers["Vary"] == "Accept"
    assert headers["Expires"].endswith(" UTC")
    status, headers, _ = get(sandbox, "/openapi/v3/apis/apps/v1")
    assert status == 200 and "Cache-Control" not in headers
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=10,
                                       context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    conn.request("GET", "/openapi/v3/apis/apps/v1?hash=STALE", headers={"Authorization": f"Bearer {sandbox.token}"})
    resp = conn.getresponse()
    assert resp.status == 301 and resp.getheader("Location") == url
    conn.close()
