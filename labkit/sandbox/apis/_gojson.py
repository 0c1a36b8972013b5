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
    return _go(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def dumps_list(head: dict, items: list, texts: list) -> bytes:
    """dumps(dict(head, items=items)), with each item written as its entry in `texts` where
    there is one: the compact JSON json.dumps gave it (as the store keeps its objects), so
    a list of thousands of objects is not encoded again. A text with a \\u escape (json's
    ASCII escape of UTF-8, which Go writes as is) is encoded again here."""
    parts = [_compact(obj, text) for obj, text in zip(items, texts)]
    opening = json.dumps(head, separators=(",", ":"), ensure_ascii=False)[:-1]
    return _go(f'{opening}{"," if head else ""}"items":[{",".join(parts)}]}}')


def dumps_kept(value, text: str | None) -> bytes:
    """dumps(value), written from `text`, the compact JSON json.dumps gave it, where there
    is one (see dumps_list)."""
    return _go(_compact(value, text))


def _compact(value, text: str | None) -> str:
    if text is not None and "\\u" not in text:
        return text
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _go(text: str) -> bytes:
    """Compact JSON from json.dumps (ensure_ascii off) as Go's Encoder writes it."""
    if any(c in text for c in "<>&\u2028\u2029"):
        text = text.translate(_ESCAPES)
    if "\\b" in text or "\\f" in text:
        # Escapes read pairwise, so an escaped backslash before a "b" stays as it is.
        text = _PAIR.sub(lambda m: _GO_SHORT.get(m.group(0), m.group(0)), text)
    return (text + "\n").encode()
