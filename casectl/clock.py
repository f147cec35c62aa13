"""The current time (honouring CASECTL_NOW) and times typed on the command line."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo

from casectl.calendars import fixed
from casectl.errors import CasectlError


def now(zone: tzinfo) -> datetime:
    """Read once per run: CASECTL_NOW if set (simulations, tests), else the clock."""
    given = os.environ.get("CASECTL_NOW")
    if given:
        return parse_time(given, zone, None, what="CASECTL_NOW")
    return fixed(datetime.now(zone), zone).replace(microsecond=0)


def parse_time(text: str, zone: tzinfo, today: datetime | None, what: str = "time") -> datetime:
    """ISO 8601, `2026-11-26 14:05`, `14:05` (today) or anything dateutil reads.

    A time without a zone is in the repository's timezone.
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = _dateutil(text, today, what)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return fixed(parsed, zone).replace(microsecond=0)


def _dateutil(text: str, today: datetime | None, what: str) -> datetime:
    from dateutil import parser  # only for the rare forms fromisoformat does not read

    default = (today or datetime.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        return parser.parse(text, default=default.replace(tzinfo=None))
    except (ValueError, OverflowError):
        raise CasectlError(
            f"{what}: cannot read {text!r} as a time (try 2026-11-26 14:05)"
        ) from None
