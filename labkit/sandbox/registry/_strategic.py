"""Strategic merge patch, ported from apimachinery pkg/util/strategicpatch/patch.go
(mergeMap, mergeSlice, mergePatchIntoOriginal) with the ``patchStrategy``/``patchMergeKey``
tags of k8s.io/api. Every function copies its inputs; nothing is mutated."""
from __future__ import annotations

from ...kube.objects import clone
from ._patch_errors import PatchError, _bad_request, _go_json_type, _gofmt, _internal, _jtype, _same

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
    # Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, ReplicationController: spec.template
    # is a pod template.
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
    "StatefulSet": "Workload", "Job": "Workload", "ReplicationController": "Workload",
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
