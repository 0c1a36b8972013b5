"""Field errors in apimachinery's wording, and the 422 `Invalid` they add up to.

`_Errors` is field.ErrorList with builders named after field.Required, field.Invalid...
(staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go); the `_go*`
helpers print a bad value the way Go's fmt does, as those messages quote it.
`Invalid.status()` is the body kube-apiserver sends (api/errors.NewInvalid).
"""
from __future__ import annotations

_GROUPS = {"Deployment": "apps", "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps",
           "EndpointSlice": "discovery.k8s.io", "Scale": "autoscaling",
           "Job": "batch", "CronJob": "batch",
           "NetworkPolicy": "networking.k8s.io",
           "Role": "rbac.authorization.k8s.io", "ClusterRole": "rbac.authorization.k8s.io",
           "RoleBinding": "rbac.authorization.k8s.io", "ClusterRoleBinding": "rbac.authorization.k8s.io",
           "TokenRequest": "authentication.k8s.io"}


# --- errors ---------------------------------------------------------------------------

class Invalid(Exception):
    """A 422 Invalid: the object failed validation, with one cause per field error."""

    def __init__(self, kind: str, name: str, causes: list[dict], *, group: str | None = None):
        self.kind, self.name, self.causes = kind, name or "", list(causes)
        self.group = _GROUPS.get(kind, "") if group is None else group
        super().__init__(self.message)

    @property
    def message(self) -> str:
        qualified = f"{self.kind}.{self.group}" if self.group else self.kind
        # field.ErrorList.ToAggregate drops repeated messages; one error prints bare.
        seen: list[str] = []
        for c in self.causes:
            text = f"{c['field']}: {c['message']}" if c.get("field") else c["message"]
            if text not in seen:
                seen.append(text)
        if not seen:
            return f'{qualified} "{self.name}" is invalid'
        joined = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
        return f'{qualified} "{self.name}" is invalid: {joined}'

    def status(self) -> dict:
        details: dict = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        details["kind"] = self.kind
        if self.causes:
            details["causes"] = [dict(c) for c in self.causes]
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": "Invalid", "details": details, "code": 422}


class _Go(str):
    """A value already rendered the way Go's fmt prints it (%#v, String())."""


def _goquote(s: str) -> str:
    """strconv.Quote / %q."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def _go(value) -> str:
    """How field.Error.ErrorBody prints a bad value."""
    if isinstance(value, _Go):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return _goquote(value)
    if isinstance(value, dict):
        return _gomap(value)
    if isinstance(value, list):
        return _goslice(value)
    return _goquote(str(value))


def _gomap(d: dict | None) -> _Go:
    """%#v of a map[string]string: keys sorted, `"k":"v"` joined by ", "."""
    if d is None:
        return _Go("map[string]string(nil)")
    return _Go("map[string]string{" + ", ".join(
        f"{_goquote(str(k))}:{_goquote(str(v))}" for k, v in sorted(d.items())) + "}")


def _goslice(items: list | None, typ: str = "string") -> _Go:
    """%#v of a []string."""
    if items is None:
        return _Go(f"[]{typ}(nil)")
    return _Go(f"[]{typ}{{" + ", ".join(_goquote(str(i)) for i in items) + "}")


class _Errors:
    """field.ErrorList: builders named after apimachinery's field.Required, field.Invalid..."""

    def __init__(self) -> None:
        self.causes: list[dict] = []

    def __bool__(self) -> bool:
        return bool(self.causes)

    def _add(self, reason: str, path: str, message: str) -> None:
        self.causes.append({"reason": reason, "message": message, "field": path})

    @staticmethod
    def _detail(body: str, detail: str) -> str:
        return f"{body}: {detail}" if detail else body

    def required(self, path: str, detail: str = "") -> None:
        self._add("FieldValueRequired", path, self._detail("Required value", detail))

    def invalid(self, path: str, value, detail: str) -> None:
        self._add("FieldValueInvalid", path, self._detail(f"Invalid value: {_go(value)}", detail))

    def not_supported(self, path: str, value, valid: list[str]) -> None:
        detail = "supported values: " + ", ".join(_goquote(v) for v in valid) if valid else ""
        self._add("FieldValueNotSupported", path, self._detail(f"Unsupported value: {_go(value)}", detail))

    def duplicate(self, path: str, value) -> None:
        self._add("FieldValueDuplicate", path, f"Duplicate value: {_go(value)}")

    def forbidden(self, path: str, detail: str) -> None:
        self._add("FieldValueForbidden", path, self._detail("Forbidden", detail))

    def not_found(self, path: str, value) -> None:
        self._add("FieldValueNotFound", path, f"Not found: {_go(value)}")

    def too_long(self, path: str, max_length: int) -> None:
        self._add("FieldValueTooLong", path, f"Too long: must have at most {max_length} bytes")
