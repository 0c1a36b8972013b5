"""`pods/exec` over WebSocket: the channel protocols v4 and v5.channel.k8s.io.

Each binary frame starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 one
JSON Status (the exit), 4 resize; v5 adds 255 "close this channel" (the client
sends [255, 0] at end of stdin). The command runs in the pod runtime, on a worker
thread, since it makes real DNS queries to the sandbox's own server.
"""
from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType, web

from . import _errors

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def exit_status(code: int) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{code}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}




async def handle_exec(sandbox, request: web.Request, target) -> web.StreamResponse:
    pod = sandbox.store.get_resource(target.resource, target.namespace, target.name)
    if pod is None:
        raise _errors.not_found(target.resource, target.name)
    containers = [c["name"] for c in pod["spec"]["containers"]]
    container = request.query.get("container") or containers[0]
    if container not in containers:
        raise _errors.bad_request(f"container {container} is not valid for pod {target.name}")
    if not pod["spec"].get("nodeName"):
        # The API server's own check (pkg/registry/core/pod/strategy.go, streamLocation).
        raise _errors.bad_request(f"pod {target.name} does not have a host assigned")
    statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    if "running" not in (statuses.get(container, {}).get("state") or {}):
        return _container_not_found(request, container)
    command = request.query.getall("command", [])
    if not command:
        raise _errors.bad_request("you must specify at least 1 command")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise _errors.ApiError(400, "BadRequest", "Upgrade request required")

    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
    await ws.prepare(request)
    v5 = ws.ws_protocol == "v5.channel.k8s.io"
    tty = _flag(request, "tty")
    want_out, want_err = _flag(request, "stdout"), _flag(request, "stderr") and not tty

    stdin = ""
    if _flag(request, "stdin"):
        stdin = await _read_stdin(ws, v5)

    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(None, lambda: sandbox.run_in_pod(pod, container, command, stdin))
    except Exception as exc:
        # The upgrade is done: the failure reaches the client as a Status on the error
        # channel, as the kubelet's stream server reports one, and the log gets the traceback.
        faults = getattr(getattr(sandbox, "api", None), "faults", None)
        if faults is not None:
            faults.record("exec", exc, " ".join(command)[:200])
        await _send_failure(ws, _errors.internal(exc).status())
        return ws
    out, err = result.stdout, result.stderr
    if tty:                      # one stream; a terminal turns \n into \r\n
        out = (out + err).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    try:
        if want_out and out:
            await ws.send_bytes(bytes([STDOUT]) + out)
        if want_err and err:
            await ws.send_bytes(bytes([STDERR]) + err)
        await ws.send_bytes(bytes([ERROR]) + json.dumps(exit_status(result.exit_code)).encode())
        await ws.close()
    except (ConnectionResetError, RuntimeError):
        pass
    return ws


async def _send_failure(ws: web.WebSocketResponse, status: dict) -> None:
    try:
        await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
        await ws.close()
    except (ConnectionResetError, RuntimeError):
        pass


def _container_not_found(request: web.Request, container: str) -> web.Response:
    """The kubelet finds no running container: still starting, or exited (a completed pod).

    The kubelet answers 500 with the text `container not found ("NAME")` (pkg/kubelet/
    kubelet_pods.go GetExec; streaming.WriteError). Over SPDY the API server passes that
    answer through and the client says `unable to upgrade connection: ...`; a WebSocket
    client gets that same sentence from the API server's stream translator, as a 400 Status.
    kubectl refuses a completed pod itself, before it asks (kubectl/pkg/cmd/exec/exec.go).
    """
    reason = f'container not found ("{container}")'
    if request.headers.get("Upgrade", "").lower() == "websocket":
        raise _errors.bad_request(f"unable to upgrade connection: {reason}")
    return web.Response(status=500, text=reason, content_type="text/plain")


async def _read_stdin(ws: web.WebSocketResponse, v5: bool, idle: float = 1.0) -> str:
    """Collect stdin until the client closes it (v5: [255, 0]) or stays quiet for `idle` s."""
    chunks: list[bytes] = []
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), idle)
        except asyncio.TimeoutError:
            break
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            break
        data = msg.data.encode() if isinstance(msg.data, str) else msg.data
        if not data:
            continue
        channel, payload = data[0], data[1:]
        if channel == STDIN:
            chunks.append(payload)
        elif channel == CLOSE and payload[:1] == bytes([STDIN]):
            break
    return b"".join(chunks).decode("utf-8", "replace")
