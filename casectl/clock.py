"""The current time (honouring CASECTL_NOW) and times typed on the command line."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone, tzinfo

from casectl.calendars import fixed
from casectl.errors import CasectlError
from casectl.i18n import _

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 1, 1)  # times accepted: [first, last)
SKEW = timedelta(minutes=2)  # how far a step's --at may run ahead of now: clocks differ
_OFFSETS = (timedelta(hours=-12), timedelta(hours=14))  # the UTC offsets zones use


def now(zone: tzinfo) -> datetime:
    """Read once per run: CASECTL_NOW if set (simulations, tests), else the clock."""
    given = os.environ.get("CASECTL_NOW")
    if given:
        return parse_time(given, zone, None, what="CASECTL_NOW")
    return fixed(datetime.now(zone), zone).replace(microsecond=0)


def parse_time(text: str, zone: tzinfo, today: datetime | None, what: str = "time") -> datetime:
    """ISO 8601, `2026-11-26 14:05`, `14:05` (today) or anything dateutil reads.

    A time without a zone is in the repository's timezone, and must exist there
    once: a wall time the clocks skip is refused, and one they repeat needs an offset.
    Only times from 2000-01-01 to 2100-01-01 are accepted.
    """
    return _parse(text, zone, today, what)[0]


def step_time(text: str, zone: tzinfo, now: datetime) -> datetime:
    """When a step happened (`--at`): never later than now, give or take SKEW.

    A time of day without a date is its most recent past occurrence: at 00:10,
    `23:50` is last night.
    """
    at, dated = _parse(text, zone, now, "--at")
    if not dated and at > now + SKEW:
        at = _parse(text, zone, now - timedelta(days=1), "--at")[0]
    if at > now + SKEW:
        raise CasectlError(
            _("--at: {at} is in the future (now is {now}); a step is recorded when it happened, "
              "give or take {minutes} minutes of clock skew").format(
                at=_shown(at), now=_shown(now), minutes=SKEW.seconds // 60)
        )  # fmt: skip
    return at


def _shown(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _parse(text: str, zone: tzinfo, today: datetime | None, what: str) -> tuple[datetime, bool]:
    """The time, and whether the text gave its date."""
    try:
        parsed, dated = datetime.fromisoformat(text.strip()), True
    except ValueError:
        parsed, dated = _dateutil(text, today, what)
    _check_range(parsed, text, what)
    local = fixed(_in_zone(parsed, zone, text, what), zone)
    if not FIRST_DAY <= local.date() < LAST_DAY:
        raise _outside(text, what)
    return local.replace(microsecond=0), dated


def _check_range(parsed: datetime, text: str, what: str) -> None:
    """Before any arithmetic: a year far off, or an offset no zone has, would overflow."""
    if not FIRST_DAY.year <= parsed.year <= LAST_DAY.year:
        raise _outside(text, what)
    try:
        offset = parsed.utcoffset()
        unheard_of = offset is not None and not _OFFSETS[0] <= offset <= _OFFSETS[1]
    except ValueError:  # dateutil builds a tzinfo of +25:00, and only using it fails
        unheard_of = True
    if unheard_of:
        raise CasectlError(
            _("{what}: {text!r} has a UTC offset no timezone uses; expected -12:00 to "
              "+14:00").format(what=what, text=text)
        )  # fmt: skip


def _outside(text: str, what: str) -> CasectlError:
    return CasectlError(
        _("{what}: {text!r} is outside the times casectl accepts ({first} to {last})").format(
            what=what, text=text, first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
    )  # fmt: skip


def _in_zone(parsed: datetime, zone: tzinfo, text: str, what: str) -> datetime:
    """A wall time without an offset in `zone`, refused if it is skipped or repeated there."""
    if parsed.tzinfo is not None:
        return parsed
    first, second = parsed.replace(tzinfo=zone), parsed.replace(tzinfo=zone, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if before == after or before is None or after is None:
        return first
    name = getattr(zone, "key", str(zone))
    shown = _shown(parsed)
    if before < after:  # fold=0 reads a skipped time with the offset before the change
        start, end = _gap(parsed, zone, before, after)
        raise CasectlError(
            _("{what}: {time} does not exist in {zone}: the clocks skip from {start} to {end} "
              "on {day}").format(what=what, time=shown, zone=name, start=start, end=end,
                                 day=parsed.date().isoformat())
        )  # fmt: skip
    raise CasectlError(
        _("{what}: {time} happens twice in {zone}; give its offset: {first} (the first) or "
          "{second} (the second)").format(
            what=what, time=shown, zone=name, first=first.isoformat(timespec="minutes"),
            second=second.astimezone(timezone(after)).isoformat(timespec="minutes"))
    )  # fmt: skip


def _gap(wall: datetime, zone: tzinfo, before: timedelta, after: timedelta) -> tuple[str, str]:
    """The wall times the clocks skip around `wall`, as `HH:MM` from and to."""
    instant = (wall - after).replace(tzinfo=timezone.utc)  # at or before the change
    for _minute in range(int((after - before).total_seconds() // 60)):  # changes fall on minutes
        if instant.astimezone(zone).utcoffset() == after:
            break
        instant += timedelta(minutes=1)
    return (instant + before).strftime("%H:%M"), (instant + after).strftime("%H:%M")


def _dateutil(text: str, today: datetime | None, what: str) -> tuple[datetime, bool]:
    from dateutil import parser  # only for the rare forms fromisoformat does not read

    default = (today or datetime.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    default = default.replace(tzinfo=None)
    try:
        parsed = parser.parse(text, default=default)
        other = parser.parse(text, default=default + timedelta(days=1))
    except (ValueError, OverflowError):
        raise CasectlError(
            _("{what}: cannot read {text!r} as a time (try 2026-11-26 14:05)").format(
                what=what, text=text)
        ) from None  # fmt: skip
    return parsed, parsed.date() == other.date()
