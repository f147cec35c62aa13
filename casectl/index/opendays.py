"""The open cases' summaries, one file per day folder with open cases, and the note the
small index file keeps of each such day (how many, the newest, when the sweep must next
look, open cases per engineer, and what the rules leave out)."""

from __future__ import annotations

import contextlib
import marshal
import os
from typing import NamedTuple

from casectl.config import Config
from casectl.index.disk import Signature, file_name, load, write
from casectl.index.summary import INQUIRY, SWEEP_AT, UNMET, newest_key
from casectl.model import NO_SEVERITY

OpenEntry = tuple[Signature, tuple]  # an open case's file signature and summary
CUSTOMERS = 100  # the most customers a day's note counts its cases by (every run reads it)


class DayNote(NamedTuple):
    """What the small index file keeps of a day folder with open cases."""

    token: bytes  # names the day's file in index-days/: another one is not read
    cases: int  # open cases
    wake: float | None  # the earliest `sweep_at` of its cases
    newest: tuple[str, str]  # (opened_at, id) of the newest: where `list` starts
    unconfigured: list[tuple[str, int]]  # (case id, severity) the rules have no level for
    orphans: list[tuple[str, str]]  # (engineer, case id) of engineers not in the roster
    loads: dict[str, int]  # open cases per assignee
    # what `list` counts its filters by, without reading the day's summaries:
    severities: dict[int, int]  # open cases per severity
    involved: dict[str, int]  # open cases per person who holds them or owes their next step
    inquiries: int  # open calls from callers without a contract
    customers: dict[str, int] | None  # open cases per customer; None past CUSTOMERS of them


class OpenDays:
    """`index-days/<yyyy>-<mm>-<dd>`: a day's open entries by case id, with the token its
    note names it by (a day file its note does not name is read again from the cases)."""

    def __init__(self, folder: str, notes: dict[str, DayNote]) -> None:
        self.folder = folder
        self.notes = notes  # by day: the days with open cases
        self.loaded: dict[str, dict[str, OpenEntry]] = {}  # the days read, by day
        self.dirty: set[str] = set()  # days whose entries to save
        self._deadlines: dict[str, Deadlines | None] = {}  # read, by day

    def read(self, day: str) -> dict[str, OpenEntry] | None:
        """The day's saved entries; None when its file is not the one its note names."""
        note = self.notes.get(day)
        if note is None:
            return {}
        saved = load(os.path.join(self.folder, file_name(day)))
        if not isinstance(saved, tuple) or len(saved) != 2 or saved[0] != note.token:
            return None
        return saved[1]  # type: ignore[no-any-return]

    def put(self, day: str, entries: dict[str, OpenEntry]) -> None:
        self.loaded[day] = entries
        self.dirty.add(day)

    def save(self, cfg: Config) -> list[str]:
        """Write the changed days and note them; the days left without open cases, whose
        files the caller removes once the small index file no longer names them."""
        gone = []
        if self.dirty:
            os.makedirs(self.folder, exist_ok=True)
        for day in sorted(self.dirty):
            entries = self.loaded.get(day)
            if entries:
                token = os.urandom(8)
                write(os.path.join(self.folder, file_name(day)), marshal.dumps((token, entries)))
                self.notes[day] = note(token, entries, cfg)
                self._write_deadlines(day, deadlines(entries))
            elif self.notes.pop(day, None) is not None:
                gone.append(day)
        self.dirty = set()
        return gone

    def deadlines(self, day: str) -> Deadlines | None:
        """The day's `Deadlines`, from their own small file; None when that file is not the
        one the day's note names (missing, stale, or of an older casectl)."""
        if day not in self._deadlines:
            note = self.notes.get(day)
            saved = load(self._side(day)) if note else None
            ours = isinstance(saved, tuple) and len(saved) == 5 and saved[0] == note.token  # type: ignore[union-attr]
            typed = ours and all(isinstance(saved[i], bytes) for i in (1, 3, 4))  # type: ignore[index]
            found = Deadlines(*saved[1:]) if typed and isinstance(saved[2], list) else None  # type: ignore[index]
            self._deadlines[day] = found
        return self._deadlines[day]

    def deadlines_again(self, day: str, entries: dict[str, OpenEntry]) -> Deadlines:
        """The day's `Deadlines` made again from its entries, and written beside its file
        unless the day is about to be saved anyway (with a new token)."""
        found = self._deadlines[day] = deadlines(entries)
        if day not in self.dirty and day in self.notes:
            self._write_deadlines(day, found)
        return found

    def _side(self, day: str) -> str:
        return os.path.join(self.folder, f"{file_name(day)}.deadlines")

    def _write_deadlines(self, day: str, found: Deadlines) -> None:
        self._deadlines[day] = found
        write(self._side(day), marshal.dumps((self.notes[day].token, *found)))
        with contextlib.suppress(FileNotFoundError):  # its older name, by an earlier casectl
            os.unlink(os.path.join(self.folder, f"{file_name(day)}.firsts"))

    def remove(self, days: list[str]) -> None:
        for day in days:
            for name in (file_name(day), f"{file_name(day)}.deadlines", f"{file_name(day)}.firsts"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.folder, name))


EARLIEST = 64  # the open cases of a day kept whole beside its first unmet deadlines


class Deadlines(NamedTuple):
    """A day's unmet deadlines, kept in a file of their own beside the day's (not in its
    note: every run reads the notes), so that `list --overdue` and `--due-within` count
    their cases by bisection without reading the day's summaries."""

    first: bytes  # each case's first unmet deadline, sorted (an array of doubles)
    earliest: list[tuple]  # the summaries of the EARLIEST cases first due: unless more
    # than those are overdue, `--overdue` does not read the day
    every: bytes  # every unmet deadline of every case, sorted (doubles)
    cases: bytes  # beside each of `every`, its case's place among the day's (unsigned ints)


def deadlines(entries: dict[str, OpenEntry]) -> Deadlines:
    """The `Deadlines` of a day's open entries."""
    from array import array

    due = sorted((s[UNMET][0], s) for _, s in entries.values() if s[UNMET])
    every = sorted((at, n) for n, (_, s) in enumerate(entries.values()) for at in s[UNMET])
    return Deadlines(
        array("d", (at for at, _ in due)).tobytes(),
        [s for _, s in due[:EARLIEST]],
        array("d", (at for at, _ in every)).tobytes(),
        array("I", (n for _, n in every)).tobytes(),
    )


def note(token: bytes, entries: dict[str, OpenEntry], cfg: Config) -> DayNote:
    """What the small index file keeps of a day's open cases."""
    known = {p.id for p in cfg.people}
    wakes = [s[SWEEP_AT] for _, s in entries.values() if s[SWEEP_AT] is not None]
    loads: dict[str, int] = {}
    severities: dict[int, int] = {}
    involved: dict[str, int] = {}
    customers: dict[str, int] | None = {}
    odd, orphans, inquiries = [], [], 0
    for _, s in entries.values():
        if s[1] not in cfg.levels and s[1] != NO_SEVERITY:  # a price inquiry has none
            odd.append((s[0], s[1]))
        severities[s[1]] = severities.get(s[1], 0) + 1
        if s[3]:
            loads[s[3]] = loads.get(s[3], 0) + 1
            if s[3] not in known:
                orphans.append((s[3], s[0]))
        for person in {s[3], s[7]} - {None}:
            involved[person] = involved.get(person, 0) + 1
        inquiries += bool(s[INQUIRY])
        if customers is not None:
            customers[s[2]] = customers.get(s[2], 0) + 1
            if len(customers) > CUSTOMERS:
                customers = None  # a storm from many arrays: `list --customer` reads the day
    newest = max(newest_key(s) for _, s in entries.values())
    return DayNote(token, len(entries), min(wakes, default=None), newest, odd, orphans, loads,
                   severities, involved, inquiries, customers)  # fmt: skip
