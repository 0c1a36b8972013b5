"""`pods/log`: a container's log as the kubelet serves it through the API server.

The options are PodLogOptions, validated as pkg/apis/core/validation ValidatePodLogOptions
does, and applied in the kubelet's order (pkg/kubelet/kuberuntime/logs ReadLogs): the last
`tailLines` lines, of those the ones written at or after `sinceSeconds`/`sinceTime`, each
behind its RFC 3339 time with `timestamps`, all cut after `limitBytes` (a LimitWriter over
the whole answer, timestamps included, so the last line may be cut short). A container
whose command has not started yet is refused in the kubelet's words, `previous` reads the
instance before the current one, and `follow` ends when the container stops running.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from aiohttp import web

from ..apis import _errors
from ..registry import _admission
from . import _edge

_FOLLOW_POLL_SECONDS = 0.2


@dataclass
class LogOptions:
    container: str
    tail: int | None
    since: float | None        # epoch seconds on the sandbox's clock
    limit: int | None
    timestamps: bool
    follow: bool
    previous: bool


def options(request: web.Request, pod: dict, name: str, now: float) -> LogOptions:
    containers = [c["name"] for c in pod["spec"]["containers"]]
    container = request.query.get("container") or containers[0]
    if container not in containers:
        raise _errors.bad_request(f"container {container} is not valid for pod {name}")
    tail = _edge.query_int(request, "tailLines")
    since_seconds = _edge.query_int(request, "sinceSeconds")
    limit = _edge.query_int(request, "limitBytes")
    since_time = _parse_time(request.query["sinceTime"]) if request.query.get("sinceTime") else None
    causes = []
    if tail is not None and tail < 0:
        causes.append(_invalid("tailLines", tail, "must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        causes.append(_invalid("limitBytes", limit, "must be greater than 0"))
    if since_seconds is not None and since_time is not None:
        causes.append({"reason": "FieldValueForbidden", "field": "",
                       "message": "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"})
    elif since_seconds is not None and since_seconds < 1:
        causes.append(_invalid("sinceSeconds", since_seconds, "must be greater than 0"))
    if causes:
        raise _admission.Invalid("PodLogOptions", name, causes, group="")
    since = now - since_seconds if since_seconds is not None else since_time
    return LogOptions(container, tail, since, limit, _edge.query_bool(request, "timestamps"),
                      _edge.query_bool(request, "follow"), _edge.query_bool(request, "previous"))


def _invalid(field: str, value: int, why: str) -> dict:
    return {"reason": "FieldValueInvalid", "field": field, "message": f"Invalid value: {value}: {why}"}


def _parse_time(text: str) -> float:
    """metav1.Time's UnmarshalQueryParameter: RFC 3339 (fractions allowed)."""
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _errors.bad_request(
            f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse "{text}" as "2006"') from None


def previous_not_found(pod: dict, container: str) -> bool:
    """The kubelet keeps the log of one terminated instance; without one `previous` fails."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return not (status.get("lastState") or {}).get("terminated")
    return True


def select(entries: list[tuple[float, str]], opts: LogOptions) -> list[tuple[float, str]]:
    if opts.tail is not None:
        entries = entries[-opts.tail:] if opts.tail else []
    if opts.since is not None:
        entries = [e for e in entries if e[0] >= opts.since]
    return entries


def render(entries: list[tuple[float, str]], stamped: bool) -> str:
    """Log lines; with `timestamps`, each behind its time in RFC 3339 with nanoseconds and
    trailing zeros dropped (Go's time.RFC3339Nano)."""
    if not stamped:
        return "".join(line + "\n" for _, line in entries)
    out = []
    for when, line in entries:
        moment = dt.datetime.fromtimestamp(when, dt.timezone.utc)
        fraction = f"{moment.microsecond:06d}000".rstrip("0")
        out.append(f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z {line}\n")
    return "".join(out)


async def handle_log(sandbox, request: web.Request, target, prepared_key) -> web.StreamResponse:
    store = sandbox.store
    pod = store.get_resource(target.resource, target.namespace, target.name)
    if pod is None:
        raise _errors.not_found(target.resource, target.name)
    opts = options(request, pod, target.name, store.clock.time())
    refusal = _waiting_refusal(pod, opts.container, opts.previous)
    if refusal:
        raise _errors.bad_request(refusal)
    position = None
    if not (opts.previous and previous_not_found(pod, opts.container)):
        position = sandbox.pod_log_position(pod, opts.container, opts.previous)
    if position is None:
        # The kubelet's validateContainerLogStatus, relayed as a 400.
        raise _errors.bad_request(
            f'previous terminated container "{opts.container}" in pod "{target.name}" not found')
    entries, seen = position
    data = render(select(entries, opts), opts.timestamps).encode()
    budget = opts.limit
    if budget is not None:
        data, budget = data[:budget], budget - len(data[:budget])
    if not opts.follow or budget == 0:
        return web.Response(body=data, content_type="text/plain")
    # `kubectl logs -f`: keep the stream open and send what the container writes next,
    # until the client goes away, the pod does, the container stops running (the kubelet's
    # follow ends with the container's process), or limitBytes is spent.
    response = web.StreamResponse(headers={"Content-Type": "text/plain", "Transfer-Encoding": "chunked"})
    await response.prepare(request)
    request[prepared_key] = True
    try:
        await response.write(data)
        while budget is None or budget > 0:
            await asyncio.sleep(_FOLLOW_POLL_SECONDS)
            pod = store.get_resource(target.resource, target.namespace, target.name)
            if pod is None:
                break
            entries, total = sandbox.pod_log_position(pod, opts.container)
            if total > seen:
                new = entries[-(total - seen):] if total - seen < len(entries) else entries
                chunk = render(new, opts.timestamps).encode()
                if budget is not None:
                    chunk = chunk[:budget]
                    budget -= len(chunk)
                await response.write(chunk)
                seen = total
            if opts.previous or not _running(pod, opts.container):
                break
        await response.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


def _running(pod: dict, container: str) -> bool:
    return any(s.get("name") == container and "running" in (s.get("state") or {})
               for s in (pod.get("status") or {}).get("containerStatuses") or [])


def _waiting_refusal(pod: dict, container: str, previous: bool) -> str | None:
    """The kubelet's answer for a container that has nothing to show yet
    (kubelet_pods.go validateContainerLogStatus)."""
    status = next((s for s in (pod.get("status") or {}).get("containerStatuses") or []
                   if s.get("name") == container), None)
    if status is None or previous:
        return None
    waiting = (status.get("state") or {}).get("waiting")
    if waiting is None or (status.get("lastState") or {}).get("terminated"):
        return None
    reason = waiting.get("reason") or ""
    why = {"ErrImagePull": "image can't be pulled",
           "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
    return f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: {why}'
