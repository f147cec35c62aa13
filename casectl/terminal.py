"""Text for a terminal: control characters in other people's text are shown, never run."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

# C0 but newline and tab, DEL, and C1: ESC starts sequences that clear the screen,
# retitle the window or rewrite what was printed; CR and backspace overwrite a line
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """`text` on one line: newlines and tabs (which `safe` keeps) as spaces."""
    return text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")


def safe(text: str) -> str:
    """`text` with each control character written out as `\\x1b`; JSON output skips this."""
    return _CONTROL.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


# --- laying text out in a terminal: display width, colour ----------------------------

ELLIPSIS = "…"
# what each deadline state looks like on a colour terminal (click.style's arguments)
STYLES: dict[str, dict[str, object]] = {
    "missed": {"fg": "red", "bold": True},
    "due soon": {"fg": "yellow"},  # amber on most palettes
    "paused": {"dim": True},
}


def columns(text: str) -> int:
    """How many terminal columns `text` takes: a Chinese character takes two."""
    if text.isascii():
        return len(text)
    return _wide_columns(text)


@lru_cache(maxsize=4096)  # a long list or board shows the same customers and names again
def _wide_columns(text: str) -> int:
    from wcwidth import wcswidth

    return max(wcswidth(text), len(text))


def pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns."""
    return text + " " * (width - columns(text))


def cut(text: str, width: int) -> str:
    """`text` in at most `width` columns: cut with an ellipsis where it is longer (a wide
    character is never split in half)."""
    if columns(text) <= width:
        return text
    if width <= 0:
        return ""
    from wcwidth import wcwidth

    kept, used = [], 0
    for char in text:
        wide = max(wcwidth(char), 1)
        if used + wide > width - 1:
            break
        kept.append(char)
        used += wide
    return "".join(kept) + ELLIPSIS


def short_time(at: datetime | None, now: datetime) -> str:
    """`14:20` on `now`'s day, `11-27 09:00` another day, `2027-01-04 09:00` another year
    (in `at`'s own zone)."""
    if at is None:
        return "-"
    today = now.astimezone(at.tzinfo)
    if at.date() == today.date():
        return at.strftime("%H:%M")
    return at.strftime("%m-%d %H:%M" if at.year == today.year else "%Y-%m-%d %H:%M")


def colour_wanted(stream: object) -> bool:
    """Colour for a terminal only: never with NO_COLOR set (no-color.org), nor into a pipe
    or a file (click.echo would strip it there anyway)."""
    import os

    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(line: str, state: str | None) -> str:
    """`line` in the colour of a deadline state (missed red, due soon amber, paused dim)."""
    style = STYLES.get(state or "")
    if not style:
        return line
    import click

    return click.style(line, **style)  # type: ignore[arg-type]


def grid(rows: list[list[str]], headers: list[str], aligns: str = "") -> list[str]:
    """Rows in columns two spaces apart, a header and a rule under it, each cell padded by
    display width; `aligns` gives `r` for a column aligned right. The caller escapes the
    cells (`safe`) before measuring them."""
    cells = [headers, *rows]
    widths = [max(columns(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        out = []
        for i, cell in enumerate(row):
            gap = " " * (widths[i] - columns(cell))
            out.append(gap + cell if aligns[i : i + 1] == "r" else cell + gap)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(cells[0]), rule, *(line(row) for row in cells[1:])]


def fit(
    rows: list[list[str]],
    headers: list[str],
    width: int,
    optional: list[int],
    cuttable: int,
    longest: int = 24,
) -> list[int]:
    """Which columns to keep so the rows fit in `width` terminal columns: the widest
    `optional` columns are dropped one by one until the rest fit beside column `cuttable`
    (the customer) cut to `longest`; that column then gets all the room left, its text
    cut with an ellipsis where longer (never below 4 columns). Returns the kept columns'
    indexes; cuts `rows` in place."""
    keep = list(range(len(headers)))
    widths = [max(columns(r[i]) for r in [headers, *rows]) for i in keep]
    natural = widths.__getitem__

    def others() -> int:
        return sum(natural(i) for i in keep if i != cuttable) + 2 * (len(keep) - 1)

    full, least = natural(cuttable), max(columns(headers[cuttable]), 4)
    for i in sorted(optional, key=natural, reverse=True):
        if others() + min(full, max(longest, least)) <= width:
            break
        keep.remove(i)
    room = max(width - others(), least)
    if full > room:
        for row in rows:
            row[cuttable] = cut(row[cuttable], room)
    return keep
