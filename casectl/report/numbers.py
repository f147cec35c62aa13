"""The report's numbers for one period, from the cases' facts alone: one plain structure.

Everything is judged as of the period's end (or now, for a period not over yet), from
the events before it: the report of a past period is the same whenever, and on
whichever clone, it is made. The structure is a JSON document: `period`, then sections
of tables, each table a list of rows with the same keys (`TABLES` lists them in order);
times are ISO 8601 in the repository's timezone, durations whole seconds.
"""

from __future__ import annotations

import math
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
}
# (section, table, title): the order every rendering follows
TABLES = (  # titles in English; the renderings translate them
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
    ("compliance", "time_to", N_("Time to callback and first reply")),
    ("events", "reassignments", N_("Callback reassignments")),
    ("events", "escalations", N_("Escalations")),
    ("events", "severity_changes", N_("Severity changes")),
    ("events", "forced_closes", N_("Forced closes")),
    ("rmas", "outstanding", N_("RMAs outstanding")),
    ("rmas", "delivered_not_installed", N_("RMAs delivered, not installed for over a day")),
    ("attention", "open_longest", N_("Open longest")),
    ("attention", "waiting", N_("Waiting on the customer or on parts")),
    ("attention", "no_update", N_("No update within the interval")),
    ("checker", "late_sweeps", N_("Sweeps that ran late")),
)


class View:
    """One case as of a time: replayed from its facts' events."""

    def __init__(self, case_id: str) -> None:
        self.id = case_id
        self.status = "new"  # not opened yet
        self.severity = 0
        self.customer = ""
        self.source = "phone"
        self.contract = False
        self.inquiry: str | None = None  # price (sales' business) or technical
        self.assignee: str | None = None
        self.opened_at = 0.0
        self.waiting: tuple[str, float] | None = None  # (customer|parts, since)
        self.rmas: dict[str, dict[str, Any]] = {}

    def apply(self, at: float, kind: str, by: str, f: dict[str, Any]) -> None:
        if kind == "open":
            self.status, self.opened_at, self.severity = "open", at, f.get("severity", 0)
            self.customer, self.source = f.get("customer", ""), f.get("source", "phone")
            self.contract, self.inquiry = bool(f.get("contract")), f.get("inquiry")
        elif kind == "amend":
            self.customer = f.get("customer", self.customer)
            self.contract = self.contract or bool(f.get("contract"))
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
        elif kind == "reopen":
            self.status = "open"


class Builder:
    """Accumulates the tables over every case, then gives the document."""

    def __init__(self, period: Period, as_of: datetime, cfg: Config) -> None:
        self.period, self.cfg, self.zone = period, cfg, cfg.zone
        self.start, self.end = period.start.timestamp(), as_of.timestamp()
        self.as_of = as_of
        self.volume: dict[str, dict[Any, dict[str, int]]] = {
            k: {} for k in ("by_severity", "by_engineer", "by_source", "by_contract", "inquiries")
        }
        self.ages = dict.fromkeys((label for label, _ in AGES), 0)
        self.judged: list[tuple[str, int, str | None, str, float | None]] = []
        self.rows: dict[str, list[dict[str, Any]]] = {
            name: [] for section, name, _ in TABLES if section not in ("volume", "compliance")
        }
        self.sweeps: dict[float, list[float]] = {}  # sweep run's time: its lateness per event

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
        if view.inquiry and any(counts.values()):
            self._tally("inquiries", view.inquiry, counts)
        if view.inquiry == "price":
            return  # sales' business: counted apart, never among the engineering figures
        if any(counts.values()):
            self._count(view, counts)
        if not view.inquiry:  # engineering compliance leaves every inquiry out
            self._judge(view, records)
        if view.status == "open":
            self._attention(view, records)
        self._rmas(view)

    def _row(self, table: str, *values: Any) -> None:
        """A row of `section.table`, its values in the order of COLUMNS."""
        self.rows[table.partition(".")[2]].append(dict(zip(COLUMNS[table], values, strict=True)))

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
        elif kind == "close" and f.get("reason"):
            self._row("events.forced_closes", case, when, by, f["reason"], f.get("text"))
        if by == "sweep" and kind in ("check", "overdue", "reassign") and "due" in f:
            self.sweeps.setdefault(at, []).append(at - f["due"])

    def _count(self, view: View, counts: dict[str, int]) -> None:
        keys = {
            "by_severity": view.severity,
            "by_engineer": view.assignee,
            "by_source": view.source,
            "by_contract": "contract" if view.contract else "no contract",
        }
        for table, key in keys.items():
            self._tally(table, key, counts)

    def _tally(self, table: str, key: Any, counts: dict[str, int]) -> None:
        row = self.volume[table].setdefault(key, dict.fromkeys(COUNTS, 0))
        for name, n in counts.items():
            row[name] += n

    def _judge(self, view: View, records: tuple[Record, ...]) -> None:
        """Each deadline that fell due in the period, as it stood at the period's end."""
        for r in _standing(records, self.end):
            base, kind, due, met, begin, severity, owner, _, until = r
            if not self.start <= due < self.end:
                continue
            met = met if met is not None and met <= self.end else None
            if met is None and until is not None and until <= self.end and due >= until:
                continue  # replaced (reassigned, closed...) before it fell due
            state = "missed" if met is None else "met" if met <= due else "met_late"
            self.judged.append((kind, severity, owner, state, met - begin if met else None))

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

    def document(self) -> dict[str, Any]:
        return {
            "period": {
                "label": self.period.label,
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
                "as_of": self.as_of.isoformat(),
                "timezone": getattr(self.zone, "key", str(self.zone)),
            },
            "volume": self._volume(),
            "compliance": self._compliance(),
            "events": {k: _by_time(self.rows[k]) for k in
                       ("reassignments", "escalations", "severity_changes", "forced_closes")},
            "rmas": {
                "outstanding": _longest(self.rows["outstanding"], "age_s"),
                "delivered_not_installed": _longest(
                    self.rows["delivered_not_installed"], "waiting_s"
                ),
            },
            "attention": {
                "open_longest": _longest(self.rows["open_longest"], "age_s")[:LONGEST],
                "waiting": _longest(self.rows["waiting"], "for_s"),
                "no_update": _longest(self.rows["no_update"], "late_s"),
            },
            "checker": {"late_sweeps": self._late_sweeps()},
        }  # fmt: skip

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
                            for k in ("contract", "no contract")],
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
            "time_to": [self._time_to(k) for k in ("callback", "reply")],
        }  # fmt: skip

    def _time_to(self, kind: str) -> dict[str, Any]:
        taken = sorted(t for k, _, _, _, t in self.judged if k == kind and t is not None)
        return {"kind": kind, "count": len(taken),
                "median_s": _rank(taken, 0.5), "p90_s": _rank(taken, 0.9)}  # fmt: skip

    def _late_sweeps(self) -> list[dict[str, Any]]:
        found = []
        for at, lateness in sorted(self.sweeps.items()):
            if max(lateness) > LATE_SWEEP:
                found.append({"at": self.time(at), "late_by_s": round(max(lateness)),
                              "actions": len(lateness)})  # fmt: skip
        return found


def build(all_facts: list[Facts], period: Period, now: datetime, cfg: Config) -> dict[str, Any]:
    """The report of `period`, as of its end (or `now`, while it is not over)."""
    # compared as instants: datetimes of one zone compare and subtract by wall time
    as_of = period.end if period.end.timestamp() <= now.timestamp() else now.astimezone(cfg.zone)
    builder = Builder(period, as_of, cfg)
    for facts in sorted(all_facts, key=lambda f: f[1]):
        builder.add(facts)
    return builder.document()


def _standing(records: tuple[Record, ...], at: float) -> list[Record]:
    """For each deadline, its version in force at `at` (or the last before it)."""
    found: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r[7]):
        if r[7] <= at:
            found[r[0]] = r
    return list(found.values())


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


def _by_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["at"], r["case"]))


def _longest(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r[key], r["case"], r.get("rma", "")))
