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
        timeout: float, asked_namespace: str | None = None) -> ExecResult:
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
        if isinstance(e, errors.LabkitError):
            raise
        error = errors.translate(e, lab.server)
        if error.code in (400, 404):
            # Read the pod: a missing one raises NotFound; one that is not running gets a hint.
            current = lab._transport.request("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")
            error = not_running(error, current, container, asked_namespace or namespace) or error
        raise error from e
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


def not_running(error: errors.LabkitError, pod: dict, container: str | None,
                namespace: str) -> errors.PodNotRunning | None:
    """The PodNotRunning for a refused exec into a pod whose container is not running, else None.

    The API server refuses a pod without a node (`pod NAME does not have a host assigned`,
    pkg/registry/core/pod/strategy.go streamLocation); the kubelet finds no running container
    while it still starts, or after it exited (`container not found ("NAME")`,
    pkg/kubelet/kubelet_pods.go GetExec). For a completed pod the message is kubectl's own
    (staging/src/k8s.io/kubectl/pkg/cmd/exec/exec.go), which checks the phase before it execs.
    """
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    name = container or (names[0] if names else "")
    if name not in names:
        return None                                    # a wrong container name: the server's error says so
    pod_name = pod["metadata"]["name"]
    where = "" if namespace == "default" else f', namespace="{namespace}"'
    message, phase = error.message, status.get("phase")
    if phase in ("Succeeded", "Failed"):
        message = f"cannot exec into a container in a completed pod; current phase is {phase}"
        hint = "its containers have exited: delete the pod and apply it again to run commands in it"
    else:
        running = any(s.get("name") == name and "running" in (s.get("state") or {})
                      for s in status.get("containerStatuses") or [])
        # The server's words decide: the pod may have started between the refusal and this read.
        said_not_running = "container not found" in message or "does not have a host assigned" in message
        if running and spec.get("nodeName") and not said_not_running:
            return None                                # the refusal was about something else
        hint = f'wait until it is ready: lab.wait("pod", "{pod_name}"{where})'
    return errors.PodNotRunning(message, hint=hint, status=error.status, reason=error.reason, code=error.code)
