"""Label and field selectors, parsed and matched as the Kubernetes API server does.

`parse_label_selector` is a port of apimachinery pkg/labels/selector.go (lexer,
parser, NewRequirement validation) so that errors carry the apiserver's own
text, e.g. ``unable to parse requirement: found ')', expected: in, notin, =,
==, !=, gt, lt``. `parse_field_selector` ports pkg/fields/selector.go.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field

# Key and value checks are apimachinery pkg/util/validation's, shared with object validation.
from ..validation._name_formats import is_label_value, is_qualified_name


class SelectorError(ValueError):
    """A selector the API server would refuse (it answers 400 BadRequest)."""


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_strings(values: list[str] | None) -> str:
    # %#v of a []string
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in values) + "}"


def _invalid(path: str, bad: str, detail: str) -> str:
    # field.Invalid(...).Error(): "<path>: Invalid value: <value>: <detail>"
    return f"{path}: Invalid value: {bad}: {detail}"


def _aggregate(errs: list[str]) -> str:
    uniq = list(dict.fromkeys(errs))
    return uniq[0] if len(uniq) == 1 else "[" + ", ".join(uniq) + "]"


# --------------------------------------------------------------------------
# Label selectors

_OPS_TEXT = {"=": "=", "==": "==", "!=": "!=", "in": "in", "notin": "notin",
             "gt": ">", "lt": "<", "exists": "", "!": ""}
_BINARY = ("in", "notin", "=", "==", "!=", "gt", "lt")
_INT64 = re.compile(r"^[+-]?[0-9]+$")


def _parse_int64(text: str) -> int | None:
    if not _INT64.match(text):
        return None
    n = int(text)
    return n if -(1 << 63) <= n < (1 << 63) else None


@dataclass(frozen=True)
class Requirement:
    """One term: ``key`` ``operator`` ``values``. Operators are the apimachinery
    selection strings: "=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("in", "=", "=="):
            return has and value in self.values
        if self.operator in ("notin", "!="):
            return not has or value not in self.values
        if self.operator == "exists":
            return has
        if self.operator == "!":
            return not has
        if self.operator in ("gt", "lt"):
            if not has or len(self.values) != 1:
                return False
            lv, rv = _parse_int64(str(value)), _parse_int64(self.values[0])
            if lv is None or rv is None:
                return False
            return lv > rv if self.operator == "gt" else lv < rv
        return False

    def __str__(self) -> str:
        if self.operator == "!":
            return "!" + self.key
        if self.operator == "exists":
            return self.key
        vals = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({vals})"
        return f"{self.key}{_OPS_TEXT[self.operator]}{vals}"


def new_requirement(key: str, operator: str, values: list[str] | None = None,
                    path: str | None = None) -> Requirement:
    """Build and validate a requirement as labels.NewRequirement does."""
    vals = list(values or [])
    errs: list[str] = []
    key_path = f"{path}.key" if path else "key"
    value_path = f"{path}.values" if path else "values"
    kerrs = is_qualified_name(key)
    if kerrs:
        errs.append(_invalid(key_path, _go_quote(key), "; ".join(kerrs)))
    if operator in ("in", "notin"):
        if not vals:
            errs.append(_invalid(value_path, _go_strings(vals),
                                 "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in ("=", "==", "!="):
        if len(vals) != 1:
            errs.append(_invalid(value_path, _go_strings(vals),
                                 "exact-match compatibility requires one single value"))
    elif operator in ("exists", "!"):
        if vals:
            errs.append(_invalid(value_path, _go_strings(vals),
                                 "values set must be empty for exists and does not exist"))
    elif operator in ("gt", "lt"):
        if len(vals) != 1:
            errs.append(_invalid(value_path, _go_strings(vals),
                                 "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(vals):
            if _parse_int64(v) is None:
                errs.append(_invalid(f"{value_path}[{i}]", _go_quote(v),
                                     "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        valid = ", ".join(_go_quote(o) for o in
                          ("in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"))
        errs.append(f"{path + '.' if path else ''}operator: Unsupported value: "
                    f"{_go_quote(operator)}: supported values: {valid}")
    for i, v in enumerate(vals):
        verrs = is_label_value(v)
        if verrs:
            errs.append(_invalid(f"{value_path}[{i}][{key}]", _go_quote(v), "; ".join(verrs)))
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(vals))


@dataclass(frozen=True)
class LabelSelector:
    """An AND of requirements. With no requirements it matches everything,
    unless ``matches_nothing`` is set (labels.Nothing(): a nil metav1
    LabelSelector, or a Service without a selector)."""

    requirements: tuple[Requirement, ...] = ()
    matches_nothing: bool = False

    def matches(self, labels: dict | None) -> bool:
        if self.matches_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (labels.Everything())."""
        return not self.matches_nothing and not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(matches_nothing=True)

# Lexer tokens
_ERR, _EOS, _CPAR, _COMMA, _NOT, _DEQ, _EQ, _GT, _ID, _IN, _LT, _NEQ, _NOTIN, _OPAR = range(14)
_STRING2TOKEN = {")": _CPAR, ",": _COMMA, "!": _NOT, "==": _DEQ, "=": _EQ, ">": _GT,
                 "in": _IN, "<": _LT, "!=": _NEQ, "notin": _NOTIN, "(": _OPAR}
_SPECIAL = set("=!(),><")
_SPACE = set(" \t\r\n")


def _lex(s: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos = 0
    n = len(s)
    while True:
        while pos < n and s[pos] in _SPACE:
            pos += 1
        if pos >= n:
            items.append((_EOS, ""))
            return items
        if s[pos] in _SPECIAL:
            buf, last = "", (_ERR, "")
            while pos < n and s[pos] in _SPECIAL:
                buf += s[pos]
                if buf in _STRING2TOKEN:
                    last = (_STRING2TOKEN[buf], buf)
                    pos += 1
                elif last[0] != _ERR:
                    break
                else:
                    pos += 1
            items.append(last if last[0] != _ERR else (_ERR, f"error expected: keyword found '{buf}'"))
        else:
            start = pos
            while pos < n and s[pos] not in _SPECIAL and s[pos] not in _SPACE:
                pos += 1
            word = s[start:pos]
            items.append((_STRING2TOKEN.get(word, _ID), word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        if values and tok in (_IN, _NOTIN):
            tok = _ID
        return tok, lit

    def consume(self, values: bool) -> tuple[int, str]:
        tok, lit = self.lookahead(values)
        self.pos += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(True)
            if tok in (_ID, _NOT):
                try:
                    reqs.append(self.requirement())
                except SelectorError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                t, lit = self.consume(True)
                if t == _EOS:
                    return reqs
                if t == _COMMA:
                    t2, l2 = self.lookahead(True)
                    if t2 not in (_ID, _NOT):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        key, op = self.key_and_operator()
        if op in ("exists", "!"):
            return new_requirement(key, op, [])
        op = self.operator()
        values = self.set_values() if op in ("in", "notin") else self.exact_value()
        return new_requirement(key, op, sorted(values))

    def key_and_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume(True)
        if tok == _NOT:
            op = "!"
            tok, lit = self.consume(True)
        if tok != _ID:
            raise SelectorError(f"found '{lit}', expected: identifier")
        kerrs = is_qualified_name(lit)
        if kerrs:
            # validateLabelKey with the parser's nil path prints "<nil>"
            raise SelectorError(_invalid("<nil>", _go_quote(lit), "; ".join(kerrs)))
        t, _ = self.lookahead(True)
        if t in (_EOS, _COMMA) and op != "!":
            op = "exists"
        return lit, op

    def operator(self) -> str:
        tok, lit = self.consume(False)
        ops = {_IN: "in", _EQ: "=", _DEQ: "==", _GT: "gt", _LT: "lt", _NOTIN: "notin", _NEQ: "!="}
        if tok not in ops:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY)}")
        return ops[tok]

    def set_values(self) -> set[str]:
        tok, lit = self.consume(True)
        if tok != _OPAR:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(True)
        if tok in (_ID, _COMMA):
            values = self.identifiers()
            if self.consume(True)[0] != _CPAR:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CPAR:
            self.consume(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(True)
            if tok == _ID:
                values.add(lit)
                t2, l2 = self.lookahead(True)
                if t2 == _COMMA:
                    continue
                if t2 == _CPAR:
                    return values
                raise SelectorError(f"found '{l2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not values:
                    values.add("")  # "(,"
                t2, _ = self.lookahead(True)
                if t2 == _CPAR:
                    values.add("")  # ",)"
                    return values
                if t2 == _COMMA:
                    self.consume(True)
                    values.add("")  # ",,"
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.lookahead(True)
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.consume(True)
        if tok == _ID:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``labelSelector`` query (``app=web,tier in (a,b),!legacy``).

    An empty string selects everything. Requirements are kept sorted by key,
    as labels.Parse does, so ``str()`` gives the canonical form.
    """
    reqs = _Parser(text or "").parse()
    return LabelSelector(tuple(sorted(reqs, key=lambda r: r.key)))


_EXPRESSION_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def selector_from_match(spec: dict | None) -> LabelSelector:
    """The selector of a metav1.LabelSelector dict or of a plain label map.

    ``{"matchLabels": {...}, "matchExpressions": [...]}`` follows
    LabelSelectorAsSelector: None matches nothing, ``{}`` matches everything.
    A plain map (a Service's ``spec.selector``, whose values are strings)
    matches objects carrying all its labels; use `selector_for_service` for the
    Service rule that an absent or empty selector selects nothing.
    """
    if spec is None:
        return NOTHING
    is_label_selector = (isinstance(spec.get("matchLabels"), dict)
                         or isinstance(spec.get("matchExpressions"), list)
                         or (spec and all(v is None for v in spec.values())
                             and set(spec) <= {"matchLabels", "matchExpressions"}))
    if not is_label_selector:
        return selector_from_set(spec)
    reqs: list[Requirement] = []
    for k, v in (spec.get("matchLabels") or {}).items():
        reqs.append(new_requirement(k, "=", [v]))
    for expr in spec.get("matchExpressions") or []:
        op = _EXPRESSION_OPS.get(expr.get("operator"))
        if op is None:
            raise SelectorError(f"{_go_quote(str(expr.get('operator', '')))} is not a valid "
                                "label selector operator")
        reqs.append(new_requirement(expr.get("key", ""), op, list(expr.get("values") or [])))
    return LabelSelector(tuple(sorted(reqs, key=lambda r: r.key)))


def selector_from_set(labels: dict | None, *, empty_matches_nothing: bool = False) -> LabelSelector:
    """Equality requirements for every ``key: value`` (labels.SelectorFromSet).
    Empty means everything, or nothing with ``empty_matches_nothing``."""
    if not labels:
        return NOTHING if empty_matches_nothing else EVERYTHING
    reqs = [Requirement(k, "=", (str(v),)) for k, v in labels.items()]
    return LabelSelector(tuple(sorted(reqs, key=lambda r: r.key)))


def selector_for_service(service: dict) -> LabelSelector:
    """Pods a Service selects: none when ``spec.selector`` is absent or empty
    (the endpoints controllers skip such Services and keep user Endpoints)."""
    return selector_from_set((service.get("spec") or {}).get("selector"), empty_matches_nothing=True)


# --------------------------------------------------------------------------
# Field selectors

# Field labels each kind accepts (AddFieldLabelConversionFunc in pkg/apis/*/v1/conversion.go);
# other kinds accept only metadata.name and metadata.namespace.
FIELD_LABELS: dict[str, frozenset[str]] = {
    "Pod": frozenset({"metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
                      "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
                      "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
                      "spec.host"}),
    "Event": frozenset({"metadata.name", "metadata.namespace", "involvedObject.kind",
                        "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                        "involvedObject.apiVersion", "involvedObject.resourceVersion",
                        "involvedObject.fieldPath", "reason", "reportingComponent", "source",
                        "type"}),
    "Namespace": frozenset({"metadata.name", "status.phase"}),
    "Node": frozenset({"metadata.name", "spec.unschedulable"}),
    "Secret": frozenset({"metadata.name", "metadata.namespace", "type"}),
    "ReplicaSet": frozenset({"metadata.name", "metadata.namespace", "status.replicas"}),
    "ReplicationController": frozenset({"metadata.name", "metadata.namespace", "status.replicas"}),
}
_DEFAULT_FIELD_LABELS = frozenset({"metadata.name", "metadata.namespace"})
# Fields the apiserver formats from a bool or int even when unset.
_FIELD_DEFAULTS = {"spec.hostNetwork": "false", "spec.unschedulable": "false", "status.replicas": "0"}
_FIELD_ALIASES = {"spec.host": "spec.nodeName", "source": "source.component"}


def field_value(obj: dict, label: str) -> str:
    """The string an object shows for a field label; a missing field reads as ""."""
    if label == "status.podIPs":
        ips = ((obj.get("status") or {}).get("podIPs") or [])
        return ",".join(p.get("ip", "") for p in ips if isinstance(p, dict))
    cur = obj
    for part in _FIELD_ALIASES.get(label, label).split("."):
        if not isinstance(cur, dict) or part not in cur or cur[part] is None:
            return _FIELD_DEFAULTS.get(label, "")
        cur = cur[part]
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, (dict, list)):
        return ""
    return str(cur)


@dataclass(frozen=True)
class FieldTerm:
    field: str
    value: str
    negated: bool = False

    def matches(self, obj: dict) -> bool:
        return (field_value(obj, self.field) == self.value) != self.negated

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{'!=' if self.negated else '='}{escaped}"


@dataclass(frozen=True)
class FieldSelector:
    """An AND of ``field=value`` / ``field!=value`` terms over an object's fields."""

    terms: tuple[FieldTerm, ...] = dc_field(default_factory=tuple)

    def matches(self, obj: dict) -> bool:
        return all(t.matches(obj) for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def validate(self, kind: str) -> None:
        """Refuse field labels ``kind`` does not support, with the apiserver's message."""
        allowed = FIELD_LABELS.get(kind)
        for t in self.terms:
            if allowed is None:
                if t.field not in _DEFAULT_FIELD_LABELS:
                    raise SelectorError(f'"{t.field}" is not a known field selector: only '
                                        '"metadata.name", "metadata.namespace"')
            elif t.field not in allowed:
                raise SelectorError(f"field label not supported: {t.field}")

    def __str__(self) -> str:
        return ",".join(str(t) for t in self.terms)


def _split_terms(text: str) -> list[str]:
    if not text:
        return []
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def _unescape(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out, in_slash = [], False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune with %v: its code point
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(text: str) -> FieldSelector:
    """Parse a ``fieldSelector`` query (``metadata.name=web,status.phase!=Running``).

    Values may escape ``\\``, ``,`` and ``=`` with a backslash. Terms are sorted
    as fields.ParseSelector sorts them.
    """
    terms = []
    for part in sorted(_split_terms(text or "")):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        terms.append(FieldTerm(lhs, _unescape(rhs), op == "!="))
    return FieldSelector(tuple(terms))
