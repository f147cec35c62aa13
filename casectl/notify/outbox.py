"""The outbox: what is not yet delivered, one file per (event id, person, channel).

It lives in `.casectl/outbox/` (derived, never committed) like a maildir:
`pending/KEY.json` is written whole to a temporary name, fsynced and renamed
into place, so a reader never sees half an item; `sent/KEY` marks an item
delivered (written before the pending file is removed, and kept 30 days, so the
same event is never queued twice); `last/GROUP` holds when a person was last
told on a channel (the rate limit); `log` is one line per delivery, failure,
expiry or drop. One process delivers at a time (`lock`, an `fcntl` lock the
kernel releases if it dies).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from os.path import exists, join
from typing import Any

from casectl.errors import CasectlError

SENT_KEPT = 30 * 86400  # seconds a sent marker is kept


def item_key(event: str, person: str, channel: str) -> str:
    return hashlib.sha256(f"{event}\0{person}\0{channel}".encode()).hexdigest()[:32]


def group_key(person: str, channel: str) -> str:
    return hashlib.sha256(f"{person}\0{channel}".encode()).hexdigest()[:32]


def new_item(
    event: str, case: str | None, person: str, channel: str, part: dict[str, Any], at: datetime,
    in_case: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """An item to deliver; `in_case`: its event must be in the case file to be sent."""
    return {
        "key": item_key(event, person, channel),
        "event": event,
        "case": case,
        "in_case": in_case,
        "person": person,
        "channel": channel,
        "created": at.isoformat(),
        "part": part,
        "attempts": 0,
        "first_failure": None,
        "last_attempt": None,
        "last_error": None,
    }


_SHAPE = {"key": str, "event": str, "person": str, "channel": str, "created": str, "part": dict}


def _well_formed(item: Any) -> bool:
    """Whether a pending file holds an item as `new_item` makes them (a hand edit or a
    stray file must not stop delivery, nor the step that delivers)."""
    return isinstance(item, dict) and all(isinstance(item.get(k), t) for k, t in _SHAPE.items())


class Outbox:
    def __init__(self, state_dir: str) -> None:
        self.folder = join(state_dir, "outbox")
        self.pending_dir = join(self.folder, "pending")
        self.sent_dir = join(self.folder, "sent")
        self.last_dir = join(self.folder, "last")

    def ready(self) -> None:
        """The outbox's folders, made if missing; a file where one goes is refused."""
        for folder in (self.pending_dir, self.sent_dir, self.last_dir):
            try:
                os.makedirs(folder, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise CasectlError(
                    f"{folder} cannot be made: a file stands where the outbox's folders go "
                    "(.casectl/outbox); move it away"
                ) from None

    def enqueue(self, items: list[dict[str, Any]]) -> list[str]:
        """Write the items not queued or sent before; their keys."""
        self.ready()
        added = []
        for item in items:
            key = item["key"]
            if exists(join(self.sent_dir, key)) or exists(join(self.pending_dir, f"{key}.json")):
                continue
            self.write(item)
            added.append(key)
        if added:
            _sync_folder(self.pending_dir)
        return added

    def write(self, item: dict[str, Any]) -> None:
        path = join(self.pending_dir, f"{item['key']}.json")
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(item, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def pending(self) -> list[dict[str, Any]]:
        """Every queued item, oldest first; a file that cannot be read is logged and moved
        aside (`KEY.json.bad`) rather than stopping delivery."""
        items = []
        try:
            names = sorted(n for n in os.listdir(self.pending_dir) if n.endswith(".json"))
        except (FileNotFoundError, NotADirectoryError):
            return []  # none, or a file where the folder goes (made again when queueing)
        for name in names:
            path = join(self.pending_dir, name)
            try:
                with open(path, encoding="utf-8") as f:
                    item = json.load(f)
                if not _well_formed(item):
                    raise ValueError("not an item casectl queued")
            except FileNotFoundError:
                continue  # delivered by another process meanwhile
            except (OSError, ValueError) as err:
                self.log(f"unreadable {name}: {err}; moved aside")
                os.replace(path, f"{path}.bad")
                continue
            items.append(item)
        return sorted(items, key=lambda i: (i["created"], i["key"]))

    def still_pending(self, key: str) -> bool:
        return exists(join(self.pending_dir, f"{key}.json")) and not self.was_sent(key)

    def was_sent(self, key: str) -> bool:
        return exists(join(self.sent_dir, key))

    def done(self, item: dict[str, Any]) -> None:
        """Delivered: the marker first, then the pending file goes (a crash between leaves
        both, which the next run reads as delivered)."""
        self.ready()
        with open(join(self.sent_dir, item["key"]), "w", encoding="utf-8") as f:
            f.write(f"{item['person']} {item['channel']} {item['event']}\n")
        self.remove(item)

    def remove(self, item: dict[str, Any]) -> None:
        with suppress(FileNotFoundError):
            os.unlink(join(self.pending_dir, f"{item['key']}.json"))

    def last_sent(self, person: str, channel: str) -> datetime | None:
        try:
            with open(join(self.last_dir, group_key(person, channel)), encoding="utf-8") as f:
                return datetime.fromisoformat(f.read().strip())
        except (OSError, ValueError):
            return None

    def set_last_sent(self, person: str, channel: str, at: datetime) -> None:
        self.ready()
        path = join(self.last_dir, group_key(person, channel))
        with open(f"{path}.{os.getpid()}.tmp", "w", encoding="utf-8") as f:
            f.write(at.isoformat())
        os.replace(f"{path}.{os.getpid()}.tmp", path)

    def log(self, line: str) -> None:
        os.makedirs(self.folder, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with open(join(self.folder, "log"), "a", encoding="utf-8") as f:
            f.write(f"{stamp} {' '.join(line.split())}\n")

    def prune(self) -> None:
        """Forget sent markers older than 30 days: no event is queued again that late."""
        limit = time.time() - SENT_KEPT
        try:
            with os.scandir(self.sent_dir) as found:
                for entry in found:
                    if entry.stat().st_mtime < limit:
                        os.unlink(entry.path)
        except FileNotFoundError:
            pass

    @contextmanager
    def delivering(self) -> Iterator[bool]:
        """The delivery lock if free at once (True), else False: the holder, which looks
        for new items again before it lets go, delivers ours too."""
        os.makedirs(self.folder, exist_ok=True)
        with open(join(self.folder, "lock"), "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def _sync_folder(folder: str) -> None:
    """The renames survive a power cut: fsync the folder that holds them."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
