"""`casectl list`: select cases by status, person, severity, customer and deadline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from casectl import render
from casectl.config import Config
from casectl.deadlines import state_of
from casectl.i18n import Nc_, _, pgettext
from casectl.index import Index, Summary
from casectl.index.summary import UNMET
from casectl.model import suggest

STATE = Nc_("list column", "state")  # the next deadline's, beside the case's status


class Filter(NamedTuple):
    status: str  # open, closed, all
    assignee: str | None = None
    severity: int | None = None
    customer: str | None = None
    overdue: bool = False
    due_within: timedelta | None = None
    inquiries: bool = False  # only calls from callers without a contract
    mine: str | None = None  # only cases assigned to this person or whose next step they owe

    def keeps(self, s: Summary, now: float) -> bool:
        if self.inquiries and not s.inquiry:
            return False
        if self.mine and self.mine not in (s.assignee, s.next_owner):
            return False
        if self.assignee and s.assignee != self.assignee:
            return False
        if self.severity is not None and s.severity != self.severity:
            return False
        if self.customer and self.customer.casefold() not in s.customer.casefold():
            return False
        if self.overdue and not (s.unmet and s.unmet[0] <= now):
            return False
        window = self.due_within
        return window is None or any(now <= at <= now + window.total_seconds() for at in s.unmet)


class Selection(NamedTuple):
    found: list[tuple[str, Summary]]  # (status, summary) of the cases shown, newest first
    total: int  # how many cases match
    broken: list[str]  # why each unreadable case file could not be read
    warning: str | None  # open cases left with engineers no longer in the roster


def select(cfg: Config, index: Index, wanted: Filter, now: datetime, limit: int = 0) -> Selection:
    """The newest `limit` (0: all) cases `wanted` keeps. Without a filter only the days and
    months holding the newest cases are read."""
    warning = orphans(index) if wanted.status in ("open", "all") else None
    broken = index.broken  # every unreadable file under cases/, open or closed
    moment = now.timestamp()
    if limit and wanted == Filter(wanted.status):
        found, total = index.newest(wanted.status, limit)
        return Selection(found, total, broken, warning)
    counts = _counts(wanted, index, moment) if limit and wanted.status == "open" else None
    if counts is not None:
        known = _overdue(index, counts, moment) if wanted.overdue else None
        keeps = lambda s: wanted.keeps(s, moment)  # noqa: E731
        found, total = index.newest("open", limit, keeps, counts, known)
        return Selection(found, total, broken, warning)
    every: list[tuple[str, Summary]] = []
    if wanted.status in ("open", "all"):
        every += [("open", s) for s in index.summaries().values()]
    if wanted.status in ("closed", "all"):
        every += [("closed", s) for s in index.closed()]
    kept = [(status, s) for status, s in every if wanted.keeps(s, moment)]
    kept.sort(key=lambda pair: (pair[1].opened_at, pair[1].id), reverse=True)
    return Selection(kept[:limit] if limit else kept, len(kept), broken, warning)


def _counts(wanted: Filter, index: Index, now: float) -> dict[str, int] | None:
    """How many open cases of each day `wanted` keeps, from the days' notes alone: when it
    filters by one of assignee, severity, mine, inquiries, customer, overdue or
    due-within (else None: the summaries are read)."""
    given = [f for f, v in wanted._asdict().items() if f != "status" and v not in (None, False)]
    if len(given) != 1:
        return None
    notes = index.notes()
    field = given[0]
    if field == "assignee":
        return {d: n.loads.get(wanted.assignee, 0) for d, n in notes.items()}  # type: ignore[arg-type]
    if field == "severity":
        return {d: n.severities.get(wanted.severity, 0) for d, n in notes.items()}  # type: ignore[arg-type]
    if field == "mine":
        return {d: n.involved.get(wanted.mine, 0) for d, n in notes.items()}  # type: ignore[arg-type]
    if field == "inquiries":
        return {d: n.inquiries for d, n in notes.items()}
    if field == "customer":
        tables = {d: n.customers for d, n in notes.items()}
        typed = (wanted.customer or "").casefold()
        matched: dict[str, int] = {}
        for d, table in tables.items():
            if table is None:
                return None  # a day of more customers than its note counts
            matched[d] = sum(n for name, n in table.items() if typed in name.casefold())
        return matched
    if field in ("overdue", "due_within"):
        from array import array
        from bisect import bisect_left, bisect_right

        every = {d: index.deadlines(d) for d in notes}
        if field == "overdue":
            return {d: bisect_right(array("d", side.first), now) for d, side in every.items()}
        until = now + wanted.due_within.total_seconds()  # type: ignore[union-attr]
        counts = {}
        for d, side in every.items():  # the cases with a deadline in [now, until]
            dues = array("d", side.every)
            cases = array("I", side.cases)[bisect_left(dues, now) : bisect_right(dues, until)]
            counts[d] = len(set(cases))
        return counts
    return None


def _overdue(index: Index, counts: dict[str, int], now: float) -> dict[str, list[tuple]]:
    """The summaries of every overdue case of the days whose overdue cases are all among
    those kept whole beside their first unmet deadlines: those days are not read."""
    known = {}
    for day, count in counts.items():
        due = [s for s in index.deadlines(day).earliest if s[UNMET][0] <= now]
        if len(due) == count:
            known[day] = due
    return known


def assignee_id(cfg: Config, index: Index, typed: str) -> str:
    """The roster id typed (case-blind), or the id of a removed engineer still holding cases."""
    wanted = typed.casefold()
    known = [p.id for p in cfg.people] + list(index.loads())
    found = next((i for i in known if i.casefold() == wanted), None)
    if found is None:
        raise ValueError(
            _("{typed!r} is not in roster.yaml{suggestion}").format(
                typed=typed, suggestion=suggest(cfg, typed)
            )
        )
    return found


def rows(selected: list[tuple[str, Summary]], cfg: Config, now: datetime) -> list[dict]:
    soon = cfg.due_soon.total_seconds()
    return [_row(status, s, now.timestamp(), soon, cfg.zone) for status, s in selected]


def _row(status: str, s: Summary, now: float, soon: float, zone: Any) -> dict[str, Any]:
    due = datetime.fromtimestamp(s.next_at, zone).isoformat() if s.next_at is not None else None
    return {
        "id": s.id, "status": status, "severity": s.severity, "customer": s.customer,
        "assignee": s.assignee, "opened_at": s.opened_at, "next": s.next_step, "due": due,
        "state": state_of(False, s.next_at, now, soon) if s.next_step else None,
        "owner": s.next_owner, "inquiry": s.inquiry,
    }  # fmt: skip


def render_rows(found: list[dict], as_json: bool, people: frozenset[str] = frozenset()) -> str:
    """JSON, or a table where an engineer no longer among `people` shows as `? id`. The
    table is laid out by the terminal's own `grid`, as on a screen: tabulate's import and
    its width measuring cost more than reading the cases at a busy center (issue 29)."""
    if as_json:
        return render.to_json(found)
    if not found:
        return ""
    from casectl.terminal import grid, safe

    def who(person_id: str | None) -> str:
        return "" if not person_id else person_id if person_id in people else f"? {person_id}"

    table = [
        [
            r["id"]
            + (_(" [{kind} inquiry]").format(kind=_(r["inquiry"])) if r.get("inquiry") else ""),
            _(r["status"]),
            str(r["severity"] or "-"),
            r["customer"],
            who(r["assignee"]) or "-",
            (r["opened_at"] or "")[:16].replace("T", " "),
            f"{_next(r['next'])} {(r['due'] or '')[5:16].replace('T', ' ')} {_(r['state'])}"
            if r["next"]
            else "-",
            who(r["owner"]),
        ]
        for r in found
    ]
    headers = [_("case"), _("status"), _("sev"), _("customer"), _("assignee"), _("opened"),
               _("next deadline"), _("owes")]  # fmt: skip
    return "\n".join(grid([[safe(c) for c in row] for row in table], headers))


def screen(
    found: list[dict], people: frozenset[str], now: datetime, width: int | None, colour: bool
) -> str:
    """The rows for a terminal: one line each, times short, fitted to `width` columns
    (None: every column, whole), coloured by the next deadline's state when `colour`.
    Cells are escaped here (the colours must not be)."""
    from casectl.terminal import fit, grid, one_line, paint, safe, short_time

    def who(person_id: str | None) -> str:
        return "-" if not person_id else person_id if person_id in people else f"? {person_id}"

    def at(text: str | None) -> str:
        return short_time(datetime.fromisoformat(text), now) if text else "-"

    mixed = len({r["status"] for r in found}) > 1
    headers = [_("case"), _("status"), _("sev"), _("customer"), _("assignee"), _("opened"),
               _("next deadline"), _("due"), pgettext("list column", STATE),
               _("owes")]  # fmt: skip
    table = [
        [safe(c) for c in (
            r["id"] + (_(" [{kind} inquiry]").format(kind=_(r["inquiry"])) if r.get("inquiry")
                       else ""),
            _(r["status"]), str(r["severity"] or "-"), one_line(r["customer"]),
            who(r["assignee"]), at(r["opened_at"]), _next(r["next"]) if r["next"] else "-",
            at(r["due"]) if r["next"] else "-", _(r["state"]) if r["state"] else "-",
            who(r["owner"]),
        )]
        for r in found
    ]  # fmt: skip
    shown = [i for i in range(len(headers)) if i != 1 or mixed]  # status: only when mixed
    table = [[row[i] for i in shown] for row in table]
    headers = [headers[i] for i in shown]
    keep = list(range(len(shown)))
    if width is not None:
        optional = [shown.index(i) for i in (1, 4, 5, 6) if i in shown]  # status, assignee,
        keep = fit(table, headers, width, optional, shown.index(3))  # opened, next deadline
    lines = grid([[row[i] for i in keep] for row in table], [headers[i] for i in keep])
    if colour:
        lines[2:] = [paint(line, r["state"]) for line, r in zip(lines[2:], found, strict=True)]
    return "\n".join(lines)


def _next(label: str) -> str:
    """The index's English label of the next deadline, for people."""
    return render.deadline_label(label)


def orphans(index: Index) -> str | None:
    """One warning line naming open cases assigned to engineers no longer in the roster."""
    lost: dict[str, list[str]] = {}
    for who, case_id in index.orphans:
        lost.setdefault(who, []).append(case_id)
    if not lost:
        return None
    named = "; ".join(f"{who}: {_some(sorted(ids))}" for who, ids in sorted(lost.items()))
    cases = sum(map(len, lost.values()))
    text = (
        _("warning: {count} open case assigned to engineers no longer in roster.yaml "
          "({named}); assign them to someone")
        if cases == 1
        else _("warning: {count} open cases assigned to engineers no longer in roster.yaml "
               "({named}); assign them to someone")
    )  # fmt: skip
    return text.format(count=cases, named=named)


def _some(ids: list[str], shown: int = 3) -> str:
    more = _(" and {count} more").format(count=len(ids) - shown) if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more
