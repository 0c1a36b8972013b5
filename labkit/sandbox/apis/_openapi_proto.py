"""GET /openapi/v2 as protobuf: gnostic's `openapi_v2.Document`, encoded from the JSON document.

kube-openapi's handler turns its JSON into this form with gnostic's `ParseDocument` and
`proto.Marshal` (k8s.io/kube-openapi/pkg/handler/handler.go `ToProtoBinary`); client-go's
`DiscoveryClient.OpenAPISchema` asks for it, and kubectl before 1.27 read `explain` and its
client-side validation from it. This module does the same walk over the same JSON, so the two
forms cannot disagree: each JSON key becomes the field gnostic gives it (field numbers from
github.com/google/gnostic-models openapiv2/OpenAPIv2.proto), in the JSON's own key order
(gnostic keeps a YAML node's order), and every `x-` key becomes a `NamedAny` whose `Any.yaml`
is the value written as YAML (gnostic's `compiler.Marshal`, block style).

Only the parts of Swagger 2.0 the sandbox's document uses are mapped; an unknown key fails
loudly, as gnostic's "has invalid properties" would.
"""
from __future__ import annotations

import json
import math
import re
import struct
import threading

from . import _openapi

# --- protobuf wire format (proto3, as Go's proto.Marshal writes it) --------------------------
_VARINT, _FIXED64, _BYTES = 0, 1, 2


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1          # negative int64 go out as ten bytes, as in Go
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _message(number: int, body: bytes) -> bytes:
    """A sub-message field: written even when empty (a set, empty message is not absent)."""
    return _tag(number, _BYTES) + _varint(len(body)) + body


def _string(number: int, value: str) -> bytes:
    return _message(number, value.encode()) if value else b""      # proto3: "" is not written


def _bool(number: int, value: bool) -> bytes:
    return _tag(number, _VARINT) + b"\x01" if value else b""


def _int64(number: int, value: int) -> bytes:
    return _tag(number, _VARINT) + _varint(int(value)) if value else b""


def _double(number: int, value: float) -> bytes:
    return _tag(number, _FIXED64) + struct.pack("<d", float(value)) if value else b""


# --- YAML of an extension's value (gnostic's Any.yaml) --------------------------------------
_PLAIN_UNSAFE = re.compile(r"^$|^[\s\-?:,\[\]{}#&*!|>'\"%@`]|: | #|[\n\t]|\s$|:$")
_RESOLVES = re.compile(r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO"
                       r"|on|On|ON|off|Off|OFF|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
                       r"|0[xob][0-9a-fA-F_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def _yaml_scalar(value) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value) if value != int(value) else str(int(value))
    text = str(value)
    if _PLAIN_UNSAFE.search(text) or _RESOLVES.match(text):
        return json.dumps(text, ensure_ascii=False)     # a double-quoted scalar, as yaml.v3 picks
    return text


def _yaml_lines(value, indent: int) -> list[str]:
    """Block-style lines, yaml.v3's layout: mappings nest by four spaces, a sequence's items
    start with "- " and a mapping inside an item lines up after it."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_yaml_scalar(key)}:")
                lines += _yaml_lines(item, indent + 4)
            else:
                lines.append(f"{pad}{_yaml_scalar(key)}: {_yaml_inline(item)}")
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            inner = _yaml_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0][indent + 2:]}")
            lines += inner[1:]
        return lines
    return [pad + _yaml_inline(value)]


def _yaml_inline(value) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def yaml_of(value) -> str:
    """What gnostic stores in `Any.yaml` for a JSON value."""
    return "\n".join(_yaml_lines(value, 0)) + "\n"


def _any(number: int, value) -> bytes:
    return _message(number, _string(2, yaml_of(value)))           # Any: 1 value, 2 yaml


def _extensions(number: int, obj: dict) -> bytes:
    return b"".join(_message(number, _string(1, k) + _any(2, v)) for k, v in obj.items()
                    if k.startswith("x-"))


def _refuse(kind: str, obj: dict, known: set[str]) -> None:
    extra = sorted(k for k in obj if k not in known and not k.startswith("x-"))
    if extra:
        raise ValueError(f"{kind} has invalid properties: {', '.join(extra)}")


# --- the Swagger 2.0 messages (OpenAPIv2.proto) --------------------------------------------
_SCHEMA_KEYS = {"$ref", "format", "title", "description", "default", "multipleOf", "maximum",
                "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
                "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required",
                "enum", "additionalProperties", "type", "items", "allOf", "properties",
                "discriminator", "readOnly", "example"}


def schema(s: dict) -> bytes:
    """openapi.v2.Schema."""
    _refuse("Schema", s, _SCHEMA_KEYS)
    out = [_string(1, s.get("$ref", "")), _string(2, s.get("format", "")), _string(3, s.get("title", "")),
           _string(4, s.get("description", ""))]
    if "default" in s:
        out.append(_any(5, s["default"]))
    out += [_double(6, s.get("multipleOf", 0)), _double(7, s.get("maximum", 0)),
            _bool(8, s.get("exclusiveMaximum", False)), _double(9, s.get("minimum", 0)),
            _bool(10, s.get("exclusiveMinimum", False)), _int64(11, s.get("maxLength", 0)),
            _int64(12, s.get("minLength", 0)), _string(13, s.get("pattern", "")),
            _int64(14, s.get("maxItems", 0)), _int64(15, s.get("minItems", 0)),
            _bool(16, s.get("uniqueItems", False)), _int64(17, s.get("maxProperties", 0)),
            _int64(18, s.get("minProperties", 0))]
    out += [_message(19, r.encode()) for r in s.get("required", ())]
    out += [_any(20, v) for v in s.get("enum", ())]
    if "additionalProperties" in s:         # AdditionalPropertiesItem: 1 schema | 2 boolean
        extra = s["additionalProperties"]
        body = _message(1, schema(extra)) if isinstance(extra, dict) else \
            _tag(2, _VARINT) + (b"\x01" if extra else b"\x00")     # a oneof keeps its false
        out.append(_message(21, body))
    if "type" in s:                          # TypeItem: repeated string value = 1
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        out.append(_message(22, b"".join(_message(1, t.encode()) for t in types)))
    if "items" in s:                         # ItemsItem: repeated Schema schema = 1
        items = s["items"] if isinstance(s["items"], list) else [s["items"]]
        out.append(_message(23, b"".join(_message(1, schema(i)) for i in items)))
    out += [_message(24, schema(a)) for a in s.get("allOf", ())]
    if "properties" in s:                    # Properties: repeated NamedSchema = 1
        out.append(_message(25, _named_schemas(s["properties"])))
    out += [_string(26, s.get("discriminator", "")), _bool(27, s.get("readOnly", False))]
    if "example" in s:
        out.append(_any(30, s["example"]))
    out.append(_extensions(31, s))
    return b"".join(out)


def _named_schemas(schemas: dict) -> bytes:
    return b"".join(_message(1, _string(1, name) + _message(2, schema(s))) for name, s in schemas.items())


_PARAM_KEYS = {"required", "in", "description", "name", "allowEmptyValue", "type", "format",
               "uniqueItems", "schema"}
# NonBodyParameter's oneof: which sub-schema an `in` picks, and its field numbers
# (required, in, description, name, type, format, unique_items) in that message.
_NON_BODY = {"header": (1, (1, 2, 3, 4, 5, 6, 19)), "formData": (2, (1, 2, 3, 4, 6, 7, 20)),
             "query": (3, (1, 2, 3, 4, 6, 7, 20)), "path": (4, (1, 2, 3, 4, 5, 6, 19))}


def parameter(p: dict) -> bytes:
    """openapi.v2.ParametersItem of one operation parameter (a Parameter, never a $ref here)."""
    _refuse("Parameter", p, _PARAM_KEYS)
    if p.get("in") == "body":               # BodyParameter: 1 description, 2 name, 3 in, 4 required, 5 schema
        body = (_string(1, p.get("description", "")) + _string(2, p["name"]) + _string(3, "body")
                + _bool(4, p.get("required", False)) + _message(5, schema(p.get("schema", {})))
                + _extensions(6, p))
        return _message(1, _message(1, body))
    which, (req, in_, desc, name, typ, fmt, unique) = _NON_BODY[p["in"]]
    body = [_bool(req, p.get("required", False)), _string(in_, p["in"]), _string(desc, p.get("description", "")),
            _string(name, p["name"])]
    if which in (2, 3):
        body.append(_bool(5, p.get("allowEmptyValue", False)))
    body += [_string(typ, p.get("type", "")), _string(fmt, p.get("format", "")),
             _bool(unique, p.get("uniqueItems", False)),
             _extensions({1: 22, 2: 23, 3: 23, 4: 22}[which], p)]
    return _message(1, _message(2, _message(which, b"".join(body))))


def _response(r: dict) -> bytes:
    """openapi.v2.ResponseValue holding a Response: 1 description, 2 schema (a SchemaItem)."""
    body = _string(1, r.get("description", ""))
    if "schema" in r:
        body += _message(2, _message(1, schema(r["schema"])))
    return _message(1, body + _extensions(5, r))


def operation(op: dict) -> bytes:
    _refuse("Operation", op, {"tags", "summary", "description", "operationId", "produces", "consumes",
                              "parameters", "responses", "schemes", "deprecated"})
    out = [_message(1, t.encode()) for t in op.get("tags", ())]
    out += [_string(2, op.get("summary", "")), _string(3, op.get("description", "")),
            _string(5, op.get("operationId", ""))]
    out += [_message(6, t.encode()) for t in op.get("produces", ())]
    out += [_message(7, t.encode()) for t in op.get("consumes", ())]
    out += [_message(8, parameter(p)) for p in op.get("parameters", ())]
    responses = op.get("responses", {})
    out.append(_message(9, b"".join(_message(1, _string(1, code) + _message(2, _response(r)))
                                    for code, r in responses.items() if not code.startswith("x-"))
                        + _extensions(2, responses)))
    out += [_message(10, t.encode()) for t in op.get("schemes", ())]
    out += [_bool(11, op.get("deprecated", False)), _extensions(13, op)]
    return b"".join(out)


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: dict) -> bytes:
    _refuse("PathItem", item, set(_METHODS) | {"$ref", "parameters"})
    out = [_string(1, item.get("$ref", ""))]
    out += [_message(number, operation(item[m])) for m, number in _METHODS.items() if m in item]
    out += [_message(9, parameter(p)) for p in item.get("parameters", ())]
    out.append(_extensions(10, item))
    return b"".join(out)


def document(doc: dict) -> bytes:
    """openapi.v2.Document of a Swagger 2.0 document (as JSON decoded)."""
    _refuse("Document", doc, {"swagger", "info", "host", "basePath", "schemes", "consumes", "produces",
                              "paths", "definitions"})
    out = [_string(1, doc.get("swagger", ""))]
    if "info" in doc:
        info = doc["info"]
        out.append(_message(2, _string(1, info.get("title", "")) + _string(2, info.get("version", ""))
                            + _string(3, info.get("description", "")) + _extensions(7, info)))
    out += [_string(3, doc.get("host", "")), _string(4, doc.get("basePath", ""))]
    for number, key in ((5, "schemes"), (6, "consumes"), (7, "produces")):
        out += [_message(number, v.encode()) for v in doc.get(key, ())]
    if "paths" in doc:                       # Paths: 1 vendor_extension, 2 NamedPathItem
        paths = doc["paths"]
        out.append(_message(8, _extensions(1, paths) + b"".join(
            _message(2, _string(1, p) + _message(2, _path_item(item)))
            for p, item in paths.items() if p.startswith("/"))))
    if "definitions" in doc:
        out.append(_message(9, _named_schemas(doc["definitions"])))
    out.append(_extensions(16, doc))
    return b"".join(out)


_cache: list[tuple[bytes, bytes]] = []         # [(the JSON it was built from, the protobuf)]
_lock = threading.Lock()


def v2() -> bytes:
    """GET /openapi/v2 as protobuf: built from the JSON document on first use and kept while
    that document is the one served (kube-openapi derives its protobuf cache from the JSON's)."""
    source = _openapi.v2()
    with _lock:
        if not _cache or _cache[0][0] is not source:
            _cache[:] = [(source, document(json.loads(source)))]
        return _cache[0][1]
