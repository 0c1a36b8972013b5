"""The API's OpenAPI documents, v2 and v3, for the kinds the sandbox serves.

Schemas come from the vendored definitions of the release's published document
(openapi/definitions.json.gz, see openapi/SOURCE.md), never written by hand; the paths come
from `_resources.RESOURCES`, so a kind added there appears here with its real schema.
The documents are built on first request and kept encoded (`kubectl explain` and kubectl's
field-validation check read them). Field ownership and field validation read the shapes
(openapi/shapes.json.gz): the same definitions without their descriptions, a quarter of the
text, which the first write after start-up decodes in a third of the time.
"""
from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from pathlib import Path

from .._release import KUBERNETES_VERSION
from ._resources import RESOURCES, Resource, subresource_kind

_DATA = Path(__file__).resolve().parent / "openapi" / "definitions.json.gz"
_SHAPES = _DATA.with_name("shapes.json.gz")
_APIMACHINERY = "io.k8s.apimachinery."
_META = _APIMACHINERY + "pkg.apis.meta.v1."
# What every group-version's operations refer to besides its kinds (kube-apiserver's
# handlers: DELETE takes DeleteOptions and may answer Status; watch answers WatchEvent).
_COMMON = (_META + "Status", _META + "DeleteOptions", _META + "WatchEvent", _META + "Patch")
# k8s.io/apimachinery OpenAPIV3OneOfTypes: the v3 document gives these a oneOf and no type,
# so `kubectl explain` names them (`targetPort <IntOrString>`) rather than saying `string`.
_V3_ONE_OF = {"io.k8s.apimachinery.pkg.util.intstr.IntOrString": ["integer", "string"],
              "io.k8s.apimachinery.pkg.api.resource.Quantity": ["string", "number"]}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _definitions() -> dict:
    """The vendored definitions, descriptions and all: what the documents serve."""
    return _decode(_DATA)


@lru_cache(maxsize=1)
def _shapes() -> dict:
    """The definitions without their descriptions (`without_descriptions`), decoded once and
    shared, read-only, by field ownership and field validation."""
    return _decode(_SHAPES)


def _decode(path: Path) -> dict:
    # Tens of thousands of containers that all stay: the collector waits meanwhile, or its
    # passes over them (46 ms, at the first write after start-up) would find nothing to free.
    import gc
    import gzip     # here, not at import: the server's start does not pay for it
    raw = gzip.decompress(path.read_bytes())      # at once: GzipFile's reads take twice as long
    collecting = gc.isenabled()
    gc.disable()
    try:
        return json.loads(raw)["definitions"]
    finally:
        if collecting:
            gc.enable()


def without_descriptions(node, in_properties: bool = False):
    """A schema without its `description`s, at every depth: what shapes.json.gz holds
    (scripts/vendor_openapi.py writes it). A field that is called `description`
    (JSONSchemaProps has one) stays."""
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {name: without_descriptions(schema) for name, schema in node.items()}
    return {key: without_descriptions(value, in_properties=(key == "properties"))
            for key, value in node.items() if key != "description"}


def _by_gvk(defs: dict) -> dict[tuple[str, str, str], str]:
    out = {}
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            out.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return out


def _closure(defs: dict, roots) -> list[str]:
    """Every definition the roots refer to, directly or not."""
    seen: set[str] = set()
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        stack = [defs[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    todo.append(ref.rsplit("/", 1)[-1])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return sorted(seen)


def _served_kinds(r: Resource) -> list[tuple[str, str, str]]:
    kinds = [(r.group, r.version, r.kind), (r.group, r.version, r.kind + "List")]
    for sub in r.subresources:
        g, v, kind, _ = subresource_kind(r.plural, sub)
        if kind is not None:
            kinds.append((g, v, kind))
    return kinds


def _operations(r: Resource, defs: dict, by_gvk: dict, ref: str) -> dict:
    """Paths of one resource: the collection and the item, each operation naming its GVK
    (how `kubectl explain` finds a resource's kind, and how kubectl checks that the server
    takes `fieldValidation` before it leaves validation to it)."""
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    kind_def = by_gvk.get((r.group, r.version, r.kind))
    list_def = by_gvk.get((r.group, r.version, r.kind + "List"))

    def op(action: str, schema: str | None, *params: str) -> dict:
        body = {"200": {"description": "OK"}}
        if schema:
            body["200"]["schema"] = {"$ref": ref + schema}
        return {"x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk,
                "parameters": [{"name": p, "in": "query", "type": "string", "uniqueItems": True}
                               for p in params],
                "responses": body}

    base = r.base_path("{namespace}" if r.namespaced else None)
    collection, item = {}, {}
    if "list" in r.verbs:
        collection["get"] = op("list", list_def, "labelSelector", "fieldSelector", "limit", "continue",
                               "resourceVersion", "watch")
    if "get" in r.verbs:
        item["get"] = op("get", kind_def)
    if "create" in r.verbs:
        collection["post"] = op("post", kind_def, "dryRun", "fieldManager", "fieldValidation")
    if "deletecollection" in r.verbs:
        collection["delete"] = op("deletecollection", _META + "Status")
    if "update" in r.verbs:
        item["put"] = op("put", kind_def, "dryRun", "fieldManager", "fieldValidation")
    if "patch" in r.verbs:
        item["patch"] = op("patch", kind_def, "dryRun", "fieldManager", "fieldValidation", "force")
    if "delete" in r.verbs:
        item["delete"] = op("delete", _META + "Status", "dryRun", "gracePeriodSeconds",
                            "propagationPolicy")
    # A create-only resource (SelfSubjectAccessReview) has no item path.
    return {path: ops for path, ops in ((base, collection), (base + "/{name}", item)) if ops}


def _v3_schema(node):
    """A v2 schema in v3 form, as kube-openapi's builder3 writes it: `#/components/schemas/`
    references, and a reference with siblings (a field's description) wrapped in allOf."""
    if isinstance(node, list):
        return [_v3_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _v3_schema(s) for name, s in value.items()}
        else:
            out[key] = _v3_schema(value)
    ref = out.pop("$ref", None)
    if ref is None:
        return out
    ref = ref.replace("#/definitions/", "#/components/schemas/")
    if not out:
        return {"$ref": ref}
    return {"allOf": [{"$ref": ref}], **out}


def _encode(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@lru_cache(maxsize=1)
def _documents() -> tuple[bytes, dict[str, bytes]]:
    """(the v2 document, {"api/v1" | "apis/G/V": its v3 document}), encoded."""
    with _lock:
        defs = _definitions()
        by_gvk = _by_gvk(defs)
        info = {"title": "Kubernetes", "version": KUBERNETES_VERSION}
        paths_v2: dict = {}
        roots_all: set[str] = set(_COMMON)
        per_gv: dict[str, tuple[dict, set[str]]] = {}
        for r in RESOURCES:
            prefix = f"apis/{r.group}/{r.version}" if r.group else f"api/{r.version}"
            paths, roots = per_gv.setdefault(prefix, ({}, set(_COMMON)))
            roots.update(by_gvk[k] for k in _served_kinds(r) if k in by_gvk)
            paths.update(_operations(r, defs, by_gvk, "#/definitions/"))
            paths_v2.update(_operations(r, defs, by_gvk, "#/definitions/"))
            roots_all |= roots
        v2 = {"swagger": "2.0", "info": info, "paths": paths_v2,
              "definitions": {n: defs[n] for n in _closure(defs, roots_all)}}
        v3: dict[str, bytes] = {}
        for prefix, (paths, roots) in per_gv.items():
            schemas = {}
            for name in _closure(defs, roots):
                schema = _v3_schema(defs[name])
                if name in _V3_ONE_OF:
                    schema.pop("type", None)
                    schema["oneOf"] = [{"type": t} for t in _V3_ONE_OF[name]]
                schemas[name] = schema
            v3[prefix] = _encode({"openapi": "3.0.0", "info": info, "paths": _v3_paths(paths),
                                  "components": {"schemas": schemas}})
        return _encode(v2), v3


def _v3_paths(paths: dict) -> dict:
    """v2 operations in v3 form: parameters carry a schema; responses name a media type."""
    out = {}
    for path, ops in paths.items():
        out[path] = {}
        for method, op in ops.items():
            op = dict(op)
            op["parameters"] = [{"name": p["name"], "in": "query", "schema": {"type": "string"}}
                                for p in op["parameters"]]
            ok = dict(op["responses"]["200"])
            schema = ok.pop("schema", None)
            if schema:
                ok["content"] = {"application/json": {"schema": _v3_schema(schema)}}
            op["responses"] = {"200": ok}
            out[path][method] = op
    return out


def listed_kinds() -> list[tuple[str, str, str]]:
    """(group, version, kind) of every kind the release serves a list of (it has a `<Kind>List`
    in the same group-version): what a full kube-apiserver of the release would offer."""
    # apimachinery's own types (APIGroup, Status...) are the API's envelope, not resources.
    by_gvk = {k: name for k, name in _by_gvk(_shapes()).items() if not name.startswith(_APIMACHINERY)}
    return sorted(k for k in by_gvk if not k[2].endswith("List") and (k[0], k[1], k[2] + "List") in by_gvk)


def v2() -> bytes:
    """GET /openapi/v2 as JSON."""
    return _documents()[0]


def v3(prefix: str) -> bytes | None:
    """GET /openapi/v3/<prefix>, e.g. "api/v1" or "apis/apps/v1"."""
    return _documents()[1].get(prefix)


def etag(document: bytes) -> str:
    """kube-openapi's computeETag: the document's SHA-512 in upper-case hex."""
    return hashlib.sha512(document).hexdigest().upper()


def v3_index() -> dict:
    """GET /openapi/v3: where each group-version's document is, with its hash (clients
    cache a document by that URL)."""
    return {"paths": {prefix: {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={etag(doc)}"}
                      for prefix, doc in sorted(_documents()[1].items())}}
