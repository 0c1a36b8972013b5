"""What runs "inside" a sandbox pod when a user execs into it.

`run()` is what the API server's `pods/exec` calls. It never touches the host's shell,
files, processes or network: commands are Python tools (see `tools/`) that read the
pod's virtual files and reach only the sandbox's own DNS server on loopback.

How an exec ends, as a real one would:
- a command the image lacks: the container runtime's message on stderr and exit 126
  (runc via containerd: `OCI runtime exec failed: exec failed: unable to start container
  process: exec: "dig": executable file not found in $PATH: unknown`);
- inside a shell, the shell's own "not found" line and 127;
- past the deadline (`timeout`, else config.exec_timeout_seconds): the process is killed,
  as a kubelet/runtime does when an exec's time is up; exit 137 (128 + SIGKILL), with the
  output produced so far and no extra message;
- over the exec's memory budget (MEMORY_LIMIT, 64 MiB of text: variables, pipes, command
  substitutions, files written, stdin, lines a tool holds): killed as the kernel's OOM killer
  kills a container over `resources.limits.memory`, `Killed` on stderr and exit 137. A
  tool or child shell that goes over is the one killed: its shell says so (dash and ash
  `Killed`, bash `line N: PID Killed ... command`) and goes on with $? = 137;
- nesting deeper than the interpreter's stack (commands, substitutions, parentheses):
  the shell dies as a real one does when its C stack overflows, of SIGSEGV: exit 139
  (128 + 11), no message (no parent shell is left to print one);
- a sandbox budget (loop iterations, output size) exhausted: a `sandbox:` line on stderr
  and exit 125, a code no course command uses.

`run()` blocks (a `sleep` really waits): call it from a worker thread.
"""
from __future__ import annotations

import io

from ._context import ExecResult, ImageProfile, ToolContext
from ._environment import PodEnvironment, pod_env
from ._images import default_command, profile
from ._stubwire import SocketPool
from ._streams import Interrupt, StreamInput
from ._tty import LineDiscipline, onlcr

__all__ = ["run", "PodEnvironment", "profile", "ExecResult", "ImageProfile", "pod_env", "Interrupt",
           "StreamInput", "LineDiscipline", "onlcr", "reads_stdin", "default_command"]

_SHELL_NAMES = ("sh", "bash", "ash", "dash")
EXIT_TIMEOUT = 137
EXIT_SANDBOX_LIMIT = 125
EXIT_KILLED = 137               # 128 + SIGKILL: the deadline's kill and the OOM killer's
EXIT_SEGFAULT = 139             # 128 + SIGSEGV


def _make_network(cluster, config, clock=None):
    from ._network import Network
    return Network(cluster, config, clock=clock)


def _oci_not_found(command: str) -> str:
    if "/" in command:
        reason = f"stat {command}: no such file or directory"
    else:
        reason = f'exec: "{command}": executable file not found in $PATH'
    return ("OCI runtime exec failed: exec failed: unable to start container process: "
            f"{reason}: unknown\n")


class _Forward(io.StringIO):
    """A process's stdout or stderr handed on as it is written (a streamed exec)."""

    def __init__(self, send, channel: int) -> None:
        super().__init__()
        self._send, self._channel = send, channel

    def write(self, text: str) -> int:
        if text:
            self._send(self._channel, text)
        return len(text)


# Tools that read their standard input when given no file; any other command given on its
# own to `exec -i` starts at once, as a real one would, whatever stdin brings later.
_STDIN_READERS = frozenset({"cat", "grep", "wc", "sort", "uniq", "head", "tail", "tr", "cut",
                            "awk", "sed", "tee", "xargs", "base64", "md5sum", "sha256sum", "od"})


def reads_stdin(argv: list[str]) -> bool:
    """Whether a command line waits on its stdin: shells and filters do, `hostname` doesn't."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    return name in _SHELL_NAMES or name in _STDIN_READERS


def run(environment: PodEnvironment, argv: list[str], *, stdin: "str | StreamInput" = "", on_output=None,
        tty: bool = False, interrupt: "Interrupt | None" = None) -> ExecResult:
    """Run argv in a pod's container, as `kubectl exec POD [-c C] -- argv...` would.

    `environment` is what the process sees (PodEnvironment.build); its `network`, shared across
    execs, keeps kube-proxy's backend choices and the servers' access logs going from one
    exec to the next.

    Streamed (`exec -i`, `-it`, attach): stdin is a StreamInput the caller feeds,
    `on_output(channel, text)` receives output as it is written (1 stdout, 2 stderr; with a
    tty both are 1), and `interrupt` is the terminal's Ctrl-C. A shell given no script then
    reads and runs its commands line by line (see _interactive)."""
    from . import tools  # noqa: F401  (registers every tool)
    from ._cpu import Turn
    from .shell import (MEMORY_LIMIT, BufferSink, Dialect, Input, Io, LimitExceeded, Memory,
                        OutOfMemory, Shell, ShellExit, Timeout, dialect_kind, text_size)

    pod, image_traits, clock = environment.pod, environment.image, environment.clock
    limit = environment.timeout
    memory = Memory(MEMORY_LIMIT)
    streamed = isinstance(stdin, StreamInput)
    interrupt = interrupt or Interrupt()
    if streamed:
        from ._streams import InterruptibleClock
        clock = InterruptibleClock(clock, interrupt)
    turn = Turn()
    ctx = ToolContext(
        pod=pod, container=environment.container.get("name", ""), image=image_traits.profile,
        # Copies: a command may write the pod's files and variables; the environment stays.
        files=dict(environment.files), env=dict(environment.env), config=environment.config,
        cluster=environment.cluster, dns_address=environment.dns_address,
        network=environment.network or _make_network(environment.cluster, environment.config, clock),
        dns_clients=environment.dns_clients, clock=clock, deadline=clock.monotonic() + limit,
        stdin="" if streamed else stdin,
        memory=memory, turn=turn, sockets=SocketPool(),
        stdout=_Forward(on_output, 1) if on_output else io.StringIO(),
        stderr=_Forward(on_output, 1 if tty else 2) if on_output else io.StringIO())
    out, err = BufferSink(ctx.stdout), BufferSink(ctx.stderr)
    if not argv:
        return ExecResult(b"", _oci_not_found("").encode(), 126)
    shell = Shell.for_context(ctx, Dialect(image_traits.sh, "sh"), image_traits)
    shell._top_out, shell._top_err = out, err
    name = shell.resolve(argv[0])
    if name is None:
        err.write(_oci_not_found(argv[0]))
        return _result(ctx, 126)
    if streamed and name in _SHELL_NAMES and _no_script(argv):
        from ._interactive import repl
        shell.dialect = Dialect(dialect_kind(image_traits, name), argv[0])
        try:
            code = repl(shell, stdin, out, err, tty=tty, interrupt=interrupt,
                        deadline_seconds=limit, turn=turn)
        except Timeout:
            code = EXIT_TIMEOUT
        except OutOfMemory:
            err.write("Killed\n")
            code = EXIT_KILLED
        except RecursionError:
            code = EXIT_SEGFAULT
        except LimitExceeded as exc:
            err.write(f"sandbox: {exc}; the command was stopped\n")
            code = EXIT_SANDBOX_LIMIT
        finally:
            memory.close()
            ctx.sockets.close()
        return _result(ctx, code)
    if streamed and not reads_stdin(argv):
        stdin.close()
    try:
        turn.__enter__()                     # wait for a place at the interpreter (_cpu)
        if not streamed:
            memory.hold(text_size(stdin))    # what the exec was sent is in its memory
            stdin = Input(stdin)
        if name in _SHELL_NAMES:
            shell.dialect = Dialect(dialect_kind(image_traits, name), argv[0])
            code = shell.invoke(list(argv), Io(stdin, out, err))
        else:
            code = shell.run_external(list(argv), Io(stdin, out, err), 1)
    except ShellExit as ex:
        code = ex.code
    except Timeout:
        code = EXIT_TIMEOUT
    except OutOfMemory:
        ctx.stderr.write("Killed\n")
        code = EXIT_KILLED
    except RecursionError:
        code = EXIT_SEGFAULT
    except LimitExceeded as exc:
        ctx.stderr.write(f"sandbox: {exc}; the command was stopped\n")
        code = EXIT_SANDBOX_LIMIT
    finally:
        memory.close()
        ctx.sockets.close()
        turn.__exit__(None, None, None)
    return _result(ctx, code)


def _no_script(argv: list[str]) -> bool:
    """`sh`, `sh -i`, `bash -l`: a shell that reads its commands from stdin."""
    return all(a.startswith("-") and "c" not in a for a in argv[1:])


def _result(ctx: ToolContext, code: int) -> ExecResult:
    return ExecResult(ctx.stdout.getvalue().encode(), ctx.stderr.getvalue().encode(), code & 0xFF)
