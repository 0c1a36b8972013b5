"""/openapi/v2 and /openapi/v3: kube-openapi's handlers over HTTP.

v2 (k8s.io/kube-openapi/pkg/handler/handler.go): the Accept header picks JSON or gnostic's
protobuf (`...spec.v2@v1.0+protobuf`, the form client-go's `OpenAPISchema` asks for, or the
newer `...spec.v2.v1.0+protobuf`), both under the JSON document's ETag ("we can re-use the same
etag as json because of the Vary header"); anything else is a bare 406. Go's
`http.ServeContent` answers `If-None-Match` and `If-Modified-Since` with 304, and the handler
sits behind NYTimes' gziphandler, which compresses any answer of 1400 bytes or more for a
client that takes gzip.

v3 (pkg/handler3/handler.go): an index of group-versions whose URLs carry the document's
hash; a document fetched with the current `?hash=` may be cached for a year, with a stale one
the client is redirected (301) to the current URL. v3 is JSON only here: the protobuf form
(gnostic's openapi_v3.Document) is not served, so asking for it alone is a 406.

The documents are built on first use, on a worker thread, and kept (apis._openapi,
apis._openapi_proto), as are their gzipped forms.
"""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from aiohttp import web

from ..apis import _errors, _gojson, _openapi

JSON = "application/json"
V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
# (type, subtype, what is served) in the handler's order: the first match of the sorted
# clauses wins, so `*/*` gets JSON.
_V2_ACCEPTED = (("application", "json", "json"),
                ("application", "com.github.proto-openapi.spec.v2@v1.0+protobuf", "protobuf"),
                ("application", "com.github.proto-openapi.spec.v2.v1.0+protobuf", "protobuf"))
_V3_ACCEPTED = (("application", "json", "json"),)
# NYTimes/gziphandler DefaultMinSize; compress/gzip DefaultCompression is zlib's level 6.
GZIP_MIN_SIZE = 1400
_HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"

_lock = threading.Lock()
_gzipped: dict[int, tuple[bytes, bytes]] = {}           # id(document) -> (document, gzipped)
_first_served: dict[str, tuple[bytes, datetime]] = {}   # name -> (document, when first built)


# --- content negotiation (github.com/munnerz/goautoneg) -------------------------------------
def parse_accept(header: str) -> list[tuple[str, str, float]]:
    """The Accept header's clauses as (type, subtype, q), sorted as goautoneg sorts them."""
    clauses = []
    for part in header.split(","):
        media, *params = part.strip().split(";")
        pieces = media.split("/")
        kind = pieces[0].strip()
        if len(pieces) == 1 and kind == "*":
            sub = "*"
        elif len(pieces) == 2:
            sub = pieces[1].strip()
        else:
            continue
        q = 1.0
        for param in params:
            name, eq, value = param.partition("=")
            if eq and name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0             # strconv.ParseFloat's error leaves a zero
        clauses.append((kind, sub, q))

    def less(a, b) -> bool:             # goautoneg's Less, not a strict order: kept as it is
        return a[2] > b[2] or (a[0] != "*" and b[0] == "*") or (a[1] != "*" and b[1] == "*")
    for i in range(1, len(clauses)):    # Go's sort.Sort on a short slice: an insertion sort
        j = i
        while j > 0 and less(clauses[j], clauses[j - 1]):
            clauses[j], clauses[j - 1] = clauses[j - 1], clauses[j]
            j -= 1
    return clauses


def negotiate(header: str, accepted) -> str | None:
    """What to serve for this Accept header (an empty one means */*), or None: a 406."""
    for kind, sub, _q in parse_accept(header or "*/*"):
        for a_kind, a_sub, form in accepted:
            if kind in (a_kind, "*") and sub in (a_sub, "*"):
                return form
    return None


# --- Go's http.ServeContent, for a document held in memory ----------------------------------
def _etag_matches(header: str, etag: str) -> bool:
    """checkIfNoneMatch: any listed tag equal to ours under weak comparison, or `*`."""
    ours = f'"{etag}"'
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == ours:
            return True
    return False


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    none_match = request.headers.get("If-None-Match")
    if none_match is not None:
        return request.method in ("GET", "HEAD") and _etag_matches(none_match, etag)
    since = request.headers.get("If-Modified-Since")
    if since and request.method in ("GET", "HEAD"):
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return modified.replace(microsecond=0) <= when
    return False


def serve_content(request: web.Request, body: bytes, content_type: str, etag: str, modified: datetime,
                  headers: dict[str, str] | None = None, gzip_ok: bool = False) -> web.Response:
    """The document with its validators, or 304 when the client's copy is current; gzipped
    as gziphandler would when `gzip_ok` (its Vary comes first, then the handler's)."""
    out = {**(headers or {}), "Etag": f'"{etag}"'}
    if _not_modified(request, etag, modified):
        # writeNotModified: no Content-Type or Length, and no Last-Modified beside an ETag.
        response = web.Response(status=304, headers=out)
    else:
        out["Last-Modified"] = modified.astimezone(timezone.utc).strftime(_HTTP_DATE)
        if gzip_ok and len(body) >= GZIP_MIN_SIZE and _takes_gzip(request.headers.get("Accept-Encoding", "")):
            out["Content-Encoding"] = "gzip"
            body = _gzip(body)
        response = web.Response(body=body, headers=out)
        response.content_type = content_type
    for value in ("Accept-Encoding", "Accept") if gzip_ok else ("Accept",):
        response.headers.add("Vary", value)
    return response


def _takes_gzip(header: str) -> bool:
    """gziphandler's acceptsGzip: `gzip` listed with a q above zero (`*` does not count)."""
    for part in header.split(","):
        coding, *params = part.strip().split(";")
        if coding.strip() != "gzip":
            continue
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        return q > 0
    return False


def _gzip(document: bytes) -> bytes:
    import gzip     # here, not at import: most clients never ask for it
    with _lock:
        kept = _gzipped.get(id(document))
        if kept is None or kept[0] is not document:
            kept = (document, gzip.compress(document, compresslevel=6, mtime=0))
            if len(_gzipped) >= 8:      # documents rebuilt (a test's): forget the old ones
                _gzipped.clear()
            _gzipped[id(document)] = kept
        return kept[1]


def _built(name: str, document: bytes, clock) -> datetime:
    """When a document was built: its Last-Modified (kube-openapi stamps the JSON's time.Now)."""
    with _lock:
        kept = _first_served.get(name)
        if kept is None or kept[0] is not document:
            kept = (document, clock.now())
            _first_served[name] = kept
        return kept[1]


# --- the routes -----------------------------------------------------------------------------
async def route(request: web.Request, path: str, clock) -> web.Response:
    if path == "/openapi/v2":
        return await _v2(request, clock)
    if path == "/openapi/v3":
        index = _gojson.dumps(await asyncio.to_thread(_openapi.v3_index))
        return serve_content(request, index, JSON, _openapi.etag(index), _built("v3", index, clock))
    if path.startswith("/openapi/v3/"):
        prefix = path[len("/openapi/v3/"):]
        document = await asyncio.to_thread(_openapi.v3, prefix)
        if document is None:
            # kube-aggregator's specProxier.handleGroupVersion: a bare 404, no Status body
            # (pkg/controllers/openapiv3/aggregator/aggregator.go).
            return web.Response(status=404)
        return _v3_group_version(request, prefix, document, clock)
    raise _errors.ApiError(404, "NotFound", "the server could not find the requested resource")


async def _v2(request: web.Request, clock) -> web.Response:
    form = negotiate(request.headers.get("Accept", ""), _V2_ACCEPTED)
    if form is None:
        response = web.Response(status=406)
        response.headers.add("Vary", "Accept-Encoding")
        response.headers.add("Vary", "Accept")
        return response
    source = await asyncio.to_thread(_openapi.v2)
    etag = _openapi.etag(source)
    modified = _built("v2", source, clock)
    if form == "json":
        body, content_type = source, JSON
    else:
        from ..apis import _openapi_proto       # here: only older clients ask for protobuf
        body, content_type = await asyncio.to_thread(_openapi_proto.v2), V2_PROTOBUF
    if request.headers.get("Accept-Encoding") and len(body) >= GZIP_MIN_SIZE:
        await asyncio.to_thread(_gzip, body)          # the first compression off the event loop
    return serve_content(request, body, content_type, etag, modified, gzip_ok=True)


def _v3_group_version(request: web.Request, prefix: str, document: bytes, clock) -> web.Response:
    if negotiate(request.headers.get("Accept", ""), _V3_ACCEPTED) is None:
        response = web.Response(status=406)
        response.headers["Vary"] = "Accept"
        return response
    etag = _openapi.etag(document)
    asked = request.query.get("hash", "")
    if asked and asked != etag:
        # http.Redirect: a Location, and for a GET a short HTML body naming it.
        url = f"/openapi/v3/{prefix}?hash={etag}"
        body = f'<a href="{url}">Moved Permanently</a>.\n\n'.encode() if request.method == "GET" else b""
        response = web.Response(status=301, body=body, headers={"Vary": "Accept", "Etag": f'"{etag}"',
                                                               "Location": url})
        response.content_type = "text/html"
        response.charset = "utf-8"
        return response
    headers = {}
    if asked:
        now = clock.now()
        # Go's AddDate(1, 0, 0): a 29 February rolls on to 1 March.
        expires = now.replace(year=now.year + 1) if (now.month, now.day) != (2, 29) \
            else now.replace(year=now.year + 1, month=3, day=1)
        headers = {"Cache-Control": "public, immutable",
                   "Expires": expires.strftime("%a, %d %b %Y %H:%M:%S UTC")}
    return serve_content(request, document, JSON, etag, _built("v3/" + prefix, document, clock), headers)
