"""`$((...))` arithmetic of the sandbox shell: integers and C operators, evaluated
without Python's eval.
"""
from __future__ import annotations

import re


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
