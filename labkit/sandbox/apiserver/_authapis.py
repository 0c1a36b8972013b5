"""The create-only APIs of authentication and authorization: TokenRequest
(`kubectl create token`), SelfSubjectReview (`kubectl auth whoami`),
SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`), SelfSubjectRulesReview
(`kubectl auth can-i --list`), and SubjectAccessReview and LocalSubjectAccessReview (what a
webhook or an aggregated server asks about someone else). Each answers from the request's user and the store, and
stores nothing (pkg/registry/authentication, pkg/registry/authorization)."""
from __future__ import annotations

import datetime as dt
import json

from .._clock import rfc3339
from ..apis import _errors
from ..apis._resources import by_plural
from ..auth import _rbac
from ..auth._rbac import Attributes
from ..auth._user import UserInfo
from ..validation._field_errors import Invalid, _goquote

_SA, _PODS, _NODES = by_plural("serviceaccounts"), by_plural("pods"), by_plural("nodes")
DEFAULT_TOKEN_SECONDS = 3600          # kube-apiserver's default for a TokenRequest without expirationSeconds
MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 1 << 32


def answer(store, signer, user: UserInfo, plural: str, namespace, name, subresource, body) -> dict:
    """The answer to a POST on one of these resources; `signer()` gives the token signer."""
    if subresource == "token":
        return token_request(store, signer(), namespace, name, body)
    if plural == "selfsubjectreviews":
        return self_subject_review(user)
    if plural == "selfsubjectaccessreviews":
        return self_subject_access_review(store, user, body)
    if plural in ("subjectaccessreviews", "localsubjectaccessreviews"):
        return subject_access_review(store, body, namespace if plural == "localsubjectaccessreviews" else None)
    return self_subject_rules_review(store, user, body)


def _spec(body) -> dict:
    spec = body.get("spec") if isinstance(body, dict) else None
    return spec if isinstance(spec, dict) else {}


def token_request(store, signer, namespace: str, name: str, body) -> dict:
    """POST .../serviceaccounts/NAME/token (pkg/registry/core/serviceaccount/storage/token.go)."""
    account = store.get_resource(_SA, namespace, name)
    if account is None:
        raise _errors.not_found(_SA, name)
    spec = _spec(body)
    seconds = spec.get("expirationSeconds")
    seconds = DEFAULT_TOKEN_SECONDS if seconds is None else seconds
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise _errors.bad_request("TokenRequest in version \"v1\" cannot be handled as a TokenRequest: "
                                  "json: cannot unmarshal into Go struct field TokenRequestSpec.spec.expirationSeconds "
                                  "of type int64")
    # pkg/apis/authentication/validation ValidateTokenRequest.
    if seconds < MIN_TOKEN_SECONDS:
        raise Invalid("TokenRequest", name, [{"reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                                              "message": f"Invalid value: {seconds}: may not specify a duration "
                                                         "less than 10 minutes"}])
    if seconds > MAX_TOKEN_SECONDS:
        raise Invalid("TokenRequest", name, [{"reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                                              "message": f"Invalid value: {seconds}: may not specify a duration "
                                                         "larger than 2^32 seconds"}])
    audiences = [a for a in spec.get("audiences") or [] if isinstance(a, str)] or list(signer.audiences)
    bound = spec.get("boundObjectRef")
    pod = None
    if isinstance(bound, dict) and bound:
        if bound.get("kind") != "Pod":
            raise _errors.bad_request(f'cannot bind token for serviceaccount "{name}" to object of type '
                                      f'{bound.get("apiVersion", "")}, Kind={bound.get("kind", "")}')
        pod = store.get_resource(_PODS, namespace, bound.get("name", ""))
        if pod is None:
            raise _errors.not_found(_PODS, bound.get("name", ""))
        if bound.get("uid") and bound["uid"] != pod["metadata"]["uid"]:
            raise _errors.ApiError(409, "Conflict", f'the UID in the bound object reference ({bound["uid"]}) does '
                                   f'not match the UID in record. The object might have been deleted and then '
                                   f'recreated', {"name": name, "kind": "serviceaccounts"})
    now = store.clock.time()
    node_name = ((pod or {}).get("spec") or {}).get("nodeName")
    node = store.get_resource(_NODES, None, node_name) if node_name else None
    token = signer.issue(account, now=now, seconds=seconds, audiences=audiences, bound_pod=pod, node=node)
    bound_ref = None
    if pod is not None:
        bound_ref = {"kind": "Pod", "apiVersion": "v1", "name": pod["metadata"]["name"],
                     "uid": pod["metadata"]["uid"]}
    expires = dt.datetime.fromtimestamp(int(now) + seconds, dt.timezone.utc)
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": rfc3339(store.clock.now())},
            "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": bound_ref},
            "status": {"token": token, "expirationTimestamp": rfc3339(expires)}}


def self_subject_review(user: UserInfo) -> dict:
    return {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": user.as_dict()}}


def _attributes(spec: dict) -> tuple[dict | None, dict | None, list[dict]]:
    """(resourceAttributes, nonResourceAttributes, field errors): exactly one must be set
    (pkg/apis/authorization/validation ValidateSubjectAccessReviewSpec; nil prints "null")."""
    res, nonres = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    errors = []
    if res is not None and nonres is not None or res is None and nonres is None:
        both = res is not None
        shown = json.dumps(nonres, separators=(",", ":")) if both else "null"
        errors.append({
            "reason": "FieldValueInvalid",
            "field": "spec.nonResourceAttributes" if both else "spec.resourceAttributes",
            "message": f"Invalid value: {_goquote(shown) if not both else shown}: " + (
                "cannot be specified in combination with resourceAttributes" if both else
                "exactly one of nonResourceAttributes or resourceAttributes must be specified")})
    return ((res if isinstance(res, dict) else {}) if res is not None else None,
            (nonres if isinstance(nonres, dict) else {}) if nonres is not None else None, errors)


def _invalid(kind: str, errors: list[dict]) -> None:
    if errors:
        raise Invalid(kind, "", errors, group="authorization.k8s.io")


def _decide(store, user: UserInfo, res: dict | None, nonres: dict | None) -> dict:
    """authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom, then the
    authorizer: the review's status (RBAC never denies outright, so no `denied`)."""
    if res is not None:
        attrs = Attributes(user, res.get("verb", ""), True, namespace=res.get("namespace", ""),
                           api_group=res.get("group", ""), api_version=res.get("version", ""),
                           resource=res.get("resource", ""), subresource=res.get("subresource", ""),
                           name=res.get("name", ""))
    else:
        attrs = Attributes(user, nonres.get("verb", ""), False, path=nonres.get("path", ""))
    allowed, reason = _rbac.authorize(store, attrs)
    status: dict = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return status


def self_subject_access_review(store, user: UserInfo, body) -> dict:
    spec = _spec(body)
    res, nonres, errors = _attributes(spec)
    _invalid("SelfSubjectAccessReview", errors)
    return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": _decide(store, user, res, nonres)}


def subject_access_review(store, body, namespace: str | None) -> dict:
    """POST subjectaccessreviews, or localsubjectaccessreviews in `namespace`: the decision for
    the user the spec describes (user, groups, uid, extra, as sent: no group is added)
    (pkg/registry/authorization/{subjectaccessreview,localsubjectaccessreview}/rest.go)."""
    kind = "LocalSubjectAccessReview" if namespace is not None else "SubjectAccessReview"
    spec = _spec(body)
    res, nonres, errors = _attributes(spec)
    groups = [g for g in spec.get("groups") or [] if isinstance(g, str)]
    if not spec.get("user") and not groups:
        errors.append({"reason": "FieldValueInvalid", "field": "spec.user",
                       "message": f'Invalid value: {_goquote(str(spec.get("user") or ""))}: at least one of user '
                                  "or group must be specified"})
    meta: dict = {"creationTimestamp": None}
    if namespace is not None:
        # ValidateLocalSubjectAccessReview: the review is about its own namespace only.
        if res is not None and res.get("namespace", "") != namespace:
            errors.append({"reason": "FieldValueInvalid", "field": "spec.resourceAttributes.namespace",
                           "message": f'Invalid value: {_goquote(str(res.get("namespace", "")))}: must match '
                                      "metadata.namespace"})
        if nonres is not None:
            errors.append({"reason": "FieldValueInvalid", "field": "spec.nonResourceAttributes",
                           "message": f"Invalid value: {json.dumps(nonres, separators=(',', ':'))}: disallowed "
                                      "on this kind of request"})
        meta = {"namespace": namespace, "creationTimestamp": None}
    _invalid(kind, errors)
    sent = spec.get("extra") if isinstance(spec.get("extra"), dict) else {}
    extra = {k: tuple(v) for k, v in sent.items() if isinstance(v, list)}
    subject = UserInfo(str(spec.get("user") or ""), tuple(groups), uid=str(spec.get("uid") or ""), extra=extra)
    return {"kind": kind, "apiVersion": "authorization.k8s.io/v1", "metadata": meta, "spec": spec,
            "status": _decide(store, subject, res, nonres)}


def self_subject_rules_review(store, user: UserInfo, body) -> dict:
    spec = _spec(body)
    namespace = spec.get("namespace", "")
    resource_rules, url_rules, errors = _rbac.rules_for(store, user, namespace)
    status: dict = {"resourceRules": resource_rules, "nonResourceRules": url_rules, "incomplete": bool(errors)}
    if errors:
        status["evaluationError"] = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
