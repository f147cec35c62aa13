"""Queueing what recorded events tell, and delivering what is due: once per event, person, channel.

The order that makes a step safe: a command queues its events' messages, writes
the case file, commits, and only then delivers; a failed delivery never loses a
step, and a message whose event never reached the case file (the command died or
rolled back in between) is dropped, never sent. An item is marked delivered
after the server accepted it, so a crash between the two sends it again at the
next run: at least once, and at most twice for one crash, never zero times (the
resend carries the same Message-ID). Per person and channel, messages come at
most once per `interval`; what queues up meanwhile goes out as one digest. A
message failing for `expiry` is reported to the manager and dropped.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from os.path import join
from typing import Any

from casectl.config import Config, Person
from casectl.deadlines import span
from casectl.errors import BrokenCaseError
from casectl.model import Case
from casectl.notify import DeliveryError, compose
from casectl.notify.deadline import Budget
from casectl.notify.outbox import Outbox, new_item
from casectl.notify.settings import Channel, Email, Robot, Settings
from casectl.store import Store, read_case

Item = dict[str, Any]


@dataclass
class Report:
    sent: list[Item] = field(default_factory=list)
    failed: list[tuple[Item, str]] = field(default_factory=list)
    deferred: list[Item] = field(default_factory=list)  # waiting for the person's interval
    expired: list[Item] = field(default_factory=list)
    dropped: list[tuple[Item, str]] = field(default_factory=list)
    refused: list[tuple[Item, str]] = field(default_factory=list)  # for good: manager told
    paced: list[tuple[Item, str]] = field(default_factory=list)  # a robot's rate: next run
    held: bool = False  # another process held delivery for longer than we waited
    down: dict[str, str] = field(default_factory=dict)  # channels found down in this run

    @staticmethod
    def empty() -> Report:
        return Report()


def queue(
    outbox: Outbox, settings: Settings, cfg: Config, case: Case, events: list[dict[str, Any]],
    now: datetime,
) -> list[str]:  # fmt: skip
    """Queue one item per (event, person told, channel reaching them); the new keys."""
    items = []
    for event in events:
        for person_id, part in compose.parts(case, event, cfg).items():
            person = cfg.person(person_id)
            for channel in settings.channels_of(person) if person else []:
                items.append(new_item(event["id"], case.id, person_id, channel.name, part, now))
    return outbox.enqueue(items)


def run(
    outbox: Outbox, settings: Settings, cfg: Config, store: Store, now: datetime,
    clock: Callable[[], float] = time.time,
) -> Report:  # fmt: skip
    """Deliver every pending item that is due, within the run's deadline. If another
    process is delivering, wait a little for it (it looks for new items again before it
    lets go, so it delivers ours too); if it still holds on, `report.held` says so."""
    from casectl.notify.deadline import Budget

    report = Report.empty()
    budget = Budget(settings.message_deadline, settings.run_deadline)
    waited_until = time.monotonic() + min(HOLD_WAIT, budget.remaining())
    attempted: set[str] = set()
    while True:
        with outbox.delivering() as held:
            if not held:
                if time.monotonic() < waited_until:
                    time.sleep(0.1)
                    continue
                report.held = True
                return report
            while batch := [i for i in outbox.pending() if i["key"] not in attempted]:
                attempted |= {i["key"] for i in batch}
                _round(outbox, settings, cfg, store, now, clock, batch, report, budget)
        if all(i["key"] in attempted for i in outbox.pending()):
            return report


HOLD_WAIT = 5.0  # seconds a command waits for another process's delivery to end


def _round(
    outbox: Outbox, settings: Settings, cfg: Config, store: Store, now: datetime,
    clock: Callable[[], float], batch: list[Item], report: Report, budget: Budget,
) -> None:  # fmt: skip
    groups: dict[tuple[str, str], list[Item]] = {}
    recorded = _Recorded(store)
    for item in batch:
        problem = _unsendable(outbox, cfg, recorded, item)
        if problem == "sent":
            outbox.remove(item)
        elif problem == "wait":
            continue
        elif problem:
            outbox.remove(item)
            outbox.log(f"dropped {item['key']} {item['person']} {item['channel']}: {problem}")
            report.dropped.append((item, problem))
        elif _expired(item, settings, now):
            _expire(outbox, settings, cfg, item, now, report)
        elif not _interval_passed(outbox, settings, item, now):
            report.deferred.append(item)
        else:
            groups.setdefault((item["person"], item["channel"]), []).append(item)
    for channel_name in sorted({c for _, c in groups}):
        mine = {k: v for k, v in groups.items() if k[1] == channel_name}
        channel = settings.channels.get(channel_name)
        if channel is None:
            for items in mine.values():
                _failed(outbox, items, f"{channel_name}: not configured in this clone", now, report)
            continue
        _send_channel(outbox, channel, settings, cfg, mine, now, clock, report, budget)


class _Recorded:
    """The event ids of each case file, read once per round."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cases: dict[str, set[str] | None] = {}

    def has(self, case_id: str, event_id: str) -> bool | None:
        """None: the case file cannot be read now."""
        if case_id not in self.cases:
            try:
                case = read_case(self.store.path(case_id))
                self.cases[case_id] = {str(e["id"]) for e in case.events}
            except BrokenCaseError:
                self.cases[case_id] = None
        found = self.cases[case_id]
        return None if found is None else event_id in found


def _unsendable(outbox: Outbox, cfg: Config, recorded: _Recorded, item: Item) -> str | None:
    """Why the item must not be sent ("sent": it was; "wait": not yet), or None."""
    if outbox.was_sent(item["key"]):
        return "sent"
    if cfg.person(item["person"]) is None:
        return "no longer in roster.yaml"
    if not item.get("in_case") or not item.get("case"):
        return None
    found = recorded.has(item["case"], item["event"])
    if found:
        return None
    if found is None or _store_busy(recorded.store):
        return "wait"  # a step may be writing it right now, or the file is being repaired
    recorded.cases.pop(item["case"], None)
    if recorded.has(item["case"], item["event"]):
        return None
    return f"event {item['event']} is not in case {item['case']}: the step was never recorded"


def _store_busy(store: Store) -> bool:
    """Whether some command holds the repository's lock (is writing a case) right now."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:  # never through a link, never blocking on a FIFO
        fd = os.open(join(store.state_dir, "lock"), flags)
    except OSError:
        return False  # no lock file: nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError as err:
        return err.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
    finally:
        os.close(fd)
    return False


def _expired(item: Item, settings: Settings, now: datetime) -> bool:
    first = item.get("first_failure")
    return bool(first) and now - datetime.fromisoformat(str(first)) >= settings.expiry


def _expire(
    outbox: Outbox, settings: Settings, cfg: Config, item: Item, now: datetime, report: Report
) -> None:
    """Drop the item, log it, and tell the manager (unless it was to the manager, or was
    itself such a report: then the log and the command's stderr line are all)."""
    outbox.remove(item)
    outbox.log(
        f"expired {item['key']} {item['person']} {item['channel']} {item['event']}: "
        f"{item.get('last_error')}"
    )
    report.expired.append(item)
    since = span(now - datetime.fromisoformat(str(item["first_failure"])))
    _tell_manager(outbox, settings, cfg, item, f"未送达 not delivered for {since}", now)


def _refused(
    outbox: Outbox, settings: Settings, cfg: Config, items: list[Item], error: str,
    now: datetime, report: Report,
) -> None:  # fmt: skip
    """Refused for good (no such mailbox): no retry; dropped, logged, the manager told now."""
    for item in items:
        item["last_error"] = error
        outbox.remove(item)
        outbox.log(f"refused {item['key']} {item['person']} {item['channel']}: {error}")
        report.refused.append((item, error))
        _tell_manager(outbox, settings, cfg, item, "未送达 not delivered, refused", now)


def _tell_manager(
    outbox: Outbox, settings: Settings, cfg: Config, item: Item, what: str, now: datetime
) -> None:
    """Queue for the manager what was not delivered, unless it was to the manager or was
    itself such a notice (then the log and the command's stderr line are all)."""
    manager = cfg.manager
    if item["person"] == manager.id or str(item["event"]).startswith("expired:"):
        return
    part = {
        "case": item.get("case"),
        "title": f"{what}: {item['person']} by {item['channel']}",
        "lines": [
            f"消息 message: {item['part']['title']}",
            *item["part"]["lines"],
            f"最后错误 last error: {item.get('last_error')}",
            f"请直接联系 please reach {item['person']} yourself",
        ],
    }
    for channel in settings.channels_of(manager):
        event = f"expired:{item['key']}"
        outbox.enqueue(
            [new_item(event, item.get("case"), manager.id, channel.name, part, now, False)]
        )


def _interval_passed(outbox: Outbox, settings: Settings, item: Item, now: datetime) -> bool:
    last = outbox.last_sent(item["person"], item["channel"])
    return last is None or now >= last + settings.interval or now < last


def _send_channel(
    outbox: Outbox, channel: Channel, settings: Settings, cfg: Config,
    groups: dict[tuple[str, str], list[Item]], now: datetime, clock: Callable[[], float],
    report: Report, budget: Budget,
) -> None:  # fmt: skip
    """Send each person's message on one channel (one SMTP session for all), each within
    its deadline; once the channel is unreachable or the run's time is up, the rest fail
    with that reason without trying; once a robot's rate is reached, the rest wait."""
    from casectl.notify import mail, webhook
    from casectl.notify.deadline import TimeUp, within

    session = None
    down: str | None = report.down.get(channel.name)  # not tried again in the same run
    paced: str | None = None
    pacer = webhook.Pacer(outbox, channel, budget.remaining) if isinstance(channel, Robot) else None
    try:
        for (person_id, _), items in sorted(groups.items()):
            if paced is not None:
                report.paced.extend((item, paced) for item in items)
                continue
            if down is None and budget.remaining() <= 0:
                down = f"{channel.name}: not tried, the run's {budget.per_run:g} s were spent"
            if down is not None:
                _failed(outbox, items, down, now, report)
                continue
            person: Person = cfg.person(person_id)  # type: ignore[assignment]
            try:
                if isinstance(channel, Email):
                    if not person.email:
                        raise DeliveryError(f"{channel.name}: {person.id} has no e-mail address")
                    msg = _message(person, items)
                    with within(budget.message()):
                        session = session or mail.connect(channel)
                        to = [(person.name, person.email)]
                        built = mail.message(channel, to, msg.subject, msg.text, now,
                                             _message_id(items), msg.cases)  # fmt: skip
                        mail.send(session, channel, built, [person.email])
                    _delivered(outbox, channel, person_id, items, report)
                else:
                    assert pacer is not None
                    _post_all(outbox, channel, pacer, person, items, clock, budget, report)
            except webhook.RateHeld as held:
                paced = f"{channel.name}: {held}"
                report.paced.extend((i, paced) for i in items if outbox.still_pending(i["key"]))
                continue
            except (DeliveryError, TimeUp) as err:
                if isinstance(err, TimeUp):
                    session = None  # a server that does not answer in time is not asked again
                down = _undelivered(outbox, channel, settings, cfg, items, err, now, report,
                                    budget) or down  # fmt: skip
                continue
            outbox.set_last_sent(person_id, channel.name, now)
    finally:
        if session is not None:
            try:
                with within(min(2.0, max(budget.remaining(), 0.1))):
                    mail.close(session)
            except TimeUp:
                session.close()


def _undelivered(
    outbox: Outbox, channel: Channel, settings: Settings, cfg: Config, items: list[Item],
    err: Exception, now: datetime, report: Report, budget: Budget,
) -> str | None:  # fmt: skip
    """A person's items still pending after `err`: refused for good (permanent), else
    failed, to be tried again; the reason the channel is down, if it is (else None)."""
    from casectl.notify.deadline import TimeUp

    if isinstance(err, TimeUp):
        err = DeliveryError(f"{channel.name}: no answer within {budget.per_message:g} s", down=True)
    assert isinstance(err, DeliveryError)
    left = [i for i in items if outbox.still_pending(i["key"])]
    if err.down:
        report.down[channel.name] = str(err)
    if err.permanent:
        _refused(outbox, settings, cfg, left, str(err), now, report)
    else:
        _failed(outbox, left, str(err), now, report)
    return str(err) if err.down else None


def _delivered(
    outbox: Outbox, channel: Channel, person_id: str, items: list[Item], report: Report
) -> None:
    for item in items:
        outbox.done(item)
        outbox.log(f"sent {item['key']} {person_id} {channel.name} {item['event']}")
    report.sent.extend(items)


def _post_all(
    outbox: Outbox, robot: Robot, pacer: Any, person: Person, items: list[Item],
    clock: Callable[[], float], budget: Budget, report: Report,
) -> None:  # fmt: skip
    """Post the person's messages within the platform's limits, paced under its rate:
    several items packed while they fit, one too long split into "(1/3)" parts; each
    item is marked delivered with its last part (a part once posted is never posted
    again: the item remembers how many of its parts went)."""
    from casectl.notify import webhook
    from casectl.notify.deadline import within

    plan = _plan(robot, person, items)
    texts = webhook.labelled([text for text, _, _ in plan])
    for text, (_, done, piece) in zip(texts, plan, strict=True):
        pacer.wait()
        basis = done if done else [piece] if piece is not None else items
        msg = _message(person, basis)
        try:
            with within(budget.message()):
                webhook.post(robot, msg._replace(text=text), clock)
        except DeliveryError as err:
            if err.answered:
                pacer.posted()  # a post the robot refused counts towards its rate too
            raise
        pacer.posted()
        if piece is not None:
            piece["pieces_sent"] = int(piece.get("pieces_sent", 0)) + 1
            if not done and outbox.still_pending(piece["key"]):
                outbox.write(piece)
        _delivered(outbox, robot, person.id, done, report)


def _plan(
    robot: Robot, person: Person, items: list[Item]
) -> list[tuple[str, list[Item], Item | None]]:
    """(text, items it completes, the item it is a part of) for each message to post."""
    from casectl.notify import webhook

    limit = webhook.LIMITS.get(robot.kind, webhook.LIMITS["json"]).content
    text = compose.text(person.name, [i["part"] for i in items])
    mention = webhook.mention_room(robot, _message(person, items[:1]))
    if limit is None or webhook.cost(text) + mention <= limit:
        return [(text, items, None)]
    budget = limit - mention - webhook.LABEL_ROOM
    plan: list[tuple[str, list[Item], Item | None]] = []
    packed: list[Item] = []
    for item in items:
        with_it = compose.text(person.name, [i["part"] for i in [*packed, item]])
        if webhook.cost(with_it) <= budget:
            packed.append(item)
            continue
        if packed:
            plan.append((compose.text(person.name, [i["part"] for i in packed]), packed, None))
            packed = []
        alone = compose.text(person.name, [item["part"]])
        if webhook.cost(alone) <= budget:
            packed = [item]
            continue
        pieces = webhook.split(alone, budget)
        for n, piece in enumerate(pieces):
            if n >= int(item.get("pieces_sent", 0)):
                plan.append((piece, [item] if n == len(pieces) - 1 else [], item))
    if packed:
        plan.append((compose.text(person.name, [i["part"] for i in packed]), packed, None))
    return plan


def send_now(
    channel: Channel, person: Person, part: dict[str, Any], now: datetime, deadline: float
) -> None:
    """Send one part to a person at once, outside the outbox (`notify test`), within
    `deadline` seconds whatever the server does."""
    from casectl.notify import mail, webhook
    from casectl.notify.deadline import TimeUp, within

    msg = _message(person, [{"part": part, "event": "test", "key": "test"}])
    if not isinstance(channel, Robot) and not person.email:
        raise DeliveryError(f"{channel.name}: {person.id} has no e-mail address")
    session = None
    try:
        with within(deadline):
            if isinstance(channel, Robot):
                webhook.post(channel, msg)
                return
            session = mail.connect(channel)
            built = mail.message(channel, [(person.name, person.email)], msg.subject, msg.text,
                                 now, os.urandom(12).hex(), [])  # fmt: skip
            mail.send(session, channel, built, [person.email])
            mail.close(session)
    except TimeUp:
        if session is not None:
            session.close()
        raise DeliveryError(f"{channel.name}: no answer within {deadline:g} s") from None


def _message(person: Person, items: list[Item]) -> Any:
    from casectl.notify.webhook import Message, mobile

    parts = [i["part"] for i in items]
    cases = list(dict.fromkeys(p["case"] for p in parts if p.get("case")))
    return Message(
        person=person.id,
        name=person.name,
        email=person.email,
        mobile=mobile(person.phone),
        subject=compose.subject(parts),
        text=compose.text(person.name, parts),
        cases=cases,
        events=[i["event"] for i in items],
    )


def _message_id(items: list[Item]) -> str:
    """The same items give the same id: a resend after a crash is recognisably the same."""
    keys = "\0".join(sorted(i["key"] for i in items))
    return hashlib.sha256(keys.encode()).hexdigest()[:32]


def _failed(outbox: Outbox, items: list[Item], error: str, now: datetime, report: Report) -> None:
    for item in items:
        item["attempts"] = int(item.get("attempts") or 0) + 1
        item["first_failure"] = item.get("first_failure") or now.isoformat()
        item["last_attempt"] = now.isoformat()
        item["last_error"] = error
        if outbox.still_pending(item["key"]):
            outbox.write(item)
        outbox.log(f"failed {item['key']} {item['person']} {item['channel']}: {error}")
        report.failed.append((item, error))
