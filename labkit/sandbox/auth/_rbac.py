"""The RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go) over the store's
Roles, ClusterRoles and their bindings, and the request attributes it decides on.

Decisions follow kube-apiserver's chain for a kubeadm cluster: system:masters is allowed
everything before RBAC is asked (authorizerfactory.NewPrivilegedGroups); otherwise a rule
of a role bound to the user allows, and nothing else does. ClusterRoleBindings are visited
first, then the RoleBindings of the request's namespace; a binding whose role is missing
contributes its error to the denial's reason, as `RBAC: role.rbac... "x" not found`.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..apis import _errors
from ..apis._resources import by_plural
from ._user import MASTERS, UserInfo

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLES, CLUSTER_ROLES = by_plural("roles"), by_plural("clusterroles")
BINDINGS, CLUSTER_BINDINGS = by_plural("rolebindings"), by_plural("clusterrolebindings")


@dataclass(frozen=True)
class Attributes:
    """authorizer.Attributes of one request (k8s.io/apiserver/pkg/endpoints/request RequestInfo)."""
    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    def with_verb(self, verb: str) -> "Attributes":
        return Attributes(self.user, verb, self.resource_request, self.path, self.namespace, self.api_group,
                          self.api_version, self.resource, self.subresource, self.name)


# --- rule matching (pkg/apis/rbac/v1/evaluation_helpers.go) ---------------------------

def _verb_matches(rule: dict, verb: str) -> bool:
    return any(v in ("*", verb) for v in rule.get("verbs") or ())


def _group_matches(rule: dict, group: str) -> bool:
    return any(g in ("*", group) for g in rule.get("apiGroups") or ())


def _resource_matches(rule: dict, combined: str, subresource: str) -> bool:
    for r in rule.get("resources") or ():
        if r == "*" or r == combined:
            return True
        # "*/scale" covers the scale subresource of every resource.
        if subresource and r == "*/" + subresource:
            return True
    return False


def _name_matches(rule: dict, name: str) -> bool:
    names = rule.get("resourceNames") or []
    return not names or name in names


def _url_matches(rule: dict, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(attrs: Attributes, rule: dict) -> bool:
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (_verb_matches(rule, attrs.verb) and _group_matches(rule, attrs.api_group)
                and _resource_matches(rule, combined, attrs.subresource) and _name_matches(rule, attrs.name))
    return _verb_matches(rule, attrs.verb) and _url_matches(rule, attrs.path)


# --- subjects and bindings (rule_resolver.go) -----------------------------------------------

def _subject_matches(subject: dict, user: UserInfo, binding_namespace: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return user.name == subject.get("name")
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        # A RoleBinding may name an account of its own namespace without saying so.
        ns = subject.get("namespace") or binding_namespace
        return bool(ns) and user.name == f"system:serviceaccount:{ns}:{subject.get('name')}"
    return False


def _describe_subject(subject: dict, binding_namespace: str) -> str:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or binding_namespace}"'
    return f'{kind} "{name}"'


def _visit(store, user: UserInfo, namespace: str):
    """(description, rules or None, error) for each binding that applies to the user:
    cluster-wide bindings first, then the namespace's."""
    for binding in store.list_resource(CLUSTER_BINDINGS):
        subject = _first_match(binding, user, "")
        if subject is None:
            continue
        ref = binding.get("roleRef") or {}
        role = store.get_resource(CLUSTER_ROLES, None, ref.get("name", "")) if ref.get("kind") == "ClusterRole" \
            else None
        desc = (f'ClusterRoleBinding "{binding["metadata"]["name"]}" of {ref.get("kind")} "{ref.get("name")}" '
                f"to {_describe_subject(subject, '')}")
        if role is None:
            yield desc, None, f'clusterrole.{RBAC_GROUP} "{ref.get("name")}" not found'
        else:
            yield desc, role.get("rules") or [], None
    if not namespace:
        return
    for binding in store.list_resource(BINDINGS, namespace):
        subject = _first_match(binding, user, namespace)
        if subject is None:
            continue
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "Role":
            role, what = store.get_resource(ROLES, namespace, ref.get("name", "")), "role"
        else:
            role, what = store.get_resource(CLUSTER_ROLES, None, ref.get("name", "")), "clusterrole"
        desc = (f'RoleBinding "{binding["metadata"]["name"]}/{namespace}" of {ref.get("kind")} '
                f'"{ref.get("name")}" to {_describe_subject(subject, namespace)}')
        if role is None:
            yield desc, None, f'{what}.{RBAC_GROUP} "{ref.get("name")}" not found'
        else:
            yield desc, role.get("rules") or [], None


def _first_match(binding: dict, user: UserInfo, namespace: str) -> dict | None:
    for subject in binding.get("subjects") or ():
        if isinstance(subject, dict) and _subject_matches(subject, user, namespace):
            return subject
    return None


# --- decisions ------------------------------------------------------------------------

def authorize(store, attrs: Attributes) -> tuple[bool, str]:
    """(allowed, reason). The reason of an allow names the binding (`RBAC: allowed by
    ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`); a denial's reason lists
    the errors met on the way (missing roles), or is empty."""
    if MASTERS in attrs.user.groups:
        return True, ""
    errors: list[str] = []
    for desc, rules, error in _visit(store, attrs.user, attrs.namespace):
        if error:
            if error not in errors:
                errors.append(error)
            continue
        if any(rule_allows(attrs, r) for r in rules):
            return True, f"RBAC: allowed by {desc}"
    if not errors:
        return False, ""
    return False, "RBAC: " + (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")


def rules_for(store, user: UserInfo, namespace: str) -> tuple[list[dict], list[dict], list[str]]:
    """SelfSubjectRulesReview's status: (resourceRules, nonResourceRules, errors), the rules
    of every role bound to the user cluster-wide or in `namespace` (rbac.go RulesFor)."""
    resource_rules: list[dict] = []
    url_rules: list[dict] = []
    errors: list[str] = []
    for _desc, rules, error in _visit(store, user, namespace):
        if error:
            errors.append(error)
            continue
        for rule in rules:
            verbs = list(rule.get("verbs") or [])
            if rule.get("nonResourceURLs"):
                url_rules.append({"verbs": verbs, "nonResourceURLs": list(rule["nonResourceURLs"])})
            if rule.get("resources") or rule.get("apiGroups"):
                entry = {"verbs": verbs, "apiGroups": list(rule.get("apiGroups") or []),
                         "resources": list(rule.get("resources") or [])}
                if rule.get("resourceNames"):
                    entry["resourceNames"] = list(rule["resourceNames"])
                resource_rules.append(entry)
    return resource_rules, url_rules, errors


def owner_rules(store, user: UserInfo, namespace: str) -> tuple[list[dict], list[str]]:
    """rule.go RulesFor: every rule of every role bound to the user cluster-wide or in
    `namespace`, as written, and the errors met (missing roles) on the way."""
    rules: list[dict] = []
    errors: list[str] = []
    for _desc, found, error in _visit(store, user, namespace):
        if error:
            errors.append(error)
        else:
            rules.extend(r for r in found if isinstance(r, dict))
    return rules, errors


def role_ref_rules(store, role_ref: dict, namespace: str) -> list[dict]:
    """rule.go GetRoleReferenceRules: the rules of the role a binding names; a missing role
    is the NotFound the role getter returns."""
    name = role_ref.get("name", "")
    if role_ref.get("kind") == "Role":
        role, what = store.get_resource(ROLES, namespace, name), "roles"
    elif role_ref.get("kind") == "ClusterRole":
        role, what = store.get_resource(CLUSTER_ROLES, None, name), "clusterroles"
    else:
        # A plain error in Go, which the API server answers as an internal error.
        text = f'unsupported role reference kind: "{role_ref.get("kind", "")}"'
        raise _errors.ApiError(500, "InternalError", f"Internal error occurred: {text}",
                               {"causes": [{"message": text}]})
    if role is None:
        raise _errors.ApiError(404, "NotFound", f'{what}.{RBAC_GROUP} "{name}" not found',
                               {"name": name, "group": RBAC_GROUP, "kind": what})
    return [r for r in role.get("rules") or [] if isinstance(r, dict)]


def forbidden_message(attrs: Attributes, reason: str = "") -> str:
    """responsewriters.forbiddenMessage, then apierrors.NewForbidden around it."""
    user = attrs.user.name
    if not attrs.resource_request:
        text = f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
        return f"forbidden: {text}" + (f": {reason}" if reason else "")
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    text = (f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" {where}')
    if reason:
        text += f": {reason}"
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    if attrs.name:
        return f'{qualified} "{attrs.name}" is forbidden: {text}'
    return f"{qualified} is forbidden: {text}"
