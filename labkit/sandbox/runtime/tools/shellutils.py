"""echo, printf, test/[, true and false: the commands sh also has as builtins; the
builtins (shell/builtins.py) format with the same functions."""
from __future__ import annotations

import re

from .._context import ToolContext, tool
from ..shell.errors import OutOfMemory
from ..shell.io import text_size
from ._coreutils import _busybox, _is_dir, _room


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


@tool("echo")
def echo(ctx: ToolContext, argv: list[str]) -> int:
    ctx.stdout.write(echo_text(argv[1:], "bash"))
    return 0


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
