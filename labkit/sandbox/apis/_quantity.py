"""resource.Quantity as kube-apiserver reads and writes it: the one owner of its grammar.

A Quantity field is decoded with Quantity.UnmarshalJSON (ParseQuantity of the value's raw
bytes) and written back with MarshalJSON, so what a client reads is the canonical form:
`0.5` comes back as "500m", "1.5Gi" as "1536Mi", "1024Mi" as "1Gi". Values round up to the
nano scale: "0.1m" is "100u" (quantity.go's comment says 1m; its code rounds to nano).
Ported from k8s.io/apimachinery pkg/api/resource (quantity.go ParseQuantity,
parseQuantityString, CanonicalizeBytes, MarshalJSON; suffix.go; amount.go and math.go for
the canonical mantissa and exponent), as of the kubernetes staging tree at
009f4971a05ddf1edc5616eab805f5b79017da08.

Two upstream quirks are kept on purpose, because a real API server shows them:
- ParseQuantity's int64 fast path keeps the string it was given when the string "looks"
  canonical (a whole multiple of 10^3k without trailing "000" and not starting with 0, or
  a binary suffix on a number that is not a multiple of 8), and MarshalJSON writes that
  string back verbatim: "1.500", "+1", "01Ki" are stored as sent
  (kubernetes/kubernetes#138165 is the open issue).
- A DecimalSI value past 10^18 whose canonical exponent has no suffix loses its suffix
  ("1000E" is written "1"): CanonicalizeBytes ignores constructBytes' ok.

The value is kept exact as a Decimal; nothing is a float, and a huge written exponent
("1e999999999") is never expanded into digits.
"""
from __future__ import annotations

import functools
import json
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_UP, Context, Decimal

# quantity.go: ParseQuantity's three errors, word for word.
FORMAT_WRONG = ("quantities must match the regular expression "
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
NUMERIC = "unable to parse numeric part of quantity"
SUFFIX = "unable to parse quantity's suffix"

DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"

# suffix.go newSuffixer: suffix -> base-10 or base-2 exponent, and back.
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX = {e: s for s, e in _DECIMAL.items()}
_BINARY_SUFFIX = {e: s for s, e in _BINARY.items()}
_DIGITS = frozenset("0123456789")
_SUFFIX_LETTERS = frozenset("eEinumkKMGTP")
_NANO = -9
_NANO_UNIT = Decimal("1E-9")
_ZERO = Decimal(0)
# Exact arithmetic whatever the length of what was written (inf.Dec is unbounded too).
_CTX = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_MAX_INT64 = 2 ** 63 - 1
_MAX_INT64_FACTORS = 18          # math.go maxInt64Factors
# Go's strings.TrimSpace set, as far as a JSON body can carry it.
_SPACE = " \t\n\r\v\f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
         "\u2028\u2029\u202f\u205f\u3000"


class QuantityError(ValueError):
    """ParseQuantity's error; `message` is its text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Quantity:
    """A parsed quantity: its exact value (a Decimal), its format, and the string
    ParseQuantity kept (`cached`) when it took the input as canonical already."""
    __slots__ = ("value", "format", "cached")

    def __init__(self, value: Decimal, fmt: str, cached: str = ""):
        self.value, self.format, self.cached = value, fmt, cached

    def __str__(self) -> str:
        """MarshalJSON's text: the kept string, else CanonicalizeBytes."""
        return self.cached or canonical_text(self)


def parse(text: str) -> Quantity:
    """ParseQuantity(text); raises QuantityError with its message."""
    if not text:
        raise QuantityError(FORMAT_WRONG)
    if text == "0":
        return Quantity(_ZERO, DECIMAL_SI, "0")
    positive, value, num, denom, suffix = _scan(text)
    if suffix in _DECIMAL:
        base, exponent, fmt = 10, _DECIMAL[suffix], DECIMAL_SI
    elif suffix in _BINARY:
        base, exponent, fmt = 2, _BINARY[suffix], BINARY_SI
    else:
        exponent = _exponent_suffix(suffix)
        if exponent is None:
            raise QuantityError(SUFFIX)
        base, fmt = 10, DECIMAL_EXPONENT

    fast = _fast_path(text, positive, num, denom, exponent, fmt)
    if fast is not None:
        return fast

    # The inf.Dec path: the number part as written (it needs a digit), the suffix folded in.
    if not any(c in _DIGITS for c in value):
        raise QuantityError(NUMERIC)
    amount = Decimal(f"{num}{denom}E{-len(denom) + (exponent if base == 10 else 0)}")
    if base == 2:
        amount = _CTX.multiply(amount, Decimal(1 << exponent))
    # Non-zero values round up (away from zero) to the nano scale: ask for some, get some.
    if amount and amount.as_tuple().exponent < _NANO:
        amount = amount.quantize(_NANO_UNIT, rounding=ROUND_UP, context=_CTX)
    if fmt == BINARY_SI and amount > _MAX_INT64:
        amount = Decimal(_MAX_INT64)               # the max is just a cap
    if fmt == BINARY_SI and 0 < amount < 1:
        fmt = DECIMAL_SI                           # no rounding to whole bytes
    return Quantity(amount if positive else -amount, fmt)


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """parseQuantityString: (positive, the number part as written, its whole digits without
    leading zeros, its fraction digits, the suffix)."""
    end, pos, positive = len(text), 0, True
    if text[0] in "+-":
        positive, pos = text[0] == "+", 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos == end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num, denom = text[start:pos] or "0", ""
    if pos == end:
        return positive, text, num, denom, ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos == end:
            return positive, text, num, denom, ""
    value, suffix_start = text[:pos], pos
    while pos < end and text[pos] in _SUFFIX_LETTERS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(FORMAT_WRONG)
    return positive, value, num, denom, text[suffix_start:]


def _exponent_suffix(suffix: str) -> int | None:
    """suffix.go interpret's last case: e/E and strconv.ParseInt(rest, 10, 64), kept as int32."""
    rest = suffix[1:]
    if len(suffix) < 2 or suffix[0] not in "eE":
        return None
    digits = rest[1:] if rest[0] in "+-" else rest
    if not digits or any(c not in _DIGITS for c in digits):
        return None
    parsed = int(rest)
    if not -2 ** 63 <= parsed < 2 ** 63:
        return None
    return ((parsed + 2 ** 31) % 2 ** 32) - 2 ** 31          # int32(parsed) wraps


def _fast_path(text: str, positive: bool, num: str, denom: str, exponent: int, fmt: str) -> Quantity | None:
    """ParseQuantity's int64 path, or None when it does not apply. It keeps the input
    string when it takes it for canonical (see the module's docstring)."""
    if fmt == BINARY_SI:
        if denom:
            return None
        # 1Mi has about 6 decimal digits of precision: exponent*3/10 - 1 is roughly it.
        precision, scale, multiplier = 15 - len(num) - int(exponent * 3 / 10) - 1, 0, 1 << exponent
    else:
        precision, scale, multiplier = _MAX_INT64_FACTORS - len(num + denom), exponent, 1
    if precision < 0:
        return None
    scale -= len(denom)
    if scale < _NANO:
        return None
    shifted = num + denom
    value = int(shifted)
    result = value * multiplier
    if result > _MAX_INT64:
        return None                               # int64Multiply overflowed
    if fmt == BINARY_SI:
        canonical = exponent % 10 == 0 and value & 7 != 0
    else:
        canonical = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
    return Quantity(Decimal(f"{result if positive else -result}E{scale}"), fmt, text if canonical else "")


def canonical_text(q: Quantity) -> str:
    """CanonicalizeBytes: the largest exponent (or suffix) that keeps the value exact, with no
    fractional digits; BinarySI falls back to DecimalSI inside (-1024, 1024) and for values
    that are not whole. Digits are handled as text, so no exponent is ever expanded."""
    value = q.value
    if not value:
        return "0"
    fmt = q.format
    if fmt == BINARY_SI:
        if -1024 < value < 1024 or value != value.to_integral_value(context=_CTX):
            fmt = DECIMAL_SI
        else:
            number, times = int(value), 0          # at most the int64 cap here
            while number % 1024 == 0:
                number //= 1024
                times += 1
            return f"{number}{_BINARY_SUFFIX.get(times * 10, '')}"
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits))
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    pad = exponent % 3                             # down to a multiple of 3 (amount.go)
    number = ("-" if sign else "") + stripped + "0" * pad
    exponent -= pad
    if fmt == DECIMAL_EXPONENT:
        return f"{number}e{exponent}" if exponent else number
    return number + _DECIMAL_SUFFIX.get(exponent, "")


def json_text(value) -> str:
    """The text Quantity.UnmarshalJSON parses for a decoded JSON value: a string without its
    quotes, a number's literal (as the official client writes it), trimmed."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"))
    return text.strip(_SPACE)


def error(value) -> str | None:
    """Quantity.UnmarshalJSON's error for a decoded JSON value, or None."""
    try:
        parse(json_text(value))
    except QuantityError as e:
        return e.message
    return None


def canonical(value):
    """What kube-apiserver writes back for a Quantity sent as `value`: its MarshalJSON
    string; a value that does not decode (or null) is returned as it is."""
    if value is None or isinstance(value, (bool, list, dict)):
        return value
    if isinstance(value, str):
        return _canonical_string(value)
    try:
        return str(parse(json_text(value)))
    except QuantityError:
        return value


@functools.lru_cache(maxsize=512)
def _canonical_string(value: str) -> str:
    """canonical() of a string: every write of a pod template repeats the same few."""
    try:
        return str(parse(value.strip(_SPACE)))
    except QuantityError:
        return value


def amount(value) -> Decimal | None:
    """The exact value of a quantity (a canonical string or anything UnmarshalJSON takes),
    or None when it does not parse: for the readers (QoS class, fit checks)."""
    if value is None or isinstance(value, (bool, list, dict)):
        return None
    try:
        return parse(json_text(value)).value
    except QuantityError:
        return None
