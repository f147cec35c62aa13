"""A case's deadlines, derived from its events and its current severity.

Clocks start at the opening, or at the latest reopening (fresh clocks). Each is
counted on the severity's calendar:
- callback: the assigned engineer reaches the customer, within `callback` of the
  assignment (`reassigned_callback` after a reassignment by the sweep), with
  staged checks for the duty engineer before it (`checks`);
- reply: a first contact with the customer within `reply` of the opening;
- update: the next contact within `update` of the last one;
- escalation: an escalation engineer designated within `escalate_senior`, and the
  case escalated to a manager within `escalate_manager`.
A contact (`log --callback`, `--type contact`) meets the callback and reply
deadlines. While the case waits on the customer or on parts, the deadlines its
severity lists under `pause` stand still. A severity change recomputes every
deadline from its anchor with the new limits, so nothing stale stays overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from casectl.calendars import Calendar
from casectl.config import Config, Level
from casectl.model import CONTACTS, Case

_NEVER = datetime.max.replace(tzinfo=timezone.utc)  # sorts a paused deadline last


class Deadline(NamedTuple):
    kind: str  # check, callback, reply, update, escalation
    key: str  # unique within the case: the sweep records each key once
    label: str
    due: datetime | None  # None while paused
    met: datetime | None
    owner: str | None  # who owes the step

    def state(self, now: datetime, soon: timedelta) -> str:
        due = self.due.timestamp() if self.due else None
        return state_of(self.met is not None, due, now.timestamp(), soon.total_seconds())


def state_of(met: bool, due: float | None, now: float, soon: float) -> str:
    """met, paused, missed (from the due time on), due soon, or pending; times in epoch seconds."""
    if met:
        return "met"
    if due is None:
        return "paused"
    if now >= due:
        return "missed"
    return "due soon" if due - now <= soon else "pending"


def compute(case: Case, cfg: Config, include_met: bool = True) -> list[Deadline]:
    """The deadlines of the case's current clocks, in order of due time; none when closed.

    Without `include_met`, deadlines already met are left out (and their due times,
    the costly part, never computed): all the open-case index needs.
    """
    s = case.state
    level = cfg.levels.get(s.severity)
    if s.status == "closed" or level is None:
        return []
    events = case.events
    start = max(i for i, e in enumerate(events) if e["type"] in ("open", "reopen"))
    cycle = events[start:]
    opened = cycle[0]
    contacts = [e for e in cycle if e["type"] in CONTACTS]
    clock = _Clock(level, _pauses(cycle))
    found: list[Deadline] = []

    def add(
        kind: str, key: str, label: str, begin: dict, amount: timedelta, met: Any, owner: Any
    ) -> None:
        if met is None or include_met:
            due = clock.add("callback" if kind == "check" else kind, begin["at"], amount)
            found.append(Deadline(kind, key, label, due, met, owner))

    def first_contact(after: datetime) -> datetime | None:
        return next((e["at"] for e in contacts if e["at"] >= after), None)

    if s.assignee:
        anchor = next((e for e in reversed(cycle) if e["type"] in ("assign", "reassign")), opened)
        limit = level.reassigned_callback if anchor["type"] == "reassign" else level.callback
        # only the case's own engineers meet the callback; anyone's contact meets the reply
        owners = (s.assignee, s.escalation_engineer)
        called = next((e["at"] for e in contacts if e["at"] >= anchor["at"] and e["by"] in owners),
                      None)  # fmt: skip
        checked = {e["deadline"]: e["at"] for e in cycle if e["type"] == "check"}
        for check in (c for c in level.checks if c < limit):
            minutes = int(check.total_seconds() // 60)
            key = f"check{minutes}@{anchor['id']}"
            # a check is done when the sweep made it, and needless once the customer was called
            done = checked.get(key) or called
            add("check", key, f"check {minutes}m", anchor, check, done, s.duty)
        add("callback", f"callback@{anchor['id']}", f"callback by {s.assignee}", anchor, limit,
            called, s.assignee)  # fmt: skip
    tag = f"s{s.severity}@"
    owner = s.assignee or s.duty
    add("reply", f"reply/{tag}{opened['id']}", "first reply", opened, level.reply,
        first_contact(opened["at"]), owner)  # fmt: skip
    if level.update and contacts:
        last = contacts[-1]
        add(
            "update",
            f"update/{tag}{last['id']}",
            "customer update",
            last,
            level.update,
            None,
            owner,
        )
    escalations = [e for e in cycle if e["type"] == "escalate"]
    for which, within, done in (
        ("senior", level.escalate_senior, escalations),
        ("manager", level.escalate_manager, [e for e in escalations if e["to"] in cfg.managers]),
    ):
        if within:
            add("escalation", f"escalation-{which}/{tag}{opened['id']}", f"escalate to {which}",
                opened, within, done[0]["at"] if done else None, cfg.manager.id)  # fmt: skip
    return sorted(found, key=lambda d: (d.due is None, d.due or _NEVER))


def _pauses(cycle: list[dict[str, Any]]) -> list[tuple[datetime, datetime | None]]:
    pauses: list[tuple[datetime, datetime | None]] = []
    begun: datetime | None = None
    for e in cycle:
        if e["type"] in ("wait-customer", "wait-parts") and begun is None:
            begun = e["at"]
        elif e["type"] == "resume" and begun is not None:
            pauses.append((begun, e["at"]))
            begun = None
    if begun is not None:
        pauses.append((begun, None))
    return pauses


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
