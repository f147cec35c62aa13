"""`casectl sweep`: act on every deadline of every open case that came due by `now`.

Each action is recorded in the case as an event whose id is derived from the
deadline's key, so a deadline is acted on once however often or however many
sweeps run. Actions are taken in time order, each at the moment its deadline
fell due, so a sweep after a gap catches up exactly as if cron had never stopped:
a reassignment's shorter limit counts from when the previous limit was missed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, NamedTuple

from casectl import deadlines
from casectl.config import Config, Person
from casectl.deadlines import Deadline
from casectl.ids import ALPHABET
from casectl.index import Index
from casectl.model import Case, State
from casectl.store import Store, read_case

BOT = "sweep"  # the `by` of the events the sweep records
OVERDUE_KIND = {
    "reply": "reply_overdue",
    "update": "update_overdue",
    "escalation": "escalation_due",
}


class Action(NamedTuple):
    case: str
    kind: str  # check, reassign, callback_overdue, reply_overdue, update_overdue, escalation_due
    due: datetime
    deadline: str
    notify: tuple[str, ...]
    from_: str | None = None
    to: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "kind": self.kind,
            "due": self.due.isoformat(),
            "deadline": self.deadline,
            "from": self.from_,
            "to": self.to,
            "notify": list(self.notify),
        }


class Outcome:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.changed: list[str] = []
        self.broken: list[str] = []


def run(store: Store, cfg: Config, index: Index, now: datetime, dry_run: bool) -> Outcome:
    """Sweep every open case whose next deadline is due; the caller holds the lock."""
    outcome = Outcome()
    due = index.due(now.timestamp())
    outcome.broken = index.broken
    written = []
    for case_id in due:
        case = read_case(store.path(case_id))
        actions = sweep_case(case, cfg, now)
        if actions and not dry_run:
            outcome.changed.append(store.save(case))
            written.append(case)
        outcome.actions += actions
    if written:
        index.record(written)  # once for the whole sweep
    return outcome


def sweep_case(case: Case, cfg: Config, now: datetime) -> list[Action]:
    """Act on the case's due deadlines in time order, appending an event for each."""
    actions: list[Action] = []
    while True:
        acted = {e["deadline"] for e in case.events if "deadline" in e}
        missed = [
            d
            for d in deadlines.compute(case, cfg)
            if d.met is None and d.due is not None and d.due <= now and d.key not in acted
        ]
        if not missed:
            return actions
        first = min(missed, key=lambda d: d.due)  # type: ignore[arg-type,return-value]
        action, event = _act(case, cfg, first)
        case.append(event)
        actions.append(action)


def _act(case: Case, cfg: Config, d: Deadline) -> tuple[Action, dict[str, Any]]:
    s = case.state
    level = cfg.levels[s.severity]
    due: datetime = d.due  # type: ignore[assignment]
    event: dict[str, Any] = {"id": event_id(d.key), "at": due, "by": BOT}
    if d.kind == "check":
        told = _people(("duty",), s, cfg)
        text = f"{d.label}: {s.assignee} has not called the customer back yet"
        event |= {"type": "check", "deadline": d.key, "notify": list(told), "text": text}
        return Action(case.id, "check", due, d.label, told, to=s.assignee), event
    if d.kind == "callback":
        told = _people(level.notify["callback"], s, cfg)
        successor = next_engineer(case, cfg, due)
        if successor.id != s.assignee:
            told = tuple(dict.fromkeys((*told, successor.id)))
            event |= {"type": "reassign", "from": s.assignee, "to": successor.id}
            event |= {"deadline": d.key, "notify": list(told)}
            event["text"] = f"callback missed by {s.assignee}; reassigned to {successor.id}"
            action = Action(case.id, "reassign", due, d.label, told, s.assignee, successor.id)
            return action, event
        kind, text = "callback_overdue", f"callback missed by {s.assignee}; nobody left to take it"
    else:
        told = _people(level.notify[d.kind], s, cfg)
        kind, text = OVERDUE_KIND[d.kind], f"{d.label} missed"
    event |= {"type": "overdue", "deadline": d.key, "due": due, "notify": list(told), "text": text}
    return Action(case.id, kind, due, d.label, told), event


def event_id(key: str) -> str:
    """The same deadline gives the same event id in every clone and every run."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return "S" + "".join(ALPHABET[(digest >> (5 * i)) & 31] for i in range(7))


def next_engineer(case: Case, cfg: Config, at: datetime) -> Person:
    """The next first-line engineer in roster order after the assignee who has not
    missed this case and is on duty at `at`; with nobody left, the manager."""
    s = case.state
    missed = {e["from"] for e in case.events if e["type"] == "reassign"} | {s.assignee}
    people = list(cfg.people)
    here = next((i for i, p in enumerate(people) if p.id == s.assignee), -1)
    for person in people[here + 1 :] + people[: here + 1]:
        if person.has("first-line") and person.id not in missed and person.on_duty(at):
            return person
    return cfg.manager


def _people(names: tuple[str, ...], s: State, cfg: Config) -> tuple[str, ...]:
    by_role = {
        "assignee": s.assignee,
        "duty": s.duty,
        "manager": cfg.manager.id,
        "escalation": s.escalation_engineer,
    }
    return tuple(dict.fromkeys(p for p in (by_role[n] for n in names) if p))
