"""CronJob schedules as the cronjob controller reads them: robfig/cron/v3's standard
parser (five fields, names of months and days, `*`, `?`, ranges, steps, the @descriptors)
with its error wording, and the next activation after a moment (cron.SpecSchedule.Next)."""
from __future__ import annotations

import datetime as dt
import re

_MONTHS = {n: i + 1 for i, n in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {n: i for i, n in enumerate("sun mon tue wed thu fri sat".split())}
# (min, max, names) per field: minute, hour, day of month, month, day of week.
_BOUNDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS))
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@hourly": "0 * * * *"}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


class ScheduleError(ValueError):
    pass


class Schedule:
    """A parsed schedule: the sets of allowed values per field, or a fixed interval."""

    def __init__(self, fields: list[set[int]] | None, star_days: bool = False, every: float = 0.0):
        self.fields, self.star_days, self.every = fields, star_days, every

    def next(self, after: dt.datetime) -> dt.datetime | None:
        """The first activation strictly after `after` (UTC), or None within five years."""
        if self.every:
            step = max(1.0, float(int(self.every)))    # ConstantDelaySchedule rounds to whole seconds
            return after.replace(microsecond=0) + dt.timedelta(seconds=step)
        minutes, hours, doms, months, dows = self.fields
        t = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        limit = t + dt.timedelta(days=366 * 5)
        while t < limit:
            if t.month not in months:
                t = (t.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
                continue
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
                continue
            if t.hour not in hours:
                t = t.replace(minute=0) + dt.timedelta(hours=1)
                continue
            if t.minute not in minutes:
                t += dt.timedelta(minutes=1)
                continue
            return t
        return None

    def _day_matches(self, t: dt.datetime) -> bool:
        # dayMatches: with a star in either day field both must match, else either may.
        dom = t.day in self.fields[2]
        dow = (t.isoweekday() % 7) in self.fields[4]
        return dom and dow if self.star_days else dom or dow


def _int(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ScheduleError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if value < 0:
        raise ScheduleError(f"negative number ({value}) not allowed: {text}")
    return value


def _field(expr: str, low: int, high: int, names: dict) -> tuple[set[int], bool]:
    values, star = set(), False
    for part in expr.split(","):
        range_step = part.split("/")
        bounds = range_step[0].split("-")
        if bounds[0] in ("*", "?"):
            start, end, star_here = low, high, True
        else:
            star_here = False
            start = names.get(bounds[0].lower()) if bounds[0].lower() in names else _int(bounds[0])
            if len(bounds) == 1:
                end = start
            elif len(bounds) == 2:
                end = names.get(bounds[1].lower()) if bounds[1].lower() in names else _int(bounds[1])
            else:
                raise ScheduleError(f"too many hyphens: {part}")
        if len(range_step) == 1:
            step = 1
        elif len(range_step) == 2:
            step = _int(range_step[1])
            if len(bounds) == 1 and not star_here:
                end = high                       # "N/step" means "N-max/step"
            if step > 1:
                star_here = False
        else:
            raise ScheduleError(f"too many slashes: {part}")
        if start < low:
            raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {part}")
        if end > high:
            raise ScheduleError(f"end of range ({end}) above maximum ({high}): {part}")
        if start > end:
            raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {part}")
        if step == 0:
            raise ScheduleError(f"step of range should be a positive number: {part}")
        values.update(range(start, end + 1, step))
        star = star or star_here
    return values, star


def parse(spec: str) -> Schedule:
    """cron.ParseStandard."""
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith("@"):
        if spec.startswith("@every "):
            text = spec[len("@every "):]
            parts = _DURATION.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ScheduleError(f'failed to parse duration {spec}: time: invalid duration "{text}"')
            return Schedule(None, every=sum(float(n) * _UNIT[u] for n, u in parts))
        if spec not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(f, *bounds) for f, bounds in zip(fields, _BOUNDS)]
    return Schedule([p[0] for p in parsed], star_days=parsed[2][1] or parsed[4][1])


def schedule_error(spec: str) -> str | None:
    """validateScheduleFormat's message for an unusable schedule, or None."""
    if "TZ" in spec:
        return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    try:
        parse(spec)
    except ScheduleError as e:
        return str(e)
    return None
