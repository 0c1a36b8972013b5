"""Roles, ClusterRoles and their bindings, as pkg/apis/rbac/validation/validation.go checks them."""
from __future__ import annotations

from ._field_errors import _Errors, _Go, _goquote
from ._name_formats import is_dns1123_subdomain, valid_name_message

GROUP = "rbac.authorization.k8s.io"


def rbac_name_messages(name: str) -> list[str]:
    """ValidateRBACName: a path segment (apimachinery/pkg/api/validation/path)."""
    return valid_name_message("Role", name)


def _rules(rules, namespaced: bool, errs: _Errors) -> None:
    for i, rule in enumerate(rules or []):
        path = f"rules[{i}]"
        if not isinstance(rule, dict):
            continue
        if not rule.get("verbs"):
            errs.required(f"{path}.verbs", "verbs must contain at least one value")
        urls = rule.get("nonResourceURLs") or []
        if urls:
            if namespaced:
                errs.invalid(f"{path}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs")
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                errs.invalid(f"{path}.nonResourceURLs", urls,
                             "rules cannot apply to both regular resources and non-resource URLs")
            continue
        if not rule.get("apiGroups"):
            errs.required(f"{path}.apiGroups", "resource rules must supply at least one api group")
        if not rule.get("resources"):
            errs.required(f"{path}.resources", "resource rules must supply at least one resource")


def _validate_role(obj: dict, old, errs: _Errors) -> None:
    _rules(obj.get("rules"), True, errs)


def _validate_cluster_role(obj: dict, old, errs: _Errors) -> None:
    _rules(obj.get("rules"), False, errs)
    rule = obj.get("aggregationRule")
    if rule is not None and not (rule or {}).get("clusterRoleSelectors"):
        errs.required("aggregationRule.clusterRoleSelectors",
                      "at least one clusterRoleSelector required if aggregationRule is non-nil")


def _role_ref_text(ref: dict) -> _Go:
    """An rbac.RoleRef as %#v prints it in `cannot change roleRef`."""
    return _Go("rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}" % (
        _goquote(ref.get("apiGroup", "")), _goquote(ref.get("kind", "")), _goquote(ref.get("name", ""))))


def _binding(obj: dict, old, errs: _Errors, *, namespaced: bool) -> None:
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != GROUP:
        errs.not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), [GROUP])
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.not_supported("roleRef.kind", ref.get("kind", ""), kinds)
    if not ref.get("name"):
        errs.required("roleRef.name")
    else:
        for msg in rbac_name_messages(ref["name"]):
            errs.invalid("roleRef.name", ref["name"], msg)
    for i, subject in enumerate(obj.get("subjects") or []):
        _subject(subject if isinstance(subject, dict) else {}, namespaced, f"subjects[{i}]", errs)
    if old is not None and (old.get("roleRef") or {}) != ref:
        # validation.ValidateRoleBindingUpdate: a binding's role is fixed; make a new binding.
        errs.invalid("roleRef", _role_ref_text(ref), "cannot change roleRef")


def _subject(subject: dict, namespaced: bool, path: str, errs: _Errors) -> None:
    name, kind, group = subject.get("name", ""), subject.get("kind", ""), subject.get("apiGroup", "")
    if not name:
        errs.required(f"{path}.name")
    if kind == "ServiceAccount":
        for msg in is_dns1123_subdomain(name) if name else []:
            errs.invalid(f"{path}.name", name, msg)
        if group:
            errs.not_supported(f"{path}.apiGroup", group, [""])
        if not namespaced and not subject.get("namespace"):
            errs.required(f"{path}.namespace")
    elif kind in ("User", "Group"):
        if group != GROUP:
            errs.not_supported(f"{path}.apiGroup", group, [GROUP])
    else:
        errs.not_supported(f"{path}.kind", kind, ["ServiceAccount", "User", "Group"])


def _validate_role_binding(obj: dict, old, errs: _Errors) -> None:
    _binding(obj, old, errs, namespaced=True)


def _validate_cluster_role_binding(obj: dict, old, errs: _Errors) -> None:
    _binding(obj, old, errs, namespaced=False)


VALIDATORS = {"Role": _validate_role, "ClusterRole": _validate_cluster_role,
              "RoleBinding": _validate_role_binding, "ClusterRoleBinding": _validate_cluster_role_binding}
