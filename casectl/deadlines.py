"""A case's deadlines, derived from its events and its current severity, and their states.

Clocks start at the opening, or at the latest reopening (an alarm case opened without
a valid contract: at its approval, none before). Each is counted on the severity's
calendar (a case opened on a contract of the register: on its service level's, the
opening's `calendar`):
- callback: the assigned engineer reaches the customer, within `callback` of the
  assignment (`reassigned_callback` after a reassignment by the sweep), with
  staged checks for the duty engineer before it (`checks`);
- reply: a first contact with the customer within `reply` of the opening;
- update: each next contact within `update` of the one before;
- escalation: an escalation engineer designated within `escalate_senior`, and the
  case escalated to a manager within `escalate_manager`.
A contact (`log --callback`, `--type contact`) meets the callback and reply
deadlines. A reopening owes the customer a new callback and reply; escalations
already made stay made, and only those not yet made restart. While the case waits
on the customer or on parts, the deadlines its severity lists under `pause` stand
still; a step is judged by the pauses as they stood when it was made (an update made
while the case waits is on time, its clock stopped at the step). A severity change
recomputes every deadline from its anchor with the new limits, so nothing stale stays
overdue.

States: pending, due soon, missed (past due, not met), met (on time, at or before
the due time), met late (after it), paused.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from casectl.calendars import Calendar
from casectl.config import Config, Level
from casectl.model import CONTACTS, Case, State, checker

if TYPE_CHECKING:
    from collections.abc import Callable

    # `compute`'s `add`: (kind, name, label, the step its clock counts from, the limit's
    # name in the level or an amount, when it was met, who owes it)
    _Add = Callable[[str, str, str, dict, str | timedelta, Any, Any], None]

_NEVER = datetime.max.replace(tzinfo=timezone.utc)  # sorts a paused deadline last
_TAGGED = ("reply", "update", "escalation")  # keyed by severity: a change re-arms them
_STARTS = ("open", "reopen", "approve")  # a cycle's clocks start at these


class Deadline(NamedTuple):
    kind: str  # check, callback, reply, update, escalation
    key: str  # unique within the case: the sweep records each key once
    label: str
    due: datetime | None  # None while paused
    met: datetime | None
    owner: str | None  # who owes the step

    def state(self, now: datetime, soon: timedelta) -> str:
        if self.met is not None:
            return "met late" if self.late else "met"
        due = self.due.timestamp() if self.due else None
        return state_of(False, due, now.timestamp(), soon.total_seconds())

    @property
    def late(self) -> bool:
        """Met after its due time."""
        return self.met is not None and self.due is not None and self.met > self.due

    def late_by(self, now: datetime) -> timedelta | None:
        """How late: when met late, by how much; when missed, by how much so far; else None."""
        if self.late:
            return self.met - self.due  # type: ignore[operator]
        if self.met is None and self.due is not None and now >= self.due:
            return now - self.due
        return None


def span(amount: timedelta) -> str:
    """A lateness as people say it: 45m, 1h, 5h15m, 2d3h (whole minutes; seconds below one)."""
    minutes = int(amount.total_seconds() // 60)
    if minutes < 1:
        return f"{max(int(amount.total_seconds()), 0)}s"
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)


def state_of(met: bool, due: float | None, now: float, soon: float) -> str:
    """The state of a deadline not met late: met, paused, missed (from the due time on),
    due soon, or pending; times in epoch seconds."""
    if met:
        return "met"
    if due is None:
        return "paused"
    if now >= due:
        return "missed"
    return "due soon" if due - now <= soon else "pending"


def compute(case: Case, cfg: Config, include_met: bool = True) -> list[Deadline]:
    """The deadlines of the case's current clocks, in order of due time; none when closed.

    Without `include_met`, deadlines met on time are left out (and, where real time
    alone shows they were on time, their due times, the costly part, never computed):
    the open-case index needs only those not met, and those met late that the sweep
    may have yet to report. Staged checks once made are always left out then.
    """
    s = case.state
    level = cfg.levels.get(s.severity)
    if s.status == "closed" or level is None or s.approval:
        return []  # an alarm case without a valid contract runs no clock until approved
    events = case.events
    service = cfg.calendars.get(events[0].get("calendar") or "")  # its contract's service level
    level = level._replace(calendar=service) if service else level
    start = max(i for i, e in enumerate(events) if e["type"] in _STARTS)
    cycle = events[start:]
    opened = cycle[0]
    contacts = [e for e in cycle if e["type"] in CONTACTS]
    pauses = _pauses(events)
    found: list[Deadline] = []

    def add(
        kind: str, name: str, label: str, begin: dict, limit: str | timedelta, met: Any, owner: Any
    ) -> None:
        changed = met is not None and s.severity_changes  # else the level in force is `level`
        rules = _in_force(events, cfg, met, level, limit) if changed else level
        rules = rules._replace(calendar=service) if service else rules
        amount = limit if isinstance(limit, timedelta) else getattr(rules, limit)
        if met is not None and not include_met and _surely_on_time(kind, begin["at"], amount, met):
            return
        tag = f"/s{rules.number}" if kind in _TAGGED else ""
        stood = pauses if met is None else _pauses_before(pauses, met)
        due = _Clock(rules, stood).add("callback" if kind == "check" else kind, begin["at"], amount)
        if kind == "check" and due is not None:  # whoever is on duty when it falls due
            owner = checker(cfg, owner, due)
        deadline = Deadline(kind, f"{name}{tag}@{begin['id']}", label, due, met, owner)
        if met is None or include_met or deadline.late:
            found.append(deadline)

    def first_contact(after: datetime) -> datetime | None:
        return next((e["at"] for e in contacts if e["at"] >= after), None)

    if s.assignee:
        _callback(add, s, level, cycle, contacts)
    owner = s.assignee or s.duty
    add("reply", "reply", "first reply", opened, "reply", first_contact(opened["at"]), owner)
    if level.update:
        for last, following in zip(contacts, [*contacts[1:], None], strict=False):
            add("update", "update", "customer update", last, "update",
                following["at"] if following else None, owner)  # fmt: skip
    _escalations(add, events, cfg, level, opened)
    return sorted(found, key=lambda d: (d.due is None, d.due or _NEVER))


def _callback(
    add: _Add, s: State, level: Level, cycle: list[dict[str, Any]], contacts: list[dict[str, Any]]
) -> None:
    """The callback the assigned engineer owes since the latest assignment the sweep did
    not withdraw (the cycle's opening, if none), and the duty engineer's staged checks."""
    withdrawn = {e["withdraws"] for e in cycle if e["type"] == "withdraw"}
    anchor = next((e for e in reversed(cycle)
                   if e["type"] in ("assign", "reassign") and e["id"] not in withdrawn),
                  cycle[0])  # fmt: skip
    limit = "reassigned_callback" if anchor["type"] == "reassign" else "callback"
    # only the case's own engineers meet the callback; anyone's contact meets the reply
    owners = s.engineers
    called = next((e["at"] for e in contacts if e["at"] >= anchor["at"] and e["by"] in owners),
                  None)  # fmt: skip
    checked = {e["deadline"]: e["at"] for e in cycle if e["type"] == "check"}
    for check in (c for c in level.checks if c < getattr(level, limit)):
        minutes = int(check.total_seconds() // 60)
        key = f"check{minutes}@{anchor['id']}"
        # a check is done when the sweep made it, and needless once the customer was called
        done = min((t for t in (checked.get(key), called) if t is not None), default=None)
        add("check", f"check{minutes}", f"check {minutes}m", anchor, check, done, s.duty)
    add("callback", "callback", f"callback by {s.assignee}", anchor, limit, called, s.assignee)


def _escalations(
    add: _Add, events: list[dict[str, Any]], cfg: Config, level: Level, opened: dict[str, Any]
) -> None:
    """The escalations the severity asks for: to a senior engineer, then to a manager; one
    made in any cycle stays made."""
    escalations = [e for e in events if e["type"] == "escalate"]  # made in any cycle: kept
    for which, done in (
        ("senior", escalations),
        ("manager", [e for e in escalations if e["to"] in cfg.managers]),
    ):
        if getattr(level, f"escalate_{which}"):
            made = done[0] if done else None
            begin = _opening_before(events, made["at"]) if made else opened
            add("escalation", f"escalation-{which}", f"escalate to {which}", begin,
                f"escalate_{which}", made["at"] if made else None, cfg.manager.id)  # fmt: skip


def shown(case: Case, cfg: Config) -> list[Deadline]:
    """What `show` lists: an open case's deadlines; a closed case's as its close left them,
    each met, met late or missed (one not yet due at the close was owed no more)."""
    if case.state.status != "closed":
        return compute(case, cfg)
    closing = max(i for i, e in enumerate(case.events) if e["type"] == "close")
    closed = case.events[closing]["at"]
    cycle = max(i for i, e in enumerate(case.events[:closing]) if e["type"] in ("open", "reopen"))
    # the callbacks missed before the last one: each reassignment by the sweep records one
    missed = [
        Deadline("callback", e["deadline"], f"callback by {e['from']}", e["due"], None, e["from"])
        for e in case.events[cycle:closing] if e["type"] == "reassign" and "due" in e
    ]  # fmt: skip
    before = Case(case.id, case.events[:closing])
    found = [d for d in compute(before, cfg) if d.met is not None or (d.due and d.due <= closed)]
    return sorted(missed + found, key=lambda d: (d.due is None, d.due or _NEVER))


def _in_force(
    events: list[dict[str, Any]], cfg: Config, at: datetime, current: Level, limit: Any
) -> Level:
    """The level whose limits a step made at `at` is judged by: the severity then, not one
    set later (when that level is gone or had no such limit: the current one)."""
    severity = next(
        (
            e["severity"]
            for e in reversed(events)
            if e["type"] in ("open", "severity") and e["at"] <= at
        ),
        current.number,
    )
    rules = cfg.levels.get(severity, current)
    return rules if isinstance(limit, timedelta) or getattr(rules, limit) else current


def _surely_on_time(kind: str, begin: datetime, amount: timedelta, met: datetime) -> bool:
    """A made check, or a step within `amount` of real time: working time never runs faster."""
    return kind == "check" or met - begin <= amount


def _opening_before(events: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
    """The opening or reopening that began the cycle a step at `at` belongs to."""
    return next(e for e in reversed(events) if e["type"] in _STARTS and e["at"] <= at)


def _pauses(events: list[dict[str, Any]]) -> list[tuple[datetime, datetime | None]]:
    """(begin, end) of each wait on the customer or on parts; a close ends one."""
    pauses: list[tuple[datetime, datetime | None]] = []
    begun: datetime | None = None
    for e in events:
        if e["type"] in ("wait-customer", "wait-parts") and begun is None:
            begun = e["at"]
        elif e["type"] in ("resume", "close") and begun is not None:
            pauses.append((begun, e["at"]))
            begun = None
    if begun is not None:
        pauses.append((begun, None))
    return pauses


def _pauses_before(
    pauses: list[tuple[datetime, datetime | None]], at: datetime
) -> list[tuple[datetime, datetime | None]]:
    """The pauses as they stood at `at`: one begun later left out, one still running
    ended at `at` (the limits in force when a step was made judge it)."""
    return [(b, at if e is None or e > at else e) for b, e in pauses if b < at]


class _Clock:
    """Adds working time on the level's calendar, standing still in pauses where allowed."""

    def __init__(self, level: Level, pauses: list[tuple[datetime, datetime | None]]) -> None:
        self.calendar: Calendar = level.calendar
        self.pausable = level.pause
        self.pauses = pauses

    def add(self, kind: str, start: datetime, amount: timedelta) -> datetime | None:
        if kind not in self.pausable or not self.pauses:
            return self.calendar.add(start, amount)
        return add_paused(self.calendar, start, amount, self.pauses)


def add_paused(
    calendar: Calendar,
    start: datetime,
    amount: timedelta,
    pauses: list[tuple[datetime, datetime | None]],
) -> datetime | None:
    """`calendar.add`, with the clock stopped in each pause; None if paused at the due time."""
    cursor, left = start, amount
    for begin, end in pauses:
        if end is not None and end <= cursor:
            continue
        if begin > cursor:
            due = calendar.add(cursor, left)
            if due <= begin:
                return due
            left -= calendar.between(cursor, begin)
        if end is None:
            return None
        cursor = max(cursor, end)
    return calendar.add(cursor, left)
