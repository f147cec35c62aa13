"""The period a report covers: a day, a run of days, a week or a month, in the repository's
timezone, from midnight to midnight (a daylight-saving day is 23 or 25 hours long)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import NamedTuple

from casectl.errors import CasectlError
from casectl.i18n import _


class Period(NamedTuple):
    label: str  # 2026-11-26, 2026-11-23..2026-11-26, 2026-W48, 2026-11
    start: datetime
    end: datetime  # exclusive


def choose(
    now: datetime,
    zone: tzinfo,
    day: date | None = None,
    first: date | None = None,
    last: date | None = None,
    week: bool = False,
    month: bool = False,
) -> Period:
    """By default yesterday; `day` that day; `first`..`last` those days; `week` or `month`
    the ISO week or the month holding `day` (default yesterday)."""
    if (first is None) != (last is None):
        raise CasectlError(_("give --from and --to together"))
    if first is not None and last is not None:
        if day is not None or week or month:
            raise CasectlError(_("--from/--to cannot be combined with --date, --week or --month"))
        if last < first:
            raise CasectlError(
                _("--to {last} is before --from {first}").format(last=last, first=first)
            )
        return _days(f"{first}..{last}" if last != first else str(first), first, last, zone)
    if week and month:
        raise CasectlError(_("give --week or --month, not both"))
    pivot = day or (now.astimezone(zone).date() - timedelta(days=1))
    if week:
        monday = pivot - timedelta(days=pivot.weekday())
        year, number, _day = monday.isocalendar()
        return _days(f"{year}-W{number:02d}", monday, monday + timedelta(days=6), zone)
    if month:
        after = (pivot.replace(day=28) + timedelta(days=4)).replace(day=1)
        return _days(f"{pivot:%Y-%m}", pivot.replace(day=1), after - timedelta(days=1), zone)
    return _days(str(pivot), pivot, pivot, zone)


def _days(label: str, first: date, last: date, zone: tzinfo) -> Period:
    return Period(label, midnight(first, zone), midnight(last + timedelta(days=1), zone))


def midnight(day: date, zone: tzinfo) -> datetime:
    """The day's first instant in the zone (a midnight skipped by the clock: the next hour)."""
    from datetime import timezone

    wall = datetime(day.year, day.month, day.day, tzinfo=zone)
    return wall.astimezone(timezone.utc).astimezone(zone)
