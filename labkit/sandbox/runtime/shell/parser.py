"""The sandbox shell's parser: tokens to a tree of lists, and-or chains, pipelines,
compound commands (if/for/while/until, `{ }`, `( )`), redirections and simple commands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ShellSyntaxError
from .lexer import Tok, Word, tokenize

_RESERVED = {"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until",
             "{", "}", "!", "case", "esac"}
_ENDERS = {"then", "elif", "else", "fi", "do", "done", "}", "esac"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")


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
    background: str | None = None   # `cmd &`: the command's text, as `jobs` shows it


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
class FuncDef:
    """`name() compound-command`: a function definition (POSIX 2.9.5)."""
    name: str
    body: object


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
            start = self.peek().pos
            items.append(self.and_or())
            tok = self.peek()
            if tok.kind == "op" and tok.value == "&":
                items[-1].background = " ".join(self.src[start:tok.pos].split())
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
        elif self._function_ahead():
            return self.function()
        else:
            return self.simple()
        redirs = self.redirects()
        return Redirected(node, redirs) if redirs else node

    def _function_ahead(self) -> bool:
        tok = self.peek()
        after = self.toks[self.pos + 1:self.pos + 3]
        return (tok.kind == "word" and bool(_NAME.match(tok.value.raw)) and len(after) == 2
                and [(t.kind, t.value) for t in after] == [("op", "("), ("op", ")")])

    def function(self) -> FuncDef:
        name = self.next().value.raw
        self.pos += 2                                   # ( )
        self.skip_newlines()
        if self.peek().kind == "eof":
            raise self.error(self.peek())
        first = self.peek()
        body = self.command()
        inner = body.node if isinstance(body, Redirected) else body
        if isinstance(inner, (Simple, FuncDef)):        # the body must be a compound command
            raise self.error(first)
        return FuncDef(name, body)

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
