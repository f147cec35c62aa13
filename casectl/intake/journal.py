"""The clone's own intake state, under the store's state folder (never committed):

- `intake/log`: one JSON line per alert taken and what it became (`intake log`, and
  the counts the rules' windows need);
- `intake/spool/{tmp,new,cur}`: a maildir where an alert read from stdin is kept
  before it is handled, so a crash loses nothing: the next run handles what is left;
- `intake/quarantine/`: every message no parser could read, kept whole.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from os.path import join
from typing import Any

TAIL = 4 << 20  # bytes of log read for the windows: some 15,000 alerts
ROTATE = 32 << 20  # a log this big becomes log.1 (the one before is dropped)


class Journal:
    def __init__(self, state_dir: str) -> None:
        self.folder = join(state_dir, "intake")
        self.log = join(self.folder, "log")
        self.pending: list[dict[str, Any]] = []  # entries of this run, written at its end
        self._recent: list[dict[str, Any]] | None = None

    def ready(self) -> None:
        for sub in ("spool/tmp", "spool/new", "spool/cur", "quarantine"):
            os.makedirs(join(self.folder, sub), exist_ok=True)

    def recent(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """The log's last entries (at most TAIL bytes of it), then this run's own."""
        if self._recent is None:
            self._recent = _tail(self.log, TAIL)
        found = self._recent + self.pending
        if since is None:
            return found
        cut = since.timestamp()
        return [e for e in found if isinstance(e.get("t"), (int, float)) and e["t"] >= cut]

    def seen(self, alert_id: str, since: datetime) -> dict[str, Any] | None:
        return next((e for e in reversed(self.recent(since)) if e.get("id") == alert_id), None)

    def count(self, at: datetime, within: Any, serial: str, code: str | None = None) -> int:
        """The alerts taken from `serial` (with `code`) that the array raised within
        `within` of `at`, by the array's clock (a backlog taken late is no storm, and
        alerts that arrive out of order still count)."""
        counted = ("opened", "appended", "storm", "counted", "cleared", "maintenance")
        start, end = (at - within).timestamp(), (at + within).timestamp()
        return sum(
            1
            for e in self.recent()
            if e.get("serial") == serial
            and (code is None or e.get("code") == code)
            and e.get("outcome") in counted
            and isinstance(e.get("at"), (int, float))
            and start < e["at"] <= end
        )

    def add(self, entry: dict[str, Any]) -> None:
        self.pending.append(entry)

    def flush(self) -> None:
        """Append this run's entries to the log (one write, then fsync)."""
        if not self.pending:
            return
        data = "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in self.pending)
        with contextlib.suppress(OSError):
            if os.stat(self.log).st_size > ROTATE:  # the windows read only its tail
                os.replace(self.log, self.log + ".1")
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, data.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if self._recent is not None:
            self._recent += self.pending
        self.pending = []

    def quarantine(self, data: bytes, name: str) -> None:
        """Keep a message no parser read, under its own name: once, and a different one
        of the same name (from another maildir) beside it."""
        import hashlib

        folder = join(self.folder, "quarantine")
        if os.path.lexists(join(folder, name)):
            if _same(join(folder, name), data):
                return
            name = f"{name}.{hashlib.sha1(data, usedforsecurity=False).hexdigest()[:12]}"
            if os.path.lexists(join(folder, name)):
                return
        tmp = join(folder, f".{name}.{os.getpid()}.tmp")
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600),
                  "wb") as f:  # fmt: skip
            f.write(data)
        os.rename(tmp, join(folder, name))

    def last(self, count: int) -> list[dict[str, Any]]:
        return _tail(self.log, 256 << 10)[-count:]


def _same(path: str, data: bytes) -> bool:
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as f:
            return f.read(len(data) + 1) == data
    except OSError:
        return False


def _tail(path: str, size: int) -> list[dict[str, Any]]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return []
    with open(fd, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        f.seek(max(0, end - size))
        data = f.read()
    lines = data.split(b"\n")
    if end > size:
        lines = lines[1:]  # cut mid-line
    found = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line a crash cut short
        if isinstance(entry, dict):
            found.append(entry)
    return found


def deliver(folder: str, data: bytes, stamp: str) -> str:
    """Write a message maildir-style: whole to tmp/, fsync-ed, then renamed into new/;
    its name."""
    import secrets

    unique = f"{stamp}.{os.getpid()}.{secrets.token_hex(6)}"
    tmp = join(folder, "tmp", unique)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, join(folder, "new", unique))
    return unique
