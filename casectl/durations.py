"""Durations as written in severity.yaml: `45m`, `1h30m`, `2d`, or ISO 8601 `PT45M`."""

import re
from datetime import timedelta

from casectl.i18n import _

_SHORT = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_ISO = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
LONGEST = timedelta(days=365)  # no limit or window runs longer: a typo, or an overflow


def parse_duration(text: str) -> timedelta:
    """Parse a duration of at most LONGEST; raise ValueError naming what is accepted."""
    text = text.strip()
    match = _SHORT.fullmatch(text) or _ISO.fullmatch(text.upper())
    if not text or not match or not any(match.groups()) or text.upper().endswith("T"):
        raise ValueError(
            _("expected a duration such as 45m, 1h30m, 2d or PT45M, got {text}").format(
                text=repr(text)
            )
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds  # exact: no float, no overflow
    if total > LONGEST.total_seconds():
        raise ValueError(
            _("expected a duration of at most one year (365d), got {text}").format(text=repr(text))
        )
    return timedelta(seconds=total)
