"""Field validation (`?fieldValidation=Strict|Warn|Ignore`) against the real API types.

The schema comes from the official client's generated models (`openapi_types`
and `attribute_map` of V1Pod, V1DeploymentSpec, ...), which are generated from
Kubernetes' own OpenAPI document, so a typo such as `spec.replica` is caught as
the API server catches it: `strict decoding error: unknown field "spec.replica"`.
"""
from __future__ import annotations

import importlib
import json
import re

from . import _errors


def _models():
    """The generated models; imported on first use (the client package is slow to import)."""
    return importlib.import_module("kubernetes.client")


def preload() -> None:
    _models()

MODELS = {
    "Pod": "V1Pod", "Deployment": "V1Deployment", "ReplicaSet": "V1ReplicaSet", "Service": "V1Service",
    "ReplicationController": "V1ReplicationController",
    "Endpoints": "V1Endpoints", "EndpointSlice": "V1EndpointSlice", "ConfigMap": "V1ConfigMap",
    "Namespace": "V1Namespace", "Node": "V1Node", "Event": "CoreV1Event",
    "ServiceAccount": "V1ServiceAccount", "Scale": "V1Scale", "NetworkPolicy": "V1NetworkPolicy",
    "Secret": "V1Secret", "Job": "V1Job", "CronJob": "V1CronJob", "StatefulSet": "V1StatefulSet",
    "DaemonSet": "V1DaemonSet", "Lease": "V1Lease",
    "Role": "V1Role", "ClusterRole": "V1ClusterRole", "RoleBinding": "V1RoleBinding",
    "ClusterRoleBinding": "V1ClusterRoleBinding", "TokenRequest": "AuthenticationV1TokenRequest",
    "SelfSubjectAccessReview": "V1SelfSubjectAccessReview", "SelfSubjectRulesReview": "V1SelfSubjectRulesReview",
    "SelfSubjectReview": "V1SelfSubjectReview",
}
_GENERIC = re.compile(r"(List|Dict)\[(.*)\]$")
# The generated Python models say only `int`; the Go types (k8s.io/api core/v1 and apps/v1
# types.go) are int32 except these int64 fields of the kinds the sandbox serves.
_INT64 = frozenset({
    "generation", "observedGeneration", "deletionGracePeriodSeconds",        # ObjectMeta, statuses
    "terminationGracePeriodSeconds", "activeDeadlineSeconds",                 # PodSpec, Probe
    "tolerationSeconds", "runAsUser", "runAsGroup", "fsGroup",                # Toleration, security contexts
    "supplementalGroups", "expirationSeconds", "seconds",                     # ..., token projection, SleepAction
})
_RANGES = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}


def _json_fields(model: type) -> dict[str, str]:
    """JSON field name -> type name, for one generated model class."""
    cached = getattr(model, "_labkit_fields", None)
    if cached is None:
        cached = {model.attribute_map[attr]: typ for attr, typ in model.openapi_types.items()}
        model._labkit_fields = cached
    return cached


def problems(kind: str, obj: dict) -> tuple[list[str], list[str]]:
    """(unknown field paths, type errors) of an object of `kind`."""
    unknown: list[str] = []
    types: list[str] = []
    name = MODELS.get(kind)
    if name is not None and isinstance(obj, dict):
        _walk(obj, name, "", unknown, types, kind)
        for field in _BYTES.get(kind, ()):
            values = obj.get(field)
            for value in (values.values() if isinstance(values, dict) else ()):
                problem = _base64_error(value) if isinstance(value, str) else None
                if problem:
                    types.append(problem)
                    break
    return unknown, types


# The []byte fields of the served kinds: JSON carries them as standard base64, which the
# decoder checks (a bad one fails the whole body, whatever the field validation mode).
_BYTES = {"Secret": ("data",), "ConfigMap": ("binaryData",)}
_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _base64_error(text: str) -> str | None:
    """encoding/base64 StdEncoding's CorruptInputError for a JSON []byte, or None: the
    offset of the first byte outside the alphabet, or of the quantum that padding or the
    input's end leaves incomplete (CR and LF are skipped, as Go skips them)."""
    data = [c for c in text.encode("utf-8", "replace") if c not in b"\r\n"]
    quantum, i = 0, 0
    while i < len(data):
        c = data[i]
        if c == ord("="):          # decodeQuantum's padding cases
            if quantum < 2:
                return f"illegal base64 data at input byte {i}"
            end = i + 1
            if quantum == 2:
                if end == len(data):
                    return f"illegal base64 data at input byte {len(data)}"
                if data[end] != ord("="):
                    return f"illegal base64 data at input byte {i}"
                end += 1
            return None if end == len(data) else f"illegal base64 data at input byte {end}"
        if c not in _B64:
            return f"illegal base64 data at input byte {i}"
        quantum = (quantum + 1) % 4
        i += 1
    if quantum:
        return f"illegal base64 data at input byte {len(data) - quantum}"
    return None


def _walk(value, typ: str, path: str, unknown: list, types: list, struct: str) -> None:
    if value is None or typ == "object":
        return
    generic = _GENERIC.match(typ)
    if generic:
        container, inner = generic.groups()
        if container == "List":
            if not isinstance(value, list):
                types.append(_type_error(value, f"[]{_go_type(inner, path)}", path, struct))
                return
            for i, item in enumerate(value):
                _walk(item, inner, f"{path}[{i}]", unknown, types, struct)
        else:
            inner = inner.split(",", 1)[1].strip()
            if not isinstance(value, dict):
                types.append(_type_error(value, f"map[string]{_go_type(inner, path)}", path, struct))
                return
            for k, v in value.items():
                _walk(v, inner, f"{path}[{k}]" if path else k, unknown, types, struct)
        return
    model = getattr(_models(), typ, None)
    if model is not None and hasattr(model, "openapi_types"):
        if not isinstance(value, dict):
            types.append(_type_error(value, typ.removeprefix("V1").removeprefix("CoreV1"), path, struct))
            return
        fields = _json_fields(model)
        struct_name = typ.removeprefix("V1").removeprefix("CoreV1")
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key not in fields:
                unknown.append(child)
            else:
                _walk(item, fields[key], child, unknown, types, struct_name)
        return
    expected = {"str": str, "int": int, "bool": bool, "float": (int, float), "datetime": str}.get(typ)
    if expected is None:
        return
    if isinstance(value, bool) and typ != "bool" or not isinstance(value, expected):
        types.append(_type_error(value, _go_type(typ, path), path, struct))
    elif typ == "int":
        # encoding/json's literalStore: strconv.ParseInt, then reflect's OverflowInt for the
        # field's width; either failing is an UnmarshalTypeError naming the literal.
        go_type = _go_type(typ, path)
        low, high = _RANGES[go_type]
        if not low <= value <= high:
            types.append(_type_error(value, go_type, path, struct))


def _go_type(typ: str, path: str) -> str:
    if typ == "int":
        return "int64" if path.rsplit(".", 1)[-1].split("[", 1)[0] in _INT64 else "int32"
    return {"str": "string", "bool": "bool", "float": "float64", "datetime": "v1.Time"}.get(typ, typ)


def _type_error(value, go_type: str, path: str, struct: str) -> str:
    json_type = ("bool" if isinstance(value, bool) else _number(value, go_type) if isinstance(value, (int, float))
                 else "string" if isinstance(value, str) else "array" if isinstance(value, list)
                 else "object")
    # encoding/json's error context stacks struct field names only: list indexes are left out.
    field = re.sub(r"\[\d+\]", "", path)
    return f"json: cannot unmarshal {json_type} into Go struct field {struct}.{field} of type {go_type}"


def _number(value, go_type: str) -> str:
    """How encoding/json names a number it could not store: with its literal when the target
    is an integer (an overflow, a fraction), as bare "number" otherwise."""
    if not go_type.startswith("int"):
        return "number"
    literal = str(value) if isinstance(value, int) else json.dumps(value)
    return f"number {literal}"


def check(kind: str, api_version: str, obj: dict, mode: str) -> list[str]:
    """Apply a fieldValidation mode; return the warnings to send, or raise BadRequest."""
    mode = mode or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise _errors.bad_request(
            f'fieldValidation parameter unsupported: {mode}. Supported values are "Ignore", "Warn", "Strict"')
    unknown, types = problems(kind, obj)
    version = api_version.rsplit("/", 1)[-1]
    if types:   # a type error fails decoding whatever the mode
        raise _errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {types[0]}')
    if not unknown or mode == "Ignore":
        return []
    if mode == "Strict":
        listed = ", ".join(f'unknown field "{p}"' for p in unknown)
        raise _errors.bad_request(
            f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {listed}')
    return [f'unknown field "{p}"' for p in unknown]
