"""Everyday commands inside a sandbox pod: echo, cat, head, wc, sort, grep, hostname...

Each prints as GNU coreutils does in glibc images, or as BusyBox does in BusyBox and
Alpine images, where the two differ in a way a learner would see (error wording,
`wc` column widths). They read only the pod's virtual files (ctx.files), never the host's.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import time

from .._context import ToolContext, tool
from .._regex import PatternError, TooSlow, compile_posix
from ..shell.errors import OutOfMemory
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


def _count_words(text: str, chunk: int = 1 << 16) -> int:
    """wc -w without a list of every word: whitespace-separated runs, chunk by chunk."""
    total, prev_word_end = 0, False
    for start in range(0, len(text), chunk):
        piece = text[start:start + chunk]
        total += len(piece.split())
        if prev_word_end and not piece[:1].isspace():
            total -= 1                      # a word cut in two by the chunking
        prev_word_end = not piece[-1:].isspace()
    return total


# ---------------------------------------------------------------- echo, printf, test

_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\"}


def _unescape(text: str, echo: bool) -> tuple[str, bool]:
    """Backslash escapes of echo -e / printf %b; returns (text, stopped at \\c)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "c":
            return "".join(out), True
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "0" or (not echo and nxt in "01234567"):
            start = i + 2 if nxt == "0" else i + 1
            m = re.match(r"[0-7]{0,3}", text[start:])
            out.append(chr(int(m.group(0) or "0", 8) & 0xFF))
            i = start + m.end()
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out), False


def echo_text(args: list[str], mode: str) -> str:
    """echo's output. mode "dash": only -n, escapes always; "bash"/GNU/BusyBox: -n -e -E."""
    newline, escapes = True, mode == "dash"
    while args:
        arg = args[0]
        if mode == "dash":
            if arg != "-n":
                break
            newline = False
        else:
            if not (len(arg) > 1 and arg[0] == "-" and set(arg[1:]) <= set("neE")):
                break
            for flag in arg[1:]:
                newline = newline and flag != "n"
                escapes = True if flag == "e" else False if flag == "E" else escapes
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stopped = _unescape(text, echo=True)
        if stopped:
            return text
    return text + ("\n" if newline else "")


_CONV = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([diouxXeEfgGcsb%])")


def _num(arg: str) -> tuple[float | int, str | None]:
    if re.fullmatch(r"\s*[-+]?\d+\s*", arg):
        return int(arg), None
    if re.fullmatch(r"\s*[-+]?0[xX][0-9a-fA-F]+\s*", arg):
        return int(arg, 16), None
    if len(arg) >= 2 and arg[0] in "'\"":
        return ord(arg[1]), None
    try:
        return float(arg), None
    except ValueError:
        return 0, f"'{arg}': expected a numeric value" if arg else None


def printf_text(args: list[str], room: int | None = None) -> tuple[str, str, int]:
    """printf FORMAT [ARG]...: (stdout, error message, exit code), GNU wording.

    `room`: characters of memory the exec has left; a field width or precision, or an
    output, larger than that is an OOM kill (OutOfMemory) before anything is built."""
    if not args:
        return "", "missing operand", 1
    fmt, rest = args[0], list(args[1:])
    out: list[str] = []
    errors: list[str] = []
    size = 0

    def add(piece: str) -> None:
        nonlocal size
        size += text_size(piece)
        if room is not None and size > room:
            raise OutOfMemory()
        out.append(piece)

    while True:
        consumed = False
        pos = 0
        for m in _CONV.finditer(fmt):
            text, _ = _unescape(fmt[pos:m.start()], echo=False)
            add(text)
            pos = m.end()
            flags, width, prec, conv = m.groups()
            if conv == "%":
                add("%")
                continue
            if width == "*":
                width = rest.pop(0) if rest else "0"
                consumed = True
            if prec == "*":
                prec = rest.pop(0) if rest else "0"
                consumed = True
            if room is not None:
                for n in (width, prec if conv not in "sbc" else None):
                    if n and n.lstrip("-").isdigit() and int(n.lstrip("-")) > room:
                        raise OutOfMemory()
            arg = rest.pop(0) if rest else None
            consumed = consumed or arg is not None
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            if conv in "sb":
                value = arg or ""
                if conv == "b":
                    value, stop = _unescape(value, echo=True)
                    if stop:
                        add(value)
                        return "".join(out), "; ".join(errors), 1 if errors else 0
                add((spec + "s") % value)
            elif conv == "c":
                add((spec + "s") % (arg[:1] if arg else ""))
            else:
                number, err = _num(arg) if arg is not None else (0, None)
                if err:
                    errors.append(err)
                if conv in "diouxX":
                    number = int(number)
                    add((spec + ("d" if conv in "iu" else conv)) % number)
                else:
                    add((spec + conv) % float(number))
        text, stop = _unescape(fmt[pos:], echo=False)
        add(text)
        if not rest or not consumed:
            break
    return "".join(out), "; ".join(errors), 1 if errors else 0


_DIRS = {"/", "/bin", "/dev", "/etc", "/home", "/lib", "/proc", "/root", "/sbin", "/sys",
         "/tmp", "/usr", "/usr/bin", "/usr/sbin", "/usr/local", "/usr/local/bin", "/var"}


def _is_dir(files: dict, path: str) -> bool:
    path = path.rstrip("/") or "/"
    return path in _DIRS or any(f.startswith(path + "/") for f in files)


def test_eval(args: list[str], files: dict, kind: str = "dash") -> tuple[int, str | None]:
    """test / [ : (exit status, error message or None)."""
    def integer(s: str) -> int:
        if re.fullmatch(r"\s*-?\d+\s*", s):
            return int(s)
        if kind == "dash":
            raise ValueError(f"Illegal number: {s}")
        if kind.startswith("bash"):
            raise ValueError(f"{s}: integer expression expected")
        raise ValueError(f"{s}: bad number" if kind == "ash" else f"invalid integer '{s}'")

    unary = {
        "-z": lambda a: a == "", "-n": lambda a: a != "",
        "-f": lambda a: a in files, "-e": lambda a: a in files or _is_dir(files, a),
        "-d": lambda a: _is_dir(files, a), "-s": lambda a: bool(files.get(a)),
        "-r": lambda a: a in files or _is_dir(files, a), "-w": lambda a: a in files,
        "-x": lambda a: _is_dir(files, a), "-L": lambda a: False, "-h": lambda a: False,
    }
    binary = {
        "=": lambda a, b: a == b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
        "-eq": lambda a, b: integer(a) == integer(b), "-ne": lambda a, b: integer(a) != integer(b),
        "-lt": lambda a, b: integer(a) < integer(b), "-le": lambda a, b: integer(a) <= integer(b),
        "-gt": lambda a, b: integer(a) > integer(b), "-ge": lambda a, b: integer(a) >= integer(b),
    }

    def ev(a: list[str]) -> bool:
        if "-o" in a[1:-1]:
            i = a.index("-o", 1)
            return ev(a[:i]) or ev(a[i + 1:])
        if "-a" in a[1:-1]:
            i = a.index("-a", 1)
            return ev(a[:i]) and ev(a[i + 1:])
        if not a:
            return False
        if len(a) == 1:
            return a[0] != ""
        if a[0] == "!" and len(a) in (2, 4):
            return not ev(a[1:])
        if len(a) == 2:
            if a[0] in unary:
                return unary[a[0]](a[1])
            raise ValueError(f"{a[0]}: unexpected operator")
        if len(a) == 3:
            if a[1] in binary:
                return binary[a[1]](a[0], a[2])
            if a[0] == "(" and a[2] == ")":
                return ev([a[1]])
            if a[0] == "!":
                return not ev(a[1:])
            raise ValueError(f"{a[1]}: unexpected operator" if kind != "ash" and not kind.startswith("bash")
                             else f"{a[1]}: binary operator expected")
        raise ValueError("too many arguments" if kind.startswith("bash") else f"{a[-1]}: unexpected operator")

    try:
        return (0 if ev(list(args)) else 1), None
    except ValueError as exc:
        return 2, str(exc)


def tool_path(profile, name: str) -> str:
    """Where an image keeps a command (what `which` and `command -v` print)."""
    from .._images import normalize
    image, _ = normalize(profile.ref)
    if name in ("sh", "bash", "ash", "dash") and not (name == "bash" and image == "nicolaka/netshoot"):
        return f"/bin/{name}"
    if image == "busybox":
        return f"/bin/{name}"
    if profile.busybox or profile.libc == "musl":
        return f"/bin/{name}" if name in {"cat", "echo", "hostname", "ls", "ping", "date",
                                          "grep", "sleep", "true", "false", "uname"} else f"/usr/bin/{name}"
    return f"/usr/bin/{name}"


# ---------------------------------------------------------------- tools

@tool("echo")
def echo(ctx: ToolContext, argv: list[str]) -> int:
    ctx.stdout.write(echo_text(argv[1:], "bash"))
    return 0


def _room(ctx: ToolContext) -> int | None:
    return ctx.memory.room() if ctx.memory is not None else None


def _need(ctx: ToolContext, n: int) -> None:
    """Room for n characters more in the exec's memory, or an OOM kill of this tool."""
    if ctx.memory is not None:
        ctx.memory.need(n)


@tool("printf")
def printf(ctx: ToolContext, argv: list[str]) -> int:
    out, err, code = printf_text(argv[1:], _room(ctx))
    ctx.stdout.write(out)
    if err:
        ctx.stderr.write(f"printf: {err}\n")
    return code


@tool("test", "[")
def test(ctx: ToolContext, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0].endswith("["):
        if not args or args[-1] != "]":
            ctx.stderr.write("[: missing ]\n" if _busybox(ctx) else "[: missing ']'\n")
            return 2
        args = args[:-1]
    code, msg = test_eval(args, ctx.files, "ash" if _busybox(ctx) else "gnu")
    if msg:
        ctx.stderr.write(f"{argv[0].rsplit('/', 1)[-1]}: {msg}\n")
    return code


@tool("true")
def true(ctx: ToolContext, argv: list[str]) -> int:
    return 0


@tool("false")
def false(ctx: ToolContext, argv: list[str]) -> int:
    return 1


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


def _count_opt(argv: list[str], default: int = 10) -> tuple[str, list[str]]:
    count, files, args = str(default), [], list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "-n" and args:
            count = args.pop(0)
        elif a.startswith("-n"):
            count = a[2:]
        elif re.fullmatch(r"-\d+", a):
            count = a[1:]
        else:
            files.append(a)
    return count, files or ["-"]


@tool("head")
def head(ctx: ToolContext, argv: list[str]) -> int:
    count, files = _count_opt(argv)
    if not re.fullmatch(r"-?\d+", count):
        ctx.stderr.write(f"head: invalid number '{count}'\n" if _busybox(ctx) else
                         f"head: invalid number of lines: '{count}'\n")
        return 1
    n, code = int(count), 0
    for i, path in enumerate(files):
        text = _open(ctx, "head", path)
        if text is None:
            code = 1
            continue
        if len(files) > 1:
            ctx.stdout.write(("\n" if i else "") + f"==> {path if path != '-' else 'standard input'} <==\n")
        lines = _lines(text, ctx)
        ctx.stdout.write("".join(lines[:n] if n >= 0 else lines[:n]))
    return code


@tool("tail")
def tail(ctx: ToolContext, argv: list[str]) -> int:
    count, files = _count_opt(argv)
    from_start = count.startswith("+")
    if not re.fullmatch(r"[+-]?\d+", count):
        ctx.stderr.write(f"tail: invalid number '{count}'\n" if _busybox(ctx) else
                         f"tail: invalid number of lines: '{count}'\n")
        return 1
    n, code = abs(int(count)), 0
    for path in files:
        text = _open(ctx, "tail", path)
        if text is None:
            code = 1
            continue
        lines = _lines(text, ctx)
        chosen = lines[max(n - 1, 0):] if from_start else (lines[-n:] if n else [])
        ctx.stdout.write("".join(chosen))
    return code


def _hosts_lookup(ctx: ToolContext, name: str) -> list[list[str]]:
    """Lines of /etc/hosts (as field lists) naming `name`."""
    found = []
    for line in ctx.files.get("/etc/hosts", "").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and name in fields[1:]:
            found.append(fields)
    return found


@tool("hostname")
def hostname(ctx: ToolContext, argv: list[str]) -> int:
    name = ctx.files.get("/etc/hostname", "").strip() or ctx.env.get("HOSTNAME", "")
    opts = "".join(a[1:] for a in argv[1:] if a.startswith("-") and not a.startswith("--"))
    longs = [a for a in argv[1:] if a.startswith("--")]
    if "i" in opts or "--ip-address" in longs:
        entries = [f[0] for f in _hosts_lookup(ctx, name) if ":" not in f[0]]
        if not entries:
            ctx.stderr.write("hostname: Name or service not known\n" if not _busybox(ctx) else
                             f"hostname: {name}: Unknown host\n")
            return 1
        # Both GNU and BusyBox print each address followed by a space.
        ctx.stdout.write("".join(f"{ip} " for ip in dict.fromkeys(entries)) + "\n")
        return 0
    if "f" in opts or "--fqdn" in longs or "--long" in longs:
        entries = _hosts_lookup(ctx, name)
        ctx.stdout.write((entries[0][1] if entries else name) + "\n")
        return 0
    if "s" in opts or "--short" in longs:
        ctx.stdout.write(name.split(".", 1)[0] + "\n")
        return 0
    if "d" in opts or "--domain" in longs:
        entries = _hosts_lookup(ctx, name)
        fqdn = entries[0][1] if entries else name
        ctx.stdout.write((fqdn.split(".", 1)[1] if "." in fqdn else "") + "\n")
        return 0
    if argv[1:]:
        ctx.stderr.write("hostname: you must be root to change the host name\n")
        return 1
    ctx.stdout.write(name + "\n")
    return 0


@tool("env")
def env(ctx: ToolContext, argv: list[str]) -> int:
    if len(argv) > 1 and not argv[1].startswith("-") and "=" not in argv[1]:
        ctx.stderr.write(f"env: '{argv[1]}': No such file or directory\n" if not _busybox(ctx) else
                         f"env: can't execute '{argv[1]}': No such file or directory\n")
        return 127
    ctx.stdout.write("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
    return 0


@tool("printenv")
def printenv(ctx: ToolContext, argv: list[str]) -> int:
    names = argv[1:]
    if not names:
        ctx.stdout.write("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
        return 0
    code = 0
    for name in names:
        if name in ctx.env:
            ctx.stdout.write(ctx.env[name] + "\n")
        else:
            code = 1
    return code


@tool("seq")
def seq(ctx: ToolContext, argv: list[str]) -> int:
    sep, width, nums = "\n", False, []
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "-s" and args:
            sep = args.pop(0)
        elif a.startswith("-s") and len(a) > 2:
            sep = a[2:]
        elif a == "-w":
            width = True
        else:
            nums.append(a)
    if not 1 <= len(nums) <= 3:
        ctx.stderr.write("seq: missing operand\nTry 'seq --help' for more information.\n"
                         if not _busybox(ctx) else "seq: missing operand\n")
        return 1
    values = []
    for a in nums:
        try:
            values.append(int(a) if re.fullmatch(r"[-+]?\d+", a) else float(a))
        except ValueError:
            ctx.stderr.write(f"seq: invalid floating point argument: '{a}'\n"
                             "Try 'seq --help' for more information.\n"
                             if not _busybox(ctx) else f"seq: invalid number '{a}'\n")
            return 1
    first, step, last = (1, 1, values[0]) if len(values) == 1 else (
        (values[0], 1, values[1]) if len(values) == 2 else tuple(values))
    if step == 0:
        ctx.stderr.write("seq: invalid Zero increment value: '0'\n")
        return 1
    decimals = max((len(a.split(".", 1)[1]) for a in nums if "." in a), default=0)
    if (last - first) / step > 1_000_000:
        from ..shell.errors import LimitExceeded
        raise LimitExceeded("seq: output limit exceeded")
    out, x = [], first
    while (x <= last) if step > 0 else (x >= last):
        out.append(f"{x:.{decimals}f}" if decimals else str(int(x)))
        x += step
    if width and out:
        w = max(len(s) for s in out)
        out = [s.zfill(w) for s in out]
    if out:
        ctx.stdout.write(sep.join(out) + "\n")
    return 0


@tool("sleep")
def sleep(ctx: ToolContext, argv: list[str]) -> int:
    """Real time passes (run() blocks a worker thread, never the server's loop), bounded by
    the exec's deadline; advancing the sandbox clock ends a sleep early."""
    total = 0.0
    for arg in argv[1:]:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if not m:
            if _busybox(ctx):
                ctx.stderr.write(f"sleep: invalid number '{arg}'\n")
            else:
                ctx.stderr.write(f"sleep: invalid time interval '{arg}'\n"
                                 "Try 'sleep --help' for more information.\n")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if len(argv) < 2:
        ctx.stderr.write("sleep: missing operand\nTry 'sleep --help' for more information.\n"
                         if not _busybox(ctx) else "BusyBox: sleep: missing operand\n")
        return 1
    end = ctx.clock.monotonic() + total
    with ctx.turn.waiting() if ctx.turn is not None else contextlib.nullcontext():
        while True:                         # waiting, it leaves the interpreter to others
            now = ctx.clock.monotonic()
            if now >= ctx.deadline:
                from ..shell.errors import Timeout
                raise Timeout()
            if now >= end:
                return 0
            time.sleep(min(end - now, ctx.deadline - now, 0.05))


@tool("wc")
def wc(ctx: ToolContext, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and a != "-")
    files = [a for a in argv[1:] if a == "-" or not a.startswith("-")]
    cols = [c for c in "lwc" if c in flags] or ["l", "w", "c"]
    inputs = files or ["-"]
    results, code = [], 0
    for path in inputs:
        text = _open(ctx, "wc", path)
        if text is None:
            code = 1
            continue
        counts = {"l": text.count("\n"), "w": _count_words(text),
                  "c": len(text) if text.isascii() else len(text.encode())}
        results.append(([counts[c] for c in cols], path if files else None))
    if len(results) > 1:
        results.append(([sum(r[0][i] for r in results) for i in range(len(cols))], "total"))
    if _busybox(ctx):
        single = len(inputs) <= 1 and len(cols) == 1
        for nums, name in results:
            line = (str(nums[0]) if single else " ".join(f"{n:9d}" for n in nums))
            ctx.stdout.write(line + (f" {name}" if name else "") + "\n")
        return code
    # GNU: one column for one input is unpadded; else the width of the largest
    # byte count, at least 7 when reading a pipe.
    if len(cols) == 1 and len(results) == 1:
        width = 1
    else:
        width = max(len(str(max((r[0][-1] for r in results), default=0))), 1)
        if "-" in inputs:
            width = max(width, 7)
    for nums, name in results:
        ctx.stdout.write(" ".join(f"{n:{width}d}" for n in nums) + (f" {name}" if name else "") + "\n")
    return code


def _read_inputs(ctx: ToolContext, name: str, files: list[str]) -> tuple[str, int]:
    text, code = [], 0
    for path in files or ["-"]:
        t = _open(ctx, name, path)
        if t is None:
            code = 2 if name == "grep" else 1
        else:
            text.append(t)
    return "".join(text), code


@tool("sort")
def sort(ctx: ToolContext, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and a != "-")
    files = [a for a in argv[1:] if a == "-" or not a.startswith("-")]
    text, code = _read_inputs(ctx, "sort", files)
    if len(text) > 65536:
        _need(ctx, text_size(text) + _LINE_COST * (text.count("\n") + 1))
    lines = text.split("\n")               # one str a line, without a second stripped copy
    if lines and lines[-1] == "":
        lines.pop()
    del text
    key = None
    if "n" in flags:
        def key(s: str):
            m = re.match(r"\s*(-?\d+(?:\.\d+)?)", s)
            return (float(m.group(1)) if m else 0.0, s)
    lines = _sort_in_runs(lines, key, "r" in flags)
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    ctx.stdout.write("".join(line + "\n" for line in lines))
    return code


def _sort_in_runs(lines: list[str], key, reverse: bool) -> list[str]:
    """sorted(lines), in runs of _SORT_RUN merged by heapq (stable, as one sort is)."""
    if len(lines) <= _SORT_RUN:
        return sorted(lines, key=key, reverse=reverse)
    import heapq
    runs = [sorted(lines[i:i + _SORT_RUN], key=key, reverse=reverse)
            for i in range(0, len(lines), _SORT_RUN)]
    return list(heapq.merge(*runs, key=key, reverse=reverse))


@tool("uniq")
def uniq(ctx: ToolContext, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and a != "-")
    files = [a for a in argv[1:] if a == "-" or not a.startswith("-")]
    text, code = _read_inputs(ctx, "uniq", files[:1])
    groups: list[list] = []
    for line in _lines(text, ctx):
        line = line.rstrip("\n")
        if groups and groups[-1][0] == line:
            groups[-1][1] += 1
        else:
            groups.append([line, 1])
    for line, n in groups:
        if "d" in flags and n < 2 or "u" in flags and n > 1:
            continue
        # "%7lu " in both GNU coreutils and BusyBox.
        ctx.stdout.write((f"{n:7d} " if "c" in flags else "") + line + "\n")
    return code


@tool("grep")
def grep(ctx: ToolContext, argv: list[str]) -> int:
    args = list(argv[1:])
    flags, pattern, files, patterns = "", None, [], []
    while args:
        a = args.pop(0)
        if a == "-e" and args:
            patterns.append(args.pop(0))
        elif a.startswith("-") and len(a) > 1 and pattern is None and not patterns:
            flags += a[1:]
        elif pattern is None and not patterns:
            pattern = a
        else:
            files.append(a)
    if pattern is not None:
        patterns.append(pattern)
    if not patterns:
        ctx.stderr.write("Usage: grep [OPTION]... PATTERNS [FILE]...\n"
                         "Try 'grep --help' for more information.\n")
        return 2
    text, code = _read_inputs(ctx, "grep", files)
    try:
        rx = compile_posix(patterns, extended="E" in flags, fixed="F" in flags, icase="i" in flags,
                           word="w" in flags, line="x" in flags, deadline=_wall_deadline(ctx))
    except PatternError as exc:
        # GNU: "grep: Unmatched ( or \\("; BusyBox's xregcomp: "grep: bad regex 'P': ..."
        ctx.stderr.write(f"grep: bad regex '{patterns[0]}': {exc}\n" if _busybox(ctx)
                         else f"grep: {exc}\n")
        return 2
    invert = "v" in flags
    count = 0
    try:
        for nr, body in enumerate(_bodies(text), 1):   # one line at a time, as grep reads
            if ctx.turn is not None:
                ctx.turn.tick()
            if (rx.search(body) is not None) == invert:
                continue
            count += 1
            if "q" in flags:
                return 0
            if "c" in flags:
                continue
            number = f"{nr}:" if "n" in flags else ""
            if "o" in flags and not invert:
                batch = []                  # written a few thousand at a time
                for found in rx.matches(body):
                    batch.append(number + found + "\n")
                    if len(batch) >= 4096:
                        ctx.stdout.write("".join(batch))
                        batch.clear()
                ctx.stdout.write("".join(batch))
            else:
                ctx.stdout.write(number + body + "\n")
    except TooSlow:
        # GNU grep's EGexecute dies through xalloc_die when the matcher gives up;
        # BusyBox's bb_die_memory_exhausted says "out of memory". Both exit 2.
        ctx.stderr.write("grep: out of memory\n" if _busybox(ctx) else "grep: memory exhausted\n")
        return 2
    if "c" in flags:
        ctx.stdout.write(f"{count}\n")
    return code if code else (0 if count else 1)


def _bodies(text: str):
    """Each line of text without its newline, produced one at a time."""
    pos, n = 0, len(text)
    while pos < n:
        j = text.find("\n", pos)
        if j < 0:
            yield text[pos:]
            return
        yield text[pos:j]
        pos = j + 1


def _wall_deadline(ctx: ToolContext) -> float:
    """The exec's deadline on time.monotonic(), for matchers that stop on their own."""
    return time.monotonic() + max(ctx.deadline - ctx.clock.monotonic() - ctx.waited, 0.0)


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        a, dash, b = part.partition("-")
        lo = int(a) if a else 1
        hi = (int(b) if b else 1 << 30) if dash else lo
        out.append((lo, hi))
    return out


@tool("cut")
def cut(ctx: ToolContext, argv: list[str]) -> int:
    args = list(argv[1:])
    delim, fields, chars, files, only_delim = "\t", None, None, [], False
    while args:
        a = args.pop(0)
        if a.startswith("-d"):
            delim = a[2:] if len(a) > 2 else (args.pop(0) if args else "\t")
        elif a.startswith("-f"):
            fields = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
        elif a.startswith("-c") or a.startswith("-b"):
            chars = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
        elif a == "-s":
            only_delim = True
        else:
            files.append(a)
    if fields is None and chars is None:
        ctx.stderr.write("cut: you must specify a list of bytes, characters, or fields\n"
                         "Try 'cut --help' for more information.\n")
        return 1
    text, code = _read_inputs(ctx, "cut", files)
    for line in _lines(text, ctx):
        body = line.rstrip("\n")
        if chars is not None:
            keep = [c for i, c in enumerate(body, 1) if any(lo <= i <= hi for lo, hi in _ranges(chars))]
            ctx.stdout.write("".join(keep) + "\n")
            continue
        if delim not in body:
            if not only_delim:
                ctx.stdout.write(body + "\n")
            continue
        parts = body.split(delim)
        keep = [p for i, p in enumerate(parts, 1) if any(lo <= i <= hi for lo, hi in _ranges(fields))]
        ctx.stdout.write(delim.join(keep) + "\n")
    return code


_CLASSES = {"[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "[:lower:]": "abcdefghijklmnopqrstuvwxyz",
            "[:digit:]": "0123456789", "[:space:]": " \t\n\r\f\v", "[:blank:]": " \t",
            "[:punct:]": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}


_TR_RANGE = 1 << 16


def _tr_set(spec: str) -> str:
    for name, chars in _CLASSES.items():
        spec = spec.replace(name, chars)
    spec, _ = _unescape(spec, echo=False)
    out, i = [], 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            if ord(spec[i + 2]) - ord(spec[i]) > _TR_RANGE:
                # GNU tr works on bytes (a range spans 256 at most); a range of a million
                # code points would be a million Python strings here: an OOM kill.
                raise OutOfMemory()
            out.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


@tool("tr")
def tr(ctx: ToolContext, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and len(a) > 1)
    sets = [_tr_set(a) for a in argv[1:] if not (a.startswith("-") and len(a) > 1)]
    text = ctx.stdin
    if not sets:
        ctx.stderr.write("tr: missing operand\nTry 'tr --help' for more information.\n")
        return 1
    if "d" in flags:
        text = "".join(c for c in text if c not in sets[0])
        squeeze = sets[1] if len(sets) > 1 else ""
    elif len(sets) >= 2:
        src, dst = sets[0], sets[1]
        dst = dst + dst[-1:] * (len(src) - len(dst)) if dst else dst
        text = text.translate({ord(a): b for a, b in zip(src, dst)})
        squeeze = sets[1]
    else:
        squeeze = sets[0]
    if "s" in flags and squeeze:
        text = re.sub("([" + re.escape(squeeze) + r"])\1+", r"\1", text)
    ctx.stdout.write(text)
    return 0


@tool("awk")
def awk(ctx: ToolContext, argv: list[str]) -> int:
    """The one-liners the course uses: [-F sep] '[NR==n|/re/] {print $1, $2...}'."""
    args, sep = list(argv[1:]), None
    while args and args[0].startswith("-F"):
        a = args.pop(0)
        sep = a[2:] if len(a) > 2 else (args.pop(0) if args else " ")
    if not args:
        ctx.stderr.write("usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]\n")
        return 2
    prog, files = args[0].strip(), args[1:]
    m = re.fullmatch(r"(?:(NR\s*==\s*\d+|/(?:[^/\\]|\\.)*/)\s*)?(?:\{\s*(print(?:\s+.*?)?)?\s*;?\s*\})?", prog)
    if not m or (m.group(1) is None and m.group(2) is None and prog):
        ctx.stderr.write("awk: the sandbox's awk only runs '{print ...}' one-liners\n")
        return 2
    cond, action = m.group(1), m.group(2) or "print"
    rx = None
    if cond and cond.startswith("/"):
        try:   # awk's /re/ is a POSIX ERE
            rx = compile_posix([cond[1:-1].replace("\\/", "/")], extended=True,
                               deadline=_wall_deadline(ctx))
        except PatternError as exc:
            ctx.stderr.write(f"awk: {exc}: /{cond[1:-1]}/\n")
            return 2
    text, code = _read_inputs(ctx, "awk", files)
    items = [e.strip() for e in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", action[5:].strip())] \
        if action[5:].strip() else ["$0"]
    for nr, line in enumerate(_lines(text, ctx), 1):
        body = line.rstrip("\n")
        parts = body.split() if sep in (None, " ") else body.split(sep)
        if cond:
            if cond.startswith("NR") and nr != int(cond.split("==")[1]):
                continue
            if cond.startswith("/"):
                try:
                    if rx.search(body) is None:
                        continue
                except TooSlow:
                    ctx.stderr.write("awk: regular expression took too long\n")
                    return 2
        values = []
        for item in items:
            if item == "NF":
                values.append(str(len(parts)))
            elif item == "NR":
                values.append(str(nr))
            elif re.fullmatch(r"\$\d+", item):
                i = int(item[1:])
                values.append(body if i == 0 else (parts[i - 1] if i <= len(parts) else ""))
            elif item == "$NF":
                values.append(parts[-1] if parts else "")
            elif item.startswith('"') and item.endswith('"'):
                values.append(_unescape(item[1:-1], echo=False)[0])
            else:
                values.append("")
        ctx.stdout.write(" ".join(values) + "\n")
    return code


@tool("date")
def date(ctx: ToolContext, argv: list[str]) -> int:
    now = dt.datetime.fromtimestamp(ctx.clock.time(), dt.timezone.utc)
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "%a %b %e %H:%M:%S %Z %Y")
    fmt = fmt.replace("%s", str(int(ctx.clock.time()))).replace("%N", f"{now.microsecond * 1000:09d}")
    fmt = fmt.replace("%e", f"{now.day:2d}").replace("%Z", "UTC")
    ctx.stdout.write(now.strftime(fmt) + "\n")
    return 0


@tool("id")
def id_(ctx: ToolContext, argv: list[str]) -> int:
    from .._images import normalize
    image, _ = normalize(ctx.image.ref)
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    if "u" in flags:
        ctx.stdout.write("root\n" if "n" in flags else "0\n")
        return 0
    if "g" in flags:
        ctx.stdout.write("root\n" if "n" in flags else "0\n")
        return 0
    groups = "0(root)"
    if image == "busybox":
        groups += ",10(wheel)"
    elif ctx.image.libc == "musl":
        groups += (",1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),"
                   "26(tape),27(video)")
    ctx.stdout.write(f"uid=0(root) gid=0(root) groups={groups}\n")
    return 0


@tool("whoami")
def whoami(ctx: ToolContext, argv: list[str]) -> int:
    ctx.stdout.write("root\n")
    return 0


@tool("uname")
def uname(ctx: ToolContext, argv: list[str]) -> int:
    node = ctx.files.get("/etc/hostname", "").strip()
    release, version = "6.8.0-45-generic", "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024"
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-")) or "s"
    if "a" in flags:
        tail = "Linux" if _busybox(ctx) else "GNU/Linux"
        ctx.stdout.write(f"Linux {node} {release} {version} x86_64 {tail}\n")
        return 0
    fields = {"s": "Linux", "n": node, "r": release, "v": version, "m": "x86_64",
              "o": "Linux" if _busybox(ctx) else "GNU/Linux"}
    ctx.stdout.write(" ".join(fields[f] for f in "snrvmo" if f in flags) + "\n")
    return 0


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


@tool("which")
def which(ctx: ToolContext, argv: list[str]) -> int:
    code = 0
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        if name in ctx.image.tools:
            ctx.stdout.write(tool_path(ctx.image, name) + "\n")
        else:
            code = 1
    return code
