"""A POSIX sh subset that runs "inside" a sandbox pod: never the host's shell.

Covers what the course's loops need: quoting, `;` `&&` `||` `|` `!`, if/for/while/until,
`{ }` and `( )`, variables and `${...}` forms, `$(...)`, `$((...))`, redirections to
/dev/null, to per-exec virtual files and between fds. No globbing (a pattern stays as
written, as sh leaves it when nothing matches), no here-documents, no functions.

Messages follow the shell the image really has (`Dialect`): dash on Debian, BusyBox ash
on Alpine and busybox, bash (4.x without, 5.1+ with the "line N:" of `bash -c`).
Pipelines run their stages one after another, each in a copy of the shell's state (as
the stages of a real pipeline are subshells). Budgets guard the sandbox: the exec's
deadline (checked at every command and loop iteration), MAX_ITERATIONS loop turns and
MAX_OUTPUT characters per stream.
"""
from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass, field

from ._context import TOOLS, ToolContext

MAX_ITERATIONS = 100_000
MAX_OUTPUT = 1 << 20
MAX_DEPTH = 50
_PATH_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
_SHELLS = ("sh", "bash", "ash", "dash")
_RESERVED = {"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until",
             "{", "}", "!", "case", "esac"}
_ENDERS = {"then", "elif", "else", "fi", "do", "done", "}", "esac"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")


class Timeout(Exception):
    """The exec ran past its deadline."""


class LimitExceeded(Exception):
    """A sandbox budget (loop iterations, output size, nesting) ran out."""


class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _LoopControl(Exception):
    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind, self.levels = kind, levels


class ShellSyntaxError(Exception):
    def __init__(self, token: str | None, line: int, expecting: str | None = None,
                 text: str = "") -> None:
        super().__init__(token)
        self.token, self.line, self.expecting, self.text = token, line, expecting, text


# ---------------------------------------------------------------- dialects

@dataclass
class Dialect:
    """Error-message style of one real shell. kind: dash, ash, bash4 or bash5."""
    kind: str
    argv0: str = "sh"

    @property
    def is_bash(self) -> bool:
        return self.kind.startswith("bash")

    def prefix(self, line: int) -> str:
        if self.kind == "dash":
            return f"{self.argv0}: {line}: "
        if self.kind == "bash5":
            return f"{self.argv0}: line {line}: "
        return f"{self.argv0}: "

    def not_found(self, name: str, line: int) -> str:
        if self.is_bash:
            return f"{self.prefix(line)}{name}: command not found\n"
        return f"{self.prefix(line)}{name}: not found\n"

    def syntax_error(self, err: ShellSyntaxError) -> str:
        if self.is_bash:
            where = f"{self.argv0}: -c: line {err.line}: "
            if err.token is None:
                return f"{where}syntax error: unexpected end of file\n"
            return (f"{where}syntax error near unexpected token `{err.token}'\n"
                    f"{where}`{err.text}'\n")
        if self.kind == "dash":
            what = "end of file" if err.token is None else f'"{err.token}"'
            exp = f' (expecting "{err.expecting}")' if err.expecting else ""
            return f"{self.argv0}: {err.line}: Syntax error: {what} unexpected{exp}\n"
        what = "end of file" if err.token is None else f'"{err.token}"'
        exp = f' (expecting "{err.expecting}")' if err.expecting else ""
        return f"{self.argv0}: syntax error: unexpected {what}{exp}\n"


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
            toks.append(Tok("op", "\n", line))
            line += 1
            i += 1
            continue
        m = re.compile(r"(\d*)(>>|>&|<&|>\||<<<|<<|<>|>|<)|(&>>?)").match(src, i)
        if m:
            if m.group(3):
                toks.append(Tok("redir", ("&", m.group(3)[1:]), line))
                i = m.end()
                continue
            op = m.group(2)
            if op in ("<<", "<<<"):
                raise ShellSyntaxError(op, line, text="here-documents")
            fd = int(m.group(1)) if m.group(1) else (0 if op[0] == "<" else 1)
            toks.append(Tok("redir", (fd, op), line))
            i = m.end()
            continue
        op = next((o for o in _OPS if src.startswith(o, i)), None)
        if op:
            toks.append(Tok("op", op, line))
            i += len(op)
            continue
        word, i, line = _read_word(src, i, line)
        toks.append(Tok("word", word, word.line))
    toks.append(Tok("eof", None, line))
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


# ---------------------------------------------------------------- parser

@dataclass
class Simple:
    assigns: list
    words: list
    redirs: list
    line: int


@dataclass
class Pipeline:
    cmds: list
    negate: bool = False


@dataclass
class AndOr:
    first: Pipeline
    rest: list            # [(op, Pipeline)]


@dataclass
class Seq:
    items: list


@dataclass
class If:
    clauses: list         # [(cond Seq, body Seq)]
    orelse: Seq | None


@dataclass
class For:
    var: str
    words: list | None
    body: Seq


@dataclass
class While:
    cond: Seq
    body: Seq
    until: bool


@dataclass
class Group:
    body: Seq
    subshell: bool


@dataclass
class Redirected:
    node: object
    redirs: list


class Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.lines = src.split("\n")
        self.toks = tokenize(src)
        self.pos = 0

    def peek(self) -> Tok:
        return self.toks[self.pos]

    def next(self) -> Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def error(self, tok: Tok, expecting: str | None = None) -> ShellSyntaxError:
        if tok.kind == "eof":
            return ShellSyntaxError(None, max(1, tok.line - (1 if self.src.endswith("\n") else 0)),
                                    expecting)
        value = tok.value
        if tok.kind == "word":
            value = tok.value.raw
        elif tok.kind == "redir":
            value = tok.value[1]
        elif value == "\n":
            value = "newline"
        text = self.lines[tok.line - 1] if tok.line - 1 < len(self.lines) else ""
        return ShellSyntaxError(str(value), tok.line, None, text)

    def skip_newlines(self) -> None:
        while self.peek().kind == "op" and self.peek().value == "\n":
            self.pos += 1

    def reserved(self) -> str | None:
        tok = self.peek()
        if tok.kind == "word":
            text = tok.value.plain
            if text in _RESERVED:
                return text
        return None

    def parse(self) -> Seq:
        seq = self.list_()
        tok = self.peek()
        if tok.kind != "eof":
            raise self.error(tok)
        return seq

    def list_(self, expecting: str | None = None) -> Seq:
        items = []
        self.skip_newlines()
        while True:
            tok = self.peek()
            if tok.kind == "eof" or self.reserved() in _ENDERS:
                break
            if tok.kind == "op" and tok.value in (")", ";;"):
                break
            if tok.kind == "op" and tok.value in (";", "&", "|", "&&", "||"):
                raise self.error(tok)
            items.append(self.and_or())
            tok = self.peek()
            if tok.kind == "op" and tok.value in (";", "&", "\n"):
                self.pos += 1
                self.skip_newlines()
                continue
            break
        return Seq(items)

    def and_or(self) -> AndOr:
        first = self.pipeline()
        rest = []
        while self.peek().kind == "op" and self.peek().value in ("&&", "||"):
            op = self.next().value
            self.skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest)

    def pipeline(self) -> Pipeline:
        negate = False
        if self.reserved() == "!":
            self.pos += 1
            negate = True
        cmds = [self.command()]
        while self.peek().kind == "op" and self.peek().value == "|":
            self.pos += 1
            self.skip_newlines()
            cmds.append(self.command())
        return Pipeline(cmds, negate)

    def expect_word(self, word: str, expecting: str | None = None) -> None:
        if self.reserved() != word:
            raise self.error(self.peek(), expecting or word)
        self.pos += 1

    def command(self):
        tok = self.peek()
        word = self.reserved()
        if word == "if":
            node = self.if_()
        elif word in ("while", "until"):
            self.pos += 1
            cond = self.list_()
            self.expect_word("do")
            body = self.list_()
            self.expect_word("done")
            node = While(cond, body, word == "until")
        elif word == "for":
            node = self.for_()
        elif word == "{":
            self.pos += 1
            body = self.list_()
            self.expect_word("}")
            node = Group(body, False)
        elif tok.kind == "op" and tok.value == "(":
            self.pos += 1
            body = self.list_()
            if not (self.peek().kind == "op" and self.peek().value == ")"):
                raise self.error(self.peek(), ")")
            self.pos += 1
            node = Group(body, True)
        elif word is not None and word != "in":
            raise self.error(tok)
        else:
            return self.simple()
        redirs = self.redirects()
        return Redirected(node, redirs) if redirs else node

    def redirects(self) -> list:
        redirs = []
        while self.peek().kind == "redir":
            redirs.append(self.redirect())
        return redirs

    def redirect(self):
        fd, op = self.next().value
        target = self.peek()
        if target.kind != "word":
            raise self.error(target)
        self.pos += 1
        return (fd, op, target.value)

    def if_(self) -> If:
        self.pos += 1
        clauses = []
        cond = self.list_()
        self.expect_word("then")
        body = self.list_()
        clauses.append((cond, body))
        orelse = None
        while True:
            word = self.reserved()
            if word == "elif":
                self.pos += 1
                cond = self.list_()
                self.expect_word("then")
                clauses.append((cond, self.list_()))
            elif word == "else":
                self.pos += 1
                orelse = self.list_()
                self.expect_word("fi")
                break
            else:
                self.expect_word("fi")
                break
        return If(clauses, orelse)

    def for_(self) -> For:
        self.pos += 1
        tok = self.next()
        if tok.kind != "word" or not _NAME.match(tok.value.raw):
            raise self.error(tok)
        var = tok.value.raw
        words = None
        self.skip_newlines()
        if self.reserved() == "in":
            self.pos += 1
            words = []
            while self.peek().kind == "word":
                words.append(self.next().value)
            tok = self.peek()
            if tok.kind == "op" and tok.value in (";", "\n"):
                self.pos += 1
            elif tok.kind != "eof":
                raise self.error(tok)
        elif self.peek().kind == "op" and self.peek().value == ";":
            self.pos += 1
        self.skip_newlines()
        self.expect_word("do")
        body = self.list_()
        self.expect_word("done")
        return For(var, words, body)

    def simple(self) -> Simple:
        assigns, words, redirs = [], [], []
        line = self.peek().line
        while True:
            tok = self.peek()
            if tok.kind == "redir":
                redirs.append(self.redirect())
            elif tok.kind == "word":
                raw = tok.value.raw
                eq = raw.find("=")
                if (not words and eq > 0 and _NAME.match(raw[:eq])
                        and tok.value.parts[0][0] == "lit" and "=" in tok.value.parts[0][1]):
                    assigns.append((raw[:eq], _strip_name(tok.value, eq + 1)))
                else:
                    words.append(tok.value)
                self.pos += 1
            else:
                break
        if not (assigns or words or redirs):
            raise self.error(self.peek())
        return Simple(assigns, words, redirs, line)


def _strip_name(word: Word, n: int) -> Word:
    """The value part of `NAME=value`: the word minus its first n literal characters."""
    first = word.parts[0]
    parts = ([("lit", first[1][n:])] if first[1][n:] else []) + word.parts[1:]
    return Word(parts or [("q", "")], word.raw[n:], word.line)


# ---------------------------------------------------------------- I/O

class Sink:
    def write(self, text: str) -> None:
        raise NotImplementedError


class NullSink(Sink):
    def write(self, text: str) -> None:
        pass


class BufferSink(Sink):
    """Collects output; `limit` caps the characters it will hold."""

    def __init__(self, target: io.StringIO | None = None, limit: int = MAX_OUTPUT) -> None:
        self.target = target if target is not None else io.StringIO()
        self.size = 0
        self.limit = limit

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.limit:
            raise LimitExceeded(f"output limit ({self.limit} characters) exceeded")
        self.target.write(text)

    def getvalue(self) -> str:
        return self.target.getvalue()


class FileSink(Sink):
    def __init__(self, files: dict, path: str) -> None:
        self.files, self.path = files, path

    def write(self, text: str) -> None:
        if len(self.files.get(self.path, "")) + len(text) > MAX_OUTPUT:
            raise LimitExceeded(f"file size limit exceeded: {self.path}")
        self.files[self.path] = self.files.get(self.path, "") + text


class Input:
    def __init__(self, text: str = "") -> None:
        self.text, self.pos = text, 0

    def read_all(self) -> str:
        text = self.text[self.pos:]
        self.pos = len(self.text)
        return text

    def readline(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        j = self.text.find("\n", self.pos)
        j = len(self.text) if j < 0 else j + 1
        line = self.text[self.pos:j]
        self.pos = j
        return line


@dataclass
class Io:
    stdin: Input
    out: Sink
    err: Sink


# ---------------------------------------------------------------- interpreter

@dataclass
class _Budget:
    iterations: int = 0


@dataclass
class Shell:
    ctx: ToolContext
    dialect: Dialect
    traits: object = None                  # _images.Traits of the image
    vars: dict = field(default_factory=dict)
    exported: set = field(default_factory=set)
    positional: list = field(default_factory=list)
    status: int = 0
    errexit: bool = False
    budget: _Budget = field(default_factory=_Budget)
    depth: int = 0
    loop_depth: int = 0
    pid: int = 1
    in_condition: int = 0
    _top_out: Sink = field(default_factory=NullSink)      # the exec's own stdout/stderr
    _top_err: Sink = field(default_factory=NullSink)

    @classmethod
    def for_context(cls, ctx: ToolContext, dialect: Dialect, traits=None, depth: int = 0) -> "Shell":
        sh = cls(ctx, dialect, traits, depth=depth)
        sh.vars = dict(ctx.env)
        sh.exported = set(ctx.env)
        sh.vars.setdefault("IFS", " \t\n")
        sh.pid = 1 + depth
        return sh

    # -- entry points
    def run_script(self, src: str, io_: Io) -> int:
        try:
            tree = Parser(src).parse()
        except ShellSyntaxError as err:
            io_.err.write(self.dialect.syntax_error(err))
            return 2
        try:
            return self.exec_seq(tree, io_)
        except ShellExit as ex:
            return ex.code
        except _LoopControl:
            return self.status

    def clone(self) -> "Shell":
        return dataclasses.replace(self, vars=dict(self.vars), exported=set(self.exported),
                                   positional=list(self.positional))

    def check(self) -> None:
        if self.ctx.clock.monotonic() >= self.ctx.deadline:
            raise Timeout()

    def _tick(self) -> None:
        self.budget.iterations += 1
        if self.budget.iterations > MAX_ITERATIONS:
            raise LimitExceeded(f"loop limit ({MAX_ITERATIONS} iterations) exceeded")
        self.check()

    # -- execution
    def exec_seq(self, seq: Seq, io_: Io) -> int:
        for item in seq.items:
            self.exec_and_or(item, io_)
        return self.status

    def exec_and_or(self, node: AndOr, io_: Io) -> int:
        chain = [(None, node.first)] + node.rest
        last_run = 0
        for idx, (op, pipe) in enumerate(chain):
            if op == "&&" and self.status != 0 or op == "||" and self.status == 0:
                continue
            if idx < len(chain) - 1:
                self.in_condition += 1
                try:
                    self.exec_pipeline(pipe, io_)
                finally:
                    self.in_condition -= 1
            else:
                self.exec_pipeline(pipe, io_)
            last_run = idx
        if (self.errexit and self.status != 0 and not self.in_condition
                and last_run == len(chain) - 1 and not chain[-1][1].negate):
            raise ShellExit(self.status)
        return self.status

    def exec_pipeline(self, pipe: Pipeline, io_: Io) -> int:
        if len(pipe.cmds) == 1:
            self.exec_command(pipe.cmds[0], io_)
        else:
            data = io_.stdin
            for idx, cmd in enumerate(pipe.cmds):
                last = idx == len(pipe.cmds) - 1
                out = io_.out if last else BufferSink()
                sub = self.clone()
                try:
                    sub.exec_command(cmd, Io(data, out, io_.err))
                    code = sub.status
                except ShellExit as ex:
                    code = ex.code
                except _LoopControl:
                    code = sub.status
                self.status = code
                if not last:
                    data = Input(out.getvalue())
        if pipe.negate:
            self.status = 0 if self.status else 1
        return self.status

    def exec_command(self, node, io_: Io) -> int:
        if isinstance(node, Simple):
            return self.exec_simple(node, io_)
        if isinstance(node, Redirected):
            io2 = self.apply_redirects(node.redirs, io_, getattr(node.node, "line", 1))
            if io2 is None:
                self.status = 1
                return 1
            return self.exec_command(node.node, io2)
        if isinstance(node, If):
            for cond, body in node.clauses:
                self.in_condition += 1
                try:
                    self.exec_seq(cond, io_)
                finally:
                    self.in_condition -= 1
                if self.status == 0:
                    return self.exec_seq(body, io_)
            if node.orelse is not None:
                return self.exec_seq(node.orelse, io_)
            self.status = 0
            return 0
        if isinstance(node, For):
            return self.exec_for(node, io_)
        if isinstance(node, While):
            return self.exec_while(node, io_)
        if isinstance(node, Group):
            if node.subshell:
                sub = self.clone()
                try:
                    sub.exec_seq(node.body, io_)
                    self.status = sub.status
                except ShellExit as ex:
                    self.status = ex.code
                return self.status
            return self.exec_seq(node.body, io_)
        raise TypeError(node)

    def _loop_body(self, body: Seq, io_: Io) -> str | None:
        try:
            self.exec_seq(body, io_)
        except _LoopControl as lc:
            if lc.levels > 1:
                lc.levels -= 1
                raise
            return lc.kind
        return None

    def exec_for(self, node: For, io_: Io) -> int:
        items = self.expand_words(node.words) if node.words is not None else list(self.positional)
        self.status = 0
        self.loop_depth += 1
        try:
            for item in items:
                self._tick()
                self.vars[node.var] = item
                if self._loop_body(node.body, io_) == "break":
                    break
        finally:
            self.loop_depth -= 1
        return self.status

    def exec_while(self, node: While, io_: Io) -> int:
        status = 0
        self.loop_depth += 1
        try:
            while True:
                self._tick()
                self.in_condition += 1
                try:
                    self.exec_seq(node.cond, io_)
                finally:
                    self.in_condition -= 1
                if (self.status == 0) == node.until:
                    break
                kind = self._loop_body(node.body, io_)
                status = self.status
                if kind == "break":
                    break
        finally:
            self.loop_depth -= 1
        self.status = status
        return status

    def exec_simple(self, node: Simple, io_: Io) -> int:
        self.check()
        self._cmd_status = None
        argv = self.expand_words(node.words)
        values = [(name, self.expand_nosplit(w)) for name, w in node.assigns]
        io2 = self.apply_redirects(node.redirs, io_, node.line) if node.redirs else io_
        if io2 is None:
            self.status = 1
            return 1
        if not argv:
            for name, value in values:
                self.vars[name] = value
            self.status = self._cmd_status if self._cmd_status is not None else 0
            return self.status
        builtin = BUILTINS.get(argv[0])
        if builtin is not None:
            for name, value in values:
                self.vars[name] = value
            self.status = builtin(self, argv, io2, node.line)
            return self.status
        extra = dict(values)
        self.status = self.run_external(argv, io2, node.line, extra)
        return self.status

    # -- external commands (tools and nested shells)
    def resolve(self, name: str) -> str | None:
        """The image command a name runs, or None when the image lacks it."""
        base = name
        if "/" in name:
            head, _, base = name.rpartition("/")
            if head not in _PATH_DIRS:
                return None
        return base if base in self.ctx.image.tools else None

    def tool_env(self, extra: dict | None = None) -> dict:
        env = {k: self.vars[k] for k in self.vars if k in self.exported}
        if extra:
            env.update(extra)
        return env

    def run_external(self, argv: list, io_: Io, line: int, extra: dict | None = None) -> int:
        name = self.resolve(argv[0])
        if name is None:
            io_.err.write(self.dialect.not_found(argv[0], line))
            return 127
        if name in _SHELLS:
            return self.run_nested_shell(name, argv, io_, extra)
        fn = TOOLS.get(name)
        if fn is None:
            io_.err.write(f"{self.dialect.prefix(line)}{argv[0]}: not simulated in the sandbox\n")
            return 126
        sub = dataclasses.replace(self.ctx, env=self.tool_env(extra), stdin=io_.stdin.read_all(),
                                  stdout=io.StringIO(), stderr=io.StringIO())
        try:
            code = fn(sub, list(argv))
        finally:
            io_.out.write(sub.stdout.getvalue())
            io_.err.write(sub.stderr.getvalue())
            self.ctx.waited = sub.waited        # simulated waits add up over a script
        return int(code or 0) & 0xFF

    def run_nested_shell(self, name: str, argv: list, io_: Io, extra: dict | None = None) -> int:
        if self.depth >= MAX_DEPTH:
            raise LimitExceeded("shell nesting limit exceeded")
        kind = dialect_kind(self.traits, name)
        ctx = dataclasses.replace(self.ctx, env=self.tool_env(extra))
        sub = Shell.for_context(ctx, Dialect(kind, argv[0]), self.traits, self.depth + 1)
        sub.budget = self.budget
        sub._top_out, sub._top_err = io_.out, io_.err
        try:
            return sub.invoke(argv, io_)
        finally:
            self.ctx.waited = sub.ctx.waited

    def invoke(self, argv: list, io_: Io) -> int:
        """Run `sh [-e] [-c script [name [args...]]]`; without -c, the script is stdin."""
        args = list(argv[1:])
        script = None
        while args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
            opt = args.pop(0)
            if "e" in opt:
                self.errexit = True
            if "c" in opt:
                if not args:
                    io_.err.write(f"{self.dialect.argv0}: -c: option requires an argument\n")
                    return 2
                script = args.pop(0)
        if args and args[0] == "--":
            args.pop(0)
        if script is None:
            if args:
                path = args.pop(0)
                if path not in self.ctx.files:
                    io_.err.write(self._cannot_open(path))
                    return 127 if self.dialect.is_bash else 2
                script = self.ctx.files[path]
                self.dialect = Dialect(self.dialect.kind, self.dialect.argv0)
            else:
                script = io_.stdin.read_all()
        elif args:
            self.dialect = Dialect(self.dialect.kind, args.pop(0))
        self.positional = args
        return self.run_script(script, io_)

    def _cannot_open(self, path: str) -> str:
        if self.dialect.kind == "dash":
            return f"{self.dialect.argv0}: 0: cannot open {path}: No such file\n"
        if self.dialect.is_bash:
            return f"{self.dialect.argv0}: {path}: No such file or directory\n"
        return f"{self.dialect.argv0}: can't open '{path}': No such file or directory\n"

    # -- redirections
    def apply_redirects(self, redirs: list, io_: Io, line: int) -> Io | None:
        fds = {0: io_.stdin, 1: io_.out, 2: io_.err}
        for fd, op, word in redirs:
            target = self.expand_nosplit(word)
            if op in (">&", "<&"):
                if target == "-":
                    fds[fd] = NullSink() if fd else Input()
                elif target.isdigit() and int(target) in fds:
                    fds[fd] = fds[int(target)]
                else:
                    io_.err.write(f"{self.dialect.prefix(line)}{target}: Bad file descriptor\n")
                    return None
                continue
            if fd == "&":                       # bash &> and &>>
                sink = self._open_out(target, op == ">")
                fds[1] = fds[2] = sink
                continue
            if op in ("<", "<>"):
                if target == "/dev/null":
                    fds[fd] = Input()
                elif target in self.ctx.files:
                    fds[fd] = Input(self.ctx.files[target])
                else:
                    io_.err.write(self._open_error(target, line))
                    return None
                continue
            fds[fd] = self._open_out(target, op != ">>")
        return Io(fds[0] if isinstance(fds[0], Input) else Input(),
                  fds[1] if isinstance(fds[1], Sink) else NullSink(),
                  fds[2] if isinstance(fds[2], Sink) else NullSink())

    def _open_out(self, path: str, truncate: bool) -> Sink:
        if path in ("/dev/null",):
            return NullSink()
        if path in ("/dev/stdout",):
            return self._top_out
        if path in ("/dev/stderr",):
            return self._top_err
        if truncate or path not in self.ctx.files:
            self.ctx.files[path] = ""
        return FileSink(self.ctx.files, path)

    def _open_error(self, path: str, line: int) -> str:
        if self.dialect.kind == "dash":
            return f"{self.dialect.prefix(line)}cannot open {path}: No such file\n"
        if self.dialect.is_bash:
            return f"{self.dialect.prefix(line)}{path}: No such file or directory\n"
        return f"{self.dialect.argv0}: can't open '{path}': No such file or directory\n"

    # -- expansion
    def expand_words(self, words: list) -> list[str]:
        out: list[str] = []
        for word in words:
            out.extend(self.expand_word(word))
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
        for part in word.parts:
            kind = part[0]
            if kind in ("lit", "q"):
                cur = (cur or "") + part[1]
                continue
            value = self.expand_part(part)
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
            return ""
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
        return _trim(value or "", op, self.expand_nosplit(arg))

    def _bad_substitution(self, body: str) -> int:
        self._top_err.write(f"{self.dialect.prefix(1)}${{{body}}}: bad substitution\n"
                            if self.dialect.is_bash else
                            f"{self.dialect.prefix(1)}Bad substitution\n"
                            if self.dialect.kind == "dash" else
                            f"{self.dialect.argv0}: syntax error: bad substitution\n")
        return 1 if self.dialect.is_bash else 2

    def command_substitution(self, src: str) -> str:
        sub = self.clone()
        out = BufferSink()
        try:
            code = sub.run_script(src, Io(Input(), out, self._top_err))
        except ShellExit as ex:
            code = ex.code
        self._cmd_status = code
        self.status = code
        return out.getvalue().rstrip("\n")

    def arith(self, expr: str) -> int:
        try:
            return _arith_eval(expr, self.vars)
        except (ValueError, ZeroDivisionError, SyntaxError) as exc:
            msg = str(exc) or "arithmetic expression: expecting primary"
            self._top_err.write(f"{self.dialect.prefix(1)}{msg}\n")
            raise ShellExit(2 if not self.dialect.is_bash else 1)


def _split_ifs(value: str, ifs: str) -> list[str]:
    if ifs == " \t\n":
        return value.split()
    pieces = re.split("[" + re.escape(ifs) + "]+", value)
    return [p for p in pieces if p != ""]


def _trim(value: str, op: str, pattern: str) -> str:
    import fnmatch
    if op in ("#", "##"):
        candidates = range(len(value) + 1) if op == "#" else range(len(value), -1, -1)
        for i in candidates:
            if fnmatch.fnmatchcase(value[:i], pattern):
                return value[i:]
        return value
    candidates = range(len(value), -1, -1) if op == "%" else range(len(value) + 1)
    for i in candidates:
        if fnmatch.fnmatchcase(value[i:], pattern):
            return value[:i]
    return value


def dialect_kind(traits, name: str) -> str:
    """Which real shell answers to `name` in an image."""
    if traits is None:
        return "bash5" if name == "bash" else "dash"
    if name == "bash":
        return traits.bash or "bash5"
    if name == "ash":
        return "ash"
    if name == "dash":
        return "dash"
    return traits.sh


# ---------------------------------------------------------------- arithmetic

_ARITH_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z_0-9]*)|"
                          r"(<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()<>!~&|^?:]))")


def _arith_eval(expr: str, variables: dict) -> int:
    """$((...)) over integers: C operators without assignment, as sh evaluates them."""
    import ast
    out, pos = [], 0
    text = expr.strip()
    while pos < len(text):
        m = _ARITH_TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"arithmetic expression: expecting primary: \"{expr}\"")
        pos = m.end()
        num, name, op = m.groups()
        if num:
            out.append(str(int(num, 0)))
        elif name:
            raw = variables.get(name, "") or "0"
            out.append(str(int(raw.strip(), 0)) if re.fullmatch(r"\s*-?\d+\s*", raw) else "0")
        else:
            out.append({"&&": " and ", "||": " or ", "!": " not ", "/": "//"}.get(op, op))
    tree = ast.parse("".join(out) or "0", mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return int(node.value)
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return {ast.USub: -v, ast.UAdd: v, ast.Not: int(not v), ast.Invert: ~v}[type(node.op)]
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and b == 0:
                raise ZeroDivisionError("division by 0")
            if isinstance(node.op, ast.FloorDiv):
                return int(a / b) if (a < 0) != (b < 0) else a // b   # C truncates toward 0
            if isinstance(node.op, ast.Mod):
                return a - b * (int(a / b) if (a < 0) != (b < 0) else a // b)
            ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b} if not isinstance(
                node.op, (ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor)) else {
                ast.LShift: a << b, ast.RShift: a >> b, ast.BitAnd: a & b,
                ast.BitOr: a | b, ast.BitXor: a ^ b}
            return ops[type(node.op)]
        if isinstance(node, ast.BoolOp):
            vals = [ev(v) for v in node.values]
            return int(all(vals) if isinstance(node.op, ast.And) else any(vals))
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = ev(right_node)
                ok = {ast.Lt: left < right, ast.Gt: left > right, ast.LtE: left <= right,
                      ast.GtE: left >= right, ast.Eq: left == right, ast.NotEq: left != right}
                if not ok[type(op)]:
                    return 0
                left = right
            return 1
        if isinstance(node, ast.IfExp):
            return ev(node.body) if ev(node.test) else ev(node.orelse)
        raise ValueError(f"arithmetic expression: expecting primary: \"{expr}\"")

    try:
        return ev(tree)
    except (KeyError, TypeError):
        raise ValueError(f"arithmetic expression: expecting primary: \"{expr}\"") from None


# ---------------------------------------------------------------- builtins

def _basic():
    from .tools import basic
    return basic


def _b_true(sh, argv, io_, line):
    return 0


def _b_false(sh, argv, io_, line):
    return 1


def _b_echo(sh, argv, io_, line):
    io_.out.write(_basic().echo_text(argv[1:], "dash" if sh.dialect.kind == "dash" else "bash"))
    return 0


def _b_printf(sh, argv, io_, line):
    out, err, code = _basic().printf_text(argv[1:])
    io_.out.write(out)
    if err:
        io_.err.write(f"{sh.dialect.prefix(line)}printf: {err}\n")
    return code


def _b_test(sh, argv, io_, line):
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            io_.err.write(f"{sh.dialect.prefix(line)}[: missing "
                          f"{'`]' + chr(39) if sh.dialect.is_bash else ']'}\n")
            return 2
        args = args[:-1]
    code, msg = _basic().test_eval(args, sh.ctx.files, sh.dialect.kind)
    if msg:
        io_.err.write(f"{sh.dialect.prefix(line)}{argv[0]}: {msg}\n")
    return code


def _b_exit(sh, argv, io_, line):
    if len(argv) > 1:
        if not re.fullmatch(r"-?\d+", argv[1]):
            if sh.dialect.kind == "dash":
                io_.err.write(f"{sh.dialect.prefix(line)}exit: Illegal number: {argv[1]}\n")
            else:
                io_.err.write(f"{sh.dialect.prefix(line)}exit: {argv[1]}: numeric argument required\n")
            raise ShellExit(2)
        raise ShellExit(int(argv[1]) & 0xFF)
    raise ShellExit(sh.status)


def _b_export(sh, argv, io_, line):
    for arg in argv[1:]:
        if arg == "-p":
            for k in sorted(sh.exported):
                if k in sh.vars:
                    io_.out.write(f"export {k}='{sh.vars[k]}'\n")
            continue
        name, eq, value = arg.partition("=")
        if eq:
            sh.vars[name] = value
        sh.exported.add(name)
    return 0


def _b_unset(sh, argv, io_, line):
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        sh.vars.pop(name, None)
        sh.exported.discard(name)
    return 0


def _b_set(sh, argv, io_, line):
    args = argv[1:]
    if not args:
        for k in sorted(sh.vars):
            io_.out.write(f"{k}='{sh.vars[k]}'\n")
        return 0
    while args:
        arg = args.pop(0)
        if arg == "--":
            sh.positional = args
            return 0
        if arg.startswith(("-", "+")) and len(arg) > 1:
            if "e" in arg:
                sh.errexit = arg[0] == "-"
            continue
        sh.positional = [arg] + args
        return 0
    return 0


def _b_shift(sh, argv, io_, line):
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.positional):
        if sh.dialect.kind == "dash":
            io_.err.write(f"{sh.dialect.prefix(line)}shift: can't shift that many\n")
            raise ShellExit(2)
        return 1
    sh.positional = sh.positional[n:]
    return 0


def _loop_builtin(kind):
    def builtin(sh, argv, io_, line):
        n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
        if sh.loop_depth == 0:
            return 0
        raise _LoopControl(kind, max(1, min(n, sh.loop_depth)))
    return builtin


def _b_read(sh, argv, io_, line):
    args = [a for a in argv[1:] if not a.startswith("-")]
    raw = "-r" in argv[1:]
    text = io_.stdin.readline()
    if text is None:
        for name in args or ["REPLY"]:
            sh.vars[name] = ""
        return 1
    ended = text.endswith("\n")
    text = text[:-1] if ended else text
    if not raw:
        text = re.sub(r"\\(.)", r"\1", text)
    names = args or ["REPLY"]
    if not args:
        sh.vars["REPLY"] = text
        return 0 if ended else 1
    pieces = text.strip(" \t").split(None, len(names) - 1) if text.strip() else []
    for i, name in enumerate(names):
        sh.vars[name] = pieces[i] if i < len(pieces) else ""
    return 0 if ended else 1


def _b_cd(sh, argv, io_, line):
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/root")
    known = {"/", "/tmp", "/etc", "/root", "/bin", "/usr", "/usr/bin", "/var", "/home"}
    if target not in known and not any(f.startswith(target.rstrip("/") + "/") for f in sh.ctx.files):
        if sh.dialect.kind == "dash":
            io_.err.write(f"{sh.dialect.prefix(line)}cd: can't cd to {target}\n")
            return 2
        if sh.dialect.is_bash:
            io_.err.write(f"{sh.dialect.prefix(line)}cd: {target}: No such file or directory\n")
            return 1
        io_.err.write(f"{sh.dialect.argv0}: cd: can't cd to {target}: No such file or directory\n")
        return 2
    sh.vars["PWD"] = target
    return 0


def _b_pwd(sh, argv, io_, line):
    io_.out.write(sh.vars.get("PWD", "/") + "\n")
    return 0


def _b_command(sh, argv, io_, line):
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        code = 0
        for name in args[1:]:
            if name in BUILTINS:
                io_.out.write(name + "\n" if args[0] == "-v" else f"{name} is a shell builtin\n")
            elif sh.resolve(name):
                path = _basic().tool_path(sh.ctx.image, sh.resolve(name))
                io_.out.write(path + "\n" if args[0] == "-v" else f"{name} is {path}\n")
            else:
                code = 1 if args[0] == "-v" else 127
        return code
    if not args:
        return 0
    return sh.run_external(args, io_, line)


def _b_type(sh, argv, io_, line):
    code = 0
    for name in argv[1:]:
        if name in BUILTINS:
            io_.out.write(f"{name} is a shell builtin\n")
        elif sh.resolve(name):
            io_.out.write(f"{name} is {_basic().tool_path(sh.ctx.image, sh.resolve(name))}\n")
        else:
            if sh.dialect.is_bash:
                io_.err.write(f"{sh.dialect.prefix(line)}type: {name}: not found\n")
                code = 1
            else:
                io_.out.write(f"{name}: not found\n")
                code = 127
    return code


def _b_eval(sh, argv, io_, line):
    src = " ".join(argv[1:])
    try:
        tree = Parser(src).parse()
    except ShellSyntaxError as err:
        io_.err.write(sh.dialect.syntax_error(err))
        return 2
    return sh.exec_seq(tree, io_)


def _b_exec(sh, argv, io_, line):
    if len(argv) == 1:
        return 0
    raise ShellExit(sh.run_external(argv[1:], io_, line))


BUILTINS = {
    ":": _b_true, "true": _b_true, "false": _b_false, "echo": _b_echo, "printf": _b_printf,
    "test": _b_test, "[": _b_test, "exit": _b_exit, "export": _b_export, "unset": _b_unset,
    "set": _b_set, "shift": _b_shift, "break": _loop_builtin("break"),
    "continue": _loop_builtin("continue"), "read": _b_read, "cd": _b_cd, "pwd": _b_pwd,
    "command": _b_command, "type": _b_type, "eval": _b_eval, "exec": _b_exec,
    "wait": _b_true,
}
