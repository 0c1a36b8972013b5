"""RBAC's escalation prevention: nobody grants a permission they do not hold.

After pkg/registry/rbac/validation (rule.go ConfirmNoEscalation, policy_comparator.go
Covers, policy_compact.go CompactRules), pkg/apis/rbac/v1/helpers.go CompactString and
pkg/registry/rbac/escalation_check.go (EscalationAllowed, RoleEscalationAuthorized,
BindingAuthorized). The registry asks these before it writes a role or a binding.
"""
from __future__ import annotations

from ..validation._field_errors import _goquote
from . import _rbac
from ._rbac import RBAC_GROUP, Attributes
from ._user import MASTERS, UserInfo

# What the aggregationRule of a ClusterRole needs: it may gather anything (clusterrole/policybased).
FULL_AUTHORITY = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                  {"nonResourceURLs": ["*"], "verbs": ["*"]}]


def _strings(rule: dict, field: str) -> list[str]:
    return [s for s in rule.get(field) or () if isinstance(s, str)]


# --- Covers (policy_comparator.go) ------------------------------------------------------

def breakdown(rule: dict) -> list[dict]:
    """BreakdownRule: one rule per (group, resource, verb[, name]) and per (URL, verb)."""
    out: list[dict] = []
    names = _strings(rule, "resourceNames")
    for group in _strings(rule, "apiGroups"):
        for resource in _strings(rule, "resources"):
            for verb in _strings(rule, "verbs"):
                base = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                out.extend([dict(base, resourceNames=[n]) for n in names] if names else [base])
    for url in _strings(rule, "nonResourceURLs"):
        for verb in _strings(rule, "verbs"):
            out.append({"nonResourceURLs": [url], "verbs": [verb]})
    return out


def _resources_cover(owner: list[str], wanted: list[str]) -> bool:
    if "*" in owner or set(wanted) <= set(owner):
        return True
    for path in wanted:
        if path in owner:
            continue
        # "*/scale" in the owner's rule covers any resource's scale subresource.
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owner:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def _rule_covers(owner: dict, sub: dict) -> bool:
    verbs, groups = _strings(owner, "verbs"), _strings(owner, "apiGroups")
    owner_names, sub_names = _strings(owner, "resourceNames"), _strings(sub, "resourceNames")
    names_ok = not owner_names or (bool(sub_names) and set(sub_names) <= set(owner_names))
    return (("*" in verbs or set(_strings(sub, "verbs")) <= set(verbs))
            and ("*" in groups or set(_strings(sub, "apiGroups")) <= set(groups))
            and _resources_cover(_strings(owner, "resources"), _strings(sub, "resources"))
            and all(any(_url_covers(o, p) for o in _strings(owner, "nonResourceURLs"))
                    for p in _strings(sub, "nonResourceURLs"))
            and names_ok)


def covers(owner_rules: list[dict], rules: list[dict]) -> tuple[bool, list[dict]]:
    """(every rule covered, the broken-down rules that are not)."""
    missing = [sub for rule in rules for sub in breakdown(rule)
               if not any(_rule_covers(owner, sub) for owner in owner_rules)]
    return not missing, missing


# --- how the missing rights are worded ------------------------------------------------------

def compact(rules: list[dict]) -> list[dict]:
    """CompactRules: simple rules (one group, one resource, at most one name) that differ only
    by verb become one rule; the others stay as they are, before the merged ones."""
    merged: dict[tuple, dict] = {}
    others: list[dict] = []
    for rule in rules:
        groups, resources = _strings(rule, "apiGroups"), _strings(rule, "resources")
        names = _strings(rule, "resourceNames")
        simple = (len(groups) == 1 and len(resources) == 1 and len(names) <= 1
                  and not rule.get("nonResourceURLs"))
        if not simple:
            others.append(rule)
            continue
        key = (groups[0], resources[0], names[0] if names else None)
        if key in merged:
            merged[key]["verbs"] = merged[key]["verbs"] + _strings(rule, "verbs")
        else:
            merged[key] = {**rule, "verbs": list(_strings(rule, "verbs"))}
    return others + list(merged.values())


def _goslice(values: list[str]) -> str:
    """fmt's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(_goquote(v) for v in values) + "]"


def compact_string(rule: dict) -> str:
    """rbacv1helpers.CompactString: {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}."""
    parts = [f"{label}:{_goslice(_strings(rule, field))}"
             for label, field in (("APIGroups", "apiGroups"), ("Resources", "resources"),
                                  ("NonResourceURLs", "nonResourceURLs"), ("ResourceNames", "resourceNames"),
                                  ("Verbs", "verbs"))
             if _strings(rule, field)]
    return "{" + ", ".join(parts) + "}"


def confirm_no_escalation(store, user: UserInfo, namespace: str, rules: list[dict]) -> str | None:
    """ConfirmNoEscalation: None when the user holds every rule in `namespace` (cluster-wide
    bindings count too), else the error's text naming what is missing."""
    owner_rules, errors = _rbac.owner_rules(store, user, namespace)
    ok, missing = covers(owner_rules, rules)
    if ok:
        return None
    described = sorted({compact_string(r) for r in compact(missing)})
    msg = (f"user {_goquote(user.name)} (groups={_goslice(list(user.groups))}) is attempting to grant RBAC "
           "permissions not currently held:\n" + "\n".join(described))
    if errors:
        # The resolver's errors arrive as one aggregate inside a one-element []error.
        agg = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        msg += f"; resolution errors: [{agg}]"
    return msg


# --- who is exempt (escalation_check.go) ------------------------------------------------------

def escalation_allowed(user: UserInfo) -> bool:
    """system:masters may grant anything: the API server's own loopback client is in it."""
    return MASTERS in user.groups


def role_escalation_authorized(store, user: UserInfo, resource: str, namespace: str, name: str) -> bool:
    """`escalate` on the role being written (roles or clusterroles, by the request's name)."""
    attrs = Attributes(user, "escalate", True, namespace=namespace, api_group=RBAC_GROUP, api_version="*",
                       resource=resource, name=name)
    return _rbac.authorize(store, attrs)[0]


def binding_authorized(store, user: UserInfo, role_ref: dict, binding_namespace: str) -> bool:
    """`bind` on the role a binding refers to, in the binding's namespace ("" for a
    ClusterRoleBinding): lets someone hand out a role they may not use themselves."""
    resource = {"ClusterRole": "clusterroles", "Role": "roles"}.get(role_ref.get("kind"))
    if resource is None:
        return False
    attrs = Attributes(user, "bind", True, namespace=binding_namespace, api_group=role_ref.get("apiGroup", ""),
                       resource=resource, name=role_ref.get("name", ""))
    return _rbac.authorize(store, attrs)[0]
