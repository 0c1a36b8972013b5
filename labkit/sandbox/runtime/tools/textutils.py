"""Text filters: head, tail, wc, sort, uniq, grep, cut, tr, awk, seq, as GNU coreutils
or BusyBox print them."""
from __future__ import annotations

import re

from .._context import ToolContext, tool
from .._regex import PatternError, TooSlow, compile_posix
from ..shell.errors import OutOfMemory
from ..shell.io import text_size
from ._coreutils import (_LINE_COST, _SORT_RUN, _busybox, _lines, _need, _open, _read_inputs,
                         _wall_deadline)
from .shellutils import _unescape


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


def _count_opt(argv: list[str], default: int = 10) -> tuple[str, str, list[str]]:
    """head's and tail's options: ("lines" or "bytes", the count as written, the files)."""
    unit, count, files, args = "lines", str(default), [], list(argv[1:])
    while args:
        a = args.pop(0)
        if a in ("-n", "-c") and args:
            unit, count = ("lines" if a == "-n" else "bytes"), args.pop(0)
        elif a.startswith(("-n", "-c")) and len(a) > 2:
            unit, count = ("lines" if a[1] == "n" else "bytes"), a[2:]
        elif a.startswith(("--lines=", "--bytes=")):
            unit, count = a[2:7], a.split("=", 1)[1]
        elif re.fullmatch(r"-\d+", a):
            unit, count = "lines", a[1:]
        else:
            files.append(a)
    return unit, count, files or ["-"]


# GNU's multiplier suffixes (xstrtoumax): b 512, K 1024, KB 1000, M 1024^2, MB 1000^2...
_SUFFIX = re.compile(r"([+-]?)(\d+)(b|[KMGT]B?|[KMGT]iB)?")


def _count_value(count: str) -> tuple[str, int] | None:
    m = _SUFFIX.fullmatch(count)
    if m is None:
        return None
    sign, digits, suffix = m.groups()
    n = int(digits)
    if suffix == "b":
        n *= 512
    elif suffix:
        power = "KMGT".index(suffix[0]) + 1
        n *= (1000 if suffix.endswith("B") and not suffix.endswith("iB") else 1024) ** power
    return sign, n


def _bad_count(ctx: ToolContext, name: str, unit: str, count: str) -> int:
    ctx.stderr.write(f"{name}: invalid number '{count}'\n" if _busybox(ctx) else
                     f"{name}: invalid number of {unit}: '{count}'\n")
    return 1


def _byte_slice(text: str, start: int | None, stop: int | None) -> str:
    """text[start:stop] counted in bytes, as head -c and tail -c count (UTF-8 in the pod);
    a character cut in two comes out as U+FFFD."""
    if text.isascii():
        return text[start:stop]
    return text.encode()[start:stop].decode(errors="replace")


@tool("head")
def head(ctx: ToolContext, argv: list[str]) -> int:
    unit, count, files = _count_opt(argv)
    value = _count_value(count)
    if value is None or value[0] == "+":
        return _bad_count(ctx, "head", unit, count)
    sign, n = value
    code = 0
    for i, path in enumerate(files):
        text = _open(ctx, "head", path)
        if text is None:
            code = 1
            continue
        if len(files) > 1:
            ctx.stdout.write(("\n" if i else "") + f"==> {path if path != '-' else 'standard input'} <==\n")
        if unit == "bytes":              # -c N: the first N bytes; -c -N: all but the last N
            ctx.stdout.write(_byte_slice(text, None, -n if sign == "-" else n) if n or sign != "-"
                             else text)
            continue
        lines = _lines(text, ctx)
        ctx.stdout.write("".join(lines[:-n] if sign == "-" else lines[:n]) if n or sign != "-"
                         else "".join(lines))
    return code


@tool("tail")
def tail(ctx: ToolContext, argv: list[str]) -> int:
    unit, count, files = _count_opt(argv)
    value = _count_value(count)
    if value is None:
        return _bad_count(ctx, "tail", unit, count)
    sign, n = value
    from_start, code = sign == "+", 0
    for path in files:
        text = _open(ctx, "tail", path)
        if text is None:
            code = 1
            continue
        if unit == "bytes":              # -c N: the last N bytes; -c +N: from byte N on
            chosen = _byte_slice(text, max(n - 1, 0), None) if from_start else (
                _byte_slice(text, -n, None) if n else "")
            ctx.stdout.write(chosen)
            continue
        lines = _lines(text, ctx)
        chosen = lines[max(n - 1, 0):] if from_start else (lines[-n:] if n else [])
        ctx.stdout.write("".join(chosen))
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
