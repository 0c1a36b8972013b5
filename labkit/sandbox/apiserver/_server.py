"""The sandbox's HTTP front end: the Kubernetes REST API on 127.0.0.1.

Protocol only: it parses requests, calls the registry and the store, and writes
JSON, Tables, watch streams and exec frames. It never computes derived state.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from ..registry import _admission, _registry
from . import _access, _authapis, _discovery, _edge, _negotiation, _openapi_handler, _paging
from ..apis import _decode, _errors, _gojson, _schema, _selectors
from ..home._faultlog import FaultLog
from ..registry._patch_errors import _go_json_type
from ._logs import handle_log
from .._clock import Clock
from .._config import SandboxConfig
from ..apis._resources import Resource, by_path, by_plural
from ..storage._store import Event, Store

_PREPARED = _edge.PREPARED
_HOLDING = web.RequestKey("labkit_holding", bool)    # holds the large-body semaphore
_USER = web.RequestKey("labkit_user", object)        # the authenticated (or impersonated) UserInfo
_SA, _PODS = by_plural("serviceaccounts"), by_plural("pods")
_LIVENESS_SECONDS = 1.0      # how often an idle watch checks that its client is still there


@dataclass
class Target:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None
    rest: str = ""          # what follows a subresource (proxy paths)


def parse_path(path: str) -> Target | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and by_path(group, version, rest[2]) is not None \
            and by_path(group, version, rest[2]).namespaced:
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    resource = by_path(group, version, rest[0])
    if resource is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in resource.subresources:
        return None
    return Target(resource, namespace, name, sub, "/".join(rest[3:]))


def _json_bytes(body, status: int = 200, content_type: str = "application/json") -> web.Response:
    """A JSON answer as kube-apiserver writes it: Go's encoding (see apis._gojson) and a
    Content-Type of `application/json` with no charset."""
    return web.Response(body=_gojson.dumps(body), status=status, content_type=content_type)


def _error(e: _errors.ApiError | _admission.Invalid) -> web.Response:
    body = e.status()
    response = _json_bytes(body, status=body["code"])
    if body["code"] == 413:
        # The rest of an oversized body is not worth reading: close once answered.
        response.force_close()
    return response


# Bodies past this size are decoded on a worker thread, so the loop keeps answering.
_THREAD_DECODE_BYTES = 64 * 1024


class Cluster(Protocol):
    """What the API server uses of the cluster it fronts: the store and registry it serves,
    the node side behind exec and logs (the kubelet API), and the sandbox's extras."""
    store: Store
    registry: Any
    config: SandboxConfig
    clock: Clock
    token: str
    dns: Any                     # the DNS server (its query log and cache), or None
    network: Any                 # the simulated pod network: what port-forward and the proxy reach

    def run_in_pod(self, pod: dict, container: str, argv: list[str], stdin="", **streamed) -> Any: ...

    def pod_log_position(self, pod: dict, container: str,
                         previous: bool = False) -> tuple[list[tuple[float, str]], int] | None: ...

    def attach_target(self, pod: dict, container: str) -> Any: ...

    def container_log(self, pod: dict, container: str) -> Any: ...

    def container_process_ended(self, pod: dict, container: str, attempt: int, code: int) -> None: ...

    def advance_clock(self, seconds: float) -> None: ...

    def token_signer(self) -> Any: ...           # signs and checks ServiceAccount tokens (auth._tokens)


class ApiServer:
    def __init__(self, sandbox: Cluster) -> None:
        self.sandbox = sandbox
        self.store: Store = sandbox.store
        self.registry = sandbox.registry
        self.config = sandbox.config
        self.token = sandbox.token
        # aiohttp's own body limit, for any read that does not go through _edge.read_body.
        self.app = web.Application(middlewares=[self._auth], client_max_size=_edge.MAX_BODY_BYTES)
        self._heavy = asyncio.Semaphore(1)      # requests with large bodies, one at a time
        self.faults = FaultLog(getattr(sandbox, "logger", None) or logging.getLogger("labkit.sandbox"))
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)

    @web.middleware
    async def _auth(self, request: web.Request, handler):
        user = _access.authenticate(request.headers, self.token, self._service_account_user)
        if user is None:
            return _error(_errors.ApiError(401, "Unauthorized", "Unauthorized"))
        try:
            user = _access.impersonate(self.store, user, request.headers)
            _access.authorize(self.store, _access.attributes(user, request.method, request.path, request.query))
        except _errors.ApiError as e:
            return _error(e)
        except _access.ImpersonationError as e:
            return _access.internal_error_text(request.raw_path, e)
        request[_USER] = user
        try:
            return await self._handle(request, handler)
        finally:
            if request.get(_HOLDING):
                self._heavy.release()

    def _service_account_user(self, token: str):
        if token.count(".") != 2:          # not a JWT: no key needs loading to refuse it
            return None
        store = self.store

        def lookup(plural: str, namespace, name):
            return store.get_resource(_SA if plural == "serviceaccounts" else _PODS, namespace, name) \
                if isinstance(namespace, str) and isinstance(name, str) else None
        return self.sandbox.token_signer().authenticate(token, store.clock.time(), lookup)

    async def _handle(self, request: web.Request, handler):
        try:
            return await handler(request)
        except (_errors.ApiError, _admission.Invalid) as e:
            return _error(e)
        except web.HTTPException as e:
            # aiohttp's own refusals (its body limit, a bad WebSocket handshake) as a Status too.
            if e.status < 400:
                raise
            return _error(_errors.ApiError(e.status, _errors.REASONS.get(e.status, ""), e.reason))
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as e:
            # One catch-all: an error nobody expected is a 500 Status (api/errors.NewInternalError),
            # and its traceback goes to the sandbox's log, once per kind.
            self.faults.record("api", e, f"{request.method} {request.path_qs[:200]}")
            if request.get(_PREPARED):
                raise
            return _error(_errors.internal(e))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        fixed = await self._document(request, path)
        if fixed is not None:
            return fixed
        if path.startswith("/labkit/"):
            return await self._extras(request, path)
        target = parse_path(path)
        if target is None:
            raise _errors.ApiError(404, "NotFound", "the server could not find the requested resource",
                                   {})
        method = request.method
        if not target.resource.stored or target.subresource == "token":
            return await self._create_only(request, target)
        if target.subresource == "log":
            return await handle_log(self.sandbox, request, target, _PREPARED)
        # The streaming subresources load on first use (the pod runtime, SPDY), not at start.
        if target.subresource in ("exec", "attach"):
            from ._exec import handle_attach, handle_exec
            handle = handle_exec if target.subresource == "exec" else handle_attach
            return await handle(self.sandbox, request, target)
        if target.subresource == "proxy":
            from ._proxy import handle_proxy
            return await handle_proxy(self.sandbox, request, target)
        if target.subresource == "portforward":
            from ._portforward import handle_portforward
            return await handle_portforward(self.sandbox, request, target)
        options = _edge.write_options(request)
        if target.subresource == "scale":
            return await self._scale(request, target, options)
        if target.subresource is None and _access.request_verb(method, path, request.query) not in target.resource.verbs:
            raise _errors.method_not_allowed()
        if method == "GET":
            if target.name is None:
                if _edge.query_bool(request, "watch"):
                    return await self._watch(request, target)
                return self._list(request, target)
            _edge.parse_resource_version(request.query.get("resourceVersion", ""))
            obj = self.store.get_resource(target.resource, target.namespace, target.name)
            if obj is None:
                raise _errors.not_found(target.resource, target.name)
            return self._object_response(request, target, obj)
        dry_run = _registry.check_dry_run(request.query.getall("dryRun", []), method)
        warnings: list[str] = []

        def check_fields(obj) -> None:
            if isinstance(obj, dict):
                warnings.extend(_schema.check(target.resource.kind, target.resource.api_version, obj,
                                              request.query.get("fieldValidation", "")))
        if method == "POST" and target.name is None:
            obj = await self._body(request)
            await self._off_loop_if_large(request, check_fields, obj)
            created = self.registry.create(target.resource, target.namespace, obj, dry_run=dry_run,
                                           requester=request[_USER], manager=options.manager)
            return self._json(created, 201, warnings=warnings)
        if method == "PUT" and target.name:
            obj = await self._body(request)
            await self._off_loop_if_large(request, check_fields, obj)
            updated = self.registry.update(target.resource, target.namespace, target.name, obj,
                                           subresource=target.subresource, dry_run=dry_run,
                                           requester=request[_USER], manager=options.manager)
            return self._json(updated, 200, warnings=warnings)
        if method == "PATCH" and target.name:
            existed = self.store.get_resource(target.resource, target.namespace, target.name) is not None
            body = await _edge.read_body(request)
            # Decoded (and its limits checked) here: on a worker thread when it is large.
            decoded = await self._off_loop_if_large(request, _registry._decode, request.content_type, body)
            patched = self.registry.patch(target.resource, target.namespace, target.name,
                                          request.content_type, body, decoded=decoded,
                                          subresource=target.subresource, dry_run=dry_run, check=check_fields,
                                          requester=request[_USER], options=options)
            return self._json(patched, 200 if existed else 201, warnings=warnings)
        if method == "DELETE" and target.name:
            options = await self._body(request) if request.can_read_body else {}
            grace = _edge.query_int(request, "gracePeriodSeconds")
            if grace is None and isinstance(options, dict):
                grace = options.get("gracePeriodSeconds")
                if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
                    # Decoding DeleteOptions fails as encoding/json words it (a fraction is
                    # named with its value: "number 1.5").
                    sent = f"number {grace!r}" if isinstance(grace, float) else _go_json_type(grace)
                    raise _errors.bad_request(
                        f"json: cannot unmarshal {sent} into Go struct field "
                        "DeleteOptions.gracePeriodSeconds of type int64")
            propagation = request.query.get("propagationPolicy")
            if propagation is None and isinstance(options, dict):
                propagation = options.get("propagationPolicy")
                if propagation is None and options.get("orphanDependents") is not None:
                    propagation = "Orphan" if options["orphanDependents"] else "Background"
            gone = self.registry.delete(target.resource, target.namespace, target.name, dry_run=dry_run,
                                        grace_seconds=grace, propagation=propagation)
            return self._json(gone, 200, request)
        if method == "DELETE" and target.name is None:
            return self._delete_collection(request, target, dry_run)
        raise _errors.method_not_allowed()

    async def _create_only(self, request: web.Request, target: Target) -> web.Response:
        """TokenRequest and the reviews: POST only, answered from the request's user."""
        if request.method != "POST" or (target.name is None) == (target.subresource == "token"):
            raise _errors.method_not_allowed()
        answer = _authapis.answer(self.store, self.sandbox.token_signer, request[_USER], target.resource.plural,
                                  target.namespace, target.name, target.subresource, await self._body(request))
        return self._json(answer, 201)

    # --- documents -----------------------------------------------------------------
    async def _document(self, request: web.Request, path: str) -> web.Response | None:
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/version":
            return _json_bytes(_discovery.version())
        if path in ("/api", "/apis"):
            aggregated = _discovery.aggregated_version(request.headers.get("Accept", ""))
            if aggregated:
                body = _discovery.aggregated(aggregated, core=path == "/api")
                return _json_bytes(body, content_type=_discovery.aggregated_content_type(aggregated))
            return _json_bytes(_discovery.api_versions() if path == "/api" else _discovery.api_group_list())
        if path.startswith("/openapi/"):
            return await _openapi_handler.route(request, path, self.store.clock)
        parts = [p for p in path.split("/") if p]
        if path == "/api/v1":
            return _json_bytes(_discovery.resource_list("", "v1"))
        if len(parts) == 2 and parts[0] == "apis":
            doc = _discovery.api_group(parts[1])
            return _json_bytes(doc) if doc else None
        if len(parts) == 3 and parts[0] == "apis":
            doc = _discovery.resource_list(parts[1], parts[2])
            return _json_bytes(doc) if doc else None
        return None

    # --- sandbox extras: not Kubernetes, and clearly apart from it -------------------
    async def _extras(self, request: web.Request, path: str) -> web.Response:
        """/labkit/v1/dns-log (GET: entries, ?since=N; DELETE: clear) and
        /labkit/v1/clock (POST {"advance": seconds}): what a lesson may ask of the
        sandbox beyond the Kubernetes API. A real cluster has no such paths."""
        dns = self.sandbox.dns
        if path == "/labkit/v1/dns-log" and dns is not None:
            if request.method == "DELETE":
                dns.log.clear()
                return web.json_response([])
            return web.json_response(dns.log.entries(_edge.query_int(request, "since") or 0))
        if path == "/labkit/v1/dns-cache" and dns is not None and request.method == "DELETE":
            dns.cache.clear()
            return web.json_response({})
        if path == "/labkit/v1/clock" and request.method == "POST":
            body = await self._body(request)
            advance = body.get("advance", 0) if isinstance(body, dict) else None
            if isinstance(advance, bool) or not isinstance(advance, (int, float)):
                raise _errors.bad_request('the body must be {"advance": <seconds>}')
            self.sandbox.advance_clock(float(advance))
            return web.json_response({"time": self.store.clock.time()})
        raise _errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})

    # --- reading -------------------------------------------------------------------
    def _predicate(self, request: web.Request, target: Target):
        """The request's label and field selectors as one test of an object (None: no selector)."""
        try:
            sel = _selectors.parse_label_selector(request.query["labelSelector"]) \
                if request.query.get("labelSelector") else None
            fsel = _selectors.parse_field_selector(request.query["fieldSelector"]) \
                if request.query.get("fieldSelector") else None
            if fsel is not None:
                fsel.validate(target.resource.kind)
        except _selectors.SelectorError as e:
            raise _errors.bad_request(str(e))
        if sel is None and fsel is None:
            return None
        return lambda o: ((sel is None or sel.matches(o["metadata"].get("labels") or {}))
                          and (fsel is None or fsel.matches(o)))

    def _selected(self, request: web.Request, target: Target) -> list[dict]:
        items = self.store.list_resource(target.resource, target.namespace)
        matches = self._predicate(request, target)
        return items if matches is None else [o for o in items if matches(o)]

    def _list(self, request: web.Request, target: Target) -> web.Response:
        # ListOptions are decoded (and refused) before anything is read.
        limit = _edge.query_int(request, "limit") or 0
        _edge.query_int(request, "timeoutSeconds")
        rv_text = request.query.get("resourceVersion", "")
        _edge.parse_resource_version(rv_text)
        token = request.query.get("continue", "")
        matches = self._predicate(request, target)
        if token and rv_text not in ("", "0"):
            raise _errors.bad_request("specifying resource version is not allowed when using continue")
        # resourceVersion=0 is served from the watch cache, which ignores limit (etcd3 pages).
        if rv_text == "0" and not token:
            limit = 0
        revision, snapshot, start = _paging.read(self.store, target.resource, target.namespace, token)
        items, next_start, remaining = _paging.page(
            snapshot, start, limit, matches,
            namespace_in_key=target.resource.namespaced and not target.namespace)
        metadata: dict = {"resourceVersion": str(revision)}
        if next_start is not None:
            metadata["continue"] = _paging.encode(revision, next_start)
            if remaining is not None:
                metadata["remainingItemCount"] = remaining
        wanted = _negotiation.target_kind(request.headers.get("Accept", ""))
        if wanted == "Table":
            return self._table(request, target, items, metadata)
        if wanted == "PartialObjectMetadataList":
            return self._json(_negotiation.partial_list(items, metadata), 200, request)
        head = {"kind": f"{target.resource.kind}List", "apiVersion": target.resource.api_version,
                "metadata": metadata}
        # The items as the store keeps them encoded: json.dumps holds the loop 0.25 s for 3000 pods.
        return web.Response(body=_gojson.dumps_list(head, items, self.store.encoded(target.resource, items)),
                            content_type="application/json")

    def _object_response(self, request, target: Target, obj: dict) -> web.Response:
        wanted = _negotiation.target_kind(request.headers.get("Accept", ""))
        if wanted == "Table":
            return self._table(request, target, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]})
        if wanted == "PartialObjectMetadata":
            return self._json(_negotiation.partial(obj), 200, request)
        return web.Response(body=_gojson.dumps_kept(obj, self.store.encoded(target.resource, [obj])[0]),
                            content_type="application/json")

    def _table(self, request, target: Target, items: list[dict], list_meta: dict) -> web.Response:
        include = request.query.get("includeObject", "Metadata")
        if include not in ("None", "Metadata", "Object"):
            raise _errors.bad_request(f"includeObject={include} is not supported")
        table = _table(target.resource.plural, items, now=self.store.clock.now(),
                       include_object=include, resource_version=list_meta["resourceVersion"],
                       continue_token=list_meta.get("continue", ""),
                       remaining_item_count=list_meta.get("remainingItemCount"))
        return self._json(table, 200, request)

    def _json(self, body: dict, status: int, request=None, warnings: list[str] = ()) -> web.Response:
        response = _json_bytes(body, status)
        for text in warnings:   # RFC 7234 warn-code 299, as the API server sends them
            response.headers.add("Warning", '299 - "%s"' % text.replace('"', '\\"'))
        return response

    async def _off_loop_if_large(self, request: web.Request, fn, *args):
        """fn(*args), on a worker thread when the request's body is large (a pure function
        of a big object would otherwise hold every other client up). One request with a large
        body at a time past this point, until it is answered: several CPU-bound threads would
        starve the loop of the GIL, and hold several large objects in memory at once. (Its
        body was read already: a slow sender holds nobody up.)"""
        if len(getattr(request, "_read_bytes", None) or b"") > _THREAD_DECODE_BYTES:
            if not request.get(_HOLDING):
                await self._heavy.acquire()     # released by _auth once the request is answered
                request[_HOLDING] = True
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def _body(self, request: web.Request):
        """The request's object: read within the body limit, decoded within the decoders'
        limits (see _edge), on a worker thread when it is large."""
        raw = await _edge.read_body(request)
        target = parse_path(request.path.rstrip("/"))
        kind = target.resource.kind if target and target.subresource in (None, "status") else None
        content_type = request.content_type
        return await self._off_loop_if_large(request, _decode_body, content_type, raw, kind)

    # --- watch ---------------------------------------------------------------------
    async def _watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        q = request.query
        rv_text = q.get("resourceVersion", "")
        initial = _edge.query_bool(request, "sendInitialEvents")
        rv = _edge.parse_resource_version(rv_text)
        since = None if rv_text in ("", "0") or initial else rv
        timeout = _edge.query_int(request, "timeoutSeconds")
        # None or 0: kube-apiserver picks one between --min-request-timeout (1800 s) and twice
        # that; the sandbox takes the low end. An absurd one is cut to a year, past any test.
        timeout = 1800 if not timeout else min(timeout, 365 * 86400)
        _edge.query_int(request, "limit")
        try:
            label_sel = _selectors.parse_label_selector(q["labelSelector"]) if q.get("labelSelector") else None
            field_sel = _selectors.parse_field_selector(q["fieldSelector"]) if q.get("fieldSelector") else None
            if field_sel is not None:
                field_sel.validate(target.resource.kind)
        except _selectors.SelectorError as e:
            raise _errors.bad_request(str(e))
        wanted = _negotiation.target_kind(request.headers.get("Accept", ""))
        table = wanted == "Table"

        def selected(obj: dict) -> bool:
            return ((label_sel is None or label_sel.matches(obj["metadata"].get("labels") or {}))
                    and (field_sel is None or field_sel.matches(obj)))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        bookmarks = _edge.query_bool(request, "allowWatchBookmarks")
        watch, backlog = self.store.watch(target.resource, target.namespace, since, loop)
        response = web.StreamResponse(headers={"Content-Type": "application/json",
                                               "Transfer-Encoding": "chunked"})
        await response.prepare(request)
        request[_PREPARED] = True       # from here on an error can only end the stream

        async def send(kind: str, obj: dict) -> None:
            if table and kind != "BOOKMARK":
                obj = _table(target.resource.plural, [obj], now=self.store.clock.now(),
                             include_object=q.get("includeObject", "Metadata"),
                             resource_version=obj["metadata"].get("resourceVersion", ""))
            elif wanted == "PartialObjectMetadata":       # a metadata informer's watch
                obj = _negotiation.partial(obj)
            await response.write(_gojson.dumps({"type": kind, "object": obj}))

        try:
            if since is None:
                for obj in self._selected(request, target):
                    await send("ADDED", obj)
                if initial:
                    await send("BOOKMARK", {
                        "kind": target.resource.kind, "apiVersion": target.resource.api_version,
                        "metadata": {"resourceVersion": str(self.store.revision),
                                     "annotations": {"k8s.io/initial-events-end": "true"}}})
            for event in backlog:
                await self._send_event(event, selected, send)
            bookmark_at = _next_bookmark(loop.time(), deadline) if bookmarks else None
            while True:
                now = loop.time()
                remaining = deadline - now
                if remaining <= 0:
                    break
                if bookmark_at is not None and now >= bookmark_at:
                    await send("BOOKMARK", {"kind": target.resource.kind,
                                            "apiVersion": target.resource.api_version,
                                            "metadata": {"resourceVersion": str(self.store.revision)}})
                    bookmark_at = _next_bookmark(now, deadline)
                    continue
                wait = min(remaining, _LIVENESS_SECONDS)
                if bookmark_at is not None:
                    wait = min(wait, max(bookmark_at - now, 0))
                try:
                    event = await asyncio.wait_for(watch.queue.get(), wait)
                except asyncio.TimeoutError:
                    # aiohttp does not cancel a handler whose client left: look, so an idle
                    # watch whose client hung up does not stay until its timeout.
                    transport = request.transport
                    if transport is None or transport.is_closing():
                        break
                    continue
                if backlog and event.rv <= backlog[-1].rv:
                    continue
                await self._send_event(event, selected, send)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            watch.close()
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    @staticmethod
    async def _send_event(event: Event, selected, send) -> None:
        now_in, was_in = selected(event.object), event.old is not None and selected(event.old)
        if event.type == "MODIFIED" and now_in and not was_in:
            await send("ADDED", event.object)
        elif event.type == "MODIFIED" and was_in and not now_in:
            await send("DELETED", event.object)
        elif now_in:
            await send(event.type, event.object)

    # --- collections ---------------------------------------------------------------
    def _delete_collection(self, request, target: Target, dry_run: bool) -> web.Response:
        items = self._selected(request, target)
        for obj in items:
            self.registry.delete(target.resource, obj["metadata"].get("namespace"),
                                 obj["metadata"]["name"], dry_run=dry_run)
        body = {"kind": f"{target.resource.kind}List", "apiVersion": target.resource.api_version,
                "metadata": {"resourceVersion": str(self.store.revision)}, "items": items}
        return self._json(body, 200)

    # --- subresources --------------------------------------------------------------
    async def _scale(self, request: web.Request, target: Target, options) -> web.Response:
        # Read the body first: no await may fall between reading the object and writing it,
        # or a controller's status write in between would make this write stale.
        dry_run = request.method != "GET" and _registry.check_dry_run(request.query.getall("dryRun", []), request.method)
        if request.method == "PUT":
            scale = self.registry.scale(target.resource, target.namespace, target.name,
                                        sent=await self._body(request), dry_run=dry_run, manager=options.manager)
        elif request.method == "PATCH":
            scale = self.registry.scale(target.resource, target.namespace, target.name,
                                        content_type=request.content_type, body=await _edge.read_body(request),
                                        dry_run=dry_run, manager=options.manager)
        else:
            scale = self.registry.scale(target.resource, target.namespace, target.name)
        return self._json(scale, 200)


# The watch cache's bookmarks (apiserver/pkg/storage/cacher cacheWatcher.nextBookmarkTime):
# one a minute, and one 2 s before the watch's timeout, so a client can resume where it was.
_BOOKMARK_EVERY = 60.0
_BOOKMARK_BEFORE_TIMEOUT = 2.0


def _next_bookmark(now: float, deadline: float) -> float | None:
    due = min(now + _BOOKMARK_EVERY, deadline - _BOOKMARK_BEFORE_TIMEOUT)
    return due if due > now else None


def _decode_body(content_type: str, raw: bytes, kind: str | None):
    """A create or update body as the JSON object it carries (protobuf, YAML or JSON).

    Errors follow the API server's transformDecodeError: the body's kind could not be read,
    so the message names the kind the endpoint expects and quotes the body's start."""
    if content_type == _PROTOBUF:    # kubectl 1.32+ `create` generators
        from . import _protobuf
        return _protobuf.decode(raw, kind)
    expected = kind or "Unknown"
    if "yaml" in (content_type or ""):
        import yaml                 # loaded by the first YAML body
        try:
            return _decode.loads_yaml(raw)
        except (_decode.DecodeLimit, yaml.YAMLError) as e:
            problem = str(e) if isinstance(e, _decode.DecodeLimit) else _decode.yaml_problem(e)
            # sigs.k8s.io/yaml.YAMLToJSON wraps go-yaml's error so.
            raise _decode.unrecognized(expected, f"error converting YAML to JSON: {problem}", raw) from None
    if not raw:
        return {}
    try:
        return _decode.loads_json(raw)
    except ValueError as e:
        # runtime/serializer/json SimpleMetaFactory.Interpret wraps encoding/json's error so.
        raise _decode.unrecognized(expected, f"couldn't get version/kind; json parse error: {e}", raw) from None


# Loaded on first use, not at start (tests/test_startup_imports.py): the printers and the
# protobuf decoder serve kubectl's Table and create requests, not /readyz.
_PROTOBUF = "application/vnd.kubernetes.protobuf"


def _table(*args, **kwargs):
    from ...kube import printers
    return printers.table(*args, **kwargs)
