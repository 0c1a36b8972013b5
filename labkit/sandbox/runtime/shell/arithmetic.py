"""`$((...))` arithmetic of the sandbox shell: C operators on 64-bit signed integers,
evaluated without Python's eval.

Every real shell here computes in intmax_t (64 bits on x86-64) and lets results wrap
around, so no expression can grow a number past 64 bits (the landed sandbox computed
`$((1<<100000000000))` with Python's unbounded ints and grew to 12.8 GB):

- `+ - *` wrap modulo 2**64 (`$((9223372036854775807 + 1))` is -9223372036854775808);
- `<<` and `>>` are C's shifts of an intmax_t, which x86-64 performs with the count taken
  modulo 64 (bash's expr.c and dash's arith_yacc.c shift without masking, so the CPU's
  rule shows through): `$((1<<64))` is 1, `$((1<<100000000000))` is 1 (10**11 = 64 * 1562500000);
- `**` (bash and BusyBox ash; dash has none) is repeated multiplication, wrapping: bash
  prints 0 for `$((2**64))`; a negative exponent is bash's "exponent less than 0";
- `/` and `%` truncate toward zero as C does; INTMAX_MIN / -1 is INTMAX_MIN (bash 5's
  expr.c special case); a zero divisor is each shell's own error (see `ArithError`);
- a literal too big for 64 bits: bash accumulates it digit by digit and wraps; dash and
  ash read it with strtoimax, which saturates at INTMAX_MAX.
"""
from __future__ import annotations

import re

_ARITH_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z_0-9]*)|"
                          r"(\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()<>!~&|^?:]))")
_BITS = 64
_MOD = 1 << _BITS
_MIN, _MAX = -(1 << (_BITS - 1)), (1 << (_BITS - 1)) - 1


class ArithError(ValueError):
    """An arithmetic error, worded as the dialect's shell words it (without the prefix)."""


def wrap(value: int) -> int:
    """value reduced to a signed 64-bit integer, as C's intmax_t arithmetic leaves it."""
    return ((value - _MIN) % _MOD) + _MIN


def _literal(text: str, kind: str) -> int:
    value = int(text, 0) if not re.fullmatch(r"0\d+", text) else int(text, 8)
    if kind.startswith("bash"):
        return wrap(value)
    return max(_MIN, min(_MAX, value))


def _div_zero(expr: str, rest: str, kind: str) -> ArithError:
    if kind.startswith("bash"):
        # bash expr.c evalerror(): "EXPR: division by 0 (error token is "REST")"
        return ArithError(f'{expr}: division by 0 (error token is "{rest}")')
    if kind == "dash":
        # dash arith_yacc.c: "arithmetic expression: division by zero: \"EXPR\""
        return ArithError(f'arithmetic expression: division by zero: "{expr}"')
    return ArithError("divide by zero")          # BusyBox shell/math.c


def _syntax(expr: str, kind: str, token: str | None = None) -> ArithError:
    if kind.startswith("bash"):
        # expr.c: the error token is the text from the last token read
        token = expr.strip() if token is None else token
        return ArithError(f'{expr}: syntax error: operand expected (error token is "{token}")')
    if kind == "dash":
        return ArithError(f'arithmetic expression: expecting primary: "{expr}"')
    return ArithError("arithmetic syntax error")


# Binary operators by precedence, loosest first (C's, as bash's expr.c and dash's
# arith_yacc.c order them); `**` binds tighter than * and to the right.
_BINARY = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
           "<": 7, "<=": 7, ">": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9,
           "*": 10, "/": 10, "%": 10, "**": 11}


def _arith_eval(expr: str, variables: dict, kind: str = "dash") -> int:
    """$((...)) over 64-bit integers: C operators without assignment, as sh evaluates them.

    `kind` is the dialect (dash, ash, bash4, bash5): it decides `**`, literal overflow
    and the wording of errors. Precedence climbing: a chain of operators is a loop, so a
    long expression costs no depth; only parentheses and unary operators nest. The
    branches `&&`, `||` and `?:` do not take are parsed without being evaluated (no
    division by zero there), as in C."""
    text = expr.strip()
    tokens: list[tuple[str, str, int]] = []      # (kind, text, offset): num, name, op
    pos = 0
    while pos < len(text):
        m = _ARITH_TOKEN.match(text, pos)
        if not m:
            raise _syntax(expr, kind)
        num, name, op = m.groups()
        start = m.start(m.lastindex)
        pos = m.end()
        tokens.append(("num", num, start) if num else ("name", name, start) if name
                      else ("op", op, start))
        if op == "**" and kind == "dash":
            raise _syntax(expr, kind)
    i = 0

    def peek() -> tuple[str, str, int] | None:
        return tokens[i] if i < len(tokens) else None

    def take() -> tuple[str, str, int]:
        nonlocal i
        if i >= len(tokens):
            raise _syntax(expr, kind, text[tokens[-1][2]:] if tokens else "")
        i += 1
        return tokens[i - 1]

    def value_of(tok: tuple[str, str, int]) -> int:
        if tok[0] == "num":
            try:
                return _literal(tok[1], kind)
            except ValueError:
                raise _syntax(expr, kind) from None
        raw = (variables.get(tok[1], "") or "0").strip()
        if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", raw):
            sign = -1 if raw.startswith("-") else 1
            try:
                return wrap(sign * _literal(raw.lstrip("+-"), kind))
            except ValueError:
                raise _syntax(expr, kind) from None
        return 0

    def unary(live: bool) -> int:
        tok = take()
        if tok[0] == "op" and tok[1] in ("-", "+", "!", "~"):
            v = unary(live)
            return {"-": wrap(-v), "+": v, "!": int(not v), "~": wrap(~v)}[tok[1]]
        if tok[0] == "op" and tok[1] == "(":
            v = ternary(live)
            close = take()
            if close[1] != ")" or close[0] != "op":
                raise _syntax(expr, kind)
            return v
        if tok[0] == "op":
            raise _syntax(expr, kind)
        return value_of(tok)

    def binary(min_prec: int, live: bool) -> int:
        left = unary(live)
        while True:
            tok = peek()
            if tok is None or tok[0] != "op" or tok[1] not in _BINARY or _BINARY[tok[1]] < min_prec:
                return left
            op = take()[1]
            prec = _BINARY[op]
            if op == "&&" or op == "||":
                right_live = live and (bool(left) if op == "&&" else not left)
                right = binary(prec + 1, right_live)
                left = int(bool(left) and bool(right)) if op == "&&" else int(bool(left) or bool(right))
                continue
            right_start = tokens[i][2] if i < len(tokens) else len(text)
            right = binary(prec if op == "**" else prec + 1, live)      # ** to the right
            left = apply(op, left, right, live, text[right_start:]) if live else 0

    def ternary(live: bool) -> int:
        cond = binary(1, live)
        tok = peek()
        if tok is None or tok[1] != "?" or tok[0] != "op":
            return cond
        take()
        yes = ternary(live and bool(cond))
        colon = take()
        if colon[1] != ":" or colon[0] != "op":
            raise _syntax(expr, kind)
        no = ternary(live and not cond)
        return yes if cond else no

    def apply(op: str, a: int, b: int, live: bool, rest: str) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise _div_zero(expr, rest.strip(), kind)
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)   # C truncates toward 0
            return wrap(q) if op == "/" else wrap(a - b * q)
        if op == "**":
            if b < 0:
                token = re.search(r"(\w*)\W*$", expr).group(1)
                raise ArithError(f'{expr}: exponent less than 0 (error token is "{token}")'
                                 if kind.startswith("bash") else "exponent less than 0")
            return wrap(pow(a, b, _MOD))
        if op == "<<":
            return wrap(a << (b & (_BITS - 1)))
        if op == ">>":
            return a >> (b & (_BITS - 1))
        return {"+": lambda: wrap(a + b), "-": lambda: wrap(a - b), "*": lambda: wrap(a * b),
                "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
                "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
                "<=": lambda: int(a <= b), ">": lambda: int(a > b), ">=": lambda: int(a >= b)}[op]()

    if not tokens:
        return 0
    try:
        result = ternary(True)
    except RecursionError:
        if kind.startswith("bash"):    # expr.c's MAX_EXPR_RECURSION_LEVEL
            raise ArithError(f'{expr}: expression recursion level exceeded '
                             f'(error token is "{text[tokens[min(i, len(tokens) - 1)][2]:]}")') from None
        raise
    if i != len(tokens):
        raise _syntax(expr, kind)
    return result
