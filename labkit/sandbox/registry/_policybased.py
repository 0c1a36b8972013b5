"""The RBAC kinds' policy-based storage: a Role, ClusterRole or binding is written only when
the requester could have done what it grants (pkg/registry/rbac/{role,clusterrole,rolebinding,
clusterrolebinding}/policybased/storage.go).

A write with no requester is the sandbox's own (a controller, the bootstrap policy): like
kube-apiserver's loopback client in system:masters, it is never held back.
"""
from __future__ import annotations

from ..apis import _errors
from ..auth import _escalation, _rbac
from ..auth._rbac import RBAC_GROUP
from ..auth._user import UserInfo

_ROLE_KINDS = {"Role", "ClusterRole"}
_BINDING_KINDS = {"RoleBinding", "ClusterRoleBinding"}


def _forbidden(plural: str, name: str, text: str) -> _errors.ApiError:
    """apierrors.NewForbidden(groupResource, name, err)."""
    where = f"{plural}.{RBAC_GROUP}" + (f' "{name}"' if name else "")
    details = {"group": RBAC_GROUP, "kind": plural}
    if name:
        details = {"name": name, **details}
    return _errors.ApiError(403, "Forbidden", f"{where} is forbidden: {text}", details)


def _only_gc_fields(new: dict, old: dict) -> bool:
    """rbacregistry.IsOnlyMutatingGCFields: an edit of ownerReferences or finalizers only
    (what the garbage collector does) needs no check."""
    meta = dict(new.get("metadata") or {})
    old_meta = old.get("metadata") or {}
    for field in ("ownerReferences", "finalizers", "selfLink", "managedFields"):
        meta.pop(field, None)
        if field in old_meta:
            meta[field] = old_meta[field]
    return dict(new, metadata=meta) == old


def check(store, requester: UserInfo | None, resource, namespace: str | None, url_name: str, obj: dict,
          old: dict | None = None) -> None:
    """Raise the 403 a real API server gives when `requester` writes `obj` (over `old` on an
    update) and would grant more than it holds; url_name is the name in the request's path."""
    kind = resource.kind
    if requester is None or kind not in _ROLE_KINDS | _BINDING_KINDS:
        return
    if _escalation.escalation_allowed(requester):
        return
    ns = namespace or ""
    name = (obj.get("metadata") or {}).get("name") or ""
    if kind in _ROLE_KINDS:
        if _escalation.role_escalation_authorized(store, requester, resource.plural, ns, url_name):
            return
        if old is not None and _only_gc_fields(obj, old):
            return
        rules = [r for r in obj.get("rules") or [] if isinstance(r, dict)]
        denied = _escalation.confirm_no_escalation(store, requester, ns, rules)
        if denied:
            raise _forbidden(resource.plural, name, denied)
        # An aggregationRule may gather anything, so setting or dropping one needs * on *.*.
        if kind == "ClusterRole" and (obj.get("aggregationRule") or (old or {}).get("aggregationRule")):
            if _escalation.confirm_no_escalation(store, requester, ns, _escalation.FULL_AUTHORITY):
                raise _forbidden(resource.plural, name, "must have cluster-admin privileges to use the "
                                                        "aggregationRule")
        return
    if old is not None and _only_gc_fields(obj, old):
        return
    role_ref = obj.get("roleRef") if isinstance(obj.get("roleRef"), dict) else {}
    if _escalation.binding_authorized(store, requester, role_ref, ns):
        return
    rules = _rbac.role_ref_rules(store, role_ref, ns)
    denied = _escalation.confirm_no_escalation(store, requester, ns, rules)
    if denied:
        raise _forbidden(resource.plural, name, denied)
