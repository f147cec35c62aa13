"""Working-time calendars: add working time to an instant, and measure it between two.

A calendar is either 24x7 (every moment counts) or working hours per weekday in an
IANA timezone, less holidays, plus make-up workdays. Working hours are wall-clock
intervals, half-open `[start, end)`, mapped to real instants day by day, so a
daylight-saving change shortens or lengthens that day's working time; durations
themselves are real elapsed time. A local time that does not exist (the hour
skipped in spring) reads as the same wall time in the offset before the change,
which moves it later by the shift; an ambiguous one is its first occurrence.
Time two of a day's intervals cover after that is counted once (issue 9).

Instants come back with a fixed UTC offset (see `fixed`).

Conventions (see docs/rules.md, "Deadlines"): a duration that ends exactly at the end of
a working period ends there, not at the start of the next period; adding zero
returns the start unchanged; working time between a later start and an earlier
end is zero.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from casectl.errors import ConfigError
from casectl.i18n import _
from casectl.records import Record

Interval = tuple[int, int]  # minutes after local midnight, [start, end), end <= 1440
ZERO = timedelta(0)
_SEARCH_DAYS = 5 * 366  # a calendar with no working time this long is a mistake
_FIXED: dict[timedelta, timezone] = {}  # one tzinfo per UTC offset
# (calendar, local date) -> that day's working periods
_PERIODS: dict[tuple[Any, date], list[tuple[datetime, datetime]]] = {}


class Calendar(Record):
    name: str
    zone: tzinfo
    always: bool = False  # 24x7: every instant is working time
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7  # Monday first
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up workdays, worked with `makeup_hours`
    makeup_hours: tuple[Interval, ...] = ()
    holiday_file: str | None = None  # where `casectl calendar holidays` writes its dates

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of one local date, as UTC instants in time order."""
        key = (self, day)
        cached = _PERIODS.get(key)
        if cached is None:
            cached = _PERIODS[key] = self._periods(day)
        return cached

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """Resolved, sorted and merged: an interval ending in a skipped hour ends that much
        later and may reach into the next one; the time both cover is counted once."""
        if day in self.holidays:
            return []
        hours = self.makeup_hours if day in self.workdays else self.week[day.weekday()]
        resolved = sorted((self._instant(day, a), self._instant(day, b)) for a, b in hours)
        merged: list[tuple[datetime, datetime]] = []
        for begin, finish in resolved:
            if begin >= finish:  # began in a skipped hour, moved past its own end
                continue
            if merged and begin < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
            else:
                merged.append((begin, finish))
        return merged

    def _instant(self, day: date, minute: int) -> datetime:
        if minute >= 1440:
            day, minute = day + timedelta(days=1), minute - 1440
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(timezone.utc)

    def is_working(self, at: datetime) -> bool:
        if self.always:
            return True
        at = at.astimezone(timezone.utc)
        return any(a <= at < b for a, b in self.periods(self._local_day(at)))

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of working time has passed since `start`."""
        cursor, left = start.astimezone(timezone.utc), amount
        if self.always or amount <= ZERO:  # in UTC: same-zone `+` would add wall-clock time
            return fixed(cursor + amount if self.always else start, self.zone)
        day = self._local_day(cursor)
        for _day in range(_SEARCH_DAYS):
            for begin, end in self.periods(day):
                if end <= cursor:
                    continue
                begin = max(begin, cursor)
                if left <= end - begin:
                    return fixed(begin + left, self.zone)
                left -= end - begin
            day += timedelta(days=1)
        raise ConfigError(  # severity.yaml's mistake, not a bug: one line, exit 1
            _(
                "severity.yaml: calendar {name} has no working time in the {years} years after {at}"
            ).format(name=repr(self.name), years=_SEARCH_DAYS // 366, at=start.isoformat())
        )

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in `[start, end)`; zero when end is not after start."""
        if end <= start:
            return ZERO
        start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
        if self.always:
            return end - start
        total, day, last = ZERO, self._local_day(start), self._local_day(end)
        while day <= last:
            for begin, finish in self.periods(day):
                overlap = min(finish, end) - max(begin, start)
                if overlap > ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total

    def _local_day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()


def fixed(at: datetime, zone: tzinfo) -> datetime:
    """`at` in `zone`, with the offset fixed: aware datetimes sharing one ZoneInfo compare
    by wall time and ignore `fold`, so 02:00 CET would sort before 02:45 CEST."""
    local = at.astimezone(zone)
    offset = local.utcoffset()
    fixed_zone = _FIXED.get(offset)  # type: ignore[arg-type]
    if fixed_zone is None:
        fixed_zone = _FIXED[offset] = timezone(offset)  # type: ignore[index,arg-type]
    return local.replace(tzinfo=fixed_zone)


def parse_hours(spans: list[list[str]] | list[str]) -> tuple[Interval, ...]:
    """`[["09:00", "12:00"], ["13:00", "18:00"]]` or `["09:00-12:00"]` as minute intervals.

    Raises ValueError naming what was expected.
    """
    result = []
    for span in spans:
        pair = span.split("-") if isinstance(span, str) else span
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(
                _("expected an interval such as 09:00-18:00, got {span}").format(span=repr(span))
            )
        start, end = (_minutes(str(p).strip()) for p in pair)
        if start >= end:
            raise ValueError(_("interval {span} ends before it starts").format(span=repr(span)))
        result.append((start, end))
    result.sort()
    for (_start, end), (start, _end) in zip(result, result[1:], strict=False):
        if start < end:
            raise ValueError(_("intervals overlap in {spans}").format(spans=repr(spans)))
    return tuple(result)


def _minutes(text: str) -> int:
    hours, sep, minutes = text.partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
        value = int(hours) * 60 + int(minutes)
        if int(minutes) < 60 and value <= 1440:
            return value
    raise ValueError(
        _("expected a time HH:MM from 00:00 to 24:00, got {text}").format(text=repr(text))
    )
