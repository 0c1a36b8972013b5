"""The sandbox shell's lexer: source text to tokens, and words to their parts
(literals, quoted text, `${...}`, `$(...)`, `$((...))`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ShellSyntaxError


# ---------------------------------------------------------------- lexer

@dataclass
class Word:
    parts: list                       # ("lit", s) | ("q", s) | ("var", name, op, arg, quoted)
    raw: str                          # | ("cmd", src, quoted) | ("arith", expr, quoted)
    line: int = 1

    @property
    def plain(self) -> str | None:
        """The text when the word is a bare unquoted literal (reserved-word check)."""
        if len(self.parts) == 1 and self.parts[0][0] == "lit" and self.raw == self.parts[0][1]:
            return self.raw
        return None


@dataclass
class Tok:
    kind: str        # "word", "op", "redir", "eof"
    value: object
    line: int
    pos: int = 0     # where the token starts in the source (a job's text for `jobs`)


_OPS = ("&&", "||", ";;", "|", ";", "&", "(", ")", "\n")


def _match_paren(src: str, i: int) -> int:
    """Index just past the `)` closing a `$(` whose body starts at i."""
    depth = 1
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            i = len(src) if j < 0 else j + 1
            continue
        if c == '"':
            i = _skip_dquote(src, i + 1)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError(None, src.count("\n", 0, i) + 1, ")")


def _skip_dquote(src: str, i: int) -> int:
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif src.startswith("$(", i):
            i = _match_paren(src, i + 2)
        else:
            i += 1
    raise ShellSyntaxError(None, src.count("\n") + 1, '"')


def _read_dollar(src: str, i: int, quoted: bool) -> tuple[tuple, int]:
    """Parse an expansion starting at src[i] == '$'."""
    n = len(src)
    if src.startswith("$((", i):
        depth, j = 0, i + 3
        while j < n:
            if src[j] == "(":
                depth += 1
            elif src[j] == ")":
                if depth == 0 and src.startswith("))", j):
                    return ("arith", src[i + 3:j], quoted), j + 2
                depth -= 1
            j += 1
        raise ShellSyntaxError(None, src.count("\n") + 1, "))")
    if src.startswith("$(", i):
        end = _match_paren(src, i + 2)
        return ("cmd", src[i + 2:end - 1], quoted), end
    if src.startswith("${", i):
        j = src.find("}", i + 2)
        if j < 0:
            raise ShellSyntaxError(None, src.count("\n") + 1, "}")
        body = src[i + 2:j]
        if body.startswith("#") and len(body) > 1:
            return ("var", body[1:], "len", None, quoted), j + 1
        m = re.match(r"([A-Za-z_][A-Za-z_0-9]*|[0-9]+|[?$#@*!-])", body)
        if not m:
            return ("var", body, "bad", None, quoted), j + 1
        name, rest = m.group(1), body[m.end():]
        if not rest:
            return ("var", name, None, None, quoted), j + 1
        for op in (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%"):
            if rest.startswith(op):
                arg = _lex_word_text(rest[len(op):])
                return ("var", name, op, arg, quoted), j + 1
        return ("var", body, "bad", None, quoted), j + 1
    m = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|[0-9?$#@*!-]").match(src, i + 1)
    if not m:
        return (("q" if quoted else "lit"), "$"), i + 1
    return ("var", m.group(0), None, None, quoted), m.end()


def _lex_word_text(text: str) -> Word:
    """A word from text inside ${x:-text}: quotes and expansions, no splitting on blanks."""
    parts: list = []
    i = 0
    buf = ""
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            buf += text[i + 1]
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = len(text) if j < 0 else j
            if buf:
                parts.append(("lit", buf))
                buf = ""
            parts.append(("q", text[i + 1:j]))
            i = j + 1
        elif c == '"':
            end = _skip_dquote(text, i + 1)
            if buf:
                parts.append(("lit", buf))
                buf = ""
            parts.extend(_dquote_parts(text[i + 1:end - 1]))
            i = end
        elif c == "$":
            if buf:
                parts.append(("lit", buf))
                buf = ""
            part, i = _read_dollar(text, i, False)
            parts.append(part)
        else:
            buf += c
            i += 1
    if buf:
        parts.append(("lit", buf))
    return Word(parts, text)


def _dquote_parts(body: str) -> list:
    parts: list = [("q", "")]
    i, buf = 0, ""
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in '$`"\\\n':
            if body[i + 1] != "\n":
                buf += body[i + 1]
            i += 2
        elif c == "$":
            if buf:
                parts.append(("q", buf))
                buf = ""
            part, i = _read_dollar(body, i, True)
            parts.append(part)
        elif c == "`":
            j = body.find("`", i + 1)
            j = len(body) if j < 0 else j
            if buf:
                parts.append(("q", buf))
                buf = ""
            parts.append(("cmd", body[i + 1:j], True))
            i = j + 1
        else:
            buf += c
            i += 1
    if buf:
        parts.append(("q", buf))
    return parts


def tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and src.startswith("\\\n", i):
            i += 2
            line += 1
            continue
        if c == "#":
            while i < n and src[i] != "\n":
                i += 1
            continue
        if c == "\n":
            toks.append(Tok("op", "\n", line, i))
            line += 1
            i += 1
            continue
        m = re.compile(r"(\d*)(>>|>&|<&|>\||<<<|<<|<>|>|<)|(&>>?)").match(src, i)
        if m:
            if m.group(3):
                toks.append(Tok("redir", ("&", m.group(3)[1:]), line, i))
                i = m.end()
                continue
            op = m.group(2)
            if op in ("<<", "<<<"):
                raise ShellSyntaxError(op, line, text="here-documents")
            fd = int(m.group(1)) if m.group(1) else (0 if op[0] == "<" else 1)
            toks.append(Tok("redir", (fd, op), line, i))
            i = m.end()
            continue
        op = next((o for o in _OPS if src.startswith(o, i)), None)
        if op:
            toks.append(Tok("op", op, line, i))
            i += len(op)
            continue
        start = i
        word, i, line = _read_word(src, i, line)
        toks.append(Tok("word", word, word.line, start))
    toks.append(Tok("eof", None, line, n))
    return toks


def _read_word(src: str, i: int, line: int) -> tuple[Word, int, int]:
    start, start_line = i, line
    parts: list = []
    buf = ""
    n = len(src)
    while i < n:
        c = src[i]
        if c in " \t\n;&|()<>":
            break
        if c == "\\":
            if i + 1 < n and src[i + 1] == "\n":
                i += 2
                line += 1
                continue
            if buf:
                parts.append(("lit", buf))
                buf = ""
            parts.append(("q", src[i + 1:i + 2]))
            i += 2
        elif c == "'":
            j = src.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError(None, line + src.count("\n", i), "'")
            if buf:
                parts.append(("lit", buf))
                buf = ""
            parts.append(("q", src[i + 1:j]))
            line += src.count("\n", i, j)
            i = j + 1
        elif c == '"':
            end = _skip_dquote(src, i + 1)
            if buf:
                parts.append(("lit", buf))
                buf = ""
            parts.extend(_dquote_parts(src[i + 1:end - 1]))
            line += src.count("\n", i, end)
            i = end
        elif c == "$":
            if buf:
                parts.append(("lit", buf))
                buf = ""
            part, j = _read_dollar(src, i, False)
            parts.append(part)
            line += src.count("\n", i, j)
            i = j
        elif c == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise ShellSyntaxError(None, line, "`")
            if buf:
                parts.append(("lit", buf))
                buf = ""
            parts.append(("cmd", src[i + 1:j], False))
            i = j + 1
        else:
            buf += c
            i += 1
    if buf:
        parts.append(("lit", buf))
    return Word(parts, src[start:i], start_line), i, line
