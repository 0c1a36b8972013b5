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
import urllib.parse
from typing import NamedTuple

from aiohttp import web

from ..apis import _errors
from ..auth import _rbac
from ..auth._rbac import Attributes
from ..auth._user import ADMIN, AUTHENTICATED, UserInfo, service_account_groups, split_service_account
from ..validation._field_errors import _goquote

AUTH_GROUP = "authentication.k8s.io"
ANONYMOUS, UNAUTHENTICATED = "system:anonymous", "system:unauthenticated"

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


def request_verb(method: str, path: str, query) -> str:
    """The API verb of a resource request (get, list, watch, create, ...), as RBAC sees it."""
    return attributes(ADMIN, method, path, query).verb


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


class ImpersonationError(Exception):
    """A request the impersonation filter cannot even read: kube-apiserver answers it with
    responsewriters.InternalError, a plain-text 500 (not a Status)."""


_AUTH_V1 = "authentication.k8s.io/v1"
_EXTRA_PREFIX = "impersonate-extra-"


def _object_reference(kind: str, name: str, namespace: str = "", api_version: str = "",
                      field_path: str = "") -> str:
    """A v1.ObjectReference as fmt's %v prints it: its seven string fields, space-separated."""
    return "{" + " ".join((kind, namespace, name, "", api_version, "", field_path)) + "}"


class _Request(NamedTuple):
    """One thing to impersonate, as the authorizer is asked about it, and as an error shows it."""
    resource: str
    group: str
    namespace: str
    name: str
    subresource: str
    shown: str


def _requests(headers) -> list[_Request]:
    """buildImpersonationRequests: the user, then each group, each extra value, and the uid."""
    out: list[_Request] = []
    name = headers.get("Impersonate-User", "")
    if name:
        account = split_service_account(name)
        if account:
            out.append(_Request("serviceaccounts", "", account[0], account[1], "",
                                _object_reference("ServiceAccount", account[1], account[0])))
        else:
            out.append(_Request("users", "", "", name, "", _object_reference("User", name)))
    getall = headers.getall if hasattr(headers, "getall") else (lambda k, d: [headers[k]] if k in headers else d)
    for group in getall("Impersonate-Group", []):
        out.append(_Request("groups", "", "", group, "", _object_reference("Group", group)))
    for header, value in headers.items():
        if header.lower().startswith(_EXTRA_PREFIX):
            # The key is lower-cased and %-decoded (unescapeExtraKey); a malformed one is kept as sent.
            raw = header[len(_EXTRA_PREFIX):].lower()
            try:
                key = urllib.parse.unquote(raw, errors="strict")
            except UnicodeDecodeError:
                key = raw
            out.append(_Request("userextras", AUTH_GROUP, "", value, key,
                                _object_reference("UserExtra", value, api_version=_AUTH_V1, field_path=key)))
    uid = headers.get("Impersonate-Uid", "")
    if uid:
        out.append(_Request("uids", AUTH_GROUP, "", uid, "", _object_reference("UID", uid, api_version=_AUTH_V1)))
    if out and not name:
        raise ImpersonationError(f"requested [{' '.join(r.shown for r in out)}] without impersonating a user")
    return out


def impersonate(store, user: UserInfo, headers) -> UserInfo:
    """Impersonate-User, -Group, -Uid and -Extra-<key> (filters/impersonation.go): the requester
    must be allowed to `impersonate` each one (users, groups, serviceaccounts; uids and
    userextras/<key> in authentication.k8s.io); the request then runs as the user they describe."""
    requests = _requests(headers)
    if not requests:
        return user
    groups_sent = any(r.resource == "groups" for r in requests)
    username, uid = "", ""
    groups: list[str] = []
    extra: dict[str, list[str]] = {}
    for resource, group, namespace, name, subresource, _shown in requests:
        attrs = Attributes(user, "impersonate", True, namespace=namespace, api_group=group,
                           api_version="v1" if group else "", resource=resource, subresource=subresource,
                           name=name)
        allowed, reason = _rbac.authorize(store, attrs)
        if not allowed:
            raise forbidden(attrs, reason)
        if resource == "serviceaccounts":
            username = f"system:serviceaccount:{namespace}:{name}"
            if not groups_sent:       # an account's groups follow from its namespace
                groups = [g for g in service_account_groups(namespace) if g != AUTHENTICATED]
        elif resource == "users":
            username = name
        elif resource == "groups":
            groups.append(name)
        elif resource == "userextras":
            extra.setdefault(subresource, []).append(name)
        else:
            uid = name
    if username != ANONYMOUS and not {AUTHENTICATED, UNAUTHENTICATED} & set(groups):
        groups.append(AUTHENTICATED)
    elif username == ANONYMOUS and UNAUTHENTICATED not in groups:
        groups.append(UNAUTHENTICATED)
    return UserInfo(username, tuple(groups), uid=uid, extra=extra)


def internal_error_text(request_uri: str, err: Exception) -> web.Response:
    """responsewriters.InternalError: http.Error's plain text, with &, < and > escaped."""
    text = f"Internal Server Error: {_goquote(request_uri)}: {err}"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return web.Response(status=500, text=text + "\n", content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})
