"""What the everyday commands share: GNU or BusyBox flavour, opening a pod's virtual file
with the tool's own "no such file" line, and the memory a tool's lines cost.

Each command prints as GNU coreutils does in glibc images, or as BusyBox does in BusyBox and
Alpine images, where the two differ in a way a learner would see (error wording, `wc`
column widths). They read only the pod's virtual files (ctx.files), never the host's.
"""
from __future__ import annotations

import time

from .._context import ToolContext
from ..shell.io import text_size


def _flavour(ctx: ToolContext) -> str:
    from .._images import traits
    return traits(ctx.image.ref).coreutils


def _busybox(ctx: ToolContext) -> bool:
    return _flavour(ctx) == "busybox"


def _open(ctx: ToolContext, name: str, path: str) -> str | None:
    """A virtual file's text, or None after printing the tool's own 'no such file' line."""
    if path == "-":
        return ctx.stdin
    if path in ctx.files:
        return ctx.files[path]
    if _busybox(ctx):
        ctx.stderr.write(f"{name}: can't open '{path}': No such file or directory\n")
    elif name in ("head", "tail"):
        ctx.stderr.write(f"{name}: cannot open '{path}' for reading: No such file or directory\n")
    else:
        ctx.stderr.write(f"{name}: {path}: No such file or directory\n")
    return None


# What holding one line as a Python str costs the sandbox beside the text itself: the
# object's 49-byte header and a list slot or two. (GNU sort's own `struct line` is 32 bytes,
# sort.c; so a sort close to the limit is killed a little earlier than GNU sort would be.)
_LINE_COST = 64


# Lines sorted in one C call: list.sort holds the GIL throughout, so longer inputs are
# sorted in runs of this size and merged in Python (the server keeps answering meanwhile).
_SORT_RUN = 50_000


def _lines(text: str, ctx: ToolContext | None = None) -> list[str]:
    """Lines with their newlines; a last line without one stays as it is.

    With ctx, the list must fit in the exec's memory (else an OOM kill of the tool)."""
    if ctx is not None and len(text) > 65536:
        _need(ctx, text_size(text) + _LINE_COST * (text.count("\n") + 1))
    return text.splitlines(keepends=True)


_DIRS = {"/", "/bin", "/dev", "/etc", "/home", "/lib", "/proc", "/root", "/sbin", "/sys",
         "/tmp", "/usr", "/usr/bin", "/usr/sbin", "/usr/local", "/usr/local/bin", "/var"}


def _is_dir(files: dict, path: str) -> bool:
    path = path.rstrip("/") or "/"
    return path in _DIRS or any(f.startswith(path + "/") for f in files)


def _room(ctx: ToolContext) -> int | None:
    return ctx.memory.room() if ctx.memory is not None else None


def _need(ctx: ToolContext, n: int) -> None:
    """Room for n characters more in the exec's memory, or an OOM kill of this tool."""
    if ctx.memory is not None:
        ctx.memory.need(n)


def _read_inputs(ctx: ToolContext, name: str, files: list[str]) -> tuple[str, int]:
    text, code = [], 0
    for path in files or ["-"]:
        t = _open(ctx, name, path)
        if t is None:
            code = 2 if name == "grep" else 1
        else:
            text.append(t)
    return "".join(text), code


def _wall_deadline(ctx: ToolContext) -> float:
    """The exec's deadline on time.monotonic(), for matchers that stop on their own."""
    return time.monotonic() + max(ctx.deadline - ctx.clock.monotonic() - ctx.waited, 0.0)
