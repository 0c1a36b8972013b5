"""Running the sandbox as a background process: `labkit sandbox up|down|status`.

One server per home: the serving process holds an exclusive lock (flock) on `home/lock`
for its whole life and writes its pid there. The kernel drops the lock when the process
ends, however it ends, so "the lock is held" means "a server is alive". The serving
process also writes `status.json` once the API and DNS answer; `up` waits for that file,
`status` checks that its pid is alive and the API answers.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import _files, _tls

STATUS_FILE = "status.json"
LOCK_FILE = "lock"
LOG_FILE = "sandbox.log"
GRACE = 10.0            # seconds `down` waits after SIGTERM before SIGKILL


class SandboxError(RuntimeError):
    """An expected failure, reported in one line (the CLI prints it without a traceback)."""


class HomeBusy(SandboxError):
    def __init__(self, home: Path, pid: int | None) -> None:
        who = f" (pid {pid})" if pid else ""
        super().__init__(f"a sandbox already serves {home}{who}")
        self.pid = pid


class StartTimeout(SandboxError, TimeoutError):
    pass


# --- the home lock ------------------------------------------------------------------
class HomeLock:
    """The exclusive lock a serving process holds on its home."""

    def __init__(self, home: Path, wait: float = 1.0) -> None:
        self.path = home / LOCK_FILE
        self.fd = _files.open_private(self.path, os.O_RDWR)
        # Retry briefly: `holder()` probes by taking the lock for an instant.
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # A live server's pid in the file: refuse now. None (or a dead one's): a probe
                # or a server that has not written its pid yet; try again until `wait` ends.
                pid = _read_pid(self.path)
                if (pid and pid != os.getpid() and _alive(pid)) or time.monotonic() >= deadline:
                    os.close(self.fd)
                    raise HomeBusy(home, pid) from None
                time.sleep(0.02)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.ftruncate(self.fd, 0)   # a pid left in the file means a crash, not a clean stop
            os.close(self.fd)          # closing drops the flock
            self.fd = -1


def holder(home: Path) -> int | None:
    """The pid of the process serving `home`, or None when none does."""
    path = home / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        # The pid is written just after the lock is taken, and the file emptied just before it
        # is dropped: while the lock is held without a pid, look again for a moment.
        deadline = time.monotonic() + 1.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(path)
                if pid is not None or time.monotonic() >= deadline:
                    return pid
                time.sleep(0.01)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
    finally:
        os.close(fd)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


# --- status ---------------------------------------------------------------------------
def read_status(home: Path) -> dict | None:
    """The running sandbox's status, or None when none answers."""
    try:
        status = json.loads((home / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or not _alive(status.get("pid", -1)) or not _answers(status["server"], home):
        return None
    return status


def write_status(sandbox) -> dict:
    dns = sandbox.dns_address
    status = {"server": sandbox.server, "kubeconfig": str(sandbox.kubeconfig),
              "dns": f"{dns[0]}:{dns[1]}" if dns else None, "pid": os.getpid(), "home": str(sandbox.home)}
    _files.write_private(sandbox.home / STATUS_FILE, json.dumps(status))
    return status


def clear_status(home: Path) -> None:
    try:
        (home / STATUS_FILE).unlink()
    except FileNotFoundError:
        pass


# --- up and down ------------------------------------------------------------------------
def start_background(home: Path, args: list[str], timeout: float = 30.0, check=None, serve=None) -> dict:
    """Start a server for `home` detached (`labkit sandbox serve ARGS`, or `serve` in a fork);
    return its status once it answers.

    If a sandbox already serves this home (or another `up` starts one meanwhile), return
    that one's status: there is never a second server. `check`, if given, runs once the
    server is started (it checks `args` as the server will); its SandboxError stops the
    server and is raised. `serve`, if given, is the server itself, run in a fork of this
    process (`fork_server`) rather than in a new interpreter: only for a caller that is a
    small, single-threaded process of its own, as `labkit sandbox up` is.
    """
    _files.ensure_home(home)
    deadline = time.monotonic() + timeout
    proc, first = None, True
    while time.monotonic() < deadline:
        status = read_status(home)
        if status:
            if proc is not None and proc.pid != status.get("pid"):
                _outlived(proc, deadline)
            return status
        if (proc is None or proc.poll() is not None) and holder(home) is None:
            if proc is not None:
                raise SandboxError(f"the sandbox exited with code {proc.returncode}: "
                                   f"{_last_line(home / LOG_FILE)} (see {home / LOG_FILE})")
            proc = _spawn(home, args) if serve is None else fork_server(home, serve)
            if first and check is not None:
                try:
                    check()
                except SandboxError:
                    proc.terminate()
                    proc.wait()
                    raise
            if first:
                # While the new server loads its modules, make its certificates on this
                # process's own CPU (a fresh home's first start); it waits for them if need be,
                # and makes them itself (and reports why it cannot) if this fails.
                first = False
                try:
                    _tls.ensure_certificates(home)
                except OSError:
                    pass
                # The readiness check's HTTPS client, loaded meanwhile too: once the server
                # says it is ready, confirming it costs only the round trip (ssl encodes the
                # server's name with the idna codec, which loads on first use).
                import encodings.idna  # noqa: F401
                import http.client  # noqa: F401
                import ssl  # noqa: F401
        time.sleep(0.005)           # a server is starting (ours, or one another `up` started)
    if proc is not None and proc.poll() is None:
        proc.terminate()
    raise StartTimeout(f"the sandbox did not answer within {timeout:.0f} s; see {home / LOG_FILE}")


def _outlived(proc: subprocess.Popen, deadline: float) -> None:
    """The server this `up` started lost the home to another one: return once it has found
    so and left (HomeBusy), so that it can never take the home over after a `down`."""
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.terminate()


def _spawn(home: Path, args: list[str]) -> subprocess.Popen:
    clear_status(home)
    log = _files.open_private(home / LOG_FILE, os.O_WRONLY | os.O_APPEND)
    env = dict(os.environ, **_server_env(home))
    try:
        return subprocess.Popen([sys.executable, "-m", "labkit", "sandbox", "serve", *args],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                env=env)
    finally:
        os.close(log)


def _server_env(home: Path) -> dict[str, str]:
    # The server checks no one's certificate (it serves its own, and clients bring tokens),
    # but importing aiohttp builds its client's TLS contexts from the system's CA store, a
    # tenth of a second of every start: an empty store makes that free.
    return {"LABKIT_HOME": str(home.parent), "SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}


def fork_server(home: Path, serve) -> "_Forked":
    """Run `serve()` in a child of this process, detached as `_spawn`'s server is (a session
    of its own, stdin from /dev/null, output to the log). The child starts with this
    process's modules and needs no interpreter of its own: `up` is answered about 50 ms
    sooner. Only for a small single-threaded process (a fork copies it, but no thread)."""
    clear_status(home)
    log = _files.open_private(home / LOG_FILE, os.O_WRONLY | os.O_APPEND)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(log)
        return _Forked(pid)
    code = 1
    try:        # the child: whatever happens, it never returns into its parent's code
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        for fd, target in ((null, 0), (log, 1), (log, 2)):
            os.dup2(fd, target)
        # Nothing else of the parent's: a descriptor its caller left open (a pipe it reads
        # to the end, say) would stay open as long as the server runs. No object of this
        # process wraps one at this point (the standard streams are 0-2). Bounded: where the
        # kernel cannot close a range at once (macOS), each number is a call.
        os.closerange(3, min(os.sysconf("SC_OPEN_MAX"), 1 << 16))
        os.environ.update(_server_env(home))
        code = serve()
        code = code if isinstance(code, int) else 1
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class _Forked:
    """A forked server, seen as subprocess.Popen shows a spawned one to `start_background`."""

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode

    def terminate(self) -> None:
        if self.poll() is None:
            _signal(self.pid, signal.SIGTERM)


def stop_background(home: Path, grace: float = GRACE) -> str:
    """Stop the server of `home` and return once its process is gone.

    Returns "stopped" (it ended after SIGTERM), "killed" (it was still alive after
    `grace` seconds and got SIGKILL) or "none" (nothing was running).
    """
    pid = holder(home)
    if pid is None:           # a server from before the lock file, if any
        status = read_status(home)
        pid = status["pid"] if status else None
    if pid is None or not _alive(pid):
        clear_status(home)
        return "none"
    outcome = "stopped"
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, grace):
        outcome = "killed"
        _signal(pid, signal.SIGKILL)
        if not _wait_gone(pid, 30.0):
            raise SandboxError(f"the sandbox (pid {pid}) is still alive after SIGKILL")
    clear_status(home)
    return outcome


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _last_line(path: Path) -> str:
    """The server's last own message in its log (lines from `labkit`), else the last line."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    own = [line for line in lines if line.startswith("labkit")]
    return (own or lines or ["(no output)"])[-1]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def _answers(server: str, home: Path) -> bool:
    """The API answers /readyz to the home's token, over TLS checked against the home's CA."""
    # http.client, not urllib.request: `up` asks this as the server turns ready, and
    # urllib.request's import (email, tempfile, ...) alone took longer than the answer.
    import http.client
    from urllib.parse import urlsplit
    try:
        token = (home / "token").read_text().strip()
        url = urlsplit(server)
        conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=2,
                                           context=_tls.client_context(home / "pki" / "ca.crt"))
        try:
            conn.request("GET", "/readyz", headers={"Authorization": f"Bearer {token}"})
            return conn.getresponse().status == 200
        finally:
            conn.close()
    except (OSError, ValueError, http.client.HTTPException):
        return False
