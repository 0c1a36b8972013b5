"""The Corefile's grammar as CoreDNS reads it: caddy's caddyfile lexer and parser.

CoreDNS parses its Corefile with coredns/caddy (caddyfile/lexer.go, parse.go,
dispenser.go): words split on white space, `"..."` quotes a word (only `\\"` is an
escape), `#` starts a comment when it begins a word, and a server block is its keys
(`.:53`) then directives, one per line, each with its arguments and `{ }` sub-blocks.
`parse()` groups the tokens by server block and directive just as caddyfile.Parse
does and raises its errors with its wording (`<file>:<line> - Error during parsing:
...` or `- Syntax error: ...`). `fingerprint()` is what plugin/reload hashes: the
SHA-512 of the JSON encoding of the parsed server blocks, so comments and spacing do
not count but line numbers do.

Not modelled: `import` and snippets, and `{$ENV}` substitution.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# The directives of the standard CoreDNS build, in plugin.cfg order (v1.14.7): the
# order plugins are set up, and the names caddyfile.Parse accepts at a reload.
DIRECTIVES = (
    "root", "metadata", "geoip", "cancel", "proxyproto", "quic", "grpc_server", "https",
    "https3", "timeouts", "multisocket", "reload", "nsid", "bufsize", "bind", "debug",
    "trace", "ready", "health", "pprof", "shed", "prometheus", "errors", "log", "dnstap",
    "local", "dns64", "any", "chaos", "loadbalance", "tsig", "rewrite", "autopath", "acl",
    "cache", "header", "dnssec", "tls", "minimal", "template", "transfer", "hosts",
    "route53", "azure", "clouddns", "k8s_external", "kubernetes", "file", "auto",
    "secondary", "etcd", "loop", "forward", "grpc", "erratic", "whoami", "on", "sign",
    "view", "nomad",
)


class CaddyfileError(ValueError):
    """A parse error, worded as caddy's Dispenser words it."""


@dataclass(frozen=True)
class Token:
    line: int
    text: str
    breaks: int = 0          # line breaks inside a quoted word


@dataclass
class ServerBlock:
    keys: list[str]
    tokens: dict[str, list[Token]] = field(default_factory=dict)   # by directive, in order
    uses: list[tuple[str, list[Token]]] = field(default_factory=list)  # each use, in order


def tokenize(text: str) -> list[Token]:
    """caddyfile/lexer.go next(): words, quoted words, comments, line numbers."""
    tokens: list[Token] = []
    line, start = 1, 1
    val: list[str] = []
    comment = quoted = escaped = False
    breaks = 0
    if text.startswith("\ufeff"):
        text = text[1:]
    for ch in text:
        if quoted:
            if not escaped:
                if ch == "\\":
                    escaped = True
                    continue
                if ch == '"':
                    quoted = False
                    tokens.append(Token(start, "".join(val), breaks))
                    val, breaks = [], 0
                    continue
            if ch == "\n":
                line += 1
                breaks += 1
            if escaped and ch != '"':
                val.append("\\")
            val.append(ch)
            escaped = False
            continue
        if ch.isspace():
            if ch == "\r":
                continue
            if ch == "\n":
                line += 1
                comment = False
            if val:
                tokens.append(Token(start, "".join(val)))
                val = []
            continue
        if ch == "#":
            comment = True
        if comment:
            continue
        if not val:
            start = line
            if ch == '"':
                quoted = True
                continue
        val.append(ch)
    if val or quoted:
        tokens.append(Token(start, "".join(val), breaks))
    return tokens


class Dispenser:
    """caddyfile/dispenser.go: a cursor over tokens that words errors with file and line."""

    def __init__(self, filename: str, tokens: list[Token]) -> None:
        self.filename, self.tokens, self.cursor = filename, tokens, -1

    def next(self) -> bool:
        if self.cursor < len(self.tokens) - 1:
            self.cursor += 1
            return True
        return False

    def val(self) -> str:
        if 0 <= self.cursor < len(self.tokens):
            return self.tokens[self.cursor].text
        return ""

    def line(self) -> int:
        if 0 <= self.cursor < len(self.tokens):
            return self.tokens[self.cursor].line
        return 0

    def is_new_line(self) -> bool:
        if self.cursor < 1:
            return True
        if self.cursor > len(self.tokens) - 1:
            return False
        prev = self.tokens[self.cursor - 1]
        return prev.line + prev.breaks < self.tokens[self.cursor].line

    def next_arg(self) -> bool:
        """The next token, if it is an argument on the same line (not a `{`)."""
        if self.cursor < 0 or self.cursor >= len(self.tokens) - 1:
            return False
        cur, nxt = self.tokens[self.cursor], self.tokens[self.cursor + 1]
        if cur.line + cur.breaks < nxt.line or nxt.text == "{":
            return False
        self.cursor += 1
        return True

    def remaining_args(self) -> list[str]:
        args = []
        while self.next_arg():
            args.append(self.val())
        return args

    def err(self, msg: str) -> CaddyfileError:
        return CaddyfileError(f"{self.filename}:{self.line()} - Error during parsing: {msg}")

    def arg_err(self) -> CaddyfileError:
        if self.val() == "{":
            return self.err("Unexpected token '{', expecting argument")
        return self.err(f"Wrong argument count or unexpected line ending after '{self.val()}'")

    def syntax_err(self, expected: str) -> CaddyfileError:
        return CaddyfileError(f"{self.filename}:{self.line()} - Syntax error: "
                              f"Unexpected token '{self.val()}', expecting '{expected}'")


def parse(text: str, filename: str, valid: tuple[str, ...] | None = None) -> list[ServerBlock]:
    """caddyfile.Parse: server blocks in order; `valid` None accepts any directive name."""
    d = Dispenser(filename, tokenize(text))
    blocks: list[ServerBlock] = []
    while d.next():
        block = ServerBlock([])
        if _server_block(d, block, valid) and block.keys:
            blocks.append(block)
    return blocks


def _server_block(d: Dispenser, block: ServerBlock, valid) -> bool:
    # parser.addresses
    expecting_another = False
    while True:
        tkn = d.val()
        if tkn == "{":
            if expecting_another:
                raise d.err(f"Expected another address but had '{tkn}' - check for extra comma")
            break
        if tkn:
            if tkn.endswith(","):
                tkn, expecting_another = tkn[:-1], True
            else:
                expecting_another = False
            block.keys.append(tkn)
        has_next = d.next()
        if expecting_another and not has_next:
            raise d.err("Unexpected EOF")
        if not has_next:
            return True                # only a line of addresses
        if not expecting_another and d.is_new_line():
            break
    # parser.blockContents
    braced = d.val() == "{"
    if not braced:
        d.cursor -= 1                  # single-server configs need no braces
    while d.next():
        if d.val() == "}":
            break
        _directive(d, block, valid)
    if braced and d.val() != "}":
        raise d.syntax_err("}")
    return True


def _directive(d: Dispenser, block: ServerBlock, valid) -> None:
    name = d.val()
    if valid is not None and name not in valid:
        raise d.err(f"Unknown directive '{name}'")
    toks = block.tokens.setdefault(name, [])
    use = [d.tokens[d.cursor]]
    block.uses.append((name, use))
    toks.append(d.tokens[d.cursor])
    nesting = 0
    while d.next():
        text = d.val()
        if text == "{":
            nesting += 1
        elif d.is_new_line() and nesting == 0:
            d.cursor -= 1              # read too far
            break
        elif text == "}" and nesting > 0:
            nesting -= 1
        elif text == "}":
            raise d.err("Unexpected '}' because no matching opening brace")
        toks.append(d.tokens[d.cursor])
        use.append(d.tokens[d.cursor])
    if nesting > 0:
        raise d.err("Unexpected EOF")


def fingerprint(blocks: list[ServerBlock]) -> str:
    """plugin/reload parse(): sha512 of json.Marshal([]caddyfile.ServerBlock), in hex.

    Go's encoder: struct fields in declaration order (Keys, Tokens; File, Line, Text),
    map keys sorted, no spaces, and <, >, & escaped. caddyfile.Parse leaves Token.File
    empty (only imported tokens carry a file name)."""
    parts = []
    for block in blocks:
        keys = ",".join(_go_json_string(k) for k in block.keys)
        dirs = ",".join(
            _go_json_string(name) + ":[" + ",".join(
                '{"File":"","Line":%d,"Text":%s}' % (t.line, _go_json_string(t.text))
                for t in toks) + "]"
            for name, toks in sorted(block.tokens.items(), key=lambda kv: kv[0].encode()))
        parts.append('{"Keys":[%s],"Tokens":{%s}}' % (keys, dirs))
    doc = "[" + ",".join(parts) + "]" if blocks else "null"
    return hashlib.sha512(doc.encode()).hexdigest()


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
               "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_json_string(s: str) -> str:
    out = []
    for ch in s:
        esc = _GO_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
