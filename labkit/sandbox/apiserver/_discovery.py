"""Discovery, version and OpenAPI documents: what clients read before anything else.

Legacy discovery only: aggregated discovery differs between kubectl versions
(v2beta1 up to 1.29, v2 from 1.30), while legacy discovery works for all.
"""
from __future__ import annotations

import hashlib
import json

from .. import _release
from ..apis._resources import GROUPS, RESOURCES, SUBRESOURCE_KINDS

# kubectl 1.27/1.28 fetch /openapi/v2 eagerly and need parseable protobuf:
# an OpenAPI v2 `Document` holding only `swagger: "2.0"`.
OPENAPI_V2_PROTOBUF = bytes([0x0A, 0x03, 0x32, 0x2E, 0x30])


def version() -> dict:
    """GET /version."""
    return _release.version_info()


def api_versions() -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}


def api_group_list() -> dict:
    groups = []
    for group, versions in GROUPS.items():
        if not group:
            continue
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
    # autoscaling/v1 is where Scale lives; clients look it up.
    gv = {"groupVersion": "autoscaling/v1", "version": "v1"}
    groups.append({"name": "autoscaling", "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict | None:
    if group == "autoscaling":
        versions = ["v1"]
    elif group in GROUPS and group:
        versions = GROUPS[group]
    else:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def resource_list(group: str, version_: str) -> dict | None:
    if (group, version_) == ("autoscaling", "v1"):
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "autoscaling/v1", "resources": []}
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
            g, v, kind, verbs = SUBRESOURCE_KINDS[sub]
            sub_entry = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                         "kind": kind or r.kind, "verbs": list(verbs)}
            if g is not None and (g, v) != (r.group, r.version):
                sub_entry.update(group=g, version=v)
            out.append(sub_entry)
    gv = f"{group}/{version_}" if group else version_
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:11]


def openapi_v3_index() -> dict:
    paths = {}
    for gv in _group_versions():
        prefix = "api/v1" if gv == "v1" else f"apis/{gv}"
        paths[prefix] = {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={_hash(json.dumps(openapi_v3(gv)))}"}
    return {"paths": paths}


def _group_versions() -> list[str]:
    return sorted({r.api_version for r in RESOURCES} | {"autoscaling/v1"})


def openapi_v3(gv: str) -> dict | None:
    """A minimal group-version document: per kind, a PATCH operation that names its
    group-version-kind and accepts fieldValidation, with no request schema. kubectl
    then skips client-side validation and leaves validation to the server."""
    if gv not in _group_versions():
        return None
    paths = {}
    for r in RESOURCES:
        if r.api_version != gv:
            continue
        g = {"group": r.group, "version": r.version, "kind": r.kind}
        paths[r.base_path("{namespace}" if r.namespaced else None) + "/{name}"] = {
            "patch": {"x-kubernetes-group-version-kind": g,
                      "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                      "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": _release.KUBERNETES_VERSION}, "paths": paths,
            "components": {"schemas": {}}}
