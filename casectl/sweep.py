"""`casectl sweep`: act on every deadline of every open case that came due by `now`.

Each action is recorded in the case as an event whose id is derived from the
deadline's key, so a deadline is acted on once however often or however many
sweeps run (two clones' events under one id merge to the earlier). Every event
carries `at`, the sweep's `now` (when people were told), and `due`, when the
deadline fell due. Actions are taken in order of due time; a reassignment's
shorter limit counts from the sweep's `now`, so a sweep after a gap reassigns a
case once and says how late it ran. A deadline met late before any sweep saw it
is reported once as met late.

Beyond deadlines, the sweep tells the manager, once each, of an on-site request
still waiting at its severity's limit (`onsite_pending`) and of a special
situation a step raised (`manager_alert`): `model.notices`.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from casectl import deadlines, said, state
from casectl.config import Config, Person
from casectl.deadlines import Deadline, span
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.ids import ALPHABET
from casectl.index import Index
from casectl.model import Case, Notice, State, notices
from casectl.store import Store, read_case

BOT = "sweep"  # the `by` of the events the sweep records
OVERDUE_KIND = {
    "reply": "reply_overdue",
    "update": "update_overdue",
    "escalation": "escalation_due",
}


class Action(NamedTuple):
    case: str
    kind: str  # check, reassign, callback_overdue, {reply,update}_overdue, escalation_due,
    # met_late; onsite_pending, manager_alert
    due: datetime
    deadline: str
    notify: tuple[str, ...]
    from_: str | None = None
    to: str | None = None
    late_by: timedelta = timedelta(0)  # how late the sweep acted; for met_late, the step
    shown: str | None = None  # a notice's line in the reader's language (never in --json)

    def document(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "kind": self.kind,
            "due": self.due.isoformat(),
            "deadline": self.deadline,
            "from": self.from_,
            "to": self.to,
            "notify": list(self.notify),
            "late_by": int(self.late_by.total_seconds()),
        }


class Outcome:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.changed: list[str] = []
        self.broken: list[str] = []
        self.unconfigured: list[tuple[str, int]] = []  # (case, severity) with no level


def run(store: Store, cfg: Config, index: Index, now: datetime, dry_run: bool) -> Outcome:
    """Sweep every open case whose next deadline is due; the caller holds the lock."""
    outcome = Outcome()
    due = index.due(now.timestamp())
    outcome.broken = index.broken
    outcome.unconfigured = index.unconfigured
    unverified = _unverified(store, cfg)  # {} unless severity.yaml says `signed:`
    due += [case_id for case_id in sorted(unverified) if case_id not in due]
    written = []
    with store.batch():  # the files are written together, after the last case
        for case_id in due:
            case = read_case(store.path(case_id))
            actions = _sweep_screened(case, cfg, now, unverified.get(case_id))
            if actions and not dry_run:
                outcome.changed.append(store.save(case))
                written.append(case)
            outcome.actions += actions
    if written:
        index.record(written)  # once for the whole sweep
    outcome.actions += holiday_notices(store, cfg, now, dry_run)
    if unverified:
        from casectl import signing

        outcome.actions += signing.notices(store, cfg, unverified, now, dry_run)
    return outcome


def _unverified(store: Store, cfg: Config) -> dict[str, dict[str, Any]]:
    """The cases with a step `signed:` names that no good signature backs (casectl.signing)."""
    if cfg.signed is None:
        return {}
    from casectl import signing

    return signing.unverified(store, cfg)


def _sweep_screened(case: Case, cfg: Config, now: datetime, bad: dict | None) -> list[Action]:
    """`sweep_case` as if the unverified steps `bad` were not there; the events the sweep
    records go into the case itself, which keeps them all."""
    if not bad:
        return sweep_case(case, cfg, now)
    from casectl import signing

    view = signing.screened(case, bad)
    known = {e["id"] for e in case.events}
    actions = sweep_case(view, cfg, now)
    for event in view.events:
        if event["id"] not in known:
            case.append(event)
    return actions


def holiday_notices(store: Store, cfg: Config, now: datetime, dry_run: bool) -> list[Action]:
    """From December 1, each calendar that has this year's holidays but not next year's,
    told to the manager once (this clone remembers it in its state folder's `notices`)."""
    local = now.astimezone(cfg.zone)
    if local.month != 12:
        return []
    from casectl.holidays import holiday_gaps

    path = os.path.join(store.shared_folder(), "notices")
    try:
        told = set(state.read(path, 1 << 20).decode("utf-8", "replace").splitlines())
    except FileNotFoundError:
        told = set()
    except OSError as err:
        raise CasectlError(
            _("{path}: {reason}: move it away").format(path=path, reason=err.strerror)
        ) from None
    new = [gap for gap in holiday_gaps(cfg, now) if gap not in told]
    if new and not dry_run:
        state.append(path, "".join(f"{gap}\n" for gap in new))
    due = local.replace(day=1, hour=0, minute=0, second=0)
    return [Action("", "holidays_missing", due, gap, (cfg.manager.id,), shown=said.holiday_gap(gap))
            for gap in new]  # fmt: skip


def sweep_case(case: Case, cfg: Config, now: datetime) -> list[Action]:
    """Withdraw what a step made late showed needless (its clocks then stand as the step
    left them), act on the case's owed deadlines, then tell what else is due (`notices`)."""
    actions = []
    for first in (True, False):
        for notice in notices(case, cfg):
            if notice.due <= now and (notice.kind == "withdraw") == first:
                action, event = _tell(case, cfg, notice, now)
                case.append(event)
                actions.append(action)
        if first:
            actions += _sweep_deadlines(case, cfg, now)
    return actions


def _tell(case: Case, cfg: Config, notice: Notice, now: datetime) -> tuple[Action, dict[str, Any]]:
    """The manager is told of a notice: the action, and the event that records it."""
    told: tuple[str, ...] = (cfg.manager.id,)
    late = now - notice.due
    kind = notice.kind.replace("_", "-")  # onsite-pending, manager-alert, withdraw
    event = {"id": event_id(notice.key), "at": now, "by": BOT, "type": kind}
    if notice.kind == "withdraw":  # the people the action told hear it was needless
        action_id = notice.key.partition("@")[2]
        action = next(e for e in case.events if e["id"] == action_id)
        told = (action["to"], cfg.manager.id) if action["type"] == "reassign" else tuple(
            action.get("notify") or told)  # fmt: skip
        told = tuple(dict.fromkeys(told))
        event |= {"withdraws": action_id, **({"to": notice.to} if notice.to else {})}
    event |= {"deadline": notice.key, "due": notice.due, "notify": list(told)}
    event["text"] = notice.label
    shown = said.line(event, case.events)
    return Action(case.id, notice.kind, notice.due, notice.label, told, late_by=late,
                  shown=shown), event  # fmt: skip


def _sweep_deadlines(case: Case, cfg: Config, now: datetime) -> list[Action]:
    """Act on the case's owed deadlines in order of due time, appending an event for each.

    Only a reassignment changes the case's clocks: after one, they are computed again.
    """
    actions: list[Action] = []
    while True:
        acted = {e["deadline"] for e in case.events if "deadline" in e}
        owed = [d for d in deadlines.compute(case, cfg) if d.key not in acted and _owed(d, now)]
        owed.sort(key=lambda d: d.due)  # type: ignore[arg-type,return-value]
        for d in owed:
            action, event = _act(case, cfg, d, now)
            case.append(event)
            actions.append(action)
            if action.kind == "reassign":
                break
        else:
            return actions


def _owed(d: Deadline, now: datetime) -> bool:
    """Missed by `now`, or met late (a check excepted: the sweep's own reminder)."""
    if d.due is None or d.due > now:
        return False
    return d.met is None or (d.kind != "check" and d.late and d.met <= now)


def _act(case: Case, cfg: Config, d: Deadline, now: datetime) -> tuple[Action, dict[str, Any]]:
    s = case.state
    level = cfg.levels[s.severity]
    due: datetime = d.due  # type: ignore[assignment]
    late = now - due
    event: dict[str, Any] = {"id": event_id(d.key), "at": now, "by": BOT}
    event |= {"deadline": d.key, "due": due}
    said = f" (sweep {span(late)} late)" if late else ""
    if d.met is not None:
        told = _people(level.notify[d.kind], s, cfg)
        late = d.met - due
        text = f"{d.label} met {span(late)} late, at {d.met:%Y-%m-%d %H:%M}"
        event |= {"type": "met-late", "notify": list(told), "text": text}
        return Action(case.id, "met_late", due, d.label, told, late_by=late), event
    if d.kind == "check":
        told = (d.owner or s.duty,)  # the duty engineer on duty when the check fell due
        text = f"{d.label}: {s.assignee} has not called the customer back yet{said}"
        event |= {"type": "check", "notify": list(told), "text": text}
        return Action(case.id, "check", due, d.label, told, to=s.assignee, late_by=late), event
    if d.kind == "callback":
        successor = next_engineer(case, cfg, now)
        if successor.id != s.assignee:
            told = _people((*level.notify["callback"], "duty"), s, cfg)
            told = tuple(dict.fromkeys((*told, successor.id, s.assignee)))  # type: ignore[arg-type]
            event |= {"type": "reassign", "from": s.assignee, "to": successor.id}
            event |= {"notify": list(told)}
            event["text"] = f"callback missed by {s.assignee}; reassigned to {successor.id}{said}"
            action = Action(case.id, "reassign", due, d.label, told, s.assignee, successor.id, late)
            return action, event
        told = _people(level.notify["callback"], s, cfg)
        kind, text = "callback_overdue", f"callback missed by {s.assignee}; nobody left to take it"
    else:
        told = _people(level.notify[d.kind], s, cfg)
        kind, text = OVERDUE_KIND[d.kind], f"{d.label} missed"
    event |= {"type": "overdue", "notify": list(told), "text": text + said}
    return Action(case.id, kind, due, d.label, told, late_by=late), event


def event_id(key: str) -> str:
    """The same deadline gives the same event id in every clone and every run."""
    import hashlib  # 2 ms of start-up: only a sweep that acts pays for it

    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return "S" + "".join(ALPHABET[(digest >> (5 * i)) & 31] for i in range(7))


def next_engineer(case: Case, cfg: Config, at: datetime) -> Person:
    """The next first-line engineer below the assignee in the roster, wrapping round to
    the top, who has not missed this case and is on duty at `at`; nobody left: the manager.

    A case the sweep handed to a manager has come to the end of the roster: it stays with
    them (their missed callback is reported, not passed on), whenever the sweep runs, so
    an engineer coming on duty later does not change the outcome."""
    s = case.state
    withdrawn = {e["withdraws"] for e in case.events if e["type"] == "withdraw"}
    handed = next(e for e in reversed(case.events)
                  if e["type"] in ("assign", "reassign") and e["id"] not in withdrawn)  # fmt: skip
    if handed["type"] == "reassign" and s.assignee in cfg.managers:
        return cfg.person(s.assignee) or cfg.manager
    missed = {e["from"] for e in case.events
              if e["type"] == "reassign" and e["id"] not in withdrawn} | {s.assignee}  # fmt: skip
    people = list(cfg.people)
    here = next((i for i, p in enumerate(people) if p.id == s.assignee), -1)
    for person in people[here + 1 :] + people[: here + 1]:
        if person.has("first-line") and person.id not in missed and person.on_duty(at):
            return person
    return cfg.manager


def _people(names: tuple[str, ...], s: State, cfg: Config) -> tuple[str, ...]:
    """The people the severity names by role; `escalation`: every escalation engineer."""
    by_role = {
        "assignee": (s.assignee,),
        "duty": (s.duty,),
        "manager": (cfg.manager.id,),
        "escalation": s.escalation_engineers,
    }
    return tuple(dict.fromkeys(p for n in names for p in by_role[n] if p))
