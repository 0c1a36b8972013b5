"""Kubernetes `Status` errors, as the API server sends them."""
from __future__ import annotations


class ApiError(Exception):
    """An error the API server answers with a `kind: Status` body."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        """metav1.Status with its fields in the Go struct's order (kind, apiVersion, metadata,
        status, message, reason, details, code) and its empty ones left out (omitempty):
        no reason when there is none, no `"group": ""` for a core resource."""
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = _details(self.details)
        body["code"] = self.code
        return body


# metav1.StatusDetails' fields in declaration order; all omitempty.
_DETAIL_ORDER = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")


def _details(details: dict) -> dict:
    ordered = {k: details[k] for k in _DETAIL_ORDER if details.get(k)}
    ordered.update((k, v) for k, v in details.items() if k not in _DETAIL_ORDER)
    return ordered


def _qualified(resource) -> str:
    """`pods`, `deployments.apps`: how the API server names a resource in messages."""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def not_found(resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(resource)} "{name}" not found',
                    {"name": name, "group": resource.group, "kind": resource.plural})


def already_exists(resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(resource)} "{name}" already exists',
                    {"name": name, "group": resource.group, "kind": resource.plural})


def conflict(resource, name: str) -> ApiError:
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        {"name": name, "group": resource.group, "kind": resource.plural})


def method_not_allowed() -> ApiError:
    """No route for this method on the resource (the verb is not among those it serves)."""
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden_in_terminating_namespace(resource, name: str, namespace: str) -> ApiError:
    return ApiError(
        403, "Forbidden",
        f'{_qualified(resource)} "{name}" is forbidden: unable to create new content in namespace '
        f"{namespace} because it is being terminated",
        {"name": name, "group": resource.group, "kind": resource.plural,
         "causes": [{"reason": "NamespaceTerminating",
                     "message": f"namespace {namespace} is being terminated",
                     "field": "metadata.namespace"}]})


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                    {"name": namespace, "kind": "namespaces"})


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def internal(exc: BaseException) -> ApiError:
    """api/errors.NewInternalError: what the API server answers for an error it did not expect."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ApiError(500, "InternalError", f"Internal error occurred: {text}",
                    {"causes": [{"message": text}]})


# Reasons api/errors gives the codes a server may answer on its own (StatusReason*).
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
           413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}
