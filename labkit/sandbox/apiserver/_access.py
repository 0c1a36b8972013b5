"""Who is asking and may they: the API server's authentication, impersonation and
authorization filters (k8s.io/apiserver/pkg/endpoints/filters), in that order.

A request carries a bearer token: the sandbox's admin token (kubeadm's `kubernetes-admin`,
here in system:masters) or a ServiceAccount token from TokenRequest. Anything else is a 401,
as on a cluster started with --anonymous-auth=false. The request's attributes are read from
its path as requestinfo.go reads them; RBAC decides (auth._rbac), and a denial is the 403
responsewriters.Forbidden writes.
"""
from __future__ import annotations

import hmac

from ..apis import _errors
from ..auth import _rbac
from ..auth._rbac import Attributes
from ..auth._user import ADMIN, AUTHENTICATED, UserInfo, service_account_groups, split_service_account

_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# pods/exec, attach and portforward over a WebSocket are GETs, yet need `create` as well
# (AuthorizePodWebsocketUpgradeCreatePermission, beta and on since 1.35: kubernetes#134577).
_CONNECT_SUBRESOURCES = {"exec", "attach", "portforward"}


def authenticate(headers, admin_token: str, service_accounts) -> UserInfo | None:
    """The user the Authorization header stands for, or None (a 401).
    service_accounts(token) checks a ServiceAccount token (None when it is not one)."""
    value = headers.get("Authorization", "")
    # Constant time: how long a rejection takes must not tell how much of a guess was right.
    if hmac.compare_digest(value.encode("utf-8", "replace"), f"Bearer {admin_token}".encode()):
        return ADMIN
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return service_accounts(token.strip())


def attributes(user: UserInfo, method: str, path: str, query) -> Attributes:
    """requestinfo.go's RequestInfoFactory.NewRequestInfo, as authorizer attributes."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, rest = "", parts[1:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[2:]
    else:
        rest = []
    # Discovery (/api/v1, /apis/apps/v1) is read as a path, which system:discovery grants.
    if len(rest) < 2:
        return Attributes(user, method.lower() if method != "HEAD" else "head", False, path=path or "/")
    version, rest = rest[0], rest[1:]
    verb = _VERBS.get(method, method.lower())
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):   # a namespace's own subresources
            rest = rest[2:]          # /namespaces/NS/pods/...: the resource is what follows
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch", "").lower() in ("true", "1") else "list"
        # A list for one name (kubectl get pod X -w, kubectl wait) is authorized as that name.
        selector = query.get("fieldSelector", "")
        if selector.startswith("metadata.name=") and "," not in selector:
            name = selector.split("=", 1)[1]
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(user, verb, True, path=path, namespace=namespace, api_group=group, api_version=version,
                      resource=resource, subresource=subresource, name=name)


def forbidden(attrs: Attributes, reason: str = "") -> _errors.ApiError:
    details: dict = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    if attrs.resource:
        details["kind"] = attrs.resource
    return _errors.ApiError(403, "Forbidden", _rbac.forbidden_message(attrs, reason), details)


def authorize(store, attrs: Attributes) -> None:
    """Raise the 403 when RBAC does not allow the request."""
    checks = [attrs]
    if attrs.resource_request and attrs.verb == "get" and attrs.subresource in _CONNECT_SUBRESOURCES \
            and attrs.resource == "pods":
        checks.append(attrs.with_verb("create"))
    for check in checks:
        allowed, reason = _rbac.authorize(store, check)
        if not allowed:
            raise forbidden(check, reason)


def impersonate(store, user: UserInfo, headers) -> UserInfo:
    """Impersonate-User / Impersonate-Group (filters/impersonation.go): the requester must
    be allowed to `impersonate` each; the request then runs as the impersonated user."""
    name = headers.get("Impersonate-User", "")
    groups = headers.getall("Impersonate-Group", []) if hasattr(headers, "getall") else []
    if not name:
        if groups:
            raise _errors.bad_request(f"requested [{' '.join(groups)}] without impersonating a user")
        return user
    account = split_service_account(name)
    if account:
        target = Attributes(user, "impersonate", True, namespace=account[0], resource="serviceaccounts",
                            name=account[1])
    else:
        target = Attributes(user, "impersonate", True, resource="users", name=name)
    for attrs in [target] + [Attributes(user, "impersonate", True, resource="groups", name=g) for g in groups]:
        allowed, reason = _rbac.authorize(store, attrs)
        if not allowed:
            raise forbidden(attrs, reason)
    all_groups = list(groups)
    if account:
        all_groups = [g for g in service_account_groups(account[0]) if g != AUTHENTICATED] + all_groups
    if AUTHENTICATED not in all_groups:
        all_groups.append(AUTHENTICATED)
    return UserInfo(name, tuple(all_groups))
