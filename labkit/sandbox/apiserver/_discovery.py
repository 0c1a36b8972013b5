"""Discovery, version and OpenAPI documents: what clients read before anything else.

Both discovery forms list exactly what `apis._resources.RESOURCES` serves (no group without
resources: `kubectl api-resources` fails on one). Aggregated discovery
(apidiscovery.k8s.io v2, and v2beta1 for kubectl before 1.30) answers `/api` and `/apis` in
one document each when the client's Accept asks for it; legacy discovery otherwise.
"""
from __future__ import annotations

import asyncio
import hashlib

from aiohttp import web

from .. import _release
from ..apis import _errors, _gojson, _openapi
from ..apis._resources import GROUPS, RESOURCES, Resource, subresource_kind

# kubectl 1.27/1.28 fetch /openapi/v2 as protobuf and need it parseable: an OpenAPI v2
# `Document` holding only `swagger: "2.0"` (clients asking for JSON get the whole document).
OPENAPI_V2_PROTOBUF = bytes([0x0A, 0x03, 0x32, 0x2E, 0x30])
OPENAPI_V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_AGGREGATED = "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList"


def version() -> dict:
    """GET /version."""
    return _release.version_info()


def api_versions() -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}


def _group_entry(group: str) -> dict:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in GROUPS[group]]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g) for g in GROUPS if g]}


def api_group(group: str) -> dict | None:
    if not group or group not in GROUPS:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group)}


def _subresource_kind(r: Resource, sub: str) -> tuple[str, str, str, tuple[str, ...]]:
    g, v, kind, verbs = subresource_kind(r.plural, sub)
    if g is None:       # the resource's own kind (status)
        g, v, kind = r.group, r.version, r.kind
    return g, v, kind, verbs


def resource_list(group: str, version_: str) -> dict | None:
    members = [r for r in RESOURCES if r.group == group and r.version == version_]
    if not members:
        return None
    out = []
    for r in members:
        entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                 "kind": r.kind, "verbs": list(r.verbs),
                 "storageVersionHash": _hash(r.api_version + r.kind)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        out.append(entry)
        for sub in r.subresources:
            g, v, kind, verbs = _subresource_kind(r, sub)
            sub_entry = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                         "kind": kind, "verbs": list(verbs)}
            if (g, v) != (r.group, r.version):
                sub_entry.update(group=g, version=v)
            out.append(sub_entry)
    gv = f"{group}/{version_}" if group else version_
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:11]


# --- aggregated discovery (k8s.io/api/apidiscovery/v2 types.go) ----------------------
def aggregated_version(accept: str) -> str | None:
    """"v2" or "v2beta1" when the Accept header asks for aggregated discovery (the first one
    it names that this server speaks, as the API server's content negotiation picks), else None."""
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList" \
                and params.get("v") in ("v2", "v2beta1"):
            return params["v"]
    return None


def aggregated_content_type(api_version: str) -> str:
    return _AGGREGATED.format(api_version)


def _gvk(g: str, v: str, kind: str) -> dict:
    return {"group": g, "version": v, "kind": kind}


def _aggregated_resource(r: Resource) -> dict:
    entry = {"resource": r.plural, "responseKind": _gvk(r.group, r.version, r.kind),
             "scope": "Namespaced" if r.namespaced else "Cluster",
             "singularResource": r.singular, "verbs": list(r.verbs)}
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    subs = []
    for sub in r.subresources:
        g, v, kind, verbs = _subresource_kind(r, sub)
        subs.append({"subresource": sub, "responseKind": _gvk(g, v, kind), "verbs": list(verbs)})
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(api_version: str, core: bool) -> dict:
    """GET /api (core=True) or /apis with aggregated discovery: every group, its versions
    (preferred first) and their resources, in one APIGroupDiscoveryList."""
    items = []
    for group, versions in GROUPS.items():
        if bool(group) == core:
            continue
        entries = [{"version": v,
                    "resources": [_aggregated_resource(r) for r in RESOURCES
                                  if r.group == group and r.version == v],
                    "freshness": "Current"} for v in versions]
        metadata = {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
        items.append({"metadata": metadata, "versions": entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{api_version}",
            "metadata": {}, "items": items}


# --- OpenAPI ----------------------------------------------------------------------
def openapi_v3_index() -> dict:
    return _openapi.v3_index()


def openapi_v3(prefix: str) -> bytes | None:
    """The v3 document of "api/v1" or "apis/<group>/<version>"."""
    return _openapi.v3(prefix)


def openapi_etag(document: bytes) -> str:
    return _openapi.etag(document)


def openapi_v2() -> bytes:
    return _openapi.v2()


async def openapi_route(request: web.Request, path: str, clock) -> web.Response:
    """/openapi/v2 and /openapi/v3[/<group-version>]. The documents are built on first
    use (on a worker thread: a fraction of a second of JSON work) and kept encoded."""
    if path == "/openapi/v2":
        if "protobuf" in request.headers.get("Accept", "") and "json" not in request.headers.get("Accept", ""):
            return web.Response(body=OPENAPI_V2_PROTOBUF,
                                content_type=OPENAPI_V2_PROTOBUF_TYPE)
        return web.Response(body=await asyncio.to_thread(openapi_v2),
                            content_type="application/json")
    if path == "/openapi/v3":
        return web.Response(body=_gojson.dumps(await asyncio.to_thread(openapi_v3_index)),
                            content_type="application/json")
    if path.startswith("/openapi/v3/"):
        prefix = path[len("/openapi/v3/"):]
        doc = await asyncio.to_thread(openapi_v3, prefix)
        if doc is not None:
            return _openapi_v3_answer(request, prefix, doc, clock)
    raise _errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def _openapi_v3_answer(request: web.Request, prefix: str, doc: bytes, clock) -> web.Response:
    """kube-openapi handler3: the document's ETag; asked by a stale `?hash=`, a 301 to the
    current one; by the current one, cacheable for a year (kubectl keeps it on disk)."""
    etag = openapi_etag(doc)
    headers = {"Etag": f'"{etag}"'}
    asked = request.query.get("hash", "")
    if asked and asked != etag:
        raise web.HTTPMovedPermanently(f"/openapi/v3/{prefix}?hash={etag}", headers=headers)
    if asked:
        now = clock.now()
        # Go's AddDate(1, 0, 0): a 29 February rolls on to 1 March.
        expires = now.replace(year=now.year + 1) if (now.month, now.day) != (2, 29) \
            else now.replace(year=now.year + 1, month=3, day=1)
        headers.update({"Vary": "Accept", "Cache-Control": "public, immutable",
                        "Expires": expires.strftime("%a, %d %b %Y %H:%M:%S UTC")})
    return web.Response(body=doc, content_type="application/json", headers=headers)
