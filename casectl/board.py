"""`casectl board`: the open cases, most urgent first, as a terminal frame or a web page.

Reads only the index's open summaries (a warm run parses no case file): each case's
next deadline, when it falls due and who owes it. The frame fits a terminal's width and
height; the page refreshes itself (meta refresh, no script) and each sweep rewrites it
where git config `casectl.board-html` names it (`cli/board.py`).
"""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from casectl import terminal
from casectl.config import Config
from casectl.deadlines import state_of
from casectl.i18n import _
from casectl.index import Summary

TEMPLATE = os.path.join(os.path.dirname(__file__), "board.html")


class Board(NamedTuple):
    """The open cases' summaries, most urgent first, as of `now`."""

    cases: list[tuple]  # the index's plain summaries: a `Summary` is made of those shown
    dues: list[float]  # the cases' next deadlines in order (the cases with one come first)
    now: datetime
    moment: float  # `now` in epoch seconds
    soon: float  # seconds: a deadline this close is due soon

    def state(self, s: Summary) -> str | None:
        """missed, due soon or pending; None without a next deadline."""
        return state_of(False, s.next_at, self.moment, self.soon) if s.next_step else None

    def missed(self) -> int:
        """How many cases have missed their next deadline: the first ones."""
        return bisect_right(self.dues, self.moment)

    def counts(self) -> dict[str, int]:
        soon = bisect_right(self.dues, self.moment + self.soon) - self.missed()
        return {"open": len(self.cases), "missed": self.missed(), "soon": soon}


def gather(summaries: Iterable[tuple], now: datetime, soon: float) -> Board:
    """The cases by time to their next deadline (the longest missed at the top), ties by
    severity; those without a next deadline last. Plain summary tuples in (`Index.
    open_summaries`): a frame makes a `Summary` of the few it shows."""
    timed: list[tuple] = []
    untimed: list[tuple] = []
    for s in summaries:
        (untimed if s[_NEXT_AT] is None else timed).append(s)
    timed.sort(key=_URGENCY)  # C-level keys: 10,000 cases sort in a few milliseconds
    untimed.sort(key=_RANK)
    dues = [s[_NEXT_AT] for s in timed]
    return Board(timed + untimed, dues, now, now.timestamp(), soon)


_FIELDS = Summary._fields
_NEXT_AT = _FIELDS.index("next_at")
_URGENCY = itemgetter(*(_FIELDS.index(k) for k in ("next_at", "severity", "id")))
_RANK = itemgetter(*(_FIELDS.index(k) for k in ("severity", "id")))


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


def title(board: Board) -> str:
    return _("{time} · {open} open · {missed} missed · {soon} due soon").format(
        time=board.now.strftime("%Y-%m-%d %H:%M"), **board.counts()
    )


def document(board: Board, cfg: Config) -> dict[str, Any]:
    """`board --json`: the counts, and every case in the board's order with its next
    deadline (the index's English label), when it is due, its state, who owes it, and
    `left`, the seconds to go (negative once missed)."""
    counts = board.counts()
    return {
        "now": board.now.isoformat(), "open": counts["open"], "missed": counts["missed"],
        "due_soon": counts["soon"],
        "cases": [
            {"id": s.id, "severity": s.severity, "customer": s.customer, "assignee": s.assignee,
             "next": s.next_step,
             "due": datetime.fromtimestamp(s.next_at, cfg.zone).isoformat() if s.next_at else None,
             "left": round(s.next_at - board.moment) if s.next_at is not None else None,
             "state": board.state(s), "owner": s.next_owner, "inquiry": s.inquiry}
            for s in map(Summary._make, board.cases)
        ],
    }  # fmt: skip


def step_label(step: str | None) -> str:
    """The next deadline in words, without the engineer the `owes` column names."""
    from casectl.render import deadline_label

    if not step:
        return "-"
    if step.startswith("callback by "):
        return _("callback")
    return deadline_label(step)


def person(cfg: Config, person_id: str | None) -> str:
    """A name people read; an engineer no longer in the roster shows as `? id`."""
    if not person_id:
        return "-"
    found = cfg.person(person_id)
    return found.name if found else f"? {person_id}"


def cells(found: list[Summary], cfg: Config, moment: datetime) -> list[list[str]]:
    """Each case's due in, sev, case, customer, next step, owes, due, assignee. What many
    share (a deadline's words, a person's name, a due minute) is worked out once."""
    now = moment.timestamp()
    steps = {step: step_label(step) for step in {r.next_step for r in found}}
    people = {
        who: person(cfg, who) for who in {w for r in found for w in (r.next_owner, r.assignee)}
    }
    kinds = {
        kind: _(" [{kind} inquiry]").format(kind=_(kind))
        for kind in {r.inquiry for r in found}
        if kind
    }
    times: dict[float, str] = {}
    out = []
    for r in found:
        due = "-"
        if r.next_at is not None:
            due = times.get(r.next_at) or times.setdefault(
                r.next_at, terminal.short_time(datetime.fromtimestamp(r.next_at, cfg.zone), moment)
            )
        out.append([countdown(r.next_at, now), str(r.severity or "-"),
                    r.id + kinds.get(r.inquiry or "", ""), terminal.one_line(r.customer),
                    steps[r.next_step], people[r.next_owner], due, people[r.assignee]])  # fmt: skip
    return out


def headers() -> list[str]:
    return [_("due in"), _("sev"), _("case"), _("customer"), _("next step"), _("owes"),
            _("due"), _("assignee")]  # fmt: skip


OPTIONAL = [4, 6, 7]  # next step, due, assignee: dropped, widest first, when space runs out
CUSTOMER = 3
# each column's class on the page: numbers aligned right, a customer cut with an
# ellipsis, and the optional columns, which a phone's narrow screen leaves out
CLASSES = ["n", "", "", "who", "opt", "", "opt", "opt"]


def frame(
    board: Board,
    cfg: Config,
    width: int,
    height: int | None,
    colour: bool,
    broken: int = 0,
) -> str:
    """The board in `width` columns and at most `height` lines (None: every case); a last
    line says when `broken` case files could not be read (their cases are not shown)."""
    found, now = board.cases, board.now
    top = terminal.cut(terminal.safe(title(board)), width)
    warning = [terminal.cut(unreadable(broken), width)] if broken else []
    if colour and warning:
        warning = [terminal.paint(warning[0], "missed")]
    if not found:
        return "\n".join([top, "", _("no open cases"), *warning])
    room = len(found) if height is None else max(height - 3 - len(warning), 1)
    shown = [
        Summary._make(s) for s in (found if len(found) <= room else found[: max(room - 1, 1)])
    ]  # and "N more"
    table = [[terminal.safe(c) for c in row] for row in cells(shown, cfg, now)]
    names = headers()
    keep = terminal.fit(table, names, width, OPTIONAL, CUSTOMER)
    lines = terminal.grid([[r[i] for i in keep] for r in table], [names[i] for i in keep],
                          "r" if keep[0] == 0 else "")  # fmt: skip
    if terminal.columns(lines[1]) > width:  # the rule under the header: the table's width
        lines = [terminal.cut(line, width) for line in lines]
    if colour:
        lines[2:] = [
            terminal.paint(line, board.state(s)) for line, s in zip(lines[2:], shown, strict=True)
        ]
    out = [top, *lines]
    if len(shown) < len(found):
        hidden = found[len(shown) :]
        more = _("{count} more, {missed} of them missed").format(
            count=len(hidden), missed=max(board.missed() - len(shown), 0)
        )
        out.append(terminal.cut(more, width))
    return "\n".join(out + warning)


def unreadable(broken: int) -> str:
    if broken == 1:
        return _("1 case file could not be read and is not shown; `casectl check` names it")
    return _("{count} case files could not be read and are not shown; `casectl check` "
             "names them").format(count=broken)  # fmt: skip


def page(board: Board, cfg: Config, refresh: int, broken: int = 0) -> str:
    """The board as one HTML page that reloads itself every `refresh` seconds: no script,
    no external address; every value autoescaped."""
    import jinja2

    from casectl import i18n

    states = {"missed": "missed", "due soon": "soon", "paused": "paused"}
    found, now = [Summary._make(s) for s in board.cases], board.now
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
        title=title(board),
        refresh=refresh,
        headers=headers(),
        classes=CLASSES,
        rows=[
            (states.get(board.state(s) or "", ""), row)
            for s, row in zip(found, cells(found, cfg, now), strict=True)
        ],
        empty=_("no open cases"),
        warning=unreadable(broken) if broken else "",
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
