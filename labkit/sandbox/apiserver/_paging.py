"""List pagination (`limit`, `continue`) as kube-apiserver's etcd3 store serves it.

A first page is read at the current revision; its continue token names that revision and
the key to start from, so every later page shows the same snapshot (storage/etcd3/store.go
GetList). A token whose revision etcd has compacted is refused with 410 Expired and a
token that continues at the latest revision instead (handleCompactedErrorForPaging).
Tokens are apiserver/pkg/storage's continueToken: raw URL-safe base64 of
`{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\\u0000"}`, keys relative to the list's prefix.
"""
from __future__ import annotations

import base64
import binascii
import json

from ..apis import _errors
from ..storage._store import Compacted

_VERSION = "meta.k8s.io/v1"
# storage/etcd3/store.go's messages for a compacted continue token.
CONTINUE_EXPIRED = ("The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter.")
INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.")


class ExpiredContinue(_errors.ApiError):
    """410 Expired whose Status carries a continue token at the latest revision."""

    def __init__(self, token: str):
        super().__init__(410, "Expired", INCONSISTENT_CONTINUE)
        self.token = token

    def status(self) -> dict:
        body = super().status()
        body["metadata"] = {"continue": self.token}
        return body


def encode(revision: int, start: str) -> str:
    raw = json.dumps({"v": _VERSION, "rv": revision, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str) -> tuple[int, str]:
    """(revision, start key) of a continue token; BadRequest as storage.DecodeContinue words it."""
    def invalid(why: str) -> _errors.ApiError:
        return _errors.bad_request(f"invalid continue token: continue key is not valid: {why}")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid("illegal base64 data") from None
    try:
        data = json.loads(raw)
    except ValueError:
        # encoding/json's wording for a token that is not JSON.
        first = raw[:1].decode("latin-1") or "EOF"
        raise invalid(f"invalid character '{first}' looking for beginning of value") from None
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        raise invalid("server does not recognize this encoded version")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv == 0:
        raise invalid(f"incorrect encoded start resourceVersion (version {_VERSION})")
    if not isinstance(start, str) or not start:
        raise invalid("encoded start key empty")
    if start.startswith("/") or "/../" in f"/{start}/":
        raise invalid(f"{start}: invalid start key")
    return rv, start


def key_of(obj: dict, namespace_in_key: bool) -> str:
    """An object's key below the list's prefix: "ns/name" for a list across namespaces."""
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if namespace_in_key and meta.get("namespace") else meta["name"]


def read(store, resource, namespace: str | None, continue_token: str) -> tuple[int, list[dict], str]:
    """(revision, objects in key order, the key to start at) for one page's read."""
    if not continue_token:
        with store._lock:
            return store.revision, store.list_resource(resource, namespace), ""
    rv, start = decode(continue_token)
    if rv == -1:        # continue at the latest revision (the token a 410 hands out)
        with store._lock:
            return store.revision, store.list_resource(resource, namespace), start
    try:
        return rv, store.list_at(resource, namespace, rv), start
    except Compacted:
        raise ExpiredContinue(encode(-1, start)) from None


def page(snapshot: list[dict], start: str, limit: int, matches, namespace_in_key: bool
         ) -> tuple[list[dict], str | None, int | None]:
    """(this page's items, the next page's start key or None, remainingItemCount or None).

    As etcd3's GetList walks keys from `start`: it keeps the objects `matches` accepts (None:
    all) until it holds `limit`, and there is a next page when any key follows the last one
    kept, matching or not. remainingItemCount is known only without selectors."""
    if start:
        snapshot = [o for o in snapshot if key_of(o, namespace_in_key) >= start]
    if limit <= 0:
        return (snapshot if matches is None else [o for o in snapshot if matches(o)]), None, None
    shown: list[dict] = []
    for i, obj in enumerate(snapshot):
        if len(shown) == limit:
            next_start = key_of(shown[-1], namespace_in_key) + "\x00"
            return shown, next_start, None if matches is not None else len(snapshot) - i
        if matches is None or matches(obj):
            shown.append(obj)
    return shown, None, None
