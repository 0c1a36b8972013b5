"""JSON bytes as the API server writes them: Go's encoding/json Encoder.

kube-apiserver's JSON serializer (apimachinery runtime/serializer/json) encodes with
encoding/json's Encoder: no spaces, keys in the order the Go struct declares them (the
caller's dict order here), UTF-8 as is, `<`, `>`, `&`, U+2028 and U+2029 escaped as \\u003c
and so on (HTML-safe by default), \\b and \\f as \\u0008 and \\u000c, and a newline after the
value (Encoder.Encode).
"""
from __future__ import annotations

import json
import re

_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                          "\u2028": "\\u2028", "\u2029": "\\u2029"})

_PAIR = re.compile(r"\\.")
_GO_SHORT = {"\\b": "\\u0008", "\\f": "\\u000c"}


def dumps(value) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if any(c in text for c in "<>&\u2028\u2029"):
        text = text.translate(_ESCAPES)
    if "\\b" in text or "\\f" in text:
        # Escapes read pairwise, so an escaped backslash before a "b" stays as it is.
        text = _PAIR.sub(lambda m: _GO_SHORT.get(m.group(0), m.group(0)), text)
    return (text + "\n").encode()
