"""cat and ls over the pod's virtual files."""
from __future__ import annotations

from .._context import ToolContext, tool
from ._coreutils import _DIRS, _busybox, _is_dir, _open


@tool("cat")
def cat(ctx: ToolContext, argv: list[str]) -> int:
    paths = [a for a in argv[1:] if a == "-" or not a.startswith("-")] or ["-"]
    code = 0
    for path in paths:
        text = _open(ctx, "cat", path)
        if text is None:
            code = 1
        else:
            ctx.stdout.write(text)
    return code


@tool("ls")
def ls(ctx: ToolContext, argv: list[str]) -> int:
    paths = [a for a in argv[1:] if not a.startswith("-")] or ["/"]
    code, blocks = 0, []
    for path in paths:
        if path in ctx.files:
            blocks.append((path, None))
            continue
        base = path.rstrip("/") or "/"
        if not _is_dir(ctx.files, base):
            if _busybox(ctx):
                ctx.stderr.write(f"ls: {path}: No such file or directory\n")
                code = max(code, 1)
            else:
                ctx.stderr.write(f"ls: cannot access '{path}': No such file or directory\n")
                code = 2
            continue
        prefix = "" if base == "/" else base
        names = {f[len(prefix) + 1:].split("/", 1)[0] for f in ctx.files if f.startswith(prefix + "/")}
        names |= {d[len(prefix) + 1:].split("/", 1)[0] for d in _DIRS if d.startswith(prefix + "/")}
        blocks.append((path, sorted(n for n in names if n)))
    many = len(blocks) > 1
    first = True
    for path, names in blocks:
        if names is None:
            ctx.stdout.write(path + "\n")
            continue
        if many:
            ctx.stdout.write(("" if first else "\n") + f"{path}:\n")
        first = False
        ctx.stdout.write("".join(n + "\n" for n in names))
    return code
