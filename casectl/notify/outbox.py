"""The outbox: what is not yet delivered, one file per (event id, person, channel).

It lives in the clone's state folder (`Store.state_dir`, derived, never committed)
like a maildir: `pending/KEY.json` is written whole to a temporary name, fsynced
and renamed into place, so a reader never sees half an item; `sent/KEY` marks an
item delivered (written before the pending file is removed, and kept 30 days, so
the same event is never queued twice); `last/GROUP` holds when a person was last
told on a channel (the rate limit); `log` is one line per delivery, failure,
expiry or drop. One process delivers at a time (`lock`, an `fcntl` lock the
kernel releases if it dies).

Nothing read here is trusted: every file is opened without following a link,
must be a regular file (a FIFO, device or folder is never opened for reading), is
read up to a size cap, and an item must match its schema and carry the MAC this
clone's secret (`secret`, made on first use) gives what casectl composed; else it
is moved to `quarantine/` with one line for the user, and the rest are delivered.
Nothing from an item is a path (its key must be 32 hex digits, its case a case
id), and the log escapes control characters, one line an entry.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from os.path import join
from typing import Any

from casectl.i18n import _
from casectl.ids import CASE_ID

SENT_KEPT = 30 * 86400  # seconds a sent marker is kept
ITEM_CAP = 256 * 1024  # bytes an item may have (its texts are bounded far below)
SMALL_CAP = 1024  # bytes of a sent marker, a `last` time, the secret
TITLE_MAX = 1000  # characters of a part's title (compose bounds it to 200)
LINE_MAX = 8000  # characters of one line of a part
LINES_MAX = 200  # lines of a part
WORD_MAX = 200  # characters of an id, an event id, a channel name, an error's line
KEY = re.compile(r"[0-9a-f]{32}\Z")
NAME = re.compile(r"[A-Za-z0-9._@:-]{1,200}\Z")  # a person id, a channel, an event id
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_SIGNED = ("key", "event", "case", "in_case", "person", "channel", "created", "part")


class Unsafe(Exception):
    """A file in the outbox that casectl does not read: why, in a few words."""


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


def read_capped(path: str, cap: int) -> bytes:
    """A regular file's bytes, at most `cap`; Unsafe for a link, FIFO, device, folder or
    a larger file (a FIFO is never opened: that would wait for a writer for ever)."""
    mode = os.lstat(path).st_mode  # FileNotFoundError passes through
    if not stat.S_ISREG(mode):
        raise Unsafe(_kind(mode))
    try:
        fd = os.open(path, _READ)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENXIO):  # swapped for a link or FIFO meanwhile
            raise Unsafe(_("not a regular file")) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Unsafe(_kind(mode))
        chunks, size = [], 0
        while size <= cap and (chunk := os.read(fd, min(65536, cap + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > cap:
        raise Unsafe(_("larger than {cap} bytes").format(cap=cap))
    return b"".join(chunks)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return _("a symbolic link")
    if stat.S_ISDIR(mode):
        return _("a folder")
    if stat.S_ISFIFO(mode):
        return _("a FIFO")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("a device")
    return _("not a regular file")


def one_line(text: str, limit: int = 2000) -> str:
    """Text for the log or a terminal: control characters escaped, one line, bounded."""
    flat = _CONTROL.sub(_escaped, text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Outbox:
    def __init__(self, state_dir: str) -> None:
        self.folder = join(state_dir, "outbox")
        self.pending_dir = join(self.folder, "pending")
        self.sent_dir = join(self.folder, "sent")
        self.last_dir = join(self.folder, "last")
        self.quarantine_dir = join(self.folder, "quarantine")
        self.notes: list[str] = []  # one line each for the user: what was quarantined
        self._secret: bytes | None = None

    # --- folders and files that are what they should be ---------------------------------

    def ready(self) -> None:
        """The outbox's folders, made if missing; whatever stands where one goes (a file, a
        link, a FIFO) is moved aside with a line for the user, never written through."""
        for folder in (self.folder, self.pending_dir, self.sent_dir, self.last_dir,
                       self.quarantine_dir):  # fmt: skip
            try:
                mode = os.lstat(folder).st_mode
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
                continue
            if stat.S_ISDIR(mode):
                continue
            aside = f"{folder}.quarantined-{time.time_ns()}"
            os.rename(folder, aside)
            self.notes.append(
                _("{path} was {kind}, not a folder: moved to {aside}").format(
                    path=folder, kind=_kind(mode), aside=aside
                )
            )
            os.makedirs(folder, exist_ok=True)

    def quarantine(self, path: str, reason: str) -> None:
        """Move a file casectl will not use into `quarantine/`, log it, and say so."""
        name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(path))[:80]
        self.ready()
        aside = join(self.quarantine_dir, f"{name}.{time.time_ns()}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return
        line = _("outbox file {name} quarantined: {reason}; moved to {aside}").format(
            name=one_line(os.path.basename(path), 200), reason=one_line(reason, 300), aside=aside
        )
        self.notes.append(line)
        self.log(f"quarantined {one_line(os.path.basename(path), 200)}: {reason}")

    def _open_write(self, path: str, flags: int) -> int:
        """A file descriptor to write `path`, never through a link nor into a FIFO; what
        stands there instead is quarantined and the file made afresh."""
        for _attempt in range(3):
            try:
                fd = os.open(path, flags | os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                             | os.O_CLOEXEC, 0o600)  # fmt: skip
            except OSError as err:
                if err.errno not in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
                    raise
                self.quarantine(path, _("not a regular file"))
                continue
            if stat.S_ISREG(os.fstat(fd).st_mode):
                return fd
            os.close(fd)
            self.quarantine(path, _("not a regular file"))
        raise OSError(f"{path}: cannot be made a regular file")

    def _write_whole(self, path: str, data: bytes, sync: bool = False) -> None:
        """Write to a fresh temporary file and rename it over `path` (a link there is
        replaced, never followed)."""
        tmp = f"{path}.{os.getpid()}.tmp"
        with suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(tmp)
        fd = self._open_write(tmp, os.O_CREAT | os.O_EXCL)
        try:
            os.write(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def write_small(self, path: str, data: bytes) -> None:
        """A small state file of the outbox (a robot's post times), written whole."""
        self.ready()
        self._write_whole(path, data)

    # --- the secret that marks what casectl composed ------------------------------------

    def secret(self) -> bytes:
        if self._secret is None:
            path = join(self.folder, "secret")
            for _attempt in range(3):
                try:
                    text = read_capped(path, SMALL_CAP).decode("ascii", "replace").strip()
                except FileNotFoundError:
                    self._make_secret(path)
                    continue
                except Unsafe as err:
                    self.quarantine(path, str(err))
                    continue
                if re.fullmatch(r"[0-9a-f]{64}", text):
                    self._secret = text.encode()
                    break
                self.quarantine(path, _("not a secret casectl made"))
            else:
                raise OSError(f"{path}: cannot be made")
        return self._secret

    def _make_secret(self, path: str) -> None:
        self.ready()
        tmp = f"{path}.{os.getpid()}.tmp"
        with suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(tmp)
        fd = self._open_write(tmp, os.O_CREAT | os.O_EXCL)
        try:
            os.write(fd, os.urandom(32).hex().encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        with suppress(FileExistsError):  # another process made it first: theirs stands
            os.link(tmp, path)
        os.unlink(tmp)

    def mac(self, item: dict[str, Any]) -> str:
        return _mac(self.secret(), item)

    # --- items -------------------------------------------------------------------------

    def enqueue(self, items: list[dict[str, Any]]) -> list[str]:
        """Write the items not queued or sent before; their keys."""
        self.ready()
        added = []
        for item in items:
            key = item["key"]
            path = join(self.pending_dir, f"{key}.json")
            with suppress(FileNotFoundError):
                mode = os.lstat(path).st_mode
                if not stat.S_ISREG(mode):  # no FIFO or link in its place holds it back
                    self.quarantine(path, _kind(mode))
            if self.was_sent(key) or os.path.lexists(path):
                continue
            item["mac"] = self.mac(item)
            self.write(item)
            added.append(key)
        if added:
            _sync_folder(self.pending_dir)
        return added

    def write(self, item: dict[str, Any]) -> None:
        if not KEY.match(str(item["key"])):  # never a path: checked again on the way out
            raise ValueError(f"not an outbox key: {item['key']!r}")
        data = json.dumps(item, ensure_ascii=False).encode()
        self._write_whole(join(self.pending_dir, f"{item['key']}.json"), data, sync=True)

    def pending(self) -> list[dict[str, Any]]:
        """Every queued item, oldest first; a file that is not an item casectl queued
        (unreadable, not a regular file, too large, not matching the schema or its MAC)
        is quarantined rather than stopping delivery."""
        items = []
        for path, item, problem in self._judged(self.mac):
            if problem:
                self.quarantine(path, problem)
            else:
                items.append(item)
        return sorted(items, key=lambda i: (i["created"], i["key"]))

    def findings(self) -> list[tuple[str, str]]:
        """(path, problem) for each file `pending` would quarantine, and for whatever is
        not a folder where one goes; nothing is moved or made (`casectl check`)."""
        found = []
        for folder in (self.folder, self.pending_dir, self.sent_dir, self.last_dir):
            with suppress(FileNotFoundError, NotADirectoryError):  # below a file: named above
                mode = os.lstat(folder).st_mode
                if not stat.S_ISDIR(mode):
                    found.append((folder, _("{kind}, not a folder").format(kind=_kind(mode))))
        secret: bytes | None = None
        with suppress(OSError, Unsafe):
            text = read_capped(join(self.folder, "secret"), SMALL_CAP).decode("ascii").strip()
            secret = text.encode() if re.fullmatch(r"[0-9a-f]{64}", text) else None

        def mac(item: dict[str, Any]) -> str:
            return _mac(secret, item) if secret else ""

        found += [(path, problem) for path, _item, problem in self._judged(mac) if problem]
        return found

    def _judged(self, mac: Callable[[dict[str, Any]], str]) -> Iterator[tuple[str, Any, str]]:
        """(path, item, problem or "") for each file in `pending/`."""
        try:
            mode = os.lstat(self.pending_dir).st_mode
            names = sorted(os.listdir(self.pending_dir)) if stat.S_ISDIR(mode) else []
        except (FileNotFoundError, NotADirectoryError):
            return  # none, or a file where the folder goes (moved aside when queueing)
        for name in names:
            path = join(self.pending_dir, name)
            if re.fullmatch(r"[0-9a-f]{32}\.json\.\d+\.tmp", name):
                continue  # being written by another process
            item: Any = None
            try:
                if not re.fullmatch(r"[0-9a-f]{32}\.json", name):
                    raise Unsafe(_("not the name of an outbox item"))
                item = json.loads(read_capped(path, ITEM_CAP).decode("utf-8"))
                problem = item_problem(item, name)
                if problem is None and item.get("mac") != mac(item):
                    problem = _("not composed by casectl in this clone (no valid MAC)")
            except FileNotFoundError:
                continue  # delivered by another process meanwhile
            except (Unsafe, ValueError, RecursionError) as err:
                problem = str(err) or type(err).__name__
            yield path, item, problem or ""

    def still_pending(self, key: str) -> bool:
        path = join(self.pending_dir, f"{key}.json")
        try:
            regular = stat.S_ISREG(os.lstat(path).st_mode)
        except FileNotFoundError:
            return False
        return regular and not self.was_sent(key)

    def was_sent(self, key: str) -> bool:
        """A sent marker as casectl writes them: a small regular file (else quarantined)."""
        path = join(self.sent_dir, key)
        try:
            read_capped(path, SMALL_CAP)
        except FileNotFoundError:
            return False
        except Unsafe as err:
            self.quarantine(path, str(err))
            return False
        return True

    def done(self, item: dict[str, Any]) -> None:
        """Delivered: the marker first, then the pending file goes (a crash between leaves
        both, which the next run reads as delivered)."""
        self.ready()
        line = one_line(f"{item['person']} {item['channel']} {item['event']}") + "\n"
        self._write_whole(join(self.sent_dir, item["key"]), line.encode())
        self.remove(item)

    def remove(self, item: dict[str, Any]) -> None:
        with suppress(FileNotFoundError):
            os.unlink(join(self.pending_dir, f"{item['key']}.json"))

    def last_sent(self, person: str, channel: str) -> datetime | None:
        path = join(self.last_dir, group_key(person, channel))
        try:
            at = datetime.fromisoformat(read_capped(path, SMALL_CAP).decode().strip())
        except FileNotFoundError:
            return None
        except (Unsafe, ValueError) as err:
            self.quarantine(path, str(err))
            return None
        if at.tzinfo is None:
            self.quarantine(path, _("a time without its UTC offset"))
            return None
        return at

    def set_last_sent(self, person: str, channel: str, at: datetime) -> None:
        self.ready()
        self._write_whole(join(self.last_dir, group_key(person, channel)), at.isoformat().encode())

    def log(self, line: str) -> None:
        """One line, control characters escaped; never through a link."""
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd = self._open_write(join(self.folder, "log"), os.O_CREAT | os.O_APPEND)
        except OSError:
            return  # the log is a record, not a reason to stop delivering
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        try:
            os.write(fd, f"{stamp} {one_line(line)}\n".encode())
        finally:
            os.close(fd)

    def prune(self) -> None:
        """Forget sent markers older than 30 days: no event is queued again that late."""
        limit = time.time() - SENT_KEPT
        try:
            with os.scandir(self.sent_dir) as found:
                for entry in found:
                    info = entry.stat(follow_symlinks=False)
                    if info.st_mtime < limit and not stat.S_ISDIR(info.st_mode):
                        os.unlink(entry.path)
        except (FileNotFoundError, NotADirectoryError):
            pass

    @contextmanager
    def delivering(self) -> Iterator[bool]:
        """The delivery lock if free at once (True), else False: the holder, which looks
        for new items again before it lets go, delivers ours too."""
        self.ready()
        fd = self._open_write(join(self.folder, "lock"), os.O_CREAT | os.O_APPEND)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _mac(secret: bytes, item: dict[str, Any]) -> str:
    import hmac

    signed = json.dumps({k: item.get(k) for k in _SIGNED}, ensure_ascii=False,
                        sort_keys=True, separators=(",", ":"))  # fmt: skip
    return hmac.new(secret, signed.encode(), hashlib.sha256).hexdigest()


# --- the schema of an item ------------------------------------------------------------


def item_problem(item: Any, name: str) -> str | None:
    """What makes `item` (read from file `name`) not an item casectl queued, or None."""
    if not isinstance(item, dict):
        return _("not a JSON object")
    known = {*_SIGNED, "attempts", "first_failure", "last_attempt", "last_error", "mac"}
    extra = sorted(set(item) - known - {"pieces_sent"})
    if extra:
        return _("unknown field {field}").format(field=one_line(str(extra[0]), 60))
    missing = sorted(known - set(item))
    if missing:
        return _("missing field {field}").format(field=missing[0])
    checks: list[tuple[str, bool]] = [
        ("key", isinstance(item["key"], str) and bool(KEY.match(item["key"]))
         and name == f"{item['key']}.json"),
        ("event", _word(item["event"])),
        ("person", _word(item["person"])),
        ("channel", _word(item["channel"])),
        ("case", item["case"] is None or (isinstance(item["case"], str)
                                          and bool(CASE_ID.fullmatch(item["case"])))),
        ("in_case", isinstance(item["in_case"], bool)),
        ("created", _time(item["created"], False)),
        ("attempts", type(item["attempts"]) is int and 0 <= item["attempts"] < 10**9),
        ("pieces_sent", type(item.get("pieces_sent", 0)) is int
         and 0 <= item.get("pieces_sent", 0) < 10**4),
        ("first_failure", _time(item["first_failure"], True)),
        ("last_attempt", _time(item["last_attempt"], True)),
        ("last_error", item["last_error"] is None or _text(item["last_error"], LINE_MAX)),
        ("mac", isinstance(item["mac"], str) and bool(re.fullmatch(r"[0-9a-f]{64}", item["mac"]))),
        ("part", _part_problem(item["part"], item["case"]) is None),
    ]  # fmt: skip
    for field, good in checks:
        if not good:
            if field == "part":
                return _part_problem(item["part"], item["case"])
            return _("field {field} is not as casectl writes it").format(field=field)
    if item["key"] != item_key(item["event"], item["person"], item["channel"]):
        return _("its key does not match its event, person and channel")
    return None


def _part_problem(part: Any, case: Any) -> str | None:
    if not isinstance(part, dict) or set(part) != {"case", "title", "lines"}:
        return _("field `part` is not as casectl writes it (`case`, `title`, `lines`)")
    if part["case"] != case:
        return _("field `part.case` is not the item's case")
    if not _text(part["title"], TITLE_MAX) or "\n" in part["title"]:
        return _("field `part.title` is not one line of text")
    lines = part["lines"]
    if not isinstance(lines, list) or len(lines) > LINES_MAX:
        said = _("field `part.lines` is not a list of at most {count} lines")
        return said.format(count=LINES_MAX)
    if not all(_text(line, LINE_MAX) for line in lines):
        return _("field `part.lines` holds something that is not a bounded text")
    return None


def _word(value: Any) -> bool:
    return isinstance(value, str) and bool(NAME.match(value))


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _time(value: Any, optional: bool) -> bool:
    if value is None:
        return optional
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _sync_folder(folder: str) -> None:
    """The renames survive a power cut: fsync the folder that holds them."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
