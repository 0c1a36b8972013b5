"""`pods/exec` over WebSocket: the channel protocols v4 and v5.channel.k8s.io.

Each binary frame starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 one
JSON Status (the exit), 4 resize; v5 adds 255 "close this channel" (the client
sends [255, 0] at end of stdin).

Each command runs in the pod runtime on a thread of its own, since it blocks (it makes
real DNS queries to the sandbox's own server, and `sleep` really waits). A shared pool
would let a few sleepers starve every other exec: measured on the landed sandbox, 8
parallel `sleep 1000` execs kept an `echo quick` waiting 58.6 s behind a 6-worker pool.
A waiting thread costs no CPU and holds no lock (sleep and socket waits release the
GIL), so there is no pool, only a cap on execs running at once (MAX_CONCURRENT_EXECS),
past which a new exec is refused with 429 before its stream opens; a kubelet has no such
cap, and the sandbox's is far above what a lesson runs.

Stdin is collected before the command starts; more than the exec's memory budget of it
is an OOM kill (`Killed`, exit 137), the rest of it unread.
"""
from __future__ import annotations

import asyncio
import logging
import mmap
import threading
import weakref

from aiohttp import WSMsgType, web

from ..apis import _errors, _gojson
from ..runtime import ExecResult
from ..runtime._shell_io import MEMORY_LIMIT

log = logging.getLogger(__name__)
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
MAX_CONCURRENT_EXECS = 64
_running: "weakref.WeakKeyDictionary[object, int]" = weakref.WeakKeyDictionary()
_running_lock = threading.Lock()


def _claim(sandbox) -> bool:
    with _running_lock:
        n = _running.get(sandbox, 0)
        if n >= MAX_CONCURRENT_EXECS:
            return False
        _running[sandbox] = n + 1
        return True


def _unclaim(sandbox) -> None:
    with _running_lock:
        _running[sandbox] = max(0, _running.get(sandbox, 1) - 1)


def running(sandbox) -> int:
    """How many execs the sandbox is running now."""
    with _running_lock:
        return _running.get(sandbox, 0)


def _run_on_own_thread(loop: asyncio.AbstractEventLoop, fn) -> asyncio.Future:
    """fn() on a new daemon thread; its result (or exception) comes back to the loop."""
    future = loop.create_future()

    def settle(ok: bool, value) -> None:
        if future.cancelled():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def main() -> None:
        try:
            value, ok = fn(), True
        except BaseException as exc:          # handed to the awaiting handler
            value, ok = exc, False
        try:
            loop.call_soon_threadsafe(settle, ok, value)
        except RuntimeError:                  # the loop is closed: the sandbox stopped
            pass

    threading.Thread(target=main, name="labkit-exec", daemon=True).start()
    return future


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




def _status_bytes(status: dict) -> bytes:
    """The error channel's Status as remotecommand writes it: json.Marshal, no newline."""
    return _gojson.dumps(status).rstrip(b"\n")


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
    if not _claim(sandbox):
        raise _errors.ApiError(429, "TooManyRequests",
                               f"the sandbox runs at most {MAX_CONCURRENT_EXECS} execs at once; "
                               "try again when one has ended")
    try:
        return await _serve(sandbox, request, pod, container, command)
    finally:
        _unclaim(sandbox)


async def _serve(sandbox, request: web.Request, pod: dict, container: str,
                 command: list[str]) -> web.WebSocketResponse:
    # A frame may carry up to the whole stdin budget (the official Python client sends
    # what it is given as one frame); aiohttp's default cap is 4 MiB.
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, max_msg_size=MEMORY_LIMIT + 1024,
                               timeout=3.0)   # close(): a client still flooding stdin held it 10 s
    await ws.prepare(request)
    v5 = ws.ws_protocol == "v5.channel.k8s.io"
    tty = _flag(request, "tty")
    want_out, want_err = _flag(request, "stdout"), _flag(request, "stderr") and not tty

    stdin, too_much = "", False
    if _flag(request, "stdin"):
        stdin, too_much = await _read_stdin(ws, v5, MEMORY_LIMIT)

    if too_much:
        result = ExecResult(b"", b"Killed\n", 137)
    else:
        loop = asyncio.get_running_loop()
        try:
            result = await _run_on_own_thread(
                loop, lambda: sandbox.run_in_pod(pod, container, command, stdin))
        except Exception as exc:
            # The upgrade is done: the failure reaches the client as a Status on the error
            # channel, as the kubelet's stream server reports one, and the log gets the traceback.
            faults = getattr(getattr(sandbox, "api", None), "faults", None)
            if faults is not None:
                faults.record("exec", exc, " ".join(command)[:200])
            await _send_failure(ws, _errors.internal(exc).status())
            return ws
        del stdin
    out, err = result.stdout, result.stderr
    if tty:                      # one stream; a terminal turns \n into \r\n
        out = (out + err).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    try:
        if want_out and out:
            await ws.send_bytes(bytes([STDOUT]) + out)
        if want_err and err:
            await ws.send_bytes(bytes([STDERR]) + err)
        await ws.send_bytes(bytes([ERROR]) + _status_bytes(exit_status(result.exit_code)))
        await ws.close()
    except (ConnectionResetError, RuntimeError):
        pass
    return ws


async def _send_failure(ws: web.WebSocketResponse, status: dict) -> None:
    try:
        await ws.send_bytes(bytes([ERROR]) + _status_bytes(status))
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


async def _read_stdin(ws: web.WebSocketResponse, v5: bool, limit: int,
                      idle: float = 1.0) -> tuple[str, bool]:
    """Collect stdin until the client closes it (v5: [255, 0]) or stays quiet for `idle` s.

    Returns (text, over): over when more than `limit` bytes came, reading stopped there."""
    # One anonymous mapping of the budget's size, filled in place: its untouched pages
    # cost no memory, where a growing buffer's reallocations would hold two copies at once.
    with mmap.mmap(-1, max(limit, 1)) as data_in:
        return await _fill(ws, data_in, limit, idle)


async def _fill(ws: web.WebSocketResponse, data_in: mmap.mmap, limit: int,
                idle: float) -> tuple[str, bool]:
    size = 0
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
        if data[0] == STDIN:
            if size + len(data) - 1 > limit:
                return "", True
            data_in[size:size + len(data) - 1] = memoryview(data)[1:]
            size += len(data) - 1
        elif data[0] == CLOSE and data[1:2] == bytes([STDIN]):
            break
    with memoryview(data_in) as view:
        return str(view[:size], "utf-8", "replace"), False
