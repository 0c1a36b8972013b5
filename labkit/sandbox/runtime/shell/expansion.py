"""Word expansion for the sandbox shell: fields, parameters (`${...}` forms), `$(...)`,
`$((...))` and IFS splitting, as POSIX 2.6 orders them. A mixin of `Shell`, which owns
the variables, the status and the memory these count against."""
from __future__ import annotations

import re

from .arithmetic import ArithError, _arith_eval
from .errors import ShellExit
from .io import Input, Io, text_size
from .lexer import Word, _lex_word_text

_FIELD_COST = 64                 # what one field of a split word costs beside its text


class Expansion:
    def expand_words(self, words: list) -> list[str]:
        out: list[str] = []
        for word in words:
            out.extend(self.expand_word(word))
        if len(out) > 4096:           # each field is a str of its own: its header and slot
            self.need(_FIELD_COST * len(out))
        return out

    def expand_nosplit(self, word: Word) -> str:
        pieces = []
        for part in word.parts:
            kind = part[0]
            if kind in ("lit", "q"):
                pieces.append(part[1])
            else:
                value = self.expand_part(part)
                pieces.append(" ".join(value) if isinstance(value, list) else value)
        if len(pieces) > 1:
            self.need(sum(map(text_size, pieces)))
        text = "".join(pieces)
        if word.parts and word.parts[0][0] == "lit" and text.startswith("~"):
            text = self._tilde(text)
        return text

    def _tilde(self, text: str) -> str:
        if text == "~" or text.startswith("~/"):
            return self.vars.get("HOME", "/root") + text[1:]
        return text

    def expand_word(self, word: Word) -> list[str]:
        if len(word.parts) == 1 and word.parts[0][0] == "lit":
            text = word.parts[0][1]
            return [self._tilde(text) if text.startswith("~") else text]
        fields: list[str] = []
        cur: str | None = None
        ifs = self.vars.get("IFS", " \t\n")
        size = 0
        for part in word.parts:
            kind = part[0]
            if kind in ("lit", "q"):
                cur = (cur or "") + part[1]
                continue
            value = self.expand_part(part)
            size += sum(map(text_size, value)) if isinstance(value, list) else text_size(value)
            if size > 4096 and len(word.parts) > 1:
                self.need(size)               # the word being built, beside the variables
            quoted = part[-1]
            if isinstance(value, list):          # "$@"
                if not value:
                    continue
                cur = (cur or "") + value[0]
                for v in value[1:]:
                    fields.append(cur)
                    cur = v
                continue
            if quoted:
                cur = (cur or "") + value
                continue
            if not value:
                continue
            pieces = _split_ifs(value, ifs)
            if value[0] in ifs and cur is not None:
                fields.append(cur)
                cur = None
            for piece in pieces[:-1]:
                fields.append((cur or "") + piece)
                cur = None
            if pieces:
                cur = (cur or "") + pieces[-1]
            if value[-1] in ifs and cur is not None:
                fields.append(cur)
                cur = None
        if cur is not None:
            fields.append(cur)
        return fields

    def expand_part(self, part: tuple):
        kind = part[0]
        if kind == "var":
            return self.expand_var(part)
        if kind == "cmd":
            return self.command_substitution(part[1])
        if kind == "arith":
            return str(self.arith(self.expand_nosplit(_lex_word_text(part[1]))))
        return ""

    def get_var(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.pid)
        if name == "#":
            return str(len(self.positional))
        if name in ("@", "*"):
            return " ".join(self.positional)
        if name == "0":
            return self.dialect.argv0
        if name.isdigit():
            idx = int(name)
            return self.positional[idx - 1] if idx <= len(self.positional) else None
        if name == "-":
            return "e" if self.errexit else ""
        if name == "!":
            return "" if self.last_job_pid is None else str(self.last_job_pid)
        return self.vars.get(name)

    def expand_var(self, part: tuple):
        _, name, op, arg, quoted = part
        if name == "@" and quoted and op is None:
            return list(self.positional)
        if op == "bad":
            raise ShellExit(self._bad_substitution(name))
        value = self.get_var(name)
        if op is None:
            return value or ""
        if op == "len":
            return str(len(value or ""))
        null = value is None or (op.startswith(":") and value == "")
        base = op.lstrip(":")
        if base == "-":
            return self.expand_nosplit(arg) if null else value
        if base == "=":
            if null:
                value = self.expand_nosplit(arg)
                self.vars[name] = value
            return value
        if base == "+":
            return "" if null else self.expand_nosplit(arg)
        if base == "?":
            if null:
                msg = self.expand_nosplit(arg) or ("parameter null or not set" if self.dialect.is_bash
                                                   else "parameter not set")
                self._top_err.write(f"{self.dialect.prefix(1)}{name}: {msg}\n")
                raise ShellExit(1 if self.dialect.is_bash else 2)
            return value
        return _trim(value or "", op, self.expand_nosplit(arg), self.check)

    def _bad_substitution(self, body: str) -> int:
        self._top_err.write(f"{self.dialect.prefix(1)}${{{body}}}: bad substitution\n"
                            if self.dialect.is_bash else
                            f"{self.dialect.prefix(1)}Bad substitution\n"
                            if self.dialect.kind == "dash" else
                            f"{self.dialect.argv0}: syntax error: bad substitution\n")
        return 1 if self.dialect.is_bash else 2

    def command_substitution(self, src: str) -> str:
        sub = self.clone()
        out = self._sink()
        try:
            code = sub.run_script(src, Io(Input(), out, self._top_err))
            sub.jobs.run_all()                 # $(...) reads until its jobs close the pipe
        except ShellExit as ex:
            code = ex.code
        finally:
            out.release()
        self._cmd_status = code
        self.status = code
        return out.getvalue().rstrip("\n")

    def arith(self, expr: str) -> int:
        try:
            return _arith_eval(expr, self.vars, self.dialect.kind)
        except ArithError as exc:
            # An expansion error ends a non-interactive shell: bash with 1, dash and ash with 2.
            prefix = self.dialect.prefix(1) if self.dialect.kind != "ash" else f"{self.dialect.argv0}: "
            self._top_err.write(f"{prefix}{exc}\n")
            raise ShellExit(2 if not self.dialect.is_bash else 1)


def _split_ifs(value: str, ifs: str) -> list[str]:
    if ifs == " \t\n":
        return value.split()
    pieces = re.split("[" + re.escape(ifs) + "]+", value)
    return [p for p in pieces if p != ""]


def _trim(value: str, op: str, pattern: str, check=lambda: None) -> str:
    """${v#p} ${v##p} ${v%p} ${v%%p}: one glob match per cut point, as sh tries them;
    `check` (the exec's deadline) runs at each, since a long value makes this quadratic.
    Matches run on the value in place (pos/endpos), never on copies of its pieces."""
    import fnmatch
    if op in ("##", "%%"):          # the longest forms: one linear RE2 search (_regex)
        from .._regex import longest_trim
        cut = longest_trim(value, pattern, suffix=op == "%%")
        if cut is None:
            return value
        return value[cut:] if op == "##" else value[:cut]
    rx = re.compile(fnmatch.translate(_fnmatch_escapes(pattern)))   # atomic groups: no blowup
    if op in ("#", "##"):
        candidates = range(len(value) + 1) if op == "#" else range(len(value), -1, -1)
        for i in candidates:
            check()
            if rx.match(value, 0, i):
                return value[i:]
        return value
    candidates = range(len(value), -1, -1) if op == "%" else range(len(value) + 1)
    for i in candidates:
        check()
        if rx.match(value, i):
            return value[:i]
    return value


def _fnmatch_escapes(pattern: str) -> str:
    """sh's `\\x` (x taken literally) in fnmatch's terms, which has no escape: `[x]`."""
    if "\\" not in pattern:
        return pattern
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(f"[{nxt}]" if nxt in "*?[\\" else nxt)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
