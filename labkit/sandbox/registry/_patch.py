"""PATCH semantics of the Kubernetes API server, as pure functions on JSON dicts.

Four content types, as the apiserver accepts them for built-in kinds:

- ``application/merge-patch+json``: RFC 7386 (`merge_patch`).
- ``application/strategic-merge-patch+json``: Kubernetes strategic merge patch
  (`strategic_merge_patch`), ported from apimachinery
  pkg/util/strategicpatch/patch.go (mergeMap, mergeSlice, mergePatchIntoOriginal)
  with the ``patchStrategy``/``patchMergeKey`` tags of k8s.io/api.
- ``application/json-patch+json``: RFC 6902 through the ``jsonpatch`` library
  (`json_patch`).
- ``application/apply-patch+yaml``: server-side apply, modelled without field
  ownership (`server_side_apply`).

Errors are `PatchError` carrying the Status reason, code and message the
apiserver would send (handlers/patch.go, interpretStrategicMergePatchError).
Every function copies its inputs; nothing is mutated.
"""
from __future__ import annotations

import json
from decimal import Decimal

import jsonpatch
import jsonpointer
import yaml

from ...kube.objects import clone
from ..apis._decode import DecodeLimit, loads_json, loads_yaml

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
# In the order the apiserver lists them (endpoints/installer.go).
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

_CODES = {"BadRequest": 400, "NotFound": 404, "Conflict": 409, "UnsupportedMediaType": 415,
          "Invalid": 422, "RequestEntityTooLarge": 413, "": 500}


class PatchError(ValueError):
    """A patch the API server would refuse.

    ``reason`` is the Status reason ("BadRequest", "Invalid",
    "UnsupportedMediaType", "Conflict", "NotFound", or "" for the 500 the
    apiserver sends on errors it does not classify), ``code`` the HTTP status,
    ``message`` the Status message, ``detail`` extra text for logs (the real
    server hides it, e.g. why a JSON patch failed).
    """

    def __init__(self, reason: str, message: str, code: int | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.code = code if code is not None else _CODES.get(reason, 500)
        self.detail = detail


def _bad_request(message: str) -> PatchError:
    return PatchError("BadRequest", message)


def _internal(message: str) -> PatchError:
    # Unclassified errors become a 500 with reason "" (StatusReasonUnknown).
    return PatchError("", message, 500)


# The 422 the apiserver sends for any JSON patch that fails to apply
# (NewGenericServerResponse hides the underlying error).
_JSON_PATCH_FAILED = "the server rejected our request due to an error in our request"


# --------------------------------------------------------------------------
# Schema: patch strategy and merge key per field, from k8s.io/api struct tags.
# Each entry: field -> (type of the value or list element, strategy, merge key).

_MERGE = "merge"
_TYPES: dict[str, dict[str, tuple[str | None, str | None, str | None]]] = {
    "ObjectMeta": {
        "finalizers": (None, _MERGE, None),
        "ownerReferences": (None, _MERGE, "uid"),
    },
    "Object": {"metadata": ("ObjectMeta", None, None)},
    "PodTemplateSpec": {"metadata": ("ObjectMeta", None, None), "spec": ("PodSpec", None, None)},
    "PodSpec": {
        "containers": ("Container", _MERGE, "name"),
        "initContainers": ("Container", _MERGE, "name"),
        "ephemeralContainers": ("Container", _MERGE, "name"),
        "volumes": (None, _MERGE, "name"),  # merge,retainKeys
        "imagePullSecrets": (None, _MERGE, "name"),
        "hostAliases": (None, _MERGE, "ip"),
        "topologySpreadConstraints": (None, _MERGE, "topologyKey"),
        "schedulingGates": (None, _MERGE, "name"),
        "resourceClaims": (None, _MERGE, "name"),
        # tolerations carry no patchStrategy upstream: they are replaced.
    },
    "Container": {
        "ports": (None, _MERGE, "containerPort"),
        "env": (None, _MERGE, "name"),
        "volumeMounts": (None, _MERGE, "mountPath"),
        "volumeDevices": (None, _MERGE, "devicePath"),
    },
    "PodStatus": {
        "conditions": (None, _MERGE, "type"),
        "podIPs": (None, _MERGE, "ip"),
        "hostIPs": (None, _MERGE, "ip"),
        "resourceClaimStatuses": (None, _MERGE, "name"),
    },
    "ConditionsStatus": {"conditions": (None, _MERGE, "type")},
    "Pod": {"metadata": ("ObjectMeta", None, None), "spec": ("PodSpec", None, None),
            "status": ("PodStatus", None, None)},
    "PodTemplate": {"metadata": ("ObjectMeta", None, None),
                    "template": ("PodTemplateSpec", None, None)},
    # Deployment, ReplicaSet, DaemonSet, StatefulSet, Job: spec.template is a pod template.
    "WorkloadSpec": {"template": ("PodTemplateSpec", None, None)},
    "Workload": {"metadata": ("ObjectMeta", None, None), "spec": ("WorkloadSpec", None, None),
                 "status": ("ConditionsStatus", None, None)},
    "JobTemplateSpec": {"metadata": ("ObjectMeta", None, None), "spec": ("WorkloadSpec", None, None)},
    "CronJobSpec": {"jobTemplate": ("JobTemplateSpec", None, None)},
    "CronJob": {"metadata": ("ObjectMeta", None, None), "spec": ("CronJobSpec", None, None)},
    "ServiceSpec": {"ports": (None, _MERGE, "port")},
    "Service": {"metadata": ("ObjectMeta", None, None), "spec": ("ServiceSpec", None, None),
                "status": ("ConditionsStatus", None, None)},
    "NodeSpec": {"podCIDRs": (None, _MERGE, None)},
    "NodeStatus": {"conditions": (None, _MERGE, "type"), "addresses": (None, _MERGE, "type")},
    "Node": {"metadata": ("ObjectMeta", None, None), "spec": ("NodeSpec", None, None),
             "status": ("NodeStatus", None, None)},
    "Namespace": {"metadata": ("ObjectMeta", None, None),
                  "status": ("ConditionsStatus", None, None)},
}

_KIND_ROOT = {
    "Pod": "Pod", "PodTemplate": "PodTemplate", "Service": "Service", "Node": "Node",
    "Namespace": "Namespace", "CronJob": "CronJob",
    "Deployment": "Workload", "ReplicaSet": "Workload", "DaemonSet": "Workload",
    "StatefulSet": "Workload", "Job": "Workload",
    # Endpoints, EndpointSlice, ConfigMap, Event, Scale and other built-ins:
    # only ObjectMeta has merge lists; their own lists are atomic.
}


def _root(kind: str) -> str:
    return _KIND_ROOT.get(kind, "Object")


def _field(t: str | None, key: str) -> tuple[str | None, str | None, str | None]:
    if t is None:
        return None, None, None
    return _TYPES.get(t, {}).get(key, (None, None, None))


def list_merge_key(kind: str, path: list[str] | tuple[str, ...]) -> tuple[str | None, str | None]:
    """(strategy, merge key) of the list at a field path such as
    ``("spec", "template", "spec", "containers")``: ("merge", "name")."""
    t: str | None = _root(kind)
    strategy = key = None
    for name in path:
        t, strategy, key = _field(t, name)
    return strategy, key


# --------------------------------------------------------------------------
# Helpers mirroring Go's JSON types and fmt output (used in messages).

def _jtype(v) -> str:
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "float64"  # all JSON numbers decode to float64 in Go
    if isinstance(v, str):
        return "string"
    return "nil"


def _same(a, b) -> bool:
    return _jtype(a) == _jtype(b) and a == b


def _gofmt(v, int64s: bool = False) -> str:
    """Go's %v of a decoded JSON value (map keys sorted, as fmt prints them). Numbers are
    float64s, as encoding/json decodes them into interface{}; with `int64s`, integers that
    fit an int64 stay integers, as apimachinery's util/json decodes them."""
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_gofmt(v[k], int64s)}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_gofmt(x, int64s) for x in v) + "]"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if int64s and isinstance(v, int) and -2 ** 63 <= v < 2 ** 63:
        return str(v)
    if isinstance(v, (int, float)):
        return _gofloat(float(v))
    return str(v)


def _gofloat(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form from 1e+06."""
    if f == 0:
        return "0"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    e10 = len(ds) + exp - 1
    neg = "-" if sign else ""
    if e10 < -4 or e10 >= 6:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    return neg + format(Decimal(repr(abs(f))).normalize(), "f")


def _go_json_type(v) -> str:
    """How encoding/json names a JSON value in an unmarshal error."""
    return {"map": "object", "slice": "array", "bool": "bool", "float64": "number",
            "string": "string", "nil": "null"}[_jtype(v)]


def _no_merge_key(m, key: str) -> PatchError:
    return _internal(f"map: {_gofmt(m)} does not contain declared merge key: {key}")


_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PREFIX = "$deleteFromPrimitiveList"
_ORDER_PREFIX = "$setElementOrder"


def _is_directive_key(k: str) -> bool:
    return (k in (_DIRECTIVE, _RETAIN_KEYS) or k.startswith(_DELETE_PREFIX + "/")
            or k.startswith(_ORDER_PREFIX + "/"))


def _clean(v):
    """Drop what the apiserver's typed round trip drops: directive keys left in
    values taken verbatim, directive-only list elements, and nulls."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None and not _is_directive_key(k)}
    if isinstance(v, list):
        return [_clean(x) for x in v if not (isinstance(x, dict) and _DIRECTIVE in x)]
    return v


# --------------------------------------------------------------------------
# RFC 7386

def merge_patch(target: dict, patch) -> dict:
    """RFC 7386 JSON merge patch: null deletes, objects merge, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# --------------------------------------------------------------------------
# Strategic merge patch

def strategic_merge_patch(target: dict, patch: dict, kind: str) -> dict:
    """Apply a strategic merge patch to ``target`` (an object of ``kind``).

    Follows StrategicMergeMapPatch: merge lists by their merge key, replace
    other lists, ``null`` deletes, and the directives ``$patch``
    (replace/delete), ``$setElementOrder/<f>``, ``$deleteFromPrimitiveList/<f>``
    and ``$retainKeys``. Two deliberate differences from upstream corner cases:
    a ``$deleteFromPrimitiveList`` for a list the object lacks is a no-op
    (upstream stores the deletion list as the value), and directive-only list
    elements are dropped from lists taken verbatim.
    """
    if not isinstance(patch, dict):
        raise _bad_request(f"json: cannot unmarshal {_go_json_type(patch)} into Go value "
                           "of type map[string]interface {}")
    result = _merge_map(clone(target), clone(patch), _root(kind))
    return _clean(result)


def _merge_map(original: dict | None, patch: dict, t: str | None) -> dict:
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == "replace":
            return {k: v for k, v in patch.items() if k != _DIRECTIVE}
        if directive == "delete":
            return {}
        raise _internal(f"unknown patch type: {_gofmt(directive)} in map: {_gofmt(patch)}")
    if original is None:
        original = {}
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, t)

    for k, pv in list(patch.items()):
        is_delete_list = False
        if k.startswith(_DELETE_PREFIX):
            k = _extract_key(k, _DELETE_PREFIX)
            is_delete_list = True
        if pv is None:
            original.pop(k, None)
            continue
        if k not in original:
            if not is_delete_list:
                original[k] = pv
            continue
        ov = original[k]
        if _jtype(ov) != _jtype(pv):
            if is_delete_list:
                raise _bad_request("invalid patch format of primitive list")
            original[k] = pv
            continue
        child, strategy, merge_key = _field(t, k)
        if isinstance(ov, dict):
            original[k] = pv if strategy == "replace" else _merge_map(ov, pv, child)
        elif isinstance(ov, list):
            if is_delete_list:
                original[k] = [x for x in ov if not any(_same(x, d) for d in pv)]
            elif strategy == _MERGE:
                original[k] = _merge_slice(ov, pv, child, merge_key)
            else:
                original[k] = pv
        else:
            original[k] = pv
    return original


def _extract_key(s: str, prefix: str) -> str:
    parts = s.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        if prefix == _DELETE_PREFIX:
            raise _bad_request("invalid patch format of primitive list")
        raise _bad_request("invalid patch format of setElementOrder list")
    return parts[1]


def _apply_retain_keys(original: dict, patch: dict) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    if not isinstance(retain, list):
        raise _bad_request("invalid patch format of retainKeys")
    keep = [k for k in retain if isinstance(k, str)]
    for k, v in patch.items():
        if v is None or k.startswith(_DELETE_PREFIX) or k.startswith(_ORDER_PREFIX):
            continue
        if k not in keep:
            raise _bad_request("invalid patch format of retainKeys")
    for k in list(original):
        if k not in keep:
            del original[k]


def _merge_ordered_lists(original: dict, patch: dict, t: str | None) -> None:
    """Process each ``$setElementOrder/<field>`` with its list (mergePatchIntoOriginal)."""
    for key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _internal(f"expected a slice, but received a {_jtype(order)}")
        name = _extract_key(key, _ORDER_PREFIX)
        found_o, found_p = name in original, name in patch
        ov, pv = original.get(name), patch.get(name)
        if found_o and not isinstance(ov, list):
            raise _internal(f"expected a slice, but received a {_jtype(ov)}")
        if found_p and not isinstance(pv, list):
            raise _internal(f"expected a slice, but received a {_jtype(pv)}")
        child, strategy, merge_key = _field(t, name)
        _validate_order(pv or [], order, merge_key or "")
        if found_o and not found_p:
            merged = ov
        elif found_p and not found_o:
            merged = pv
        elif found_o and found_p:
            merged = _merge_slice(ov, pv, child, merge_key) if strategy == _MERGE else pv
        else:
            continue
        kind = _elem_kind((ov or []) + (pv or []), default="map" if merge_key else "scalar")
        if merge_key:
            patch_items, server_only = _partition_maps(merged, order, merge_key)
        else:
            patch_items, server_only = _partition_scalars(merged, order)
        original[name] = _normalize_order(patch_items, server_only, order, ov or [],
                                          merge_key or "", kind)
        patch.pop(name, None)


def _validate_order(patch_list: list, order: list, merge_key: str) -> None:
    # validatePatchWithSetOrderList: patch items must appear in the order list, in order.
    if not order or not patch_list:
        return
    if merge_key:
        items = [x for x in patch_list if not (isinstance(x, dict) and x.get(_DIRECTIVE) == "delete")]
    else:
        items = patch_list
    pi = si = 0
    while pi < len(items) and si < len(order):
        if isinstance(items[pi], dict) and _DIRECTIVE in items[pi]:
            pi += 1
            continue
        if _key_equal(items[pi], order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(items) and si >= len(order):
        raise _internal(f"The order in patch list:\n{_gofmt(patch_list)}\n doesn't match "
                        f"{_ORDER_PREFIX} list:\n{_gofmt(order)}\n")


def _key_equal(left, right, merge_key: str) -> bool:
    if not merge_key:
        return _same(left, right)
    for m in (left, right):
        if not isinstance(m, dict):
            raise _internal(f"expected a map, but received a {_jtype(m)}")
        if merge_key not in m:
            raise _no_merge_key(m, merge_key)
    return _same(left[merge_key], right[merge_key])


def _elem_kind(items: list, default: str) -> str:
    kinds = {_jtype(x) for x in items}
    if not kinds:
        return default
    if "slice" in kinds:
        raise PatchError("Invalid", "lists of lists are not supported")
    if len(kinds) > 1:
        raise _internal(f"list element types are not identical: {_gofmt(items)}")
    return "map" if kinds == {"map"} else "scalar"


def _merge_slice(original: list, patch: list, elem_t: str | None, merge_key: str | None) -> list:
    if not original and not patch:
        return original
    kind = _elem_kind(original + patch, default="scalar")
    if kind != "map":
        merged = _dedupe(original + patch)
        merge_key = ""
    else:
        if not merge_key:
            raise _internal("cannot merge lists without merge key for type map")
        original, patch = _special_elements(original, patch, merge_key)
        merged = list(original)
        for item in patch:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            i = _find(merged, merge_key, item[merge_key])
            if i >= 0:
                merged[i] = _merge_map(merged[i], item, elem_t)
            else:
                merged.append(item)
    if merge_key:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    else:
        patch_items, server_only = _partition_scalars(merged, patch)
    return _normalize_order(patch_items, server_only, patch, original, merge_key, kind)


def _special_elements(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Apply ``$patch`` elements of a merge list (mergeSliceWithSpecialElements)."""
    rest, replace = [], False
    for item in patch:
        if _DIRECTIVE not in item:
            rest.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [o for o in original
                        if not (isinstance(o, dict) and merge_key in o
                                and _same(o[merge_key], item[merge_key]))]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_gofmt(directive)} in map: {_gofmt(item)}")
    if replace:
        return rest, []
    return original, rest


def _find(items: list, merge_key: str, value) -> int:
    for i, m in enumerate(items):
        if not isinstance(m, dict):
            raise _internal(f"value for key {i} is not a map.")
        if merge_key in m and _same(m[merge_key], value):
            return i
    return -1


def _dedupe(items: list) -> list:
    out: list = []
    for x in items:
        if not any(_same(x, y) for y in out):
            out.append(x)
    return out


def _partition_scalars(items: list, by: list) -> tuple[list, list]:
    inside = [x for x in items if any(_same(x, b) for b in by)]
    outside = [x for x in items if not any(_same(x, b) for b in by)]
    return inside, outside


def _partition_maps(items: list, by: list, merge_key: str) -> tuple[list, list]:
    inside, outside = [], []
    for m in items:
        if not isinstance(m, dict):
            raise _internal(f"expected a map, but received a {_jtype(m)}")
        if merge_key not in m:
            raise _no_merge_key(m, merge_key)
        (inside if _find(by, merge_key, m[merge_key]) >= 0 else outside).append(m)
    return inside, outside


def _index(items: list, value, merge_key: str, kind: str) -> int:
    def val(x):
        return x.get(merge_key) if kind == "map" and isinstance(x, dict) else x
    target = val(value)
    for i, x in enumerate(items):
        if _same(val(x), target):
            return i
    return -1


def _sort_by(items: list, order: list, merge_key: str, kind: str) -> list:
    deletes = [x for x in items if kind == "map" and isinstance(x, dict)
               and x.get(_DIRECTIVE) == "delete"]
    keep = [x for x in items if not any(x is d for d in deletes)]

    def pos(x):
        i = _index(order, x, merge_key, kind)
        return i if i >= 0 else len(order)
    return sorted(keep, key=pos) + deletes


def _normalize_order(patch_items: list, server_only: list, patch_order: list,
                     server_order: list, merge_key: str, kind: str) -> list:
    """Order a merged list: patch items by the patch (or $setElementOrder), server-only
    items by the live list, interleaved by live order (normalizeElementOrder)."""
    right = _sort_by(patch_items, patch_order, merge_key, kind)
    left = _sort_by(server_only, server_order, merge_key, kind)
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i]); i += 1
        elif i >= len(left):
            out.append(right[j]); j += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i]); i += 1
            else:
                out.append(right[j]); j += 1
    return out


# --------------------------------------------------------------------------
# RFC 6902

_MAX_JSON_PATCH_OPS = 10000


def json_patch(target: dict, ops: list) -> dict:
    """Apply an RFC 6902 JSON patch.

    A body that is not a list of operations is a 400; any operation that fails
    (a "test" that does not hold, a path that does not exist) is the 422 the
    apiserver sends with its generic message (the library's reason is in
    ``PatchError.detail``).
    """
    if not isinstance(ops, list):
        raise _bad_request(f"json: cannot unmarshal {_go_json_type(ops)} into Go value of type "
                           "jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise _bad_request(f"json: cannot unmarshal {_go_json_type(op)} into Go value of type "
                               "jsonpatch.Operation")
    if len(ops) > _MAX_JSON_PATCH_OPS:
        raise PatchError("RequestEntityTooLarge",
                         "Request entity too large: The allowed maximum operations in a JSON "
                         f"patch is {_MAX_JSON_PATCH_OPS}, got {len(ops)}")
    try:
        result = jsonpatch.apply_patch(target, ops)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            KeyError, IndexError, TypeError, ValueError) as exc:
        raise PatchError("Invalid", _JSON_PATCH_FAILED, detail=str(exc)) from exc
    return result


# --------------------------------------------------------------------------
# Server-side apply

def server_side_apply(live: dict | None, applied: dict, kind: str) -> dict:
    """A model of server-side apply (``application/apply-patch+yaml``).

    With no live object the applied configuration becomes the new object (the
    PATCH creates it, as for ``kubectl apply --server-side``). Otherwise each
    field of ``applied`` is set into ``live``: maps merge, lists with a merge key
    (the strategic-merge keys above) merge element by element, sets of
    primitives (finalizers) are unioned, other lists and scalars are replaced.

    Simplification: there is no managedFields tracking, so no field ownership,
    no conflicts (``force`` has nothing to do), and a field dropped from a later
    applied configuration is kept instead of removed. ``null`` in the applied
    configuration leaves the field as it is. Upstream list keys are the
    ``listMapKeys`` (e.g. containerPort+protocol); the single strategic merge
    key stands in for them here.
    """
    if not isinstance(applied, dict):
        raise _bad_request(f"error decoding patch: json: cannot unmarshal "
                           f"{_go_json_type(applied)} into Go value of type map[string]interface {{}}")
    meta = applied.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields"):    # a non-object is the type check's
        raise _bad_request("metadata.managedFields must be nil")
    if live is None:
        return _clean(clone(applied))
    return _clean(_apply_map(clone(live), applied, _root(kind)))


def _apply_map(live: dict, applied: dict, t: str | None) -> dict:
    for k, v in applied.items():
        if v is None:
            continue
        lv = live.get(k)
        if k not in live or _jtype(lv) != _jtype(v):
            live[k] = clone(v)
            continue
        child, strategy, merge_key = _field(t, k)
        if isinstance(v, dict):
            live[k] = _apply_map(lv, v, child)
        elif isinstance(v, list) and strategy == _MERGE and merge_key:
            merged = list(lv)
            for item in v:
                i = _find(merged, merge_key, item[merge_key]) \
                    if isinstance(item, dict) and merge_key in item else -1
                if i >= 0:
                    merged[i] = _apply_map(merged[i], item, child)
                else:
                    merged.append(clone(item))
            live[k] = merged
        elif isinstance(v, list) and strategy == _MERGE:
            live[k] = _dedupe(lv + clone(v))
        else:
            live[k] = clone(v)
    return live


# --------------------------------------------------------------------------
# Decoding and dispatch

def _reject_constant(name: str):
    raise ValueError(f"invalid constant {name}")


def _loads_json(text: str):
    """JSON within the edge's nesting bound (see apis._decode); a patch nested past it
    is refused in encoding/json's words, as the patcher's json.Unmarshal refuses it."""
    try:
        return loads_json(text, reject_constants=True)
    except DecodeLimit as exc:
        raise _bad_request(str(exc)) from None


def decode_patch(content_type: str, body: bytes) -> tuple[str, object]:
    """Parse a PATCH body by its Content-Type; returns (patch type, decoded patch).

    Parameters such as ``; charset=utf-8`` are ignored, as upstream does. An
    unknown type is the apiserver's 415; a malformed body is a 400.
    Server-side apply bodies are YAML or JSON (the Python client sends JSON).
    """
    ct = (content_type or "").split(";", 1)[0].strip()
    if ct not in PATCH_TYPES:
        raise PatchError("UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media "
                         f"types include: {', '.join(PATCH_TYPES)}")
    # Invalid UTF-8 in a string becomes U+FFFD, as Go's decoders do.
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body)

    if ct == APPLY_PATCH:
        try:
            obj = _loads_json(text)
        except PatchError:
            raise
        except ValueError:
            try:
                obj = loads_yaml(text)      # go-yaml's alias and depth limits (see apis._decode)
            except DecodeLimit as exc:
                raise _bad_request(f"error encoding patch: {exc}") from None
            except yaml.YAMLError as exc:
                raise _bad_request(f"error encoding patch: yaml: {_yaml_problem(exc)}") from exc
        if not isinstance(obj, dict):
            raise _bad_request("error decoding patch: json: cannot unmarshal "
                               f"{_go_json_type(obj)} into Go value of type map[string]interface {{}}")
        return ct, obj

    try:
        obj = _loads_json(text)
    except PatchError:
        raise
    except ValueError:
        raise _bad_request("invalid JSON patch") from None
    if ct == STRATEGIC_MERGE_PATCH:
        if obj is None:
            obj = {}
        if not isinstance(obj, dict):
            raise _bad_request(f"json: cannot unmarshal {_go_json_type(obj)} into Go value "
                               "of type map[string]interface {}")
    elif ct == JSON_PATCH and not isinstance(obj, list):
        raise _bad_request(f"json: cannot unmarshal {_go_json_type(obj)} into Go value of type "
                           "jsonpatch.Patch")
    return ct, obj


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}: {problem}"
    return problem


def apply_patch(kind: str, patch_type: str, live: dict | None, patch) -> dict:
    """Apply a decoded patch (see `decode_patch`) to the live object of ``kind``.

    ``live`` may be None only for server-side apply, which then creates the
    object; other types raise PatchError("NotFound") and the caller should
    send its own ``<plural> "<name>" not found`` Status. A result that is not
    an object is refused as the apiserver does when decoding it (422).
    """
    if patch_type == APPLY_PATCH:
        return server_side_apply(live, patch, kind)
    if live is None:
        raise PatchError("NotFound", "the server could not find the requested resource")
    if patch_type == MERGE_PATCH:
        result = merge_patch(live, patch)
    elif patch_type == STRATEGIC_MERGE_PATCH:
        result = strategic_merge_patch(live, patch, kind)
    elif patch_type == JSON_PATCH:
        result = json_patch(live, patch)
    else:
        raise PatchError("UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media "
                         f"types include: {', '.join(PATCH_TYPES)}")
    if not isinstance(result, dict):
        encoded = json.dumps(result, separators=(",", ":"))
        raise PatchError("Invalid", f' "" is invalid: patch: Invalid value: "{encoded}": '
                         f"json: cannot unmarshal {_go_json_type(result)} into Go value of "
                         "type map[string]interface {}")
    return result
