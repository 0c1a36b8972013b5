"""ConfigMap validation: how much data one object may carry.

pkg/apis/core/validation ValidateConfigMap sums the bytes of every value (`data`, and
`binaryData` decoded) and refuses a total over core.MaxSecretSize, 1 MiB, with a
field.TooLong on the root path "" (printed `[]`). The store's own quota is a separate matter.
"""
from __future__ import annotations

import base64
import binascii

from ._field_errors import _Errors

MAX_SECRET_SIZE = 1024 * 1024        # core.MaxSecretSize (pkg/apis/core/types.go)


def _text_bytes(value) -> int:
    return len(value.encode("utf-8", "replace")) if isinstance(value, str) else 0


def _binary_bytes(value) -> int:
    """The decoded size of a base64 []byte field (its JSON form)."""
    if not isinstance(value, str):
        return 0
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(value) * 3 // 4


def _validate_configmap(obj: dict, old: dict | None, errs: _Errors) -> None:
    total = sum(_text_bytes(v) for v in (obj.get("data") or {}).values()) \
        + sum(_binary_bytes(v) for v in (obj.get("binaryData") or {}).values())
    if total > MAX_SECRET_SIZE:
        errs.too_long("[]", MAX_SECRET_SIZE)   # field.NewPath("") prints as "[]"

