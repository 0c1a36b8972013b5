"""Discovery and version: what clients read before anything else (OpenAPI: _openapi_handler).

Both discovery forms list exactly what `apis._resources.RESOURCES` serves (no group without
resources: `kubectl api-resources` fails on one). Aggregated discovery
(apidiscovery.k8s.io v2, and v2beta1 for kubectl before 1.30) answers `/api` and `/apis` in
one document each when the client's Accept asks for it; legacy discovery otherwise.
"""
from __future__ import annotations

import hashlib

from .. import _release
from ..apis._resources import GROUPS, RESOURCES, Resource, subresource_kind

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
