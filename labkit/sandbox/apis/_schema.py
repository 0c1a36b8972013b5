"""Field validation (`?fieldValidation=Strict|Warn|Ignore`) against the release's own types.

The body is checked as kube-apiserver's JSON decoder reads it into the Go struct: the
types are compiled from the release's published OpenAPI definitions (the vendored
openapi/definitions.json.gz that `_openapi` serves, read without descriptions), so a typo such as `spec.replica` is
caught as the API server catches it (`strict decoding error: unknown field
"spec.replica"`), and a value of the wrong JSON type fails with encoding/json's own words.

The decoder is sigs.k8s.io/json's fork of encoding/json (internal/golang/encoding/json/
decode.go): case-sensitive field names; a type mismatch is saved and decoding goes on, the
first one saved reported at the end; an error returned by a type's UnmarshalJSON
(Quantity, IntOrString, Time) stops decoding at once and wins over any saved one. Its
UnmarshalTypeError is encoding/json's, so the context (innermost struct, the field path
without list indexes or map keys) is added to those of an UnmarshalJSON too.

The `x-kubernetes-*` extensions (list and map types, patch strategies) shape merges, not
decoding, so they play no part here. Known loss: the definitions do not name Go's string
types, so a number sent for `protocol` is said to miss `string`, not `v1.Protocol`.

The served kinds' types are compiled by the first validated write (a few hundredths of a
second of CPU) and the raw definitions dropped; the server never imports the official client.
"""
from __future__ import annotations

import json
import threading

from . import _errors, _openapi, _quantity
from ._resources import RESOURCES, SUBRESOURCE_KINDS

# Definitions with a hand-written UnmarshalJSON (k8s.io/apimachinery): what JSON each takes.
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_TIMES = ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime")
# Kept as raw JSON whatever it is (RawExtension, FieldsV1 and apiextensions' JSON types).
_FREE_FORM = frozenset({
    "io.k8s.apimachinery.pkg.runtime.RawExtension", "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
})
_RANGES = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1), "uint8": (0, 255)}
_lock = threading.Lock()


class _Type:
    """One Go type as the decoder meets it. `kind` is "struct" (fields), "list" / "map"
    (elem), "scalar" (go: string, bool, int32, int64, float64), "bytes" ([]byte), or one
    of the UnmarshalJSON types: "intstr", "quantity", "time", "any"."""
    __slots__ = ("kind", "go", "name", "fields", "elem", "holds_quantity")

    def __init__(self, kind: str, go: str, *, name: str = "", fields=None, elem=None):
        self.kind, self.go, self.name, self.fields, self.elem = kind, go, name, fields, elem
        self.holds_quantity: bool | None = None     # whether a Quantity lies under it (see below)


_ANY = _Type("any", "interface {}")
_STRING, _BOOL, _FLOAT = _Type("scalar", "string"), _Type("scalar", "bool"), _Type("scalar", "float64")
_INTS = {"int32": _Type("scalar", "int32"), "int64": _Type("scalar", "int64")}
_BYTES = _Type("bytes", "[]uint8")


def _go_name(definition: str) -> tuple[str, str]:
    """(struct name, reflect's Type.String()) of a definition: io.k8s.api.core.v1.PodSpec is
    the struct PodSpec of package v1, written "v1.PodSpec"."""
    package, _, name = definition.rpartition(".")
    return name, f"{package.rpartition('.')[2]}.{name}"


def _compile(defs: dict, roots: list[str]) -> dict[str, _Type]:
    named: dict[str, _Type] = {}

    def ref(definition: str) -> _Type:
        found = named.get(definition)
        if found is not None:
            return found
        name, go = _go_name(definition)
        schema = defs.get(definition, {})
        if definition in _FREE_FORM or definition not in defs:
            t = _Type("any", go)
        elif definition == _INT_OR_STRING:
            t = _Type("intstr", go)
        elif definition == _QUANTITY:
            t = _Type("quantity", go)
        elif definition in _TIMES:
            t = _Type("time", go)
        elif "properties" in schema or schema.get("type") == "object" and "additionalProperties" not in schema:
            # A struct; one with no properties is an empty struct (every key is unknown).
            t = _Type("struct", go, name=name, fields={})
            named[definition] = t
            t.fields.update((k, node(v)) for k, v in schema.get("properties", {}).items())
            return t
        else:
            t = node(schema)
        named[definition] = t
        return t

    def node(schema: dict) -> _Type:
        target = schema.get("$ref") or next((s["$ref"] for s in schema.get("allOf", ()) if "$ref" in s), None)
        if target:
            return ref(target.rsplit("/", 1)[-1])
        kind, fmt = schema.get("type"), schema.get("format")
        if kind == "array":
            elem = node(schema.get("items") or {})
            return _Type("list", f"[]{elem.go}", elem=elem)
        if kind == "object" or "additionalProperties" in schema:
            extra = schema.get("additionalProperties")
            elem = node(extra) if isinstance(extra, dict) else _ANY
            return _Type("map", f"map[string]{elem.go}", elem=elem)
        if kind == "string":
            return _BYTES if fmt == "byte" else _STRING
        if kind == "integer":
            return _INTS["int32" if fmt == "int32" else "int64"]
        if kind == "number":
            return _FLOAT
        if kind == "boolean":
            return _BOOL
        return _ANY

    for root in roots:
        ref(root)
    return named


_compiled: dict[tuple[str, str], _Type] | None = None


def _kinds() -> dict[tuple[str, str], _Type]:
    """(apiVersion, kind) -> its root type, for every kind the sandbox serves or reads;
    compiled once, by the first validation (a large body's is on a worker thread)."""
    global _compiled
    if _compiled is None:
        with _lock:
            if _compiled is None:
                _compiled = _compile_served()
    return _compiled


def _compile_served() -> dict[tuple[str, str], _Type]:
    defs = _openapi._shapes()
    by_gvk = _openapi._by_gvk(defs)
    wanted = {(r.group, r.version, r.kind) for r in RESOURCES}
    wanted.update((g, v, k) for g, v, k, _ in SUBRESOURCE_KINDS.values() if k)
    wanted = {gvk: by_gvk[gvk] for gvk in wanted if gvk in by_gvk}
    named = _compile(defs, sorted(set(wanted.values())))
    return {(f"{g}/{v}" if g else v, k): named[name] for (g, v, k), name in wanted.items()}


def problems(kind: str, obj: dict, api_version: str = "") -> tuple[list[str], list[str]]:
    """(unknown field paths, decode errors) of an object of `kind`: the first decode error is
    the one the API server reports."""
    walk = _Walk()
    root = _root(api_version, kind)
    if root is not None and isinstance(obj, dict):
        try:
            walk.value(obj, root, "", "", root.name)
        except _Stop as stop:
            return walk.unknown, [stop.message]
    return walk.unknown, walk.saved


def _root(api_version: str, kind: str) -> _Type | None:
    kinds = _kinds()
    found = kinds.get((api_version, kind))
    if found is None and not api_version:
        found = next((t for (_, k), t in kinds.items() if k == kind), None)
    return found


def canonicalize_quantities(kind: str, obj: dict, api_version: str = "") -> None:
    """Rewrite, in place, every resource.Quantity of the object as kube-apiserver writes it
    back (decoded with UnmarshalJSON, encoded with MarshalJSON: `0.5` -> "500m"). A value
    that does not decode is left for decoding to refuse."""
    root = _root(api_version, kind)
    if root is not None and isinstance(obj, dict):
        _canonical(obj, root)


def _canonical(value, t: _Type) -> None:
    if not _holds_quantity(t):
        return
    kind = t.kind
    if kind == "struct" and isinstance(value, dict):
        for key, item in value.items():
            sub = t.fields.get(key)
            if sub is None or item is None:
                continue
            if sub.kind == "quantity":
                value[key] = _quantity.canonical(item)
            else:
                _canonical(item, sub)
    elif kind == "map" and isinstance(value, dict):
        if t.elem.kind == "quantity":        # resources.requests, capacity, hard
            for key, item in value.items():
                value[key] = _quantity.canonical(item)
        else:
            for item in value.values():
                _canonical(item, t.elem)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            if t.elem.kind == "quantity":
                value[i] = _quantity.canonical(item)
            else:
                _canonical(item, t.elem)


_marked = False


def _holds_quantity(t: _Type) -> bool:
    """Whether a Quantity can be found under this type, so the walk skips metadata and
    most of a spec. The types are cyclic (JSONSchemaProps), so every compiled type is
    marked at once, as a fixed point."""
    global _marked
    if not _marked:
        roots = list(_kinds().values())      # compiled first: it takes the same lock
        with _lock:
            if not _marked:
                _mark_holders(roots)
                _marked = True
    return bool(t.holds_quantity)


def _children(t: _Type):
    return t.fields.values() if t.kind == "struct" else (t.elem,) if t.elem is not None else ()


def _mark_holders(roots: list[_Type]) -> None:
    types: dict[int, _Type] = {}
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) not in types:
            types[id(t)] = t
            stack.extend(_children(t))
    for t in types.values():
        t.holds_quantity = t.kind == "quantity"
    changed = True
    while changed:
        changed = False
        for t in types.values():
            if not t.holds_quantity and any(c.holds_quantity for c in _children(t)):
                t.holds_quantity = changed = True


class _Stop(Exception):
    """An UnmarshalJSON's error: decoding ends there."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Walk:
    """One decode: unknown fields as strict decoding words their paths (list indexes and map
    keys in brackets), and the saved type errors in the order the body has them."""
    __slots__ = ("unknown", "saved")

    def __init__(self):
        self.unknown: list[str] = []
        self.saved: list[str] = []

    def value(self, value, t: _Type, path: str, field: str, struct: str) -> None:
        """`path` names the value for unknown fields; `field` is the decoder's error context
        (struct field names only) and `struct` the innermost struct holding it."""
        if value is None:           # null leaves any Go value as it is
            return
        kind = t.kind
        if kind == "struct":
            if not isinstance(value, dict):
                self.saved.append(_type_error(value, t.go, field, struct))
                return
            fields = t.fields
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                sub = fields.get(key)
                if sub is None:
                    self.unknown.append(child)
                else:
                    self.value(item, sub, child, f"{field}.{key}" if field else key, t.name)
        elif kind == "list":
            if not isinstance(value, list):
                self.saved.append(_type_error(value, t.go, field, struct))
                return
            elem = t.elem
            if elem.kind == "scalar" and elem.go == "string":      # the common []string
                for item in value:
                    if item is not None and not isinstance(item, str):
                        self.saved.append(_type_error(item, "string", field, struct))
                return
            for i, item in enumerate(value):
                self.value(item, elem, f"{path}[{i}]", field, struct)
        elif kind == "map":
            if not isinstance(value, dict):
                self.saved.append(_type_error(value, t.go, field, struct))
                return
            elem = t.elem
            if elem.kind == "any":
                return
            for key, item in value.items():
                self.value(item, elem, f"{path}[{key}]" if path else key, field, struct)
        elif kind == "scalar":
            self._scalar(value, t.go, field, struct)
        elif kind == "bytes":
            self._bytes(value, field, struct)
        elif kind == "intstr":
            # intstr.go UnmarshalJSON: a string is StrVal; anything else goes into the
            # int32 IntVal with encoding/json, whose error gets this field's context.
            if not isinstance(value, str):
                before = len(self.saved)
                self._scalar(value, "int32", field, struct)
                if len(self.saved) > before:
                    raise _Stop(self.saved.pop())
        elif kind == "quantity":
            problem = _quantity.error(value)
            if problem:
                raise _Stop(problem)
        elif kind == "time":
            # metav1 Time/MicroTime UnmarshalJSON: json.Unmarshal into a string, then
            # time.Parse with RFC3339 (RFC3339Micro), whose error is returned as it is.
            if not isinstance(value, str):
                raise _Stop(_type_error(value, "string", field, struct))
            problem = _time_error(value, micro=t.go == "v1.MicroTime")
            if problem:
                raise _Stop(problem)

    def _scalar(self, value, go: str, field: str, struct: str) -> None:
        if go == "string":
            ok = isinstance(value, str)
        elif go == "bool":
            ok = isinstance(value, bool)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            ok = False
        elif go == "float64":
            ok = True
        else:
            # encoding/json's literalStore: strconv.ParseInt, then reflect's OverflowInt for
            # the field's width; either failing is an UnmarshalTypeError naming the literal.
            low, high = _RANGES[go]
            ok = isinstance(value, int) and low <= value <= high
        if not ok:
            self.saved.append(_type_error(value, go, field, struct))

    def _bytes(self, value, field: str, struct: str) -> None:
        """A []byte: JSON carries it as standard base64, which the decoder checks (its
        CorruptInputError is saved as a type error is); an array is read byte by byte."""
        if isinstance(value, str):
            problem = _base64_error(value)
            if problem:
                self.saved.append(problem)
        elif isinstance(value, list):
            for item in value:
                if item is not None:
                    self._scalar(item, "uint8", field, struct)
        else:
            self.saved.append(_type_error(value, "[]uint8", field, struct))


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


_DIGITS = frozenset("0123456789")


# Go's time.Parse over the two layouts metav1 uses (time/format.go parse: each layout element
# in turn, a range error as soon as its element is read, the day checked last).
_RFC3339 = "2006-01-02T15:04:05Z07:00"
_RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"
_FIELDS = (("-", "01", True, "month", 1, 12), ("-", "02", True, None, 0, 99), ("T", "15", False, "hour", 0, 23),
           (":", "04", True, "minute", 0, 59), (":", "05", True, "second", 0, 59))


def _go_quote(text: str) -> str:
    """time's own quote(): `"` and `\\` escaped, bytes outside printable ASCII as \\xNN."""
    out = []
    for c in text:
        if " " <= c < "\x80":
            out.append("\\" + c if c in '"\\' else c)
        else:
            out.extend(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogatepass"))
    return '"' + "".join(out) + '"'


def _getnum(text: str, fixed: bool) -> tuple[int, str] | None:
    """time's getnum: one or two digits (exactly two when fixed)."""
    if not text or text[0] not in _DIGITS:
        return None
    if len(text) < 2 or text[1] not in _DIGITS:
        return None if fixed else (int(text[0]), text[1:])
    return int(text[:2]), text[2:]


def _time_error(text: str, micro: bool) -> str | None:
    """time.Parse(RFC3339 or RFC3339Micro, text)'s error, or None."""
    layout = _RFC3339_MICRO if micro else _RFC3339

    def cannot(element: str, rest: str) -> str:
        return f"parsing time {_go_quote(text)} as {_go_quote(layout)}: cannot parse {_go_quote(rest)} as " \
               f"{_go_quote(element)}"

    def out_of_range(what: str) -> str:
        return f"parsing time {_go_quote(text)}: {what} out of range"

    if len(text) < 4 or any(c not in _DIGITS for c in text[:4]):
        return cannot("2006", text)
    year, rest, got = int(text[:4]), text[4:], {}
    for prefix, element, fixed, name, low, high in _FIELDS:
        if not rest.startswith(prefix):
            return cannot(prefix, rest)
        rest = rest[1:]
        number = _getnum(rest, fixed)
        if number is None:
            return cannot(element, rest)
        got[element], rest = number
        if name and not low <= got[element] <= high:
            return out_of_range(name)
    if rest[:1] in (".", ",") and rest[1:2] in _DIGITS and rest[1:2] and not micro:
        # A fraction the layout does not name is read whatever its length.
        end = 2
        while end < len(rest) and rest[end] in _DIGITS:
            end += 1
        rest = rest[end:]
    elif micro:
        fraction = rest[1:7]
        fraction = fraction[1:] if fraction[:1] in ("-", "+") else fraction       # atoi takes a sign
        if len(rest) < 7 or rest[0] not in ".," or any(c not in _DIGITS for c in fraction):
            return cannot(".000000", rest)
        if rest[1] == "-" and int(fraction or "0"):
            return out_of_range("fractional second")
        rest = rest[7:]
    if rest.startswith("Z"):
        rest = rest[1:]
    else:
        if len(rest) < 6 or rest[3] != ":":
            return cannot("Z07:00", rest)
        hours = _getnum(rest[1:3], True)
        minutes = _getnum(rest[4:6], True) if hours else None
        # Both bounds are > (offsets of 24 hours or 60 minutes are written); the later wins.
        if minutes and minutes[0] > 60:
            return out_of_range("time zone offset minute")
        if hours and hours[0] > 24:
            return out_of_range("time zone offset hour")
        if hours is None or minutes is None or rest[0] not in "+-":
            return cannot("Z07:00", rest)
        rest = rest[6:]
    if rest:
        return f"parsing time {_go_quote(text)}: extra text: {_go_quote(rest)}"
    month, day = got["01"], got["02"]
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = 29 if month == 2 and leap else (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return out_of_range("day") if not 1 <= day <= days else None


def _type_error(value, go_type: str, field: str, struct: str) -> str:
    json_type = ("bool" if isinstance(value, bool) else _number(value, go_type) if isinstance(value, (int, float))
                 else "string" if isinstance(value, str) else "array" if isinstance(value, list)
                 else "object")
    return f"json: cannot unmarshal {json_type} into Go struct field {struct}.{field} of type {go_type}"


def _number(value, go_type: str) -> str:
    """How encoding/json names a number it could not store: with its literal when the target
    is an integer (an overflow, a fraction), as bare "number" otherwise."""
    if not go_type.startswith(("int", "uint")):
        return "number"
    literal = str(value) if isinstance(value, int) else json.dumps(value)
    return f"number {literal}"


def check(kind: str, api_version: str, obj: dict, mode: str) -> list[str]:
    """Apply a fieldValidation mode; return the warnings to send, or raise BadRequest."""
    mode = mode or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise _errors.bad_request(
            f'fieldValidation parameter unsupported: {mode}. Supported values are "Ignore", "Warn", "Strict"')
    unknown, types = problems(kind, obj, api_version)
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
