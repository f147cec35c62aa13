"""The report's numbers for one period, from the cases' facts alone: one plain structure.

Everything is judged as of the period's end (or now, for a period not over yet), from
the events before it: the report of a past period is the same whenever, and on
whichever clone, it is made. The structure is a JSON document: `period`, then sections
of tables, each table a list of rows with the same keys (`TABLES` lists them in order);
times are ISO 8601 in the repository's timezone, durations whole seconds.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from casectl.config import Config
from casectl.i18n import N_
from casectl.model import RMA_DONE
from casectl.report.facts import KINDS, Facts, Record
from casectl.report.period import Period

DAY = 86_400
LATE_SWEEP = 600  # a sweep acting more than 10 minutes after a deadline fell due ran late
LONGEST = 10  # how many of the cases open longest
AGES = (("< 1 day", DAY), ("1-3 days", 3 * DAY), ("3-7 days", 7 * DAY),
        ("7-30 days", 30 * DAY), ("> 30 days", math.inf))  # fmt: skip
COUNTS = ("opened", "closed", "reopened", "open_at_end")
STATES = ("met", "met_late", "missed")
INQUIRIES = ("price", "technical")
SHARE = (*STATES, "on_time_share")
# every table's columns, in order (the JSON keys of its rows)
COLUMNS: dict[str, tuple[str, ...]] = {
    "headline.on_time": ("kind", *SHARE),
    "headline.now": ("open_severity_1", "open_severity_2", "due_next_24h", "reassignments"),
    "lists.breaches": (
        "case",
        "customer",
        "severity",
        "kind",
        "owed_by",
        "due",
        "late_s",
        "state",
        "case_state",
    ),
    "lists.at_risk": ("case", "customer", "severity", "kind", "owner", "due", "in_s"),
    "lists.cases": (
        "case",
        "customer",
        "severity",
        "assignee",
        "opened_at",
        "closed_at",
        "resolution",
    ),
    "lists.alerts": ("case", "customer", "at", "by", "text"),
    "lists.onsite": ("case", "customer", "at", "by", "step", "engineer", "text"),
    "lists.reopens": ("case", "customer", "at", "by", "reason"),
    "lists.sales": ("case", "customer", "at", "to", "status"),
    "trend.by_day": ("day", "opened", "closed", "open_at_end"),
    "volume.totals": COUNTS,
    "volume.by_severity": ("severity", *COUNTS),
    "volume.by_engineer": ("engineer", *COUNTS),
    "volume.by_source": ("source", *COUNTS),
    "volume.by_contract": ("contract", *COUNTS),
    "volume.inquiries": ("inquiry", *COUNTS),
    "volume.open_by_age": ("age", "cases"),
    "compliance.by_kind": ("kind", *SHARE),
    "compliance.by_severity": ("severity", "kind", *SHARE),
    "compliance.by_engineer": ("engineer", "kind", *SHARE),
    "compliance.time_to": ("kind", "count", "median_s", "p90_s"),
    "events.reassignments": ("case", "at", "due", "from", "to", "sweep_late_s"),
    "events.escalations": ("case", "at", "by", "to", "reason", "customer_request"),
    "events.severity_changes": ("case", "at", "by", "from", "to", "reason", "customer_request"),
    "events.forced_closes": ("case", "at", "by", "reason", "resolution"),
    "rmas.outstanding": ("case", "rma", "part", "qty", "status", "owner", "requested_at", "age_s"),
    "rmas.delivered_not_installed": ("case", "rma", "part", "owner", "delivered_at", "waiting_s"),
    "attention.open_longest": ("case", "customer", "severity", "assignee", "opened_at", "age_s"),
    "attention.waiting": ("case", "customer", "on", "since", "for_s"),
    "attention.no_update": ("case", "customer", "assignee", "due", "late_s"),
    "checker.late_sweeps": ("at", "late_by_s", "actions"),
    "checker.withdrawn": ("case", "at", "kind", "text"),
}
# (section, table, title): the order every rendering follows
TABLES = (  # titles in English; the renderings translate them
    ("headline", "on_time", N_("On time, per deadline kind")),
    ("headline", "now", N_("Open and due as the period ends")),
    ("lists", "breaches", N_("Deadlines missed or met late")),
    ("lists", "at_risk", N_("Due by the end of the next working day")),
    ("lists", "cases", N_("Cases opened or closed")),
    ("lists", "alerts", N_("Manager alerts")),
    ("lists", "onsite", N_("On-site visits")),
    ("lists", "reopens", N_("Reopened, and why")),
    ("lists", "sales", N_("Price inquiries routed to sales")),
    ("checker", "late_sweeps", N_("Sweeps that ran late")),
    ("checker", "withdrawn", N_("Sweep actions withdrawn: a step shared or typed late")),
    ("trend", "by_day", N_("Per day")),
    ("volume", "totals", N_("Volume")),
    ("volume", "by_severity", N_("Volume by severity")),
    ("volume", "by_engineer", N_("Volume by engineer")),
    ("volume", "by_source", N_("Volume by source")),
    ("volume", "by_contract", N_("Volume by contract")),
    ("volume", "inquiries", N_("Inquiries from callers without a contract")),
    ("volume", "open_by_age", N_("Open cases by age")),
    ("compliance", "by_kind", N_("Deadlines that fell due")),
    ("compliance", "by_severity", N_("Deadlines by severity")),
    ("compliance", "by_engineer", N_("Deadlines by engineer")),
    (
        "compliance",
        "time_to",
        N_(
            "Time to callback from each callback clock's start, the customer's wait from the "
            "first assignment, time to first reply"
        ),
    ),
    ("events", "reassignments", N_("Callback reassignments")),
    ("events", "escalations", N_("Escalations")),
    ("events", "severity_changes", N_("Severity changes")),
    ("events", "forced_closes", N_("Forced closes")),
    ("rmas", "outstanding", N_("RMAs outstanding")),
    ("rmas", "delivered_not_installed", N_("RMAs delivered, not installed for over a day")),
    ("attention", "open_longest", N_("Open longest")),
    ("attention", "waiting", N_("Waiting on the customer or on parts")),
    ("attention", "no_update", N_("No update within the interval")),
)
SOON = DAY  # the headline counts deadlines due within this of the report's end
ONSITE_STEPS = ("onsite-request", "onsite-approve", "onsite-deny", "onsite-cancel",
                "onsite-arrive", "onsite-depart")  # fmt: skip


class View:
    """One case as of a time: replayed from its facts' events."""

    def __init__(self, case_id: str) -> None:
        self.id = case_id
        self.status = "new"  # not opened yet
        self.severity = 0
        self.customer = ""
        self.source = "phone"
        self.contract: str | None = None
        self.inquiry: str | None = None  # price (sales' business) or technical
        self.assignee: str | None = None
        self.opened_at = 0.0
        self.waiting: tuple[str, float] | None = None  # (customer|parts, since)
        self.rmas: dict[str, dict[str, Any]] = {}
        self.closed_at: float | None = None
        self.resolution: str | None = None

    def apply(self, at: float, kind: str, by: str, f: dict[str, Any]) -> None:
        if kind == "open":
            self.status, self.opened_at, self.severity = "open", at, f.get("severity", 0)
            self.customer, self.source = f.get("customer", ""), f.get("source", "phone")
            self.contract, self.inquiry = f.get("contract"), f.get("inquiry")
        elif kind == "amend":
            self.customer = f.get("customer", self.customer)
            self.contract = f.get("contract") or self.contract
        elif kind in ("assign", "reassign"):
            self.assignee = f.get("to")
        elif kind == "severity":
            self.severity = f.get("severity", self.severity)
        elif kind in ("wait-customer", "wait-parts"):
            self.waiting = self.waiting or (kind.removeprefix("wait-"), at)
        elif kind == "resume":
            self.waiting = None
        elif kind == "rma":
            self.rmas[f["rma"]] = {"part": f.get("part", ""), "qty": f.get("qty", 1),
                                   "owner": f.get("owner"), "status": "requested",
                                   "requested_at": at, "since": at}  # fmt: skip
        elif kind == "rma-status" and f.get("rma") in self.rmas:
            self.rmas[f["rma"]] |= {"status": f.get("status"), "since": at}
        elif kind == "close":
            self.status, self.waiting = "closed", None
            self.closed_at, self.resolution = at, f.get("text")
        elif kind == "reopen":
            self.status, self.closed_at, self.resolution = "open", None, None


class Builder:
    """Accumulates the tables over every case, then gives the document."""

    def __init__(self, period: Period, as_of: datetime, cfg: Config, limit: int = 0) -> None:
        self.period, self.cfg, self.zone = period, cfg, cfg.zone
        self.limit = limit  # the most rows of a list the document keeps (0: all)
        self.cut: dict[str, int] = {}  # the lists cut to `limit`: how many rows each had
        self.start, self.end = period.start.timestamp(), as_of.timestamp()
        self.as_of = as_of
        from casectl import contracts  # the register's contracts by name, when there is one

        register = contracts.load(cfg.root)
        self.named = {
            n: f"{n} {c.customer}" for n, c in (register.contracts if register else {}).items()
        }
        self.volume: dict[str, dict[Any, dict[str, int]]] = {
            k: {} for k in ("by_severity", "by_engineer", "by_source", "by_contract", "inquiries")
        }
        self.ages = dict.fromkeys((label for label, _ in AGES), 0)
        self.judged: list[tuple[str, int, str | None, str, float | None]] = []
        self.waits: list[float] = []  # the customers' waits for a first callback
        self.breaches: list[tuple[Any, ...]] = []  # deadlines missed or met late
        self.rows: dict[str, list[tuple[Any, ...]]] = {  # values in the order of COLUMNS
            name: [] for section, name, _ in TABLES if section not in ("volume", "compliance")
        }
        self.sweeps: dict[float, list[float]] = {}  # sweep run's time: its lateness per event
        self.horizons: dict[str, float] = {}  # per calendar: the at-risk list's end
        self.open_cases = 0  # open at the end, price inquiries apart
        self.open_now = {1: 0, 2: 0}  # open severity 1 and 2 cases at the end
        # the period's days (a week's, a month's): their ends, and counts per day
        self.days = _day_ends(period) if (period.end - period.start).days > 1 else []
        self.per_day = [dict.fromkeys(("opened", "closed", "open_at_end"), 0) for _ in self.days]
        # the open cases quiet in the period (`quiet.add`): how many per (inquiry, severity,
        # assignee, source, contract), and (opened_at, id, customer, severity, assignee)
        self.quiet_open: dict[tuple[Any, ...], int] = {}
        self.quiet_longest: list[tuple[float, str, str, int, str | None]] = []

    def time(self, at: float) -> str:
        return datetime.fromtimestamp(at, self.zone).isoformat()

    def add(self, facts: Facts) -> None:
        _, case_id, events, records = facts
        view, counts = View(case_id), dict.fromkeys(COUNTS, 0)
        for at, kind, by, f in events:
            if at >= self.end:
                break
            view.apply(at, kind, by, f)
            if at >= self.start:
                self._event(view, at, kind, by, f, counts)
        if view.status == "new":
            return
        counts["open_at_end"] = int(view.status == "open")
        if view.inquiry != "price":
            self.open_cases += counts["open_at_end"]
        if view.inquiry and any(counts.values()):
            self._tally("inquiries", view.inquiry, counts)
        if view.inquiry == "price":
            if counts["opened"]:
                self._row("lists.sales", view.id, view.customer, self.time(view.opened_at),
                          view.assignee, view.status)  # fmt: skip
            return  # sales' business: counted apart, never among the engineering figures
        if any(counts.values()):
            self._count(view.severity, view.assignee, view.source, view.contract, counts)
            self._trend(events)
        if counts["opened"] or counts["closed"]:
            closed = self.time(view.closed_at) if view.closed_at else None
            self._row("lists.cases", view.id, view.customer, view.severity, view.assignee,
                      self.time(view.opened_at), closed, view.resolution)  # fmt: skip
        if not view.inquiry:  # engineering compliance leaves every inquiry out
            cycles = [at for at, kind, _, _ in events if kind in ("open", "reopen")]
            self._judge(view, records, cycles)
        if view.status == "open":
            self._attention(view, records)
        self._rmas(view)

    def _row(self, table: str, *values: Any) -> None:
        """A row of `section.table`, its values in the order of COLUMNS."""
        self.rows[table.partition(".")[2]].append(values)

    def _listed(
        self, table: str, *order: str, rows: list[tuple] | None = None, most: int = 0
    ) -> list[dict]:
        """The rows of `section.table` (or `rows` given for it) in `order` (its columns; a
        `-` before one: highest first), as dicts, cut to the builder's limit (an alarm storm
        leaves tens of thousands of cases without an update: the report says how many and
        lists the first of them), or to `most` (a table that is a top few by design)."""
        import heapq

        columns = COLUMNS[table]
        found = self.rows[table.partition(".")[2]] if rows is None else rows
        keys = [(columns.index(c.lstrip("-")), c.startswith("-")) for c in order]

        def key(row: tuple) -> tuple:
            return tuple(-row[i] if down else row[i] for i, down in keys)

        limit = most or self.limit
        if limit and len(found) > limit:
            if not most:
                self.cut[table] = len(found)
            found = heapq.nsmallest(limit, found, key=key)  # as sorted(...)[:limit]
        else:
            found = sorted(found, key=key)
        return [dict(zip(columns, row, strict=True)) for row in found]

    def _event(
        self, view: View, at: float, kind: str, by: str, f: dict[str, Any], counts: dict
    ) -> None:
        key = {"open": "opened", "close": "closed", "reopen": "reopened"}.get(kind)
        if key:
            counts[key] += 1
        case, when = view.id, self.time(at)
        if kind == "reassign" and by == "sweep":
            due = f.get("due", at)
            late = round(at - due)
            self._row(
                "events.reassignments", case, when, self.time(due), f.get("from"), f.get("to"), late
            )
        elif kind == "escalate":
            asked = bool(f.get("customer_request"))
            self._row("events.escalations", case, when, by, f.get("to"), f.get("text"), asked)
        elif kind == "severity":
            asked = bool(f.get("customer_request"))
            self._row("events.severity_changes", case, when, by, f.get("from"),
                      f.get("severity"), f.get("text"), asked)  # fmt: skip
        elif kind == "withdraw":  # the checker's health: what late sharing made needless
            undone = "reassign" if f.get("to") else "overdue"
            self._row("checker.withdrawn", case, when, undone, f.get("text"))
        elif kind == "close" and f.get("reason"):
            self._row("events.forced_closes", case, when, by, f["reason"], f.get("text"))
        elif kind == "reopen":
            self._row("lists.reopens", case, view.customer, when, by, f.get("text"))
        elif kind in ONSITE_STEPS:
            self._row("lists.onsite", case, view.customer, when, by, kind.removeprefix("onsite-"),
                      f.get("engineer"), f.get("text"))  # fmt: skip
        if f.get("alert"):
            self._row("lists.alerts", case, view.customer, when, by, f.get("text"))
        if by == "sweep" and kind in ("check", "overdue", "reassign") and "due" in f:
            self.sweeps.setdefault(at, []).append(at - f["due"])

    def _trend(self, events: tuple[Any, ...]) -> None:
        """Per day of a week or month: opened, closed and open at the day's end."""
        if not self.days:
            return
        import bisect

        status, day = None, 0
        for at, kind, _, _ in events:
            if at >= self.end:
                break
            while day < len(self.days) and at >= self.days[day]:
                self.per_day[day]["open_at_end"] += status == "open"
                day += 1
            if kind in ("open", "reopen", "close"):
                status = "closed" if kind == "close" else "open"
                if at >= self.start and kind != "reopen":
                    where = bisect.bisect_right(self.days, at)
                    self.per_day[where]["opened" if kind == "open" else "closed"] += 1
        for rest in range(day, len(self.days)):
            if self.days[rest] <= self.end:
                self.per_day[rest]["open_at_end"] += status == "open"

    def _count(
        self, severity: int, assignee: str | None, source: str, contract: str | None, counts: dict
    ) -> None:
        keys = {
            "by_severity": severity,
            "by_engineer": assignee,
            "by_source": source,
            "by_contract": self.named.get(contract, "contract") if contract else "no contract",
        }
        for table, key in keys.items():
            self._tally(table, key, counts)

    def _tally(self, table: str, key: Any, counts: dict[str, int]) -> None:
        row = self.volume[table].setdefault(key, dict.fromkeys(COUNTS, 0))
        for name, n in counts.items():
            row[name] += n

    def _judge(self, view: View, records: tuple[Record, ...], cycles: list[float]) -> None:
        """Each deadline that fell due in the period, as it stood at the period's end,
        charged to whoever owed it when it fell due (met on time: when it was met)."""
        standing = _standing(records, self.end)
        for r in standing:
            base, kind, due, met, begin, severity, owner, _, until = r
            if not self.start <= due < self.end:
                continue
            met = met if met is not None and met <= self.end else None
            if met is None and until is not None and until <= self.end and due > until:
                continue  # replaced (reassigned, closed...) before it fell due: not missed
            state = "missed" if met is None else "met" if met <= due else "met_late"
            owed = _owner_at(records, base, due if met is None or met > due else met, owner)
            self.judged.append((kind, severity, owed, state, met - begin if met else None))
            if state != "met":
                self.breaches.append((view, base, kind, severity, owed, due, met))
        self._customer_wait(standing, cycles)

    def _customer_wait(self, standing: list[Record], cycles: list[float]) -> None:
        """Per opening or reopening, the customer's wait: from its first assignment to its
        first callback, counted where that callback was made in the period."""
        import bisect

        first: dict[int, list[float]] = {}
        for r in standing:
            if r[1] != "callback":
                continue
            slot = first.setdefault(bisect.bisect_right(cycles, r[4]) - 1, [math.inf, math.inf])
            slot[0] = min(slot[0], r[4])
            if r[3] is not None and r[3] <= self.end:
                slot[1] = min(slot[1], r[3])
        for begin, called in first.values():
            if self.start <= called < self.end:
                self.waits.append(called - begin)

    def _attention(self, view: View, records: tuple[Record, ...]) -> None:
        case, customer, age = view.id, view.customer, self.end - view.opened_at
        self.ages[next(label for label, limit in AGES if age < limit)] += 1
        opened = self.time(view.opened_at)
        self._row("attention.open_longest", case, customer, view.severity, view.assignee, opened,
                  round(age))  # fmt: skip
        if view.waiting:
            on, since = view.waiting
            self._row("attention.waiting", case, customer, on, self.time(since),
                      round(self.end - since))  # fmt: skip
        for r in _standing(records, self.end):
            _, kind, due, met, _, _, _, _, until = r
            unmet = met is None or met > self.end
            current = until is None or until > self.end
            if kind == "update" and due < self.end and unmet and current:
                self._row("attention.no_update", case, customer, view.assignee, self.time(due),
                          round(self.end - due))  # fmt: skip
            begun = r[4] <= self.end  # not a clock a later step started
            if unmet and current and begun and self.end <= due < self._horizon(view.severity):
                self._row("lists.at_risk", case, customer, view.severity, kind, r[6],
                          self.time(due), round(due - self.end))  # fmt: skip
        if view.severity in (1, 2):
            self.open_now[view.severity] += 1

    def _horizon(self, severity: int) -> float:
        """The at-risk list's end for a severity: the end of the next working day on its
        calendar (a 24x7 one: a day on), and never before a day on."""
        level = self.cfg.levels.get(severity)
        calendar = level.calendar if level else None
        key = calendar.name if calendar else ""
        if key not in self.horizons:
            self.horizons[key] = max(self.end + SOON, _working_day_end(calendar, self.as_of))
        return self.horizons[key]

    def _rmas(self, view: View) -> None:
        for rma_id, r in sorted(view.rmas.items()):
            if r["status"] in RMA_DONE:
                continue
            requested, since = r["requested_at"], r["since"]
            self._row("rmas.outstanding", view.id, rma_id, r["part"], r["qty"], r["status"],
                      r["owner"], self.time(requested), round(self.end - requested))  # fmt: skip
            if r["status"] == "delivered" and self.end - since > DAY:
                self._row("rmas.delivered_not_installed", view.id, rma_id, r["part"], r["owner"],
                          self.time(since), round(self.end - since))  # fmt: skip

    # --- the document ------------------------------------------------------------------

    def _settle_quiet(self) -> None:
        """Count the quiet open cases in (`quiet.add` kept only their keys): each is open
        at the end and through the period, and the oldest of them may be among the longest."""
        import heapq

        by: dict[str, dict[Any, int]] = {t: {} for t in self.volume}
        for (inquiry, severity, assignee, source, contract), n in self.quiet_open.items():
            if inquiry:
                by["inquiries"][inquiry] = by["inquiries"].get(inquiry, 0) + n
            if inquiry == "price":
                continue
            named = self.named.get(contract, "contract") if contract else "no contract"
            for table, key in (("by_severity", severity), ("by_engineer", assignee),
                               ("by_source", source), ("by_contract", named)):  # fmt: skip
                by[table][key] = by[table].get(key, 0) + n
        for table, keys in by.items():
            for key, n in keys.items():
                self._tally(table, key, dict.fromkeys(COUNTS, 0) | {"open_at_end": n})
        engineering = sum(by["by_severity"].values())  # open at the end, price inquiries apart
        self.open_cases += engineering
        for day, end in enumerate(self.days):
            if end <= self.end:
                self.per_day[day]["open_at_end"] += engineering
        for severity in (1, 2):
            self.open_now[severity] += by["by_severity"].get(severity, 0)
        quiet, end = sorted(self.quiet_longest), self.end  # oldest first: ages ascending
        below = 0  # how many cases are younger than the limits before
        for label, limit in AGES:  # the cases with end - opened_at < limit, by bisection
            younger = len(quiet) - bisect_right(quiet, -limit, key=lambda q: q[0] - end)
            self.ages[label] += younger - below
            below = younger
        last = quiet[LONGEST - 1][0] + 1.0 if len(quiet) >= LONGEST else math.inf
        candidates = quiet[: bisect_right(quiet, last, key=lambda q: q[0])]  # rounding ties
        oldest = heapq.nsmallest(LONGEST, candidates, key=lambda q: (-round(end - q[0]), q[1]))
        for opened_at, case, customer, severity, assignee in oldest:
            self._row("attention.open_longest", case, customer, severity, assignee,
                      self.time(opened_at), round(self.end - opened_at))  # fmt: skip
        self.quiet_open, self.quiet_longest = {}, []

    def document(self) -> dict[str, Any]:
        self._settle_quiet()
        compliance = self._compliance()
        return {
            "period": {
                "label": self.period.label,
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
                "as_of": self.as_of.isoformat(),
                "timezone": getattr(self.zone, "key", str(self.zone)),
            },
            "headline": self._headline(compliance["by_kind"]),
            "lists": {
                "breaches": self._breaches(),
                "at_risk": self._listed("lists.at_risk", "due", "case"),
                "cases": self._listed("lists.cases", "opened_at", "case"),
                **{k: self._listed(f"lists.{k}", "at", "case")
                   for k in ("alerts", "onsite", "reopens", "sales")},
            },
            "checker": {"late_sweeps": self._late_sweeps(),
                        "withdrawn": self._listed("checker.withdrawn", "at", "case")},
            "trend": {"by_day": self._trend_rows()},
            "volume": self._volume(),
            "compliance": compliance,
            "events": {k: self._listed(f"events.{k}", "at", "case") for k in
                       ("reassignments", "escalations", "severity_changes", "forced_closes")},
            "rmas": {
                "outstanding": self._listed("rmas.outstanding", "-age_s", "case", "rma"),
                "delivered_not_installed": self._listed("rmas.delivered_not_installed",
                                                        "-waiting_s", "case", "rma"),
            },
            "attention": {
                "open_longest": self._listed("attention.open_longest", "-age_s", "case",
                                             most=LONGEST),
                "waiting": self._listed("attention.waiting", "-for_s", "case"),
                "no_update": self._listed("attention.no_update", "-late_s", "case"),
            },
            "people": {p.id: p.name for p in self.cfg.people},
            "cut": dict(sorted(self.cut.items())),
        }  # fmt: skip

    def _trend_rows(self) -> list[dict[str, Any]]:
        """Each day's row; the day not over yet counts its cases open now, later days none."""
        rows, begun = [], self.start
        for end, counts in zip(self.days, self.per_day, strict=True):
            row: dict[str, Any] = {"day": self.time(begun)[:10]} | counts
            if end > self.end:
                row["open_at_end"] = self.open_cases if begun < self.end else None
                if begun >= self.end:
                    row |= {"opened": None, "closed": None}
            rows.append(row)
            begun = end
        return rows

    def _headline(self, by_kind: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """On time per kind (the two escalations as one), and what stands now."""
        merged: dict[str, dict[str, int]] = {}
        for row in by_kind:
            kind = "escalation" if row["kind"].startswith("escalate") else row["kind"]
            counts = merged.setdefault(kind, dict.fromkeys(STATES, 0))
            for state in STATES:
                counts[state] += row[state]
        now = {"open_severity_1": self.open_now[1], "open_severity_2": self.open_now[2],
               "due_next_24h": sum(1 for r in self.rows["at_risk"] if r[-1] < SOON),
               "reassignments": len(self.rows["reassignments"])}  # fmt: skip
        return {"on_time": [{"kind": k} | _share(v) for k, v in merged.items()], "now": [now]}

    def _breaches(self) -> list[dict[str, Any]]:
        rows = []
        for view, _base, kind, severity, owed, due, met in self.breaches:
            state = "missed" if met is None else "met_late"
            where = (
                "closed"
                if view.status == "closed"
                else (f"waiting on {view.waiting[0]}" if view.waiting else "open")
            )
            late = round((met if met is not None else self.end) - due)
            rows.append((view.id, view.customer, severity, kind, owed, self.time(due), late,
                         state, where))  # fmt: skip
        return self._listed("lists.breaches", "due", "case", "kind", rows=rows)

    def _volume(self) -> dict[str, list[dict[str, Any]]]:
        total = dict.fromkeys(COUNTS, 0)
        for row in self.volume["by_contract"].values():
            total = {k: total[k] + row[k] for k in COUNTS}
        severities = sorted(set(self.cfg.levels) | set(self.volume["by_severity"]))
        zero = dict.fromkeys(COUNTS, 0)
        return {
            "totals": [total],
            "by_severity": [{"severity": n} | self.volume["by_severity"].get(n, zero)
                            for n in severities],
            "by_engineer": _keyed("engineer", self.volume["by_engineer"]),
            "by_source": _keyed("source", self.volume["by_source"]),
            "by_contract": [{"contract": k} | self.volume["by_contract"].get(k, zero)
                            for k in (*self.named.values(), "contract", "no contract")],
            "inquiries": [{"inquiry": k} | self.volume["inquiries"].get(k, zero)
                          for k in INQUIRIES],
            "open_by_age": [{"age": label, "cases": n} for label, n in self.ages.items()],
        }  # fmt: skip

    def _compliance(self) -> dict[str, list[dict[str, Any]]]:
        by_kind = {k: dict.fromkeys(STATES, 0) for k in KINDS}
        by_severity: dict[tuple[int, str], dict[str, int]] = {}
        by_engineer: dict[tuple[str, str], dict[str, int]] = {}
        for kind, severity, owner, state, _ in self.judged:
            by_kind[kind][state] += 1
            by_severity.setdefault((severity, kind), dict.fromkeys(STATES, 0))[state] += 1
            by_engineer.setdefault((owner or "", kind), dict.fromkeys(STATES, 0))[state] += 1
        order = {k: i for i, k in enumerate(KINDS)}
        return {
            "by_kind": [{"kind": k} | _share(v) for k, v in by_kind.items()],
            "by_severity": [{"severity": s, "kind": k} | _share(v) for (s, k), v in
                            sorted(by_severity.items(), key=lambda i: (i[0][0], order[i[0][1]]))],
            "by_engineer": [{"engineer": e or None, "kind": k} | _share(v) for (e, k), v in
                            sorted(by_engineer.items(), key=lambda i: (i[0][0], order[i[0][1]]))],
            "time_to": [self._time_to("callback"), _times("customer_wait", self.waits),
                        self._time_to("reply")],
        }  # fmt: skip

    def _time_to(self, kind: str) -> dict[str, Any]:
        return _times(kind, [t for k, _, _, _, t in self.judged if k == kind and t is not None])

    def _late_sweeps(self) -> list[dict[str, Any]]:
        found = [
            (self.time(at), round(max(lateness)), len(lateness))
            for at, lateness in sorted(self.sweeps.items())
            if max(lateness) > LATE_SWEEP
        ]
        return self._listed("checker.late_sweeps", rows=found)  # in time order


def build(all_facts: list[Facts], period: Period, now: datetime, cfg: Config) -> dict[str, Any]:
    """The report of `period`, as of its end (or `now`, while it is not over)."""
    builder = Builder(period, _as_of(period, now, cfg), cfg)
    for facts in sorted(all_facts, key=lambda f: f[1]):
        builder.add(facts)
    return builder.document()


def build_cases(
    cases: Iterable[tuple[str, Any, Callable[[], Facts]]],
    period: Period,
    now: datetime,
    cfg: Config,
    slim: bool = True,
    limit: int = 0,
) -> dict[str, Any]:
    """The report of `period` from (case id, slim record, its full facts) in id order
    (`Index.report_facts`): a case quiet in the period by its slim record is counted
    from it, any other from its full facts; without `slim`, every case from its facts.
    Each list is cut to `limit` rows (0: none is); `cut` says how many each list cut had."""
    import gc

    from casectl.report import quiet

    builder = Builder(period, _as_of(period, now, cfg), cfg, limit)
    start, end = builder.start, builder.end
    collecting = gc.isenabled()
    gc.disable()  # plain tuples and rows, no cycles: the collector would walk them again
    try:  # and again as they pile up (a third of the time at 50,000 open cases)
        for case_id, record, full in cases:
            if slim and quiet.is_quiet(record, start, end):
                quiet.add(builder, case_id, record)
            else:
                builder.add(full())
        return builder.document()
    finally:
        if collecting:
            gc.enable()


def _as_of(period: Period, now: datetime, cfg: Config) -> datetime:
    """The period's end, or `now` while it is not over."""
    # compared as instants: datetimes of one zone compare and subtract by wall time
    return period.end if period.end.timestamp() <= now.timestamp() else now.astimezone(cfg.zone)


def _standing(records: tuple[Record, ...], at: float) -> list[Record]:
    """For each deadline, its version in force at `at` (or the last before it)."""
    found: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r[7]):
        if r[7] <= at:
            found[r[0]] = r
    return list(found.values())


def _working_day_end(calendar: Any, at: datetime) -> float:
    """The end of the working day `at` falls in, or of the next one (epoch seconds); a
    24x7 calendar (or none): a day on."""
    from datetime import timedelta

    if calendar is None or calendar.always:
        return at.timestamp() + DAY
    first = at.astimezone(calendar.zone).date()
    for n in range(60):  # a long holiday is at most weeks
        periods = calendar.periods(first + timedelta(days=n))
        if periods and periods[-1][1] > at:
            return float(periods[-1][1].timestamp())
    return at.timestamp() + DAY


def _day_ends(period: Period) -> list[float]:
    """The end of each day of the period, as epoch seconds (midnight by the zone's clock)."""
    from datetime import timedelta

    from casectl.report.period import midnight

    first, zone = period.start.date(), period.start.tzinfo
    days = (period.end.date() - first).days
    return [midnight(first + timedelta(days=n + 1), zone).timestamp() for n in range(days)]  # type: ignore[arg-type]


def _times(kind: str, values: list[float]) -> dict[str, Any]:
    taken = sorted(values)
    return {"kind": kind, "count": len(taken),
            "median_s": _rank(taken, 0.5), "p90_s": _rank(taken, 0.9)}  # fmt: skip


def _owner_at(records: tuple[Record, ...], base: str, at: float, last: str | None) -> str | None:
    """Who owed the deadline `base` at `at`: the owner of its version in force then."""
    owner = last
    for r in sorted((r for r in records if r[0] == base), key=lambda r: r[7]):
        if r[7] > at:
            break
        owner = r[6]
    return owner


def _share(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    return counts | {"on_time_share": round(counts["met"] / total, 4) if total else None}


def _rank(values: list[float], q: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `q` of them at or below."""
    if not values:
        return None
    return round(values[max(math.ceil(q * len(values)) - 1, 0)])


def _keyed(name: str, rows: dict[Any, dict[str, int]]) -> list[dict[str, Any]]:
    return [
        {name: k} | v for k, v in sorted(rows.items(), key=lambda i: (i[0] is None, i[0] or ""))
    ]
