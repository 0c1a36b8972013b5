"""Running a command in a pod over the exec subresource, as `kubectl exec` does."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import errors


@dataclass
class ExecResult:
    """What a command in a pod printed and how it exited.

    The repr shows the output as a terminal would, then `[exit code N]` when non-zero.
    """
    stdout: str
    stderr: str
    exit_code: int
    command: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def check(self) -> "ExecResult":
        """Return self, or raise ExecFailed when the command exited non-zero."""
        if not self.ok:
            # kubectl's wording: "command terminated with exit code N"
            raise errors.ExecFailed(f"command terminated with exit code {self.exit_code}: "
                                    f"{' '.join(self.command)}\n{self.stderr.strip()}".rstrip(),
                                    result=self, reason="NonZeroExitCode")
        return self

    def __str__(self) -> str:
        return self.stdout + self.stderr

    def __repr__(self) -> str:
        text = self.stdout + self.stderr
        if self.exit_code:
            text += ("" if not text or text.endswith("\n") else "\n") + f"[exit code {self.exit_code}]"
        return text.rstrip("\n") if text else "(no output)"


def argv(command: str | list[str]) -> list[str]:
    """A string runs through `sh -c` (pipes, loops); a list is the argv itself."""
    return ["sh", "-c", command] if isinstance(command, str) else [str(a) for a in command]


def run(lab, pod: str, command: str | list[str], namespace: str, container: str | None,
        timeout: float) -> ExecResult:
    from kubernetes.stream import ws_client
    args = argv(command)
    query = [("command", a) for a in args] + [("stdout", "true"), ("stderr", "true"),
                                              ("stdin", "false"), ("tty", "false")]
    if container:
        query.append(("container", container))
    try:
        # The client's own WebSocket call, without CoreV1Api: that module alone takes about
        # a second to import, which every lesson's first exec would pay.
        _, url, headers, _, _ = lab.api_client.param_serialize(
            "GET", f"/api/v1/namespaces/{namespace}/pods/{pod}/exec", query_params=query,
            auth_settings=["BearerToken"])
        ws = ws_client.websocket_call(lab.api_client.configuration, "GET", url, headers=headers,
                                      _preload_content=False)
    except Exception as e:
        # The WebSocket handshake drops the Status body: ask for the pod to say why.
        if isinstance(e, errors.LabkitError):
            raise
        lab._transport.request("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")
        raise errors.translate(e, lab.server) from e
    out, err = [], []
    deadline = time.monotonic() + timeout
    try:
        while ws.is_open():
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.Timeout(f"exec in pod {namespace}/{pod} did not finish within {timeout:g} s: "
                                     f"{' '.join(args)}")
            ws.update(timeout=min(left, 1.0))
            if ws.peek_stdout():
                out.append(ws.read_stdout())
            if ws.peek_stderr():
                err.append(ws.read_stderr())
        out.append(ws.read_stdout() or "")
        err.append(ws.read_stderr() or "")
        code = ws.returncode
    except errors.LabkitError:
        raise
    except Exception as e:
        raise errors.translate(e, lab.server) from e
    finally:
        ws.close()
    return ExecResult("".join(out), "".join(err), int(code or 0), args)
