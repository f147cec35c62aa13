"""What each alert becomes: a new case, an `alert` step on the open one, or nothing.

In order: an exact repeat (same id) is taken once; an ignored code opens nothing; a
clear appends "alarm cleared at" to the open case of that serial and code; an alert
with the serial and code of an open case appends to it (count, first and last seen);
a serial in a maintenance window (an approved visit or an RMA under way on its
open case) appends there; more than `storm.limit` alerts from one serial within
`storm.within` go to one "alert storm" case; a code under `open_after` waits for
its count; anything else opens a case `by: intake`, source alarm, on the contract
the register names for the serial, assigned by the roster, the duty engineer told.
Without a valid contract the case is flagged and runs no clock until approved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl import model
from casectl.config import Config
from casectl.contracts import Contract, Register
from casectl.i18n import _
from casectl.ids import random_code
from casectl.intake import Alert
from casectl.intake.journal import Journal
from casectl.intake.rules import Rules
from casectl.model import Case
from casectl.records import Record

BY = "intake"  # the `by` of the intake's events, committed under this name
STORM = "storm"  # the code of an alert storm case
_BUSY_RMA = frozenset({"requested", "shipped", "delivered"})


class Outcome(Record):
    kind: str  # opened, appended, maintenance, storm, cleared, ignored, counted, duplicate, ...
    case: str | None
    line: str  # what the run prints
    events: tuple[dict[str, Any], ...] = ()


class Desk:
    """Decides for one run's alerts, against the open cases and the clone's log."""

    def __init__(
        self,
        cfg: Config,
        rules: Rules,
        register: Register | None,
        journal: Journal,
        lookup: Any,
        loads: dict[str, int],
        now: datetime,
        new_id: Any,
    ) -> None:
        self.cfg, self.rules, self.register, self.journal = cfg, rules, register, journal
        self.lookup = lookup  # serial -> the open cases that may name it, read from disk
        self.cases: dict[str, list[Case]] = {}  # by the serial they were opened for
        self.loads = dict(loads)
        self.now = now
        self.new_id = new_id  # at -> an unused case id
        self.created: set[str] = set()
        self.changed: dict[str, Case] = {}
        self.fresh: dict[str, list[dict[str, Any]]] = {}  # each changed case's new events
        self.said: list[str] = []  # what became of each alert that changed a case

    # --- the open cases an alert may belong to ----------------------------------------

    def _open(self, serial: str) -> list[Case]:
        """The open cases opened for this serial (read on first need)."""
        if serial not in self.cases:
            self.cases[serial] = [c for c in self.lookup(serial) if _key(c)[0] == serial]
        return [c for c in self.cases[serial] if c.state.status == "open"]

    def _matching(self, serial: str, code: str) -> Case | None:
        return next((c for c in self._open(serial) if _key(c)[1] == code), None)

    def _maintained(self, serial: str) -> Case | None:
        for case in self._open(serial):
            s = case.state
            if any(v.stage in ("approved", "on site") for v in s.visits.values()) or any(
                r.status in _BUSY_RMA for r in s.rmas.values()
            ):
                return case
        return None

    def _taken(self, alert: Alert) -> bool:
        since = self.now - self.rules.longest * 24
        if self.journal.seen(alert.id, since):
            return True
        return any(
            (e.get("alarm") or {}).get("id") == alert.id
            for case in self._open(alert.serial)
            for e in case.events
        )

    # --- the decision -------------------------------------------------------------------

    def take(self, alert: Alert) -> Outcome:
        outcome = self._decide(alert)
        if outcome.events:
            self.said.append(outcome.line)
        return outcome

    def _decide(self, alert: Alert) -> Outcome:
        what = f"{alert.vendor} {alert.serial} {alert.code}"
        if self._taken(alert):
            return Outcome("duplicate", None, _("already taken: {alert} ({id})").format(
                alert=what, id=alert.id))  # fmt: skip
        if self.rules.ignored(alert):
            return Outcome("ignored", None, _("ignored: {alert} is on the ignore list").format(
                alert=what))  # fmt: skip
        if alert.clear:
            return self._clear(alert, what)
        case = self._matching(alert.serial, alert.code)
        if case is not None:
            return self._append(case, alert, "appended")
        case = self._maintained(alert.serial)
        if case is not None:
            return self._append(case, alert, "maintenance")
        storm = self.rules.storm
        if storm and self.journal.count(alert.at, storm.within, alert.serial) + 1 > storm.limit:
            case = self._matching(alert.serial, STORM)
            if case is not None:
                return self._append(case, alert, "storm")
            return self._open_case(alert, storm=True)
        window = self.rules.after(alert)
        if window:
            seen = self.journal.count(alert.at, window.within, alert.serial, alert.code) + 1
            if seen < window.limit:
                return Outcome("counted", None, _(
                    "counted: {alert}, {seen} of {count} within {within}").format(
                        alert=what, seen=seen, count=window.limit,
                        within=_span(window.within)))  # fmt: skip
        return self._open_case(alert)

    def _clear(self, alert: Alert, what: str) -> Outcome:
        case = self._matching(alert.serial, alert.code)
        if case is None:
            return Outcome("no-case", None, _(
                "nothing to clear: no open case for {alert}").format(alert=what))  # fmt: skip
        text = _("alarm cleared at {at}").format(at=f"{alert.at:%Y-%m-%d %H:%M:%S %z}")
        event = self._event("alarm-cleared", alarm=alert.document(), text=text)
        self._add(case, event)
        return Outcome("cleared", case.id, f"{case.id}: {what}: {text}", (event,))

    def _append(self, case: Case, alert: Alert, kind: str) -> Outcome:
        earlier = [
            e["alarm"] for e in case.events
            if isinstance(e.get("alarm"), dict) and e["type"] in ("open", "alert")
            and e["alarm"].get("code") == alert.code and e["alarm"].get("serial") == alert.serial
        ]  # fmt: skip
        first = min((a["seen"] for a in earlier if isinstance(a.get("seen"), datetime)),
                    default=alert.at)  # fmt: skip
        alarm = alert.document() | {"count": len(earlier) + 1, "first_seen": first,
                                    "last_seen": alert.at}  # fmt: skip
        event = self._event("alert", alarm=alarm, text=_description(alert))
        self._add(case, event)
        said = {
            "appended": _("{case}: alert {alert} appended ({count} so far)"),
            "maintenance": _(
                "{case}: alert {alert} appended: the array is under maintenance on this case"
            ),
            "storm": _("{case}: alert {alert} appended to the alert storm case"),
        }[kind]
        what = f"{alert.vendor} {alert.serial} {alert.code}"
        return Outcome(kind, case.id, said.format(case=case.id, alert=what,
                                                  count=alarm["count"]), (event,))  # fmt: skip

    def _open_case(self, alert: Alert, storm: bool = False) -> Outcome:
        cfg, now = self.cfg, self.now
        level = self.rules.level(alert)
        contract, why = self._contract(alert)
        duty = _duty(cfg, now)
        alarm = alert.document() | ({"code": STORM, "storm": True} if storm else {})
        description = _description(alert)
        if storm:
            description = self._storm_description(alert, description)
        unknown = _("unknown (array {serial})").format(serial=alert.serial)
        opening = self._event(
            "open",
            duty=duty,
            customer=contract.customer if contract else unknown,
            contact=(contract.contact if contract else "") or unknown,
            contract=contract.number if contract else None,
            source="alarm",
            severity=level,
            serial=alert.serial,
            calendar=contract.service if contract and not why else None,
            notify=[duty],
            approval="needed" if why else None,
            alarm=alarm,
            text=description,
        )
        case = Case(self.new_id(now), [opening])
        events = [opening]
        assignee = None
        if why is None:
            assignee = _pick(cfg, self.loads, now)
            if assignee:
                events.append(self._event("assign", to=assignee))
                case.append(events[-1])
                self.loads[assignee] = self.loads.get(assignee, 0) + 1
        self.cases.setdefault(alert.serial, []).append(case)
        self.created.add(case.id)
        self.changed[case.id] = case
        self.fresh[case.id] = list(events)
        what = f"{alert.vendor} {alert.serial} {alert.code}"
        line = _opened(case.id, what, level, why, assignee, duty)
        return Outcome("storm" if storm else "opened", case.id, line, tuple(events))

    def _contract(self, alert: Alert) -> tuple[Contract | None, str | None]:
        """The contract in the register for the array's serial, and why it does not cover
        the array today (None: it does); a case it does not cover awaits approval."""
        today = self.now.date()
        contract = self.register.by_serial(alert.serial, today) if self.register else None
        if contract is None:
            why = _("no contract in contracts.yaml covers serial {serial}").format(
                serial=alert.serial
            )
            return None, why
        if not contract.valid_on(today):
            why = _("contract {contract} is valid from {start} to {end}").format(
                contract=contract.number, start=contract.start, end=contract.end
            )
            return contract, why
        return contract, None

    def _storm_description(self, alert: Alert, first: str) -> str:
        """A storm case's description: the storm, then the first alert's."""
        storm = self.rules.storm
        return _(
            "alert storm: more than {count} alerts from {serial} within {within}; the "
            "later ones are appended here. First: {first}").format(
                count=storm.limit if storm else 0, serial=alert.serial,
                within=_span(storm.within) if storm else "", first=first)  # fmt: skip

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        made = {"id": random_code(8), "at": self.now, "by": BY, "type": kind}
        return made | {k: v for k, v in fields.items() if v is not None}

    def _add(self, case: Case, event: dict[str, Any]) -> None:
        case.append(event)
        self.changed[case.id] = case
        self.fresh.setdefault(case.id, []).append(event)


def _opened(
    case_id: str, what: str, level: int, why: str | None, assignee: str | None, duty: str
) -> str:
    """What intake says of a case it opened: awaiting approval (`why`), assigned, or not."""
    if why:
        return _("{case} opened from {alert}, severity {severity}, not assigned: {why}; the "
                 "manager or a sales manager approves it: casectl approve {case}").format(
                     case=case_id, alert=what, severity=level, why=why)  # fmt: skip
    if assignee:
        return _("{case} opened from {alert}, severity {severity}, assigned to {engineer}, "
                 "duty engineer {duty} told").format(
                     case=case_id, alert=what, severity=level, engineer=assignee,
                     duty=duty)  # fmt: skip
    return _("{case} opened from {alert}, severity {severity}, not assigned: no "
             "first-line engineer is on duty; duty engineer {duty} told").format(
                 case=case_id, alert=what, severity=level, duty=duty)  # fmt: skip


def _key(case: Case) -> tuple[str | None, str | None]:
    """The serial and code a case was opened for (None where a person opened it)."""
    opening = case.events[0]
    alarm: dict[str, Any] = opening["alarm"] if isinstance(opening.get("alarm"), dict) else {}
    serial = opening.get("serial") or alarm.get("serial")
    return (str(serial) if serial else None), alarm.get("code")


def _description(alert: Alert) -> str:
    parts = [f"{alert.vendor} {alert.model}".strip(), alert.serial, alert.code]
    where = f" ({alert.component})" if alert.component else ""
    return f"{' '.join(parts)}{where}: {alert.description}"


def _duty(cfg: Config, at: datetime) -> str:
    """The duty engineer on duty now (roster order); nobody: the manager."""
    on = next((p for p in cfg.with_role("duty") if p.on_duty(at)), None)
    return (on or cfg.manager).id


def _pick(cfg: Config, loads: dict[str, int], at: datetime) -> str | None:
    from casectl.errors import RefusedError

    try:
        return model.pick_next(cfg, loads, at, None).id
    except RefusedError:
        return None


def _span(amount: Any) -> str:
    from casectl.deadlines import span

    return span(amount)
