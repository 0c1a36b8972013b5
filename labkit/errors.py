"""labkit's errors: one hierarchy that carries the Kubernetes Status and chains the cause.

Every call into the cluster goes through `translate`, so the kubernetes client's and
urllib3's exceptions never reach a learner raw; the original stays on `__cause__`.

>>> try:
...     lab.exec("no-such-pod", "true")
... except labkit.errors.NotFound as e:
...     print(e.reason, e.message)
NotFound pods "no-such-pod" not found
"""
from __future__ import annotations

import json

__all__ = ["LabkitError", "NotFound", "AlreadyExists", "Conflict", "Invalid", "Forbidden",
           "Unauthorized", "BadRequest", "PodNotRunning", "ServerError", "ConnectionFailed",
           "ExecFailed", "Timeout", "NamespaceNotAllowed", "translate", "from_status"]


class LabkitError(Exception):
    """Root of labkit's errors. `.status` is the Kubernetes Status dict when there is one."""

    def __init__(self, message: str, *, status: dict | None = None, reason: str | None = None,
                 code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason or (status or {}).get("reason") or type(self).__name__
        self.code = code if code is not None else (status or {}).get("code")

    def __str__(self) -> str:
        # kubectl's wording: `Error from server (NotFound): pods "x" not found`
        if self.status is not None:
            return f"Error from server ({self.reason}): {self.message}"
        return self.message


class NotFound(LabkitError):
    """404: the object (or its namespace) does not exist."""


class AlreadyExists(LabkitError):
    """409 AlreadyExists: create of a name that is taken."""


class Conflict(LabkitError):
    """409 Conflict: the object changed since it was read (stale resourceVersion)."""


class Invalid(LabkitError):
    """422 Invalid: the object fails validation; `.causes` lists (field, message)."""

    @property
    def causes(self) -> list[tuple[str, str]]:
        details = (self.status or {}).get("details") or {}
        return [(c.get("field", ""), c.get("message", "")) for c in details.get("causes") or []]


class Forbidden(LabkitError):
    """403: RBAC or admission refused the request."""


class Unauthorized(LabkitError):
    """401: the credentials in the kubeconfig were not accepted."""


class BadRequest(LabkitError):
    """400: the request itself is malformed (e.g. an unknown field, a bad selector)."""


class PodNotRunning(BadRequest):
    """400 from exec: the pod is not scheduled yet, its container has not started, or it has
    completed. The message is the server's (kubectl's for a completed pod); `.hint` says
    what to do, and `str()` shows both.

    >>> lab.exec("client", "hostname")      # right after apply
    PodNotRunning: unable to upgrade connection: container not found ("client")
    wait until it is ready: lab.wait("pod", "client")
    """

    def __init__(self, message: str, *, hint: str = "", **kw) -> None:
        super().__init__(message, **kw)
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ServerError(LabkitError):
    """5xx: the API server failed."""


class ConnectionFailed(LabkitError):
    """The API server could not be reached (refused, TLS, DNS, reset)."""


class ExecFailed(LabkitError):
    """A command in a pod exited non-zero (raised by `ExecResult.check()`)."""

    def __init__(self, message: str, *, result=None, **kw) -> None:
        super().__init__(message, **kw)
        self.result = result


class Timeout(LabkitError):
    """A wait, exec or request did not finish in time."""


class NamespaceNotAllowed(LabkitError):
    """The namespace lies outside this lab's workshop mapping."""


_BY_CODE = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 422: Invalid}


def _class_for(code: int | None, reason: str | None) -> type[LabkitError]:
    # Reason first where one code has two meanings (409), as apimachinery's errors.go does.
    if reason == "AlreadyExists":
        return AlreadyExists
    if code == 409:
        return Conflict
    if reason in ("Timeout", "ServerTimeout") or code == 504:
        return Timeout
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code is not None and code >= 500:
        return ServerError
    return LabkitError


def from_status(code: int, body: str | bytes | None, fallback_reason: str = "") -> LabkitError:
    """The labkit error for an HTTP error answer (a Status body when the server sent one)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    status = None
    try:
        parsed = json.loads(body or "")
        if isinstance(parsed, dict) and parsed.get("kind") == "Status":
            status = parsed
    except ValueError:
        pass
    if status is not None:
        reason = status.get("reason") or fallback_reason
        return _class_for(status.get("code", code), reason)(status.get("message") or reason,
                                                          status=status, reason=reason, code=code)
    text = (body or "").strip() or fallback_reason or f"HTTP {code}"
    return _class_for(code, None)(text, reason=fallback_reason or None, code=code)


def translate(exc: BaseException, server: str = "") -> LabkitError:
    """The labkit error for any exception the client stack raises. Use `raise translate(e) from e`."""
    if isinstance(exc, LabkitError):
        return exc
    where = f" at {server}" if server else ""
    try:
        from kubernetes.client.exceptions import ApiException
    except ImportError:                                    # pragma: no cover
        ApiException = ()
    if ApiException and isinstance(exc, ApiException):
        if exc.status:
            return from_status(exc.status, exc.body, exc.reason or "")
        # status 0: the exec WebSocket handshake or the transport failed before HTTP.
        reason = str(exc.reason or exc)
        if "Handshake status" in reason:
            return _from_handshake(exc, reason)
        return ConnectionFailed(f"cannot reach the API server{where}: {reason}")
    import urllib3.exceptions as u3
    if isinstance(exc, (u3.TimeoutError, TimeoutError)):
        return Timeout(f"the API server{where} did not answer in time: {_root(exc)}")
    if isinstance(exc, (u3.HTTPError, OSError)) or type(exc).__module__.startswith("websocket"):
        return ConnectionFailed(f"cannot reach the API server{where}: {_root(exc)}")
    return LabkitError(f"{type(exc).__name__}: {exc}")


def _from_handshake(exc: BaseException, reason: str) -> LabkitError:
    """The error for a refused exec WebSocket upgrade, from the Status the server sent.

    The client folds websocket-client's WebSocketBadStatusException into one string,
    `Handshake status 400 Bad Request -+-+- {headers} -+-+- {body}`; the original, with
    the status code and body apart, stays on the exception's context when there is one.
    """
    cause: BaseException | None = exc
    while cause is not None and getattr(cause, "status_code", None) is None:
        cause = cause.__cause__ or cause.__context__
    rest = reason.partition("Handshake status")[2]
    words = rest.split(" -+-+- ", 1)[0].split()
    code = getattr(cause, "status_code", None) or (int(words[0]) if words and words[0].isdigit() else 0)
    status_line = " ".join(words[1:]) or f"HTTP {code}"
    body = getattr(cause, "resp_body", None) if cause is not None else None
    if body is None and reason.count(" -+-+- ") >= 2:
        tail = reason.rsplit(" -+-+- ", 1)[1]
        body = None if tail == "None" else tail
    return from_status(code, body, status_line)


def _root(exc: BaseException) -> str:
    """The innermost reason urllib3 wraps (MaxRetryError -> NewConnectionError -> refused)."""
    reason = getattr(exc, "reason", None)
    while isinstance(reason, BaseException) and getattr(reason, "reason", None) is not None \
            and reason is not getattr(reason, "reason"):
        reason = reason.reason
    text = str(reason if isinstance(reason, BaseException) else exc)
    if "Connection refused" in text:
        return "connection refused"
    return text
