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

Stdin is streamed to the command as it arrives (a shell runs each line as it comes; with
a tty, through the pty's line discipline, see runtime._tty), and output is sent as it is
written. More stdin waiting unread than the exec's memory budget is an OOM kill (`Killed`,
exit 137), the rest of it unread.
"""
from __future__ import annotations

import asyncio
import codecs
import logging
import threading
import time
import weakref

from aiohttp import WSMsgType, web

from ..apis import _errors, _gojson
from ..apis._resources import by_plural
from ..runtime import ExecResult, Interrupt, LineDiscipline, StreamInput, onlcr
from ..runtime._shell_io import MEMORY_LIMIT

log = logging.getLogger(__name__)
PODS = by_plural("pods")
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
MAX_CONCURRENT_EXECS = 64
OUTPUT_INTERVAL = 0.01      # seconds between two hand-overs of a busy command's output
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




def _admit(sandbox, request: web.Request) -> None:
    """A stream needs the WebSocket upgrade and a free exec slot (claimed here; the caller
    releases it with _unclaim)."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise _errors.ApiError(400, "BadRequest", "Upgrade request required")
    if not _claim(sandbox):
        raise _errors.ApiError(429, "TooManyRequests",
                               f"the sandbox runs at most {MAX_CONCURRENT_EXECS} execs at once; "
                               "try again when one has ended")


def _status_bytes(status: dict) -> bytes:
    """The error channel's Status as remotecommand writes it: json.Marshal, no newline."""
    return _gojson.dumps(status).rstrip(b"\n")


def _stream_target(sandbox, request: web.Request, target) -> tuple[dict, str, web.Response | None]:
    """The pod and container an exec or attach is for, or the refusal (a Status raised, or
    the kubelet's answer for a container that is not running)."""
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
        return pod, container, _container_not_found(request, container)
    return pod, container, None


async def handle_attach(sandbox, request: web.Request, target) -> web.StreamResponse:
    """`pods/attach`: the container's own process, not a new one. A container whose shell
    waits on stdin (`stdin: true`, as `kubectl run -it` makes) gets its session now: what the
    shell prints goes to the attached client and to the container's log, and when the shell
    exits the container does, with its status. Any other container has no stdin to give:
    the attach holds until the container stops running or the client leaves."""
    pod, container, refusal = _stream_target(sandbox, request, target)
    if refusal is not None:
        return refusal
    _admit(sandbox, request)
    try:
        process = sandbox.attach_target(pod, container)
        if process is None:
            follow = _follow_while_running(sandbox, pod, container, sandbox.container_log(pod, container))
            return await serve_stream(sandbox, request, follow, f"attach {container}")
        argv, interrupt, log, attempt = process
        clock = sandbox.clock

        def run(*, on_output, **streamed) -> ExecResult:
            def tee(channel: int, text: str) -> None:
                on_output(channel, text)
                log.write(clock.time(), text)
            return sandbox.run_in_pod(pod, container, list(argv), on_output=tee, **streamed)

        def ended(code: int) -> None:
            sandbox.container_process_ended(pod, container, attempt, code)
        return await serve_stream(sandbox, request, run, f"attach {container}", interrupt=interrupt,
                                  on_end=ended)
    finally:
        _unclaim(sandbox)


def _follow_while_running(sandbox, pod: dict, container: str, log):
    """An attach to a container that reads no stdin: what its command prints (from the start
    of this run, so `kubectl run -i`, which attaches once the pod runs, shows it all), until
    the container stops running or the client leaves. A server shows nothing."""
    def run(*, stdin, on_output, tty, interrupt) -> ExecResult:
        meta = pod["metadata"]
        seen = 0

        def show() -> None:
            nonlocal seen
            if log is None:
                return
            lines, written = log.snapshot()
            if written > seen:
                for _, line in lines[-(written - seen):]:
                    on_output(STDOUT, line + "\n")
                seen = written
        while not interrupt.pending:
            show()
            now = sandbox.store.get_resource(PODS, meta["namespace"], meta["name"])
            status = next((s for s in ((now or {}).get("status") or {}).get("containerStatuses") or []
                           if s["name"] == container), {})
            if now is None or now["metadata"]["uid"] != meta["uid"] or "running" not in (status.get("state") or {}):
                break
            time.sleep(0.05)
        show()
        return ExecResult(b"", b"", 0)
    return run


async def handle_exec(sandbox, request: web.Request, target) -> web.StreamResponse:
    pod, container, refusal = _stream_target(sandbox, request, target)
    if refusal is not None:
        return refusal
    command = request.query.getall("command", [])
    if not command:
        raise _errors.bad_request("you must specify at least 1 command")
    _admit(sandbox, request)
    try:
        return await _serve(sandbox, request, pod, container, command)
    finally:
        _unclaim(sandbox)


async def _serve(sandbox, request: web.Request, pod: dict, container: str,
                 command: list[str]) -> web.WebSocketResponse:
    def run(**streamed) -> ExecResult:
        return sandbox.run_in_pod(pod, container, command, **streamed)
    return await serve_stream(sandbox, request, run, " ".join(command)[:200])


async def serve_stream(sandbox, request: web.Request, run, what: str, *,
                       interrupt: Interrupt | None = None, on_end=None) -> web.WebSocketResponse:
    """Upgrade, run `run(...)` on a thread of its own, and carry the channels both ways
    while it runs: stdin in (through the terminal's line discipline with a tty), output
    out as it is written, then the exit Status on channel 3."""
    # A frame may carry up to the whole stdin budget (the official Python client sends
    # what it is given as one frame); aiohttp's default cap is 4 MiB.
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, max_msg_size=MEMORY_LIMIT + 1024,
                               timeout=3.0)   # close(): a client still flooding stdin held it 10 s
    await ws.prepare(request)
    tty = _flag(request, "tty")
    want_out, want_err = _flag(request, "stdout"), _flag(request, "stderr") and not tty
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue = asyncio.Queue()
    stdin, interrupt = StreamInput(MEMORY_LIMIT), interrupt or Interrupt()

    # Output written on the command's thread is gathered and handed to the loop in batches,
    # as the container runtime reads a busy process's pipe: the first write after a quiet
    # spell goes at once (a prompt, a reply to a typed line), then at most one hand-over
    # per OUTPUT_INTERVAL while writes keep coming. A loop of 1000 `getent` lines is a few
    # dozen frames, not 1000 (each frame costs the loop a wake-up and a send, and the
    # command's thread a wake-up call).
    written: list[tuple[int, str]] = []
    written_lock = threading.Lock()
    handing = [False]
    last_handed = [-OUTPUT_INTERVAL]

    def hand_over() -> None:              # on the loop
        with written_lock:
            items, written[:], handing[0] = list(written), [], False
        last_handed[0] = loop.time()
        for channel, text in _merged(items):
            outbox.put_nowait((channel, text))

    def pace() -> None:                   # on the loop: now, or once the interval is over
        wait = last_handed[0] + OUTPUT_INTERVAL - loop.time()
        if wait > 0:
            loop.call_later(wait, hand_over)
        else:
            hand_over()

    def on_output(channel: int, text: str) -> None:      # on the command's thread
        with written_lock:
            written.append((channel, text))
            if handing[0]:
                return
            handing[0] = True
        try:
            loop.call_soon_threadsafe(pace)
        except RuntimeError:              # the loop is closed: the sandbox stopped
            interrupt.kill()

    if _flag(request, "stdin"):
        reader = asyncio.ensure_future(_read_stdin(ws, stdin, interrupt, LineDiscipline() if tty else None,
                                                   outbox))
    else:
        stdin.close()
        reader = None
    job = _run_on_own_thread(loop, lambda: run(stdin=stdin, on_output=on_output, tty=tty,
                                               interrupt=interrupt))
    try:
        getter = None
        while True:
            getter = getter or asyncio.ensure_future(outbox.get())
            await asyncio.wait({getter, job}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                break
            channel, text = getter.result()
            getter = None
            await _send_output(ws, channel, text, tty, want_out, want_err, stdin)
        getter.cancel()
        hand_over()                       # what the command wrote last, still paced
        while not outbox.empty():
            await _send_output(ws, *outbox.get_nowait(), tty, want_out, want_err, stdin)
        try:
            result = job.result()
        except Exception as exc:
            # The upgrade is done: the failure reaches the client as a Status on the error
            # channel, as the kubelet's stream server reports one, and the log gets the traceback.
            faults = getattr(getattr(sandbox, "api", None), "faults", None)
            if faults is not None:
                faults.record("exec", exc, what)
            await _send_failure(ws, _errors.internal(exc).status())
            return ws
        code = result.exit_code
        if on_end is not None:
            on_end(code)
            code = 0          # an attach ends with its process; the exit code is the container's
        if stdin.over:                    # more stdin than the budget: the OOM killer's SIGKILL
            code = 137
            if want_err or tty:
                await ws.send_bytes(bytes([STDOUT if tty else STDERR]) + b"Killed\n")
        await ws.send_bytes(bytes([ERROR]) + _status_bytes(exit_status(code)))
        await ws.close()
    except (ConnectionResetError, RuntimeError):
        pass
    finally:
        interrupt.kill()                  # the client left: the command is killed
        stdin.close()
        if reader is not None:
            reader.cancel()
    return ws


def _merged(items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Consecutive writes to one channel as one."""
    merged: list[tuple[int, str]] = []
    for channel, text in items:
        if merged and merged[-1][0] == channel:
            merged[-1] = (channel, merged[-1][1] + text)
        else:
            merged.append((channel, text))
    return merged


async def _send_output(ws, channel: int, text: str, tty: bool, want_out: bool, want_err: bool,
                       stdin: StreamInput) -> None:
    if stdin.over:                        # killed: what it wrote after is lost
        return
    if channel == STDOUT and not want_out or channel == STDERR and not want_err:
        return
    data = (onlcr(text) if tty and channel == STDOUT else text).encode()
    await ws.send_bytes(bytes([channel]) + data)


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


async def _read_stdin(ws: web.WebSocketResponse, stdin: StreamInput, interrupt: Interrupt,
                      tty: LineDiscipline | None, outbox: asyncio.Queue) -> None:
    """Feed the command's stdin as frames arrive, until the client closes it (v5: [255, 0])
    or goes away. With a tty, keys go through the line discipline: its echo goes out on
    stdout, whole lines to the shell, ^C to the running command, ^D ends the input."""
    decode = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                interrupt.kill()          # the client went away
                break
            data = msg.data.encode() if isinstance(msg.data, str) else msg.data
            if not data:
                continue
            if data[0] == STDIN:
                text = decode.decode(bytes(data[1:]))
                if tty is None:
                    stdin.feed(text)
                    if stdin.over:
                        interrupt.kill()
                        break
                    continue
                typed = tty.receive(text)
                if typed.echo:
                    outbox.put_nowait((STDOUT, typed.echo))
                if typed.interrupt:
                    interrupt.fire()
                    stdin.interrupt()
                for line in typed.lines:
                    stdin.feed(line)
                if typed.eof:
                    break
            elif data[0] == RESIZE:
                pass                      # {"Width": W, "Height": H}: the shells here draw no screens
            elif data[0] == CLOSE and data[1:2] == bytes([STDIN]):
                break
    finally:
        stdin.close()
