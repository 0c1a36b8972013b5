"""`pods/log`: what a container wrote, as the kubelet serves it (through the API server's
log REST): `tailLines`, `timestamps`, `previous`, `follow`, and the kubelet's refusals for a
container that has nothing to show yet."""
from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp import web

from ..apis import _errors
from ..registry import _admission
from . import _edge


async def serve(sandbox, request: web.Request, target) -> web.StreamResponse:
    pod = sandbox.store.get_resource(target.resource, target.namespace, target.name)
    if pod is None:
        raise _errors.not_found(target.resource, target.name)
    container = request.query.get("container") or pod["spec"]["containers"][0]["name"]
    names = [c["name"] for c in pod["spec"]["containers"]]
    if container not in names:
        raise _errors.bad_request(f"container {container} is not valid for pod {target.name}")
    tail = _edge.query_int(request, "tailLines")
    for name in ("sinceSeconds", "limitBytes"):
        _edge.query_int(request, name)
    if tail is not None and tail < 0:
        # ValidatePodLogOptions (pkg/apis/core/validation), answered by the log REST.
        raise _admission.Invalid("PodLogOptions", target.name, [{
            "reason": "FieldValueInvalid", "field": "tailLines",
            "message": f"Invalid value: {tail}: must be greater than or equal to 0"}], group="")
    previous = _edge.query_bool(request, "previous")
    refusal = _log_refusal(pod, container, previous)
    if refusal:
        raise _errors.bad_request(refusal)
    position = sandbox.pod_log_position(pod, container, previous)
    if position is None:
        raise _errors.bad_request(
            f'previous terminated container "{container}" in pod "{target.name}" not found')
    entries, seen = position
    if tail is not None:
        entries = entries[-tail:] if tail else []
    stamped = _edge.query_bool(request, "timestamps")
    text = _log_text(entries, stamped)
    if not _edge.query_bool(request, "follow"):
        return web.Response(text=text, content_type="text/plain")
    # `kubectl logs -f`: keep the stream open and send what the container writes next,
    # until the client goes away, the pod does, or the container stops running (the
    # kubelet's follow ends with the container's process).
    response = web.StreamResponse(headers={"Content-Type": "text/plain", "Transfer-Encoding": "chunked"})
    await response.prepare(request)
    request[_edge.PREPARED] = True      # from here on an error can only end the stream
    try:
        await response.write(text.encode())
        while True:
            await asyncio.sleep(0.2)
            pod = sandbox.store.get_resource(target.resource, target.namespace, target.name)
            if pod is None:
                break
            entries, total = sandbox.pod_log_position(pod, container)
            if total > seen:
                new = entries[-(total - seen):] if total - seen < len(entries) else entries
                await response.write(_log_text(new, stamped).encode())
                seen = total
            if not _running(pod, container):
                break
        await response.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


def _running(pod: dict, container: str) -> bool:
    return any(s.get("name") == container and "running" in (s.get("state") or {})
               for s in (pod.get("status") or {}).get("containerStatuses") or [])


def _log_refusal(pod: dict, container: str, previous: bool) -> str | None:
    """The kubelet's answer for a container that has nothing to show yet
    (kubelet_pods.go validateContainerLogStatus)."""
    status = next((s for s in (pod.get("status") or {}).get("containerStatuses") or []
                   if s.get("name") == container), None)
    if status is None or previous:
        return None
    waiting = (status.get("state") or {}).get("waiting")
    if waiting is None or (status.get("lastState") or {}).get("terminated"):
        return None
    name = pod["metadata"]["name"]
    reason = waiting.get("reason") or ""
    why = {"ErrImagePull": "image can't be pulled",
           "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
    return f'container "{container}" in pod "{name}" is waiting to start: {why}'


def _log_text(entries: list[tuple[float, str]], stamped: bool) -> str:
    """Log lines as the kubelet serves them; with `timestamps`, each behind its time in
    RFC 3339 with nanoseconds and trailing zeros dropped (Go's time.RFC3339Nano)."""
    if not stamped:
        return "".join(line + "\n" for _, line in entries)
    out = []
    for when, line in entries:
        moment = dt.datetime.fromtimestamp(when, dt.timezone.utc)
        fraction = f"{moment.microsecond:06d}000".rstrip("0")
        out.append(f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z {line}\n")
    return "".join(out)
