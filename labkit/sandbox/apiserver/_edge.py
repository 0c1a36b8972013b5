"""The API server's edge: reading request bodies and parsing query parameters (decoding the
bodies is `apis._decode`).

Each limit is kube-apiserver's, with its wording, unless a note says otherwise:

- Bodies: `limitedReadBody` (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go)
  reads at most `--max-request-body-bytes` + 1 bytes (3 MiB by default) and answers 413
  `Request entity too large: limit is 3145728` (api/errors.NewRequestEntityTooLargeError).
  `read_body` never holds more than the limit + 1 bytes either.
- Query parameters: the parameter codec converts with strconv (apimachinery
  runtime/conversion.go), and the handlers answer its error as a 400 BadRequest:
  `strconv.ParseInt: parsing "abc": invalid syntax`. Booleans never fail: "0" and
  "false" (any case) are false, anything else true.
"""
from __future__ import annotations

import asyncio
import re

from aiohttp import web

from ..apis import _errors
from ..registry._registry import WriteOptions

PREPARED = web.RequestKey("labkit_prepared", bool)   # a streamed answer has begun
MAX_BODY_BYTES = 3 * 1024 * 1024     # kube-apiserver --max-request-body-bytes default
BODY_SECONDS = 60.0                  # kube-apiserver --request-timeout default (1m0s)
# kube-apiserver's http.Server has ReadHeaderTimeout 32 s (apiserver/pkg/server/secure_serving.go).
# aiohttp (3.10+) closes a connection whose handler still waits for a request's headers once
# its keep-alive timeout passes, counted from the connection or the last answer: that timeout,
# set to this, is the sandbox's header deadline (and its idle-connection limit).
HEADER_SECONDS = 32.0
_READ_CHUNK = 64 * 1024


# --- bodies -----------------------------------------------------------------------------
def too_large(limit: int = MAX_BODY_BYTES) -> _errors.ApiError:
    return _errors.ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def timeout_error() -> _errors.ApiError:
    """The request-timeout filter's answer (endpoints/filters/timeout.go, NewTimeoutError)."""
    return _errors.ApiError(504, "Timeout", "Timeout: request did not complete within requested "
                            "timeout - context deadline exceeded", {"retryAfterSeconds": 0})


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES,
                    seconds: float | None = None) -> bytes:
    """The request's body, at most `limit` bytes: more is a 413, as limitedReadBody does.

    A body announced larger than the limit is refused before a byte of it is read. A
    body that has not fully arrived within `seconds` (BODY_SECONDS) is a 504: a client
    trickling its body holds a connection, never the server."""
    cached = getattr(request, "_read_bytes", None)
    if cached is not None:                   # aiohttp's request.read() ran already
        if len(cached) > limit:
            raise too_large(limit)
        return cached
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (BODY_SECONDS if seconds is None else seconds)
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise timeout_error()
        try:
            chunk = await asyncio.wait_for(request.content.read(min(_READ_CHUNK, limit + 1 - size)),
                                           remaining)
        except asyncio.TimeoutError:
            raise timeout_error() from None
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._read_bytes = body               # so a later request.read() sees the same bytes
    return body


# --- query parameters -------------------------------------------------------------------------
_DIGITS = re.compile(r"[+-]?[0-9]+")


def _go_quote(s: str) -> str:
    from ..validation._field_errors import _goquote
    return _goquote(s)


def parse_int(text: str, *, bits: int = 64) -> int:
    """strconv.ParseInt(text, 10, bits), with its error as the 400 the handlers send."""
    if not _DIGITS.fullmatch(text):
        raise _errors.bad_request(f"strconv.ParseInt: parsing {_go_quote(text)}: invalid syntax")
    value = int(text)
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise _errors.bad_request(f"strconv.ParseInt: parsing {_go_quote(text)}: value out of range")
    return value


def query_int(request: web.Request, name: str) -> int | None:
    """An int64 query parameter (its first value, as the parameter codec takes), or None."""
    values = request.query.getall(name, [])
    if not values:
        return None
    return parse_int(values[0])


def query_bool(request: web.Request, name: str) -> bool:
    """Convert_Slice_string_To_bool: absent, "0" or "false" (any case) is false; else true."""
    values = request.query.getall(name, [])
    if not values:
        return False
    return not (values[0] == "0" or values[0].lower() == "false")


def parse_resource_version(text: str) -> int:
    """The storage layer's ParseResourceVersion (storage/etcd3/api_object_versioner.go).

    Its InvalidError is not an API status, so kube-apiserver answers it as a 500 whose
    message is the field error and which has no reason (kubernetes/kubernetes#113939,
    still so in #139485). The sandbox answers the same."""
    if text in ("", "0"):
        return 0
    problem = None
    if not re.fullmatch(r"[0-9]+", text):          # ParseUint takes no sign
        problem = "invalid syntax"
    elif int(text) >= 1 << 64:
        problem = "value out of range"
    if problem:
        quoted = _go_quote(text)
        raise _errors.ApiError(500, "", f"resourceVersion: Invalid value: {quoted}: "
                               f"strconv.ParseUint: parsing {quoted}: {problem}")
    return int(text)


def write_options(request: web.Request) -> WriteOptions:
    """Who a write is by: `?fieldManager=`, else the User-Agent; and `?force=` as sent."""
    return WriteOptions(request.query.get("fieldManager", ""), request.headers.get("User-Agent", ""),
                        request.query.get("force"))
