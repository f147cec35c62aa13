"""`casectl board`: the open cases, most urgent first, as a terminal frame or a web page.

Reads only the index's open summaries (a warm run parses no case file): each case's
next deadline, when it falls due and who owes it. The frame fits a terminal's width and
height; the page refreshes itself (meta refresh, no script) and each sweep rewrites it
where git config `casectl.board-html` names it (`SETTING`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from casectl import terminal
from casectl.config import Config
from casectl.deadlines import state_of
from casectl.i18n import _
from casectl.index import Summary

SETTING = "casectl.board-html"  # the page each sweep rewrites, in this clone's git config
TEMPLATE = os.path.join(os.path.dirname(__file__), "board.html")


class Row(NamedTuple):
    """One open case on the board."""

    id: str
    severity: int
    customer: str
    assignee: str | None
    step: str | None  # the next deadline's label as the index keeps it (English)
    due: float | None  # when it falls due, in epoch seconds
    owner: str | None  # who owes it
    state: str | None  # missed, due soon, pending; None without a next deadline
    inquiry: str | None


def rows(summaries: Iterable[Summary], now: float, soon: float) -> list[Row]:
    """The cases by time to their next deadline (missed first, the longest missed at the
    top); those without one last; ties by severity."""
    found = [
        Row(s.id, s.severity, s.customer, s.assignee, s.next_step, s.next_at, s.next_owner,
            state_of(False, s.next_at, now, soon) if s.next_step else None, s.inquiry)
        for s in summaries
    ]  # fmt: skip
    found.sort(key=lambda r: (r.due is None, r.due or 0.0, r.severity, r.id))
    return found


def countdown(due: float | None, now: float) -> str:
    """Time left to `due`, `-` and how late once missed: 12m, 1h05m, 2d03h, -25m."""
    if due is None:
        return "-"
    left = due - now
    if left <= 0:
        return "-" + _short(int(-left // 60))
    return _short(math.ceil(left / 60))


def _short(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def counts(found: list[Row]) -> dict[str, int]:
    return {
        "open": len(found),
        "missed": sum(r.state == "missed" for r in found),
        "soon": sum(r.state == "due soon" for r in found),
    }


def title(found: list[Row], now: datetime) -> str:
    return _("{time} · {open} open · {missed} missed · {soon} due soon").format(
        time=now.strftime("%Y-%m-%d %H:%M"), **counts(found)
    )


def step_label(row: Row) -> str:
    """The next deadline in words, without the engineer the `owes` column names."""
    from casectl.render import deadline_label

    if not row.step:
        return "-"
    if row.step.startswith("callback by "):
        return _("callback")
    return deadline_label(row.step)


def person(cfg: Config, person_id: str | None) -> str:
    """A name people read; an engineer no longer in the roster shows as `? id`."""
    if not person_id:
        return "-"
    found = cfg.person(person_id)
    return found.name if found else f"? {person_id}"


def cells(row: Row, cfg: Config, moment: datetime) -> list[str]:
    """due in, sev, case, customer, next step, owes, due, assignee."""
    due = terminal.short_time(datetime.fromtimestamp(row.due, cfg.zone), moment) if row.due else "-"
    case = row.id + (_(" [{kind} inquiry]").format(kind=_(row.inquiry)) if row.inquiry else "")
    customer = " ".join(row.customer.split())  # one line per case
    left = countdown(row.due, moment.timestamp())
    return [left, str(row.severity or "-"), case, customer, step_label(row),
            person(cfg, row.owner), due, person(cfg, row.assignee)]  # fmt: skip


def headers() -> list[str]:
    return [_("due in"), _("sev"), _("case"), _("customer"), _("next step"), _("owes"),
            _("due"), _("assignee")]  # fmt: skip


OPTIONAL = [4, 6, 7]  # next step, due, assignee: dropped, widest first, when space runs out
CUSTOMER = 3
# each column's class on the page: numbers aligned right, a customer cut with an
# ellipsis, and the optional columns, which a phone's narrow screen leaves out
CLASSES = ["n", "", "", "who", "opt", "", "opt", "opt"]


def frame(
    found: list[Row], cfg: Config, now: datetime, width: int, height: int | None, colour: bool
) -> str:
    """The board in `width` columns and at most `height` lines (None: every case)."""
    top = terminal.cut(terminal.safe(title(found, now)), width)
    if not found:
        return "\n".join([top, "", _("no open cases")])
    room = len(found) if height is None else max(height - 3, 1)  # title, header, rule
    shown = found if len(found) <= room else found[: max(room - 1, 1)]  # and "N more"
    table = [[terminal.safe(c) for c in cells(r, cfg, now)] for r in shown]
    names = headers()
    keep = terminal.fit(table, names, width, OPTIONAL, CUSTOMER)
    lines = terminal.grid([[r[i] for i in keep] for r in table], [names[i] for i in keep],
                          "r" if keep[0] == 0 else "")  # fmt: skip
    lines = [terminal.cut(line, width) for line in lines]
    if colour:
        lines[2:] = [
            terminal.paint(line, r.state) for line, r in zip(lines[2:], shown, strict=True)
        ]
    out = [top, *lines]
    if len(shown) < len(found):
        hidden = found[len(shown) :]
        more = _("{count} more, {missed} of them missed").format(
            count=len(hidden), missed=sum(r.state == "missed" for r in hidden)
        )
        out.append(terminal.cut(more, width))
    return "\n".join(out)


def page(found: list[Row], cfg: Config, now: datetime, refresh: int) -> str:
    """The board as one HTML page that reloads itself every `refresh` seconds: no script,
    no external address; every value autoescaped."""
    import jinja2

    from casectl import i18n

    states = {"missed": "missed", "due soon": "soon", "paused": "paused"}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.dirname(TEMPLATE)),
        autoescape=True,  # customer names are untrusted text: never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template(os.path.basename(TEMPLATE)).render(
        lang="zh-CN" if i18n.current() == "zh_CN" else "en",
        heading=_("Open cases"),
        title=title(found, now),
        refresh=refresh,
        headers=headers(),
        classes=CLASSES,
        rows=[(states.get(r.state or "", ""), cells(r, cfg, now)) for r in found],
        empty=_("no open cases"),
        note=_("Written {time}; the countdowns are as of then.").format(
            time=now.strftime("%Y-%m-%d %H:%M")
        ),
    )


def write_page(path: str, text: str) -> None:
    """Write the page whole, then swap it in: a web server never serves half of it."""
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(temporary, 0o644)  # served by a web server running as another user
        os.replace(temporary, path)
    except OSError:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
