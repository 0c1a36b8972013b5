"""POSIX regular expressions (BRE and ERE, GNU extensions) for the pod's text tools,
matched without catastrophic backtracking.

Why two engines. Python's `re` backtracks and holds the GIL while it does: measured on
the landed sandbox, `echo aaa...a! | grep -E '(a+)+$'` (30 a's) froze the whole sandbox,
API server and DNS included, for 27 s. So:

- RE2 (`google-re2`) matches in time linear in the input whatever the pattern, releases
  the GIL while it runs, and bounds its own memory (`max_mem`). Measured here: `(a+)+$`,
  `(a|aa)+$` and `(a|a)*b` on 30 a's in under 1 ms (Python's `re` and the `regex`
  module take seconds or hit their timeout on the second); a 40 MB line in 0.11 s.
  Its `longest_match` option is POSIX's leftmost-longest rule, which GNU grep -o
  follows and Python's engines do not (`echo abcd | grep -oE 'a|ab'` prints `ab`).
- RE2 has no backreferences (`\\1`). A pattern with one goes to the `regex` module,
  with its POSIX (leftmost-longest) flag, `concurrent=True` (the GIL is released while
  matching) and a `timeout=` that it enforces while matching. Measured: `^(a|aa)+\\1b`
  on 40 a's is stopped by a 2 s timeout at about 2.4 s, other threads ticking every
  few ms meanwhile. A subprocess per match would cost far more than either.

A fallback match that runs out of time raises `TooSlow`; the tool then stops as GNU grep
stops on an internal error of its matcher: "grep: memory exhausted", exit 2 (grep's
dfasearch.c calls xalloc_die when re_search fails with -2, as glibc's regex does when its
backtracking state runs out).
"""
from __future__ import annotations

import re
import time

__all__ = ["Pattern", "PatternError", "TooSlow", "compile_posix", "MATCH_SECONDS"]

# Wall-clock seconds one tool invocation may spend in backtracking (backreference)
# matches, summed over its input lines; the exec's own deadline may cut it shorter.
MATCH_SECONDS = 2.0


class PatternError(ValueError):
    """The pattern does not compile; the message is GNU regcomp's wording."""


class TooSlow(Exception):
    """A backreference match ran past its time budget."""


# ---------------------------------------------------------------- translation

_WORD_ESCAPES = {"w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S", "b": r"\b", "B": r"\B",
                 "`": r"\A", "'": r"\z"}
_INTERVAL = re.compile(r"(\d*)(?:(,)(\d*))?")


def _bracket(p: str, i: int) -> tuple[str, int]:
    """A bracket expression starting at p[i] == '['; returns (engine syntax, index after).

    Inside POSIX brackets a backslash is an ordinary character and a leading `]` is a
    member; both engines here treat `\\` as an escape, so members are re-escaped."""
    j = i + 1
    out = ["["]
    if j < len(p) and p[j] == "^":
        out.append("^")
        j += 1
    first = True
    while j < len(p):
        c = p[j]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if c == "[" and j + 1 < len(p) and p[j + 1] in ":=.":
            kind = p[j + 1]
            end = p.find(kind + "]", j + 2)
            if end < 0:
                raise PatternError("Unmatched [, [^, [:, [., or [=")
            name = p[j + 2:end]
            if kind == ":":
                if name not in ("alpha", "digit", "alnum", "upper", "lower", "space", "blank",
                                "punct", "print", "graph", "cntrl", "xdigit"):
                    raise PatternError("Invalid character class name")
                out.append(f"[:{name}:]")
            else:                          # [=a=] and [.a.]: one character here
                out.append(re.escape(name))
            j = end + 2
            continue
        if c in "\\[]^-&~|" and not (c == "-" and out[-1] not in ("[", "^")):
            out.append("\\" + c)
        else:
            out.append(c)
        j += 1
    raise PatternError("Unmatched [, [^, [:, [., or [=")


def translate(p: str, extended: bool, lookaround: bool) -> tuple[str, int, bool]:
    """A POSIX BRE/ERE (GNU flavour) in Python/RE2 syntax: (source, groups, has backrefs).

    `lookaround`: the target engine has lookarounds (the `regex` module), so `\\<` and
    `\\>` keep their exact meaning; RE2 gets `\\b`, which differs only in odd patterns."""
    out: list[str] = []
    groups, backref, depth = 0, False, 0
    i, n = 0, len(p)
    start_of_expr = True          # where a BRE `*` or `^` is literal / an anchor

    while i < n:
        c = p[i]
        op = None                 # a grouping, alternation or repetition operator: `\(` in a BRE, `(` in an ERE
        if c == "\\":
            if i + 1 >= n:
                raise PatternError("Trailing backslash")
            d = p[i + 1]
            i += 2
            if d.isdigit() and d != "0":
                if int(d) > groups:
                    raise PatternError("Invalid back reference")
                out.append("\\" + d)
                backref = True
            elif d == "<":
                out.append(r"\b(?=\w)" if lookaround else r"\b")
            elif d == ">":
                out.append(r"\b(?<=\w)" if lookaround else r"\b")
            elif d in _WORD_ESCAPES:
                out.append(_WORD_ESCAPES[d])
            elif not extended and d in "({|+?)":
                op = d
            else:
                out.append(re.escape(d))   # GNU: a stray backslash quotes the character
            if op is None:
                start_of_expr = False
                continue
        elif extended and c in "({|+?)":
            op, i = c, i + 1
        if op is not None:
            text, i, opened, nested, start_of_expr = _operator(p, i, op, extended, start_of_expr)
            groups += opened
            depth += nested
            if depth < 0:
                raise PatternError("Unmatched ) or \\)")
            out.append(text)
            continue
        if c == "[":
            text, i = _bracket(p, i)
            out.append(text)
            start_of_expr = False
            continue
        if c == "*":
            out.append(r"\*" if start_of_expr else "*")
            i += 1
            start_of_expr = False
            continue
        if c == "^":
            anchor = extended or start_of_expr
            out.append("^" if anchor else r"\^")
            i += 1
            continue
        if c == "$":
            rest = p[i + 1:]
            anchor = extended or rest == "" or rest.startswith(("\\)", "\\|"))
            out.append("$" if anchor else r"\$")
            i += 1
            start_of_expr = False
            continue
        out.append("\\" + c if c in "+?|(){}" else c)
        i += 1
        start_of_expr = False
    if depth > 0:
        raise PatternError("Unmatched ( or \\(")
    return "".join(out), groups, backref


def _operator(p: str, i: int, c: str, extended: bool, start: bool):
    """One grouping/alternation/repetition operator c, whose text ends just before p[i].

    Returns (engine text, next index, groups opened, depth change, start_of_expr after)."""
    if c == "(":
        return "(", i, 1, 1, True
    if c == ")":
        return ")", i, 0, -1, False
    if c == "|":
        return "|", i, 0, 0, True
    if c in "+?":
        if start:                          # nothing to repeat: GNU takes it literally
            return "\\" + c, i, 0, 0, False
        return c, i, 0, 0, False
    # c == "{": an interval, else (GNU, RE_INVALID_INTERVAL_ORD) a literal brace
    close = "\\}" if not extended else "}"
    end = p.find(close, i)
    m = _INTERVAL.fullmatch(p, i, end) if end >= 0 else None
    if m is None or (not m.group(1) and not m.group(2)) or start:
        if not extended:
            raise PatternError("Invalid preceding regular expression" if start
                               else "Unmatched \\{")
        return r"\{", i, 0, 0, False
    lo, comma, hi = m.group(1) or "0", m.group(2), m.group(3)
    if int(lo) > 32767 or (hi and int(hi) > 32767):
        raise PatternError("Regular expression too big")
    if hi and int(hi) < int(lo):
        raise PatternError("Invalid content of \\{\\}")
    text = "{" + lo + ("," + hi if comma and hi else "," if comma else "") + "}"
    return text, end + len(close), 0, 0, False


# ---------------------------------------------------------------- matching

class Pattern:
    """A compiled pattern list, as grep -e P1 -e P2 (any of them matches)."""

    def __init__(self, re2_rx, fallback, deadline: float | None) -> None:
        self._re2, self._fallback = re2_rx, fallback
        self._spent = 0.0
        self._deadline = deadline        # time.monotonic() after which matching stops

    def _timeout(self) -> float:
        left = MATCH_SECONDS - self._spent
        if self._deadline is not None:
            left = min(left, self._deadline - time.monotonic())
        if left <= 0:
            raise TooSlow()
        return left

    def _run(self, fn):
        start = time.monotonic()
        try:
            return fn(self._timeout())
        except TimeoutError:
            raise TooSlow() from None
        finally:
            self._spent += time.monotonic() - start

    def search(self, text: str) -> tuple[int, int] | None:
        if self._re2 is not None:
            m = self._re2.search(text)
        else:
            m = self._run(lambda t: self._fallback.search(text, timeout=t, concurrent=True))
        return m.span() if m else None

    def matches(self, text: str):
        """The text of every non-empty, non-overlapping leftmost-longest match, in order,
        as grep -o prints them."""
        if self._re2 is not None:
            # One UTF-8 encoding for the whole line, and byte offsets: the binding's own
            # str path re-maps offsets at each match, 2.5 times slower.
            data = text.encode()
            for m in self._re2.finditer(data):
                s, e = m.span()
                if e > s:
                    yield data[s:e].decode()
            return
        pos = 0
        while pos <= len(text):
            m = self._run(lambda t: self._fallback.search(text, pos, timeout=t, concurrent=True))
            if m is None:
                return
            s, e = m.span()
            if e > s:
                yield text[s:e]
            pos = e if e > s else e + 1


def _needs_fallback(sources: list[str]) -> bool:
    """RE2 refuses a repetition count above 1000, which POSIX allows up to RE_DUP_MAX
    (32767 in glibc): such patterns go to the bounded backtracking engine too."""
    return any(int(n) > 1000 for src in sources
               for n in re.findall(r"(?<!\\)\{(\d+)(?:,\d*)?\}", src))


def compile_posix(patterns: list[str], *, extended: bool = False, fixed: bool = False,
                  icase: bool = False, word: bool = False, line: bool = False,
                  deadline: float | None = None) -> Pattern:
    """Compile grep-style patterns. `deadline` is a time.monotonic() value."""
    import re2

    sources_re2, sources_bt, backref = [], [], False
    offset = 0
    for p in patterns:
        if fixed:
            sources_re2.append(re.escape(p))
            sources_bt.append(re.escape(p))
            continue
        src, groups, has_ref = translate(p, extended, lookaround=False)
        if has_ref:
            backref = True
        bt, _, _ = translate(p, extended, lookaround=True)
        if offset:                         # grep numbers each pattern's groups from 1
            bt = re.sub(r"\\([1-9])", lambda m: "\\" + str(int(m.group(1)) + offset), bt)
        offset += groups
        sources_re2.append(src)
        sources_bt.append(bt)

    def wrap(sources: list[str], word_b: str) -> str:
        src = "|".join(f"(?:{s})" for s in sources)
        if word:
            src = rf"{word_b}(?:{src}){word_b}"
        if line:
            src = rf"^(?:{src})$"
        return src

    if not backref and not _needs_fallback(sources_re2):
        opts = re2.Options()
        opts.longest_match = True          # POSIX leftmost-longest
        opts.case_sensitive = not icase
        opts.log_errors = False
        opts.max_mem = 8 << 20             # RE2's default; a bigger program fails to compile
        try:
            return Pattern(re2.compile(wrap(sources_re2, r"\b"), opts), None, deadline)
        except re2.error as exc:
            text = str(exc)
            raise PatternError("Regular expression too big" if "too big" in text or "too large" in text
                               else "Invalid range end" if "range" in text
                               else "Invalid regular expression") from None
    import regex
    flags = regex.POSIX | regex.VERSION0 | (regex.IGNORECASE if icase else 0)
    try:
        compiled = regex.compile(wrap(sources_bt, r"\b"), flags)
    except regex.error:
        raise PatternError("Invalid regular expression") from None
    return Pattern(None, compiled, deadline)


# ---------------------------------------------------------------- shell patterns

def glob_source(pattern: str) -> str:
    """A shell pattern (`*`, `?`, `[...]`, `\\x`) as RE2/Python syntax, dot matching newline.

    An unfinished bracket stands for itself, as in sh (and Python's fnmatch)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 1
        elif c == "[":
            bracket = "[" + ("^" + pattern[i + 2:] if pattern[i + 1:i + 2] == "!" else pattern[i + 1:])
            try:
                text, used = _bracket(bracket, 0)
            except PatternError:
                out.append(r"\[")
            else:
                out.append(text)
                i += used              # "[!" was rewritten "[^": the same length
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "(?s:" + "".join(out) + ")"


def longest_trim(value: str, pattern: str, suffix: bool) -> int | None:
    """Where ${v##p} (prefix) or ${v%%p} (suffix) cuts value, in linear time: the end of
    the longest matching prefix, or the start of the longest matching suffix; None when
    nothing matches."""
    import re2

    opts = re2.Options()
    opts.longest_match = True
    opts.log_errors = False
    if suffix:      # the leftmost start of a match that runs to the end
        m = re2.compile(glob_source(pattern) + r"\z", opts).search(value)
        return m.start() if m else None
    m = re2.compile(r"\A" + glob_source(pattern), opts).search(value)
    return m.end() if m else None
