"""PATCH semantics of the Kubernetes API server, as pure functions on JSON dicts.

Four content types, as the apiserver accepts them for built-in kinds:

- ``application/merge-patch+json``: RFC 7386 (`merge_patch`).
- ``application/strategic-merge-patch+json``: Kubernetes strategic merge patch
  (`strategic_merge_patch`), ported from apimachinery
  pkg/util/strategicpatch/patch.go in `_strategic`.
- ``application/json-patch+json``: RFC 6902 through the ``jsonpatch`` library
  (`json_patch`).
- ``application/apply-patch+yaml``: server-side apply's merge (`server_side_apply`);
  field ownership is `_managedfields`'.

Errors are `PatchError` (`_patch_errors`) carrying the Status reason, code and message
the apiserver would send.
Every function copies its inputs; nothing is mutated.
"""
from __future__ import annotations

import json


from ...kube.objects import clone
from ..apis._decode import DecodeLimit, loads_json, loads_yaml, yaml_problem
from ._patch_errors import _JSON_PATCH_FAILED, PatchError, _bad_request, _go_json_type
from . import _fieldpath
from ._strategic import _clean, strategic_merge_patch

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
# In the order the apiserver lists them (endpoints/installer.go).
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

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
    import jsonpatch    # here, not at import: most sandboxes never see a JSON patch
    import jsonpointer
    try:
        result = jsonpatch.apply_patch(target, ops)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            KeyError, IndexError, TypeError, ValueError) as exc:
        raise PatchError("Invalid", _JSON_PATCH_FAILED, detail=str(exc)) from exc
    return result


# --------------------------------------------------------------------------
# Server-side apply

def server_side_apply(live: dict | None, applied: dict, kind: str) -> dict:
    """The merge of server-side apply (``application/apply-patch+yaml``): ``applied`` set
    into ``live`` as structured-merge-diff merges a configuration into an object, typed by
    the release's schema (`_fieldpath.merge`): maps merge, list-type maps merge item by
    item on their keys (containerPort+protocol for ports), list-type sets are unioned,
    atomic lists and scalars are replaced, and ``null`` clears a field.

    With no live object the applied configuration becomes the new object (the PATCH creates
    it, as for ``kubectl apply --server-side``). Ownership (conflicts, ``force``, removing
    what a manager stopped applying) is `_managedfields.apply`'s, over this merge.
    """
    if not isinstance(applied, dict):
        raise _bad_request(f"error decoding patch: json: cannot unmarshal "
                           f"{_go_json_type(applied)} into Go value of type map[string]interface {{}}")
    meta = applied.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields"):    # a non-object is the type check's
        raise _bad_request("metadata.managedFields must be nil")
    if live is None:
        return _clean(clone(applied))
    api_version = applied.get("apiVersion") or live.get("apiVersion") or ""
    return _clean(_fieldpath.merge(clone(live), clone(applied), _fieldpath.root_type(api_version, kind)))


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
            import yaml                     # loaded by the first YAML document
            try:
                obj = loads_yaml(text)      # go-yaml's alias and depth limits (see apis._decode)
            except DecodeLimit as exc:
                raise _bad_request(f"error encoding patch: {exc}") from None
            except yaml.YAMLError as exc:
                raise _bad_request(f"error encoding patch: {yaml_problem(exc)}") from exc
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
