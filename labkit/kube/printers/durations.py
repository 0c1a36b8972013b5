"""Ages as kubectl prints them (k8s.io/apimachinery/pkg/util/duration)."""
from __future__ import annotations

import datetime as dt

__all__ = ["human_duration", "translate_timestamp_since", "parse_time"]

_NS = 1_000_000_000
_MINUTE = 60 * _NS
_HOUR = 60 * _MINUTE


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: ~2-3 significant figures ("45s", "3m20s", "2d3h")."""
    d = round(seconds * _NS)  # a Go time.Duration: whole nanoseconds
    secs = int(d / _NS)  # Go: int(d.Seconds()), truncated toward zero
    # Up to 2 s in the future still counts as "now" (clock skew).
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = d // _MINUTE
    if minutes < 10:
        s = (d // _NS) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _HOUR
    if hours < 8:
        m = (d // _MINUTE) % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    moment = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


def translate_timestamp_since(ts: str | None, now: dt.datetime) -> str:
    """The printer's AGE: HumanDuration(now - ts), "<unknown>" for a zero time."""
    moment = parse_time(ts)
    if moment is None:
        return "<unknown>"
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return human_duration((now - moment) / dt.timedelta(seconds=1))

