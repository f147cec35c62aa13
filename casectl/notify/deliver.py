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
from datetime import datetime
from os.path import join
from typing import Any, NamedTuple

from casectl.config import Config, Person
from casectl.deadlines import span
from casectl.errors import BrokenCaseError
from casectl.model import Case
from casectl.notify import DeliveryError, compose
from casectl.notify.outbox import Outbox, new_item
from casectl.notify.settings import Channel, Email, Robot, Settings
from casectl.store import Store, read_case

Item = dict[str, Any]


class Report(NamedTuple):
    sent: list[Item]
    failed: list[tuple[Item, str]]
    deferred: list[Item]  # waiting for the person's interval to pass
    expired: list[Item]
    dropped: list[tuple[Item, str]]
    refused: list[tuple[Item, str]]  # refused by the server for good: the manager is told

    @staticmethod
    def empty() -> Report:
        return Report([], [], [], [], [], [])


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
    """Deliver every pending item that is due. If another process is delivering, leave
    it to that one: it looks for new items again before it lets go."""
    report = Report.empty()
    attempted: set[str] = set()
    while True:
        with outbox.delivering() as held:
            if not held:
                return report
            while batch := [i for i in outbox.pending() if i["key"] not in attempted]:
                attempted |= {i["key"] for i in batch}
                _round(outbox, settings, cfg, store, now, clock, batch, report)
        if all(i["key"] in attempted for i in outbox.pending()):
            return report


def _round(
    outbox: Outbox, settings: Settings, cfg: Config, store: Store, now: datetime,
    clock: Callable[[], float], batch: list[Item], report: Report,
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
        _send_channel(outbox, channel, settings, cfg, mine, now, clock, report)


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
    report: Report,
) -> None:  # fmt: skip
    """Send each person's message on one channel (one SMTP session for all); once the
    channel is unreachable, the rest fail with the same reason without trying."""
    from casectl.notify import mail, webhook

    session = None
    down: str | None = None
    try:
        for (person_id, _), items in sorted(groups.items()):
            if down is not None:
                _failed(outbox, items, down, now, report)
                continue
            person: Person = cfg.person(person_id)  # type: ignore[assignment]
            msg = _message(person, items)
            try:
                if isinstance(channel, Email):
                    if not person.email:
                        raise DeliveryError(f"{channel.name}: {person.id} has no e-mail address")
                    session = session or mail.connect(channel)
                    built = mail.message(channel, [(person.name, person.email)], msg.subject,
                                         msg.text, now, _message_id(items), msg.cases)  # fmt: skip
                    mail.send(session, channel, built, [person.email])
                elif isinstance(channel, Robot):
                    webhook.post(channel, msg, clock)
            except DeliveryError as err:
                if err.down:
                    down = str(err)
                if err.permanent:
                    _refused(outbox, settings, cfg, items, str(err), now, report)
                else:
                    _failed(outbox, items, str(err), now, report)
                continue
            for item in items:
                outbox.done(item)
                outbox.log(f"sent {item['key']} {person_id} {channel.name} {item['event']}")
            outbox.set_last_sent(person_id, channel.name, now)
            report.sent.extend(items)
    finally:
        if session is not None:
            mail.close(session)


def send_now(channel: Channel, person: Person, part: dict[str, Any], now: datetime) -> None:
    """Send one part to a person at once, outside the outbox (`notify test`)."""
    from casectl.notify import mail, webhook

    msg = _message(person, [{"part": part, "event": "test", "key": "test"}])
    if isinstance(channel, Robot):
        webhook.post(channel, msg)
        return
    if not person.email:
        raise DeliveryError(f"{channel.name}: {person.id} has no e-mail address")
    session = mail.connect(channel)
    try:
        built = mail.message(channel, [(person.name, person.email)], msg.subject, msg.text, now,
                             os.urandom(12).hex(), [])  # fmt: skip
        mail.send(session, channel, built, [person.email])
    finally:
        mail.close(session)


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
