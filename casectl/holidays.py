"""Holiday data of the calendars: filled per year from a maintained source, and its gaps.

The generated lists live in their own file that severity.yaml names
(`calendars.NAME.holiday_file`), one block per year, so writing them never
touches severity.yaml and its comments, and each year's change reads well in
`git diff`. The source is the `chinese_calendar` package (`casectl[cn]`), which
follows the State Council's yearly notice of public holidays and make-up workdays.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from typing import Any

from casectl.calendars import Calendar
from casectl.config import Config
from casectl.errors import CasectlError
from casectl.i18n import _

HEADER = (
    "# Public holidays and the weekend days worked in their place (make-up workdays),\n"
    "# one block per year, from the State Council's yearly notice as the chinese_calendar\n"
    "# package carries it. Written by `casectl calendar holidays --year YYYY`, which\n"
    "# replaces only that year's block: review it with `git diff`, then commit it.\n"
)
_YEAR_LINE = re.compile(r"^(\d{4}):", re.MULTILINE)


def has_holiday_data(calendar: Calendar, year: int) -> bool:
    """Whether `year`'s working time on this calendar can be trusted: it lists holidays or
    make-up workdays in that year, or keeps none in any year (24x7, or no holidays at all)."""
    days = calendar.holidays | calendar.workdays
    return not days or any(day.year == year for day in days)


def holiday_gaps(cfg: Config, now: datetime) -> list[str]:
    """From December 1: each calendar with holidays for this year but none for the next."""
    today = now.astimezone(cfg.zone).date()
    if today.month != 12:
        return []
    return [
        f"calendar {c.name} has holidays for {today.year} but none for {today.year + 1}: "
        f"run casectl calendar holidays --year {today.year + 1} --calendar {c.name}"
        for c in cfg.calendars.values()
        if _years(c) and today.year in _years(c) and not has_holiday_data(c, today.year + 1)
    ]


def missing_year(calendar: Calendar, year: int) -> str:
    """What to do about a calendar with no holiday data for `year`: both ways, the package
    (where it knows the year) and typing the State Council's notice by hand."""
    return _(
        "calendar {name} has holidays for {years} but none for {year}: run casectl calendar "
        "holidays --year {year} --calendar {name} where chinese_calendar knows {year} (pip "
        "install -U chinesecalendar), or type the State Council's notice into {file} by hand, a "
        "block like `{year}: {{holidays: [{year}-01-01, {year}-01-02], workdays: "
        "[{year}-02-07]}}`"
    ).format(
        name=calendar.name, years=", ".join(map(str, sorted(_years(calendar)))), year=year,
        file=calendar.holiday_file or "severity.yaml",
    )  # fmt: skip


def _years(calendar: Calendar) -> set[int]:
    return {day.year for day in calendar.holidays | calendar.workdays}


def fill(cfg: Config, name: str, year: int) -> str:
    """Write `year`'s holidays and make-up workdays into the file the calendar names.

    Nothing is written when the source does not know the year. Returns what was done.
    """
    path = _holiday_file(cfg, name)
    off, worked = chinese_holidays(year)
    old = _read(path)
    new = replace_year(old, year, render_year(year, off, worked))
    counts = _("{holidays} holidays, {workdays} make-up workdays").format(
        holidays=len(off), workdays=len(worked)
    )
    relative = os.path.relpath(path, cfg.root)
    if new == old:
        return _("{file}: {year} unchanged ({counts})").format(
            file=relative, year=year, counts=counts
        )
    _write(path, new)
    return _("{file}: {year} written ({counts}); review it with git diff, then commit it").format(
        file=relative, year=year, counts=counts
    )


def _holiday_file(cfg: Config, name: str) -> str:
    calendar = cfg.calendars.get(name)
    if calendar is None:
        known = ", ".join(n for n, c in cfg.calendars.items() if not c.always)
        raise CasectlError(
            _("no calendar {name!r} in severity.yaml; calendars with hours: {known}").format(
                name=name, known=known)
        )  # fmt: skip
    if calendar.always:
        raise CasectlError(_("calendar {name!r} is 24x7: it has no holidays").format(name=name))
    if calendar.holiday_file is None:
        raise CasectlError(
            _("severity.yaml: calendars.{name}: names no holiday_file; add "
              "`holiday_file: holidays-cn.yaml` under it (the file may start empty)").format(
                name=name)
        )  # fmt: skip
    return os.path.join(cfg.root, calendar.holiday_file)


def chinese_holidays(year: int) -> tuple[dict[date, str], dict[date, str]]:
    """China's holidays and make-up workdays of `year`, each with the holiday's name."""
    try:
        import chinese_calendar
    except ImportError:
        raise CasectlError(
            _("calendar holidays needs the chinese_calendar package: pip install chinesecalendar "
              "(the casectl[cn] extra)")
        ) from None  # fmt: skip
    known = {day.year for day in chinese_calendar.holidays}
    if year not in known:
        version = getattr(chinese_calendar, "__version__", "")
        raise CasectlError(
            _("chinese_calendar {version} knows no holidays for {year} (it knows {first}-{last}); "
              "the State Council publishes each year's in the autumn before: "
              "pip install -U chinesecalendar").format(
                version=version, year=year, first=min(known), last=max(known))
        )  # fmt: skip

    def named(days: dict[date, str]) -> dict[date, str]:
        return {
            day: _name(chinese_calendar, what) for day, what in days.items() if day.year == year
        }

    return named(chinese_calendar.holidays), named(chinese_calendar.workdays)


def _name(module: Any, english: str) -> str:
    try:
        return f"{module.Holiday(english).chinese} {english}"
    except (ValueError, AttributeError):
        return english


def render_year(year: int, off: dict[date, str], worked: dict[date, str]) -> str:
    """One year's block, one date a line, each with the holiday it belongs to."""
    lines = [f"{year}:"]
    for key, days in (("holidays", off), ("workdays", worked)):
        lines.append(f"  {key}:" if days else f"  {key}: []")
        lines += [f"  - {day.isoformat()}  # {days[day]}" for day in sorted(days)]
    return "\n".join(lines) + "\n"


def replace_year(text: str, year: int, block: str) -> str:
    """`text` with `year`'s block replaced or inserted in year order; the rest kept as is."""
    if not text.strip():
        return HEADER + block
    starts = [(int(m.group(1)), m.start()) for m in _YEAR_LINE.finditer(text)]
    for i, (found, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
        if found == year:
            return text[:start] + block + text[end:]
        if found > year:
            return text[:start] + block + text[start:]
    return text + ("" if text.endswith("\n") else "\n") + block


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as err:
        raise CasectlError(
            _("{name}: cannot read: {reason}").format(name=os.path.basename(path), reason=err)
        ) from None


def _write(path: str, text: str) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
