"""Secret validation, as pkg/apis/core/validation ValidateSecret and ValidateSecretUpdate
word it: keys as IsConfigMapKey allows them, at most core.MaxSecretSize bytes, and the
keys each built-in type requires."""
from __future__ import annotations

import base64
import binascii
import json
import re

from ._config import MAX_SECRET_SIZE
from ._field_errors import _Errors

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                   "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                   "is '[-._a-zA-Z0-9]+')")
_REDACTED = "<secret contents redacted>"


def config_key_messages(key: str) -> list[str]:
    """validation.IsConfigMapKey (apimachinery/pkg/util/validation)."""
    msgs = []
    if len(key) > 253:
        msgs.append("must be no more than 253 characters")
    if not _CONFIG_KEY.match(key):
        msgs.append(_CONFIG_KEY_MSG)
    if key == ".":
        msgs.append("must not be '.'")
    elif key == "..":
        msgs.append("must not be '..'")
    elif key.startswith(".."):
        msgs.append("must not start with '..'")
    return msgs


def _decoded(value) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        return b""       # the decoder refused it already (apis/_schema.py)


def _json_object_error(raw: bytes) -> str | None:
    """What encoding/json's Unmarshal into a map says of `raw`, or None when it is an object."""
    try:
        value = json.loads(raw)
    except ValueError as e:
        pos = getattr(e, "pos", 0)
        text = raw.decode("utf-8", "replace")
        if pos >= len(text.rstrip()):
            return "unexpected end of JSON input"
        return f"invalid character {text[pos]!r} looking for beginning of value"
    if not isinstance(value, dict):
        return "json: cannot unmarshal %s into Go value of type map[string]interface {}" % (
            "array" if isinstance(value, list) else "string" if isinstance(value, str) else "number")
    return None


def _validate_secret(obj: dict, old: dict | None, errs: _Errors) -> None:
    data = obj.get("data") or {}
    total = 0
    for key, value in data.items():
        for msg in config_key_messages(key):
            errs.invalid(f"data[{key}]", key, msg)
        total += len(_decoded(value))
    if total > MAX_SECRET_SIZE:
        errs.too_long("data", MAX_SECRET_SIZE)
    kind = obj.get("type") or ""
    if kind == "kubernetes.io/service-account-token":
        if not ((obj.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/service-account.name"):
            errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errs.required(f"data[{key}]")
        else:
            problem = _json_object_error(_decoded(data[key]))
            if problem:
                errs.invalid(f"data[{key}]", _REDACTED, problem)
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.required("data[username]")
            errs.required("data[password]")
    elif kind == "kubernetes.io/ssh-auth":
        if not _decoded(data.get("ssh-privatekey")):
            errs.required("data[ssh-privatekey]")
    elif kind == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                errs.required(f"data[{key}]")
    if old is not None:
        if (old.get("type") or "") != kind:
            errs.invalid("type", kind, "field is immutable")
        if old.get("immutable"):
            if not obj.get("immutable"):
                errs.forbidden("immutable", "field is immutable when `immutable` is set")
            if (old.get("data") or {}) != data:
                errs.forbidden("data", "field is immutable when `immutable` is set")
