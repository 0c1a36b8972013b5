"""A shell that reads its commands as they come: `kubectl exec -it POD -- sh`, `exec -i`,
`kubectl attach`.

The API server feeds stdin into a `StreamInput` while the shell runs on its own thread; the
shell runs each complete command as soon as its line arrives, keeping its variables,
functions and directory from line to line, as a real shell reading a terminal or a pipe
does. With a terminal it prints the image's prompt (bash on CentOS 7 `[root@client /]# `,
Debian's bash `root@web:/# `, BusyBox ash `/ # `, dash `# `) and a continuation prompt
`> ` while a compound command is open. Ctrl-C (`Interrupt.fire`) ends the running command
as SIGINT does (status 130) and the shell goes on; a closed stdin (Ctrl-D, v5's close
frame) or `exit N` ends it.
"""
from __future__ import annotations

import posixpath

from ._streams import Interrupt, Interrupted, InterruptibleClock, StreamInput  # noqa: F401
from .shell.errors import ShellExit, ShellSyntaxError, Timeout, _LoopControl
from .shell.io import Input, Io
from .shell.parser import Parser

EXIT_INTERRUPTED = 130            # 128 + SIGINT
PS2 = "> "


class _SessionStdin(Input):
    """What a command line's commands read: `read` takes the session's next line, as from
    the terminal or pipe the shell itself reads; a tool reading to the end of its input would
    wait for the session's end, so tools get none."""

    def __init__(self, stream: StreamInput) -> None:
        super().__init__("")
        self.stream = stream

    def readline(self) -> str | None:
        return self.stream.readline()

    def read_all(self) -> str:
        return ""


def prompt(shell) -> str:
    """PS1 as the image's shell shows it to root: bash's `\\u@\\h \\W` (CentOS) or
    `\\u@\\h:\\w` (Debian's /etc/bash.bashrc), BusyBox ash's `\\w \\$ `, dash's `# `."""
    kind = shell.dialect.kind
    pwd = shell.vars.get("PWD") or "/"
    home = shell.vars.get("HOME") or "/root"
    tilde = "~" + pwd[len(home):] if pwd == home or pwd.startswith(home + "/") else pwd
    host = (shell.vars.get("HOSTNAME") or "localhost").split(".")[0]
    if kind == "bash4":
        base = "~" if pwd == home else (posixpath.basename(pwd.rstrip("/")) or "/")
        return f"[root@{host} {base}]# "
    if kind == "bash5":
        return f"root@{host}:{tilde}# "
    if kind == "ash":
        return f"{tilde} # "
    return "# "


def complete(src: str) -> bool:
    """Whether src is a whole command (False: a quote, `if`, loop or pipe is still open)."""
    try:
        Parser(src).parse()
    except ShellSyntaxError as err:
        return err.token is not None
    return True


def repl(shell, stdin: StreamInput, out, err, *, tty: bool, interrupt: Interrupt,
         deadline_seconds: float, turn) -> int:
    """Read, run, repeat until end of input or `exit`; returns the shell's exit status.

    Each command line may run for `deadline_seconds` (the exec limit); a line past it is
    killed as an exec would be, and the session ends with 137."""
    pending = ""
    while True:
        if tty:
            out.write(PS2 if pending else prompt(shell))
        try:
            line = stdin.readline()
        except Interrupted:                  # ^C at the prompt: the line is dropped
            pending = ""
            out.write("\n")
            interrupt.clear()
            continue
        if line is None:
            if pending:                      # end of input inside a compound command
                shell.run_script(pending, Io(Input(""), out, err))
            if tty and shell.dialect.is_bash:
                out.write("exit\n")
            elif tty:
                out.write("\n")
            return shell.status
        pending += line
        if not complete(pending):
            continue
        src, pending = pending, ""
        if not src.strip():
            continue
        interrupt.clear()
        stdin.forget_interrupt()
        out.size = err.size = 0                  # output and loop budgets are per command line
        shell.budget.iterations = 0
        shell.ctx.deadline = shell.ctx.clock.monotonic() + deadline_seconds
        turn.__enter__()
        try:
            io_ = Io(_SessionStdin(stdin), out, err)
            with shell.parsed(src, io_) as tree:
                if tree is None:
                    shell.status = 2
                else:
                    shell.status = shell.exec_seq(tree, io_)
            jobs = getattr(shell, "jobs", None)
            if jobs is not None and jobs.pending:
                status = shell.status
                jobs.run_all()                   # `cmd &`: its turn comes before the next prompt
                shell.status = status
        except ShellExit as ex:
            if tty and shell.dialect.is_bash:     # an interactive bash says so (builtins/exit.def)
                out.write("exit\n")
            return ex.code
        except _LoopControl:                     # `break` outside a loop: ignored, as a shell does
            pass
        except Timeout:
            if interrupt.killed or not interrupt.pending:
                raise                            # the client left, or the exec's time is up
            shell.status = EXIT_INTERRUPTED
            out.write("\n")
        except Exception:
            if not interrupt.pending:
                raise
            shell.status = EXIT_INTERRUPTED      # a tool stopped mid-wait by the interrupt
            out.write("\n")
        finally:
            turn.__exit__(None, None, None)
        interrupt.clear()
        stdin.forget_interrupt()                 # a ^C the command took is not the prompt's
