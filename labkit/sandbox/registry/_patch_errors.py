"""How the API server refuses a patch: `PatchError` with the Status reason, code and
message it would send (handlers/patch.go, interpretStrategicMergePatchError), and Go's way
of printing JSON values inside those messages."""
from __future__ import annotations

from decimal import Decimal

_CODES = {"BadRequest": 400, "NotFound": 404, "Conflict": 409, "UnsupportedMediaType": 415,
          "Invalid": 422, "RequestEntityTooLarge": 413, "": 500}


class PatchError(ValueError):
    """A patch the API server would refuse.

    ``reason`` is the Status reason ("BadRequest", "Invalid",
    "UnsupportedMediaType", "Conflict", "NotFound", or "" for the 500 the
    apiserver sends on errors it does not classify), ``code`` the HTTP status,
    ``message`` the Status message, ``detail`` extra text for logs (the real
    server hides it, e.g. why a JSON patch failed).
    """

    def __init__(self, reason: str, message: str, code: int | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.code = code if code is not None else _CODES.get(reason, 500)
        self.detail = detail


def _bad_request(message: str) -> PatchError:
    return PatchError("BadRequest", message)


def _internal(message: str) -> PatchError:
    # Unclassified errors become a 500 with reason "" (StatusReasonUnknown).
    return PatchError("", message, 500)


# The 422 the apiserver sends for any JSON patch that fails to apply
# (NewGenericServerResponse hides the underlying error).
_JSON_PATCH_FAILED = "the server rejected our request due to an error in our request"


# --------------------------------------------------------------------------
# Helpers mirroring Go's JSON types and fmt output (used in messages).

def _jtype(v) -> str:
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "float64"  # all JSON numbers decode to float64 in Go
    if isinstance(v, str):
        return "string"
    return "nil"


def _same(a, b) -> bool:
    return _jtype(a) == _jtype(b) and a == b


def _gofmt(v, int64s: bool = False) -> str:
    """Go's %v of a decoded JSON value (map keys sorted, as fmt prints them). Numbers are
    float64s, as encoding/json decodes them into interface{}; with `int64s`, integers that
    fit an int64 stay integers, as apimachinery's util/json decodes them."""
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_gofmt(v[k], int64s)}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_gofmt(x, int64s) for x in v) + "]"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if int64s and isinstance(v, int) and -2 ** 63 <= v < 2 ** 63:
        return str(v)
    if isinstance(v, (int, float)):
        return _gofloat(float(v))
    return str(v)


def _gofloat(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form from 1e+06."""
    if f == 0:
        return "0"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    e10 = len(ds) + exp - 1
    neg = "-" if sign else ""
    if e10 < -4 or e10 >= 6:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    return neg + format(Decimal(repr(abs(f))).normalize(), "f")


def _go_json_type(v) -> str:
    """How encoding/json names a JSON value in an unmarshal error."""
    return {"map": "object", "slice": "array", "bool": "bool", "float64": "number",
            "string": "string", "nil": "null"}[_jtype(v)]
