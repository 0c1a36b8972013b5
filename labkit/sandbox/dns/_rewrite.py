"""plugin/rewrite's `name` rules: setup checks, the question rewrite and the reply's revert.

setup.go newRule: `rewrite [continue|stop] name [exact|prefix|suffix|substring|regex] FROM
TO [answer auto | answer name FROM TO]`; two arguments after `name` mean `exact`. Rules run
in the order written; a matching rule with `stop` (the default) ends the walk, `continue`
lets later rules rewrite the new name again (rewrite.go ServeDNS).

The reply (reverter.go ResponseReverter.WriteMsg): the question always goes back to the
name the client asked, so the client accepts the reply; answer records keep the rewritten
owner name unless an `answer` rule turns them back: `answer auto` reverses the question's
rewrite, `answer name REGEX REPLACEMENT` rewrites each owner name that matches.
Other rule types (type, class, edns0, ttl, rcode, cname) are not modelled and refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MATCHES = ("exact", "prefix", "suffix", "substring", "regex")


class RewriteSetupError(ValueError):
    """What setup.go returns; _corefile prefixes `plugin/rewrite: `."""


@dataclass(frozen=True)
class NameRule:
    stop: bool
    match: str
    frm: str
    to: str
    answer: tuple[str, ...] = ()     # (), ("auto",) or ("name", REGEX, REPLACEMENT)

    def rewrite(self, name: str) -> str | None:
        """The new question name, or None when the rule does not match."""
        if self.match == "exact":
            return self.to if name == self.frm else None
        if self.match == "prefix":
            return self.to + name[len(self.frm):] if name.startswith(self.frm) else None
        if self.match == "suffix":
            return name[:-len(self.frm)] + self.to if name.endswith(self.frm) else None
        if self.match == "substring":
            return name.replace(self.frm, self.to) if self.frm in name else None
        groups = _go_regex(self.frm).search(name)
        if groups is None:
            return None
        return _normalize(_expand(self.to, groups))

    def revert(self, owner: str, asked: str, sent: str) -> str:
        """An answer record's owner name as the client sees it."""
        if self.answer[:1] == ("auto",):
            return asked if owner == sent else owner
        if self.answer[:1] == ("name",):
            groups = _go_regex(self.answer[1]).search(owner)
            if groups is not None:
                return _normalize(_expand(self.answer[2], groups))
        return owner


def rule(args: list[str]) -> NameRule:
    """One `rewrite` line's arguments as setup.go reads them."""
    if not args:
        raise RewriteSetupError("no rule type specified for rewrite")
    stop, kind, rest = True, args[0].lower(), args[1:]
    if kind in ("continue", "stop"):
        if len(args) < 2:
            raise RewriteSetupError(f"{kind} rule must begin with a rule type")
        stop, kind, rest = kind == "stop", args[1].lower(), args[2:]
    if kind in ("type", "class", "edns0", "ttl", "rcode", "cname", "answer"):
        raise RewriteSetupError(f"the sandbox models only `name` rules, not {kind!r}")
    if kind != "name":
        raise RewriteSetupError(f'invalid rule type "{args[0]}"')
    return _name_rule(stop, rest)


def _name_rule(stop: bool, args: list[str]) -> NameRule:
    if len(args) < 2:
        raise RewriteSetupError("too few arguments for a name rule")
    if len(args) == 2:
        match, frm, to, tail = "exact", args[0], args[1], []
    else:
        match, frm, to, tail = args[0].lower(), args[1], args[2], args[3:]
    if match not in MATCHES:
        raise RewriteSetupError("name rule supports only exact, prefix, suffix, substring, "
                                f"and regex name matching, received: {match}")
    if match != "regex":
        frm, to = frm.lower(), to.lower()
        if match in ("exact", "suffix"):
            frm, to = _normalize(frm), _normalize(to)
    else:
        _check_regex(frm, to)
    answer: tuple[str, ...] = ()
    if tail:
        if tail == ["answer", "auto"]:
            answer = ("auto",)
        elif len(tail) == 4 and tail[:2] == ["answer", "name"]:
            _check_regex(tail[2], tail[3])
            answer = ("name", tail[2], _normalize(tail[3]))
        else:
            raise RewriteSetupError("response rewrites must consist only of a name rule with 3 "
                                    "arguments and an answer rule with 3 arguments")
    return NameRule(stop, match, frm, to, answer)


def apply(rules: tuple[NameRule, ...], name: str) -> tuple[str, list[NameRule]]:
    """(the name sent on, the rules that fired) for a question `name` (lower case, absolute)."""
    fired = []
    for r in rules:
        new = r.rewrite(name)
        if new is None:
            continue
        name = new
        fired.append(r)
        if r.stop:
            break
    return name, fired


def _check_regex(pattern: str, replacement: str) -> None:
    try:
        compiled = _go_regex(pattern)
    except re.error:
        raise RewriteSetupError(f"invalid regex matching pattern: {pattern}") from None
    used = sum(1 for i in range(101) if "{%d}" % i in replacement)
    if used > compiled.groups:
        raise RewriteSetupError(f"the rewrite regex pattern ({replacement}) uses more "
                                f"subexpressions than its corresponding matching regex pattern ({pattern})")


def _go_regex(pattern: str) -> re.Pattern:
    # Go's RE2 syntax agrees with Python's for the patterns rewrite rules use.
    return re.compile(pattern)


def _expand(template: str, groups: re.Match) -> str:
    out = template
    for i in range(groups.re.groups + 1):
        out = out.replace("{%d}" % i, groups.group(i) or "")
    return out


def _normalize(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."
