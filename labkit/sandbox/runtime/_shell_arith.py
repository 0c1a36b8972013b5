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

import ast
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


def _syntax(expr: str, kind: str) -> ArithError:
    if kind.startswith("bash"):
        return ArithError(f'{expr}: syntax error: operand expected (error token is "{expr}")')
    if kind == "dash":
        return ArithError(f'arithmetic expression: expecting primary: "{expr}"')
    return ArithError("arithmetic syntax error")


def _arith_eval(expr: str, variables: dict, kind: str = "dash") -> int:
    """$((...)) over 64-bit integers: C operators without assignment, as sh evaluates them.

    `kind` is the dialect (dash, ash, bash4, bash5): it decides `**`, literal overflow
    and the wording of errors."""
    out, pos = [], 0
    text = expr.strip()
    divisors: list[str] = []          # for bash's "error token": the text after each / or %
    while pos < len(text):
        m = _ARITH_TOKEN.match(text, pos)
        if not m:
            raise _syntax(expr, kind)
        pos = m.end()
        num, name, op = m.groups()
        if num:
            try:
                out.append(str(_literal(num, kind)))
            except ValueError:
                raise _syntax(expr, kind) from None
        elif name:
            raw = (variables.get(name, "") or "0").strip()
            if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", raw):
                sign = -1 if raw.startswith("-") else 1
                value = sign * _literal(raw.lstrip("+-"), kind)
                out.append(f"({value})")
            else:
                out.append("0")
        elif op == "**":
            if kind == "dash":
                raise _syntax(expr, kind)
            out.append("**")     # parsed (precedence, right to left), never evaluated by Python
        else:
            if op in "/%":
                divisors.append(text[pos:].strip())
            out.append({"&&": " and ", "||": " or ", "!": " not ", "/": "//"}.get(op, op))
    try:
        tree = ast.parse("".join(out) or "0", mode="eval")
    except (SyntaxError, ValueError):
        raise _syntax(expr, kind) from None
    div_seen = iter(divisors)

    def binop(node: ast.BinOp) -> int:
        a, b = ev(node.left), ev(node.right)
        op = node.op
        if isinstance(op, (ast.FloorDiv, ast.Mod)):
            rest = next(div_seen, "")
            if b == 0:
                raise _div_zero(expr, rest, kind)
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)   # C truncates toward 0
            return wrap(q) if isinstance(op, ast.FloorDiv) else wrap(a - b * q)
        if isinstance(op, ast.Pow):
            if b < 0:
                token = re.search(r"(\w*)\W*$", expr).group(1)
                raise ArithError(f'{expr}: exponent less than 0 (error token is "{token}")'
                                 if kind.startswith("bash") else "exponent less than 0")
            return wrap(pow(a, b, _MOD))
        if isinstance(op, (ast.LShift, ast.RShift)):
            count = b & (_BITS - 1)
            return wrap(a << count) if isinstance(op, ast.LShift) else a >> count
        table = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                 ast.BitAnd: lambda: a & b, ast.BitOr: lambda: a | b, ast.BitXor: lambda: a ^ b}
        return wrap(table[type(op)]())

    def ev(node) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return wrap(int(node.value))
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return wrap({ast.USub: -v, ast.UAdd: v, ast.Not: int(not v), ast.Invert: ~v}[type(node.op)])
        if isinstance(node, ast.BinOp):
            return binop(node)
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
        raise _syntax(expr, kind)

    try:
        return ev(tree)
    except (KeyError, TypeError, RecursionError):
        raise _syntax(expr, kind) from None
