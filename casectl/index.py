"""The case index: a derived cache of each case's summary and deadlines, kept in the state folder.

Never committed, safe to delete. Plain tuples in `marshal` format (10,000 entries load in
a few milliseconds; the format is tied to this Python version, so another one rebuilds
it), in three kinds of file:
- `index`, small: the stamp (inode, mtime) of every folder under `cases/`, the files
  that cannot be read, and a note on each day with open cases: how many, the newest,
  when the sweep must next look at one, open cases per assignee, and those the rules
  leave out (unconfigured severity, engineer not in the roster). Valid while
  roster.yaml and severity.yaml are as they were. A sweep with nothing due, `open`'s
  choice by load, and the orphan warning read only this file.
- `index-days/<yyyy>-<mm>-<dd>`: that day's open cases' summaries, with the token the
  small file names it by (a day file it does not name is read again from the cases).
  `list` reads the newest days until it has its cases; a sweep, the days with
  something due.
- `index-months/<yyyy>-<mm>`: every case file of that month with its (inode, size,
  mtime), status, the summaries of the closed ones and until when each closed case
  matters to a report. It does not depend on the rules, so closed cases are never
  parsed again when they change. Its small header (the latest time any of its closed
  cases matters, how many it has and the newest) is read alone: a report skips the
  months whose closed cases all went quiet before its period, and `list --status
  closed` reads the newest months only.
- `index-facts/<yyyy>-<mm>`: the report's facts of the month's cases a report has
  read, each with the file's signature and the rules it was computed under; only
  `report` loads them, so list and sweep never pay for them.

A folder whose stamp is as saved has had no file added, replaced or removed (every
write by casectl or git renames a file into place), so a warm run stats the
folders and nothing else; only a changed day's files are stat-ed, and only a
changed file is parsed. A folder changed in the last two seconds is not trusted
(mtimes are coarse), like git's racy-clean rule. A hand edit made in place, not
by rename, is noticed at the next change in its folder.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from casectl import deadlines, state
from casectl.config import Config
from casectl.errors import BrokenCaseError
from casectl.model import NO_SEVERITY, Case, notices
from casectl.store import Store, id_of, names
from casectl.store import read_case as _read_any_language

FORMAT = ("casectl-index", 9, sys.version_info[:2])  # 9: a waiting case's next is paused
_FOLDER = (re.compile(r"\d{4}"), re.compile(r"\d{2}"), re.compile(r"\d{2}"))  # year, month, day
_MONTH = re.compile(r"\d{4}-\d{2}")  # a month file's name
LEGACY = frozenset({"open", "closed"})  # folders of the layout before fixed paths
Progress = Callable[[int, int], None]  # (parsed so far, to parse)


class Summary(NamedTuple):
    """What `list` and `sweep` need of a case; instants in seconds since the epoch."""

    id: str
    severity: int
    customer: str
    assignee: str | None
    opened_at: str
    next_step: str | None  # the earliest deadline not yet met, and who owes it
    next_at: float | None
    next_owner: str | None
    unmet: tuple[float, ...]  # due times of every deadline not yet met
    sweep_at: float | None  # the earliest deadline the sweep has yet to act on (or report late)
    status: str
    inquiry: str | None  # price or technical: a caller without a contract


def summarize(case: Case, cfg: Config) -> Summary:
    s = case.state
    found = deadlines.compute(case, cfg, include_met=False)  # not met, or met late
    unmet = [d for d in found if d.met is None and d.due is not None]
    acted = {e["deadline"] for e in case.events if "deadline" in e}
    # the earliest deadline running, else one standing still (a case waiting: `paused`)
    first = next(iter(unmet or [d for d in found if d.met is None]), None)
    return Summary(
        case.id, s.severity, s.customer, s.assignee,
        s.opened_at.isoformat() if s.opened_at else "",
        sys.intern(first.label) if first else None,  # interned: marshal stores it once
        first.due.timestamp() if first and first.due else None,
        first.owner if first else None,
        tuple(d.due.timestamp() for d in unmet if d.due),
        min((*(d.due.timestamp() for d in found if d.due and d.key not in acted),
             *(n.due.timestamp() for n in notices(case, cfg))), default=None),
        s.status, s.inquiry,
    )  # fmt: skip


Signature = tuple[int, int, int]  # a file's inode, size and mtime
# a month file's entry for one case file: (signature, status, summary when closed, until
# when it matters to a report when closed: its last event, forever while an RMA is
# outstanding) or an error
FileEntry = tuple[Signature, str, tuple | None, float | None]
# the report's facts of one case: (signature, the rules' key, what `make` gave)
FactsEntry = tuple[Signature, str, Any]
OpenEntry = tuple[Signature, tuple]  # an open case's file signature and summary
MonthHead = tuple[float, int, tuple[str, str]]  # see _month_head


class DayNote(NamedTuple):
    """What the small index file keeps of a day folder with open cases."""

    token: bytes  # names the day's file in index-days/: another one is not read
    cases: int  # open cases
    wake: float | None  # the earliest `sweep_at` of its cases
    newest: tuple[str, str]  # (opened_at, id) of the newest: where `list` starts
    unconfigured: list[tuple[str, int]]  # (case id, severity) the rules have no level for
    orphans: list[tuple[str, str]]  # (engineer, case id) of engineers not in the roster
    loads: dict[str, int]  # open cases per assignee


def _signature(st: os.stat_result) -> Signature:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def day_of(case_id: str) -> str:
    """The folder of a case relative to `cases/`: `2026/11/27`."""
    return f"20{case_id[:2]}/{case_id[2:4]}/{case_id[4:6]}"


class Index:
    """Every case's summary, refreshed from the folders that changed since the last run."""

    def __init__(self, store: Store, cfg: Config, progress: Progress | None = None) -> None:
        self.store, self.cfg, self.progress = store, cfg, progress
        self.path = os.path.join(store.state_dir, "index")
        self.days_dir = os.path.join(store.state_dir, "index-days")
        self.months_dir = os.path.join(store.state_dir, "index-months")
        self.facts_dir = os.path.join(store.state_dir, "index-facts")
        self._walked = False  # the folders were stat-ed and what changed read again
        self._notes: dict[str, DayNote] = {}  # by day: the days with open cases
        self._days: dict[str, dict[str, OpenEntry]] = {}  # the days read: open entries by id
        self._dirty: set[str] = set()  # days whose open entries to save
        self._broken: dict[str, str] = {}  # by path under cases/
        self._dirs: dict[str, Any] = {}  # folder stamps by path under cases/
        self._months: dict[str, dict[str, dict[str, FileEntry | str]]] = {}
        self._facts: dict[str, dict[str, FactsEntry]] = {}  # by month, then case id
        self._unreadable: dict[str, str] = {}  # found unreadable by `facts`, not saved
        self._touched: set[str] = set()  # months to save
        self._facts_touched: set[str] = set()  # months whose facts to save

    # --- what commands read ----------------------------------------------------------

    @property
    def broken(self) -> list[str]:
        """Why each unreadable file under `cases/` cannot be read, in path order."""
        self._refresh()
        found = self._broken | self._unreadable
        return [found[k] for k in sorted(found)]

    @property
    def unconfigured(self) -> list[tuple[str, int]]:
        """(case id, severity) of open cases whose severity the rules do not configure."""
        self._refresh()
        return sorted(odd for note in self._notes.values() for odd in note.unconfigured)

    @property
    def orphans(self) -> list[tuple[str, str]]:
        """(engineer, case id) of open cases assigned to someone no longer in the roster."""
        self._refresh()
        return sorted(lost for note in self._notes.values() for lost in note.orphans)

    def summaries(self) -> dict[str, Summary]:
        """The summary of every open case, by case id."""
        self._refresh()
        found = {
            i: Summary._make(e[1]) for day in list(self._notes) for i, e in self._day(day).items()
        }
        self._save_if_dirty()
        return found

    def due(self, now: float) -> list[str]:
        """The ids of open cases with a deadline the sweep has yet to act on by `now`: only
        the days whose earliest such deadline has come are read."""
        self._refresh()
        at = Summary._fields.index("sweep_at")
        waking = [
            d for d, note in self._notes.items() if note.wake is not None and note.wake <= now
        ]
        found = [
            i
            for d in waking
            for i, (_, s) in self._day(d).items()
            if s[at] is not None and s[at] <= now
        ]
        self._save_if_dirty()
        return sorted(found)

    def loads(self) -> dict[str, int]:
        """Open cases per assignee, from the small index file alone."""
        self._refresh()
        counts: dict[str, int] = {}
        for note in self._notes.values():
            for person, count in note.loads.items():
                counts[person] = counts.get(person, 0) + count
        return counts

    def closed(self) -> list[Summary]:
        """Every closed case's summary: only `list --status closed|all` pays for them."""
        self._refresh()
        return [
            Summary._make(s) for month in _months(self.months_dir) for s in self._closed_of(month)
        ]

    def newest(self, status: str, limit: int) -> tuple[list[tuple[str, Summary]], int]:
        """The `limit` newest cases of `status` (open, closed or all), newest first, and how
        many there are. Each day with open cases (in the small index file) and each month
        file (in its header) says how many cases it holds and its newest; only the days and
        months that hold the newest are read."""
        assert limit > 0
        self._refresh()
        sources: list[tuple[tuple[str, str], int, str, str]] = []
        if status in ("open", "all"):
            sources += [(note.newest, note.cases, "open", day) for day, note in self._notes.items()]
        if status in ("closed", "all"):
            for month in _months(self.months_dir):
                count, newest = self._head(month)[1:]
                if count:
                    sources.append((newest, count, "closed", month))
        sources.sort(reverse=True)
        found: list[tuple[str, Summary]] = []
        for newest, _, kind, key in sources:
            if len(found) >= limit and newest < _newest_key(found[limit - 1][1]):
                break  # every case left is older than the last one kept
            if kind == "open":
                found += [("open", Summary._make(e[1])) for e in self._day(key).values()]
            else:
                found += [("closed", Summary._make(s)) for s in self._closed_of(key)]
            found.sort(key=lambda pair: _newest_key(pair[1]), reverse=True)
            del found[limit:]
        self._save_if_dirty()
        return found, sum(source[1] for source in sources)

    def facts(self, since: float, make: Callable[[Case], Any], key: str) -> list[Any]:
        """The report's facts, `make(case)` under the rules named `key`, of every open case
        and every closed one that matters at or after `since` (epoch seconds), in id order.

        Read from the month files; a case file is parsed only when its facts are missing,
        stale, or of other rules. Months whose closed cases all went quiet before
        `since` are not even loaded.
        """
        self._refresh()
        wanted = {i: day for day in list(self._notes) for i in self._day(day)}
        for month in _months(self.months_dir):
            if self._head(month)[0] >= since:
                for day, files in self._month(month).items():
                    wanted |= _closed_since(day, files, since)
        found = [self._facts_of(case_id, day, make, key) for case_id, day in sorted(wanted.items())]
        self._save_if_dirty()
        self._save_facts()
        return [f for f in found if f is not None]

    def _facts_of(self, case_id: str, day: str, make: Callable[[Case], Any], key: str) -> Any:
        month = _month_of(day)
        entry = self._month(month).get(day, {}).get(f"{case_id}.yaml")
        if not isinstance(entry, tuple):
            return None  # broken, or gone since the index was read: named by `broken`
        cached = self._facts_month(month).get(case_id)
        if cached and cached[0] == entry[0] and cached[1] == key:
            return cached[2]
        try:
            made = make(read_case(os.path.join(self.store.cases, day, f"{case_id}.yaml")))
        except BrokenCaseError as err:
            self._unreadable[f"{day}/{case_id}.yaml"] = str(err)
            return None
        self._facts[month][case_id] = (entry[0], key, made)
        self._facts_touched.add(month)
        return made

    def record(self, cases: Iterable[Case]) -> None:
        """Cases this process just wrote: their summaries now, so the next run parses nothing."""
        self._refresh()
        for case in cases:
            day, name = day_of(case.id), f"{case.id}.yaml"
            sig = _signature(os.stat(self.store.path(case.id)))
            summary = tuple(summarize(case, self.cfg))
            entries, files = self._day(day), self._month(_month_of(day)).setdefault(day, {})
            if case.state.status == "open":
                entries[case.id], files[name] = (sig, summary), (sig, "open", None, None)
            else:
                entries.pop(case.id, None)
                files[name] = (sig, "closed", summary, _matters_until(case))
            self._dirty.add(day)
            self._touched.add(_month_of(day))
            self._dirs[day] = None  # its day changed: the next run stats its files
        self._save()

    # --- keeping it current ----------------------------------------------------------

    def _refresh(self) -> None:
        """Stat the folders once per run; read again the days that changed. Days that did
        not change are read only when a command asks for their cases."""
        if self._walked:
            return
        self._walked = True
        current, saved, self._broken, notes = self._load()
        self._notes = notes if current else {}  # open summaries depend on the rules
        changed = self._walk(saved, current)
        changed += [d for d in saved if d.count("/") == 2 and d not in self._dirs]  # gone
        if not current:
            with contextlib.suppress(OSError):  # the one file of open summaries of format 7
                os.unlink(os.path.join(self.store.state_dir, "index-open"))
        if changed or not current:
            self._rescan(changed)
            self._save()

    def _day(self, day: str) -> dict[str, OpenEntry]:
        """The open entries of one day, read on demand. A day whose file is not the one the
        small index file names (two runs saved at once, or a run was killed between the
        two) is read again from its case files."""
        if day not in self._days:
            found = self._read_day(day)
            if found is None:
                self._rescan([day], reuse=False)
            else:
                self._days[day] = found
        return self._days[day]

    def _read_day(self, day: str) -> dict[str, OpenEntry] | None:
        note = self._notes.get(day)
        if note is None:
            return {}
        try:
            path = os.path.join(self.days_dir, day.replace("/", "-"))
            token, entries = marshal.loads(state.read(path))
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return entries if token == note.token else None  # type: ignore[no-any-return]

    def _walk(self, saved: dict[str, Any], trusted: bool) -> list[str]:
        """Stat every folder under `cases/`; the day folders whose files may have changed."""
        children: dict[str, list[str]] = {}
        for rel in saved:
            if rel:
                children.setdefault(rel.rpartition("/")[0], []).append(rel)
        changed: list[str] = []
        fresh = time.time_ns() - 2_000_000_000
        stack = [""]
        while stack:
            rel = stack.pop()
            try:
                st = os.lstat(os.path.join(self.store.cases, rel))
            except (FileNotFoundError, NotADirectoryError):  # a pushed file above it
                continue
            if stat.S_ISLNK(st.st_mode):
                self._broken[rel] = f"cases/{rel} is a symbolic link; casectl does not follow it"
                self._dirs[rel] = None  # looked at again on every run, while it is there
                continue
            if not stat.S_ISDIR(st.st_mode):
                continue
            stamp = (st.st_ino, st.st_mtime_ns)
            same = trusted and saved.get(rel) == stamp
            self._dirs[rel] = stamp if st.st_mtime_ns < fresh else None
            depth = rel.count("/") + 1 if rel else 0
            if depth == 3:
                if not same:
                    changed.append(rel)
            elif same:
                stack += children.get(rel, [])
            else:
                stack += self._list(rel, depth)
        return changed

    def _list(self, rel: str, depth: int) -> list[str]:
        """The folders in a year, month or `cases/` itself, noting what does not belong."""
        self._broken = {
            k: v
            for k, v in self._broken.items()
            if k.count("/") == 3 or k.rpartition("/")[0] != rel
        }
        entries = names(os.path.join(self.store.cases, rel))
        if depth == 0:
            for name in LEGACY.intersection(entries):
                self._broken[name] = (
                    f"cases/{name}/ is the layout before fixed paths: its cases are not read "
                    "until `casectl migrate` (or `casectl sync`) converts it"
                )
        pattern = _FOLDER[depth]
        return [f"{rel}/{n}" if rel else n for n in entries if pattern.fullmatch(n)]

    def _rescan(self, days: list[str], reuse: bool = True) -> None:
        """Read again the days' files: parse those whose signature changed (all the open
        ones, without `reuse` of the open entries saved)."""
        again = set(days)
        self._broken = {k: v for k, v in self._broken.items() if k.rpartition("/")[0] not in again}
        work: list[tuple[str, str, str, Signature]] = []
        for day in days:
            kept = (self._days.get(day) or self._read_day(day) or {}) if reuse else {}
            entries: dict[str, OpenEntry] = {}
            month = self._month(_month_of(day))
            before = month.get(day, {})
            now: dict[str, FileEntry | str] = {}
            for name, kind, sig in _files(os.path.join(self.store.cases, day)):
                case_id = id_of(name)
                problem = _misplaced(day, name, case_id, kind)
                if problem:
                    now[name] = self._broken[f"{day}/{name}"] = problem
                    continue
                old = before.get(name)
                if isinstance(old, tuple) and old[0] == sig:
                    if old[1] == "closed" and len(old) == 4:
                        now[name] = old
                        continue
                    known = kept.get(case_id)  # type: ignore[arg-type]
                    if known and known[0] == sig:
                        now[name], entries[case_id] = old, known  # type: ignore[index]
                        continue
                work.append((day, name, case_id, sig))  # type: ignore[arg-type]
            month[day] = now
            self._days[day] = entries
            self._dirty.add(day)
            self._touched.add(_month_of(day))
        for done, (day, name, case_id, sig) in enumerate(work):
            if self.progress and len(work) > 200 and done % 100 == 0:
                self.progress(done, len(work))
            entry = self._parse(day, name, sig)
            files = self._months[_month_of(day)][day]
            if isinstance(entry, str):
                files[name] = self._broken[f"{day}/{name}"] = entry
            elif entry[1] == "open":
                files[name] = (sig, "open", None, None)
                self._days[day][case_id] = (sig, entry[2])  # type: ignore[assignment]
            else:
                files[name] = entry
        if self.progress and len(work) > 200:
            self.progress(len(work), len(work))

    def _parse(self, day: str, name: str, sig: Signature) -> FileEntry | str:
        path = os.path.join(self.store.cases, day, name)
        try:
            case = read_case(path)
            summary = tuple(summarize(case, self.cfg))
        except BrokenCaseError as err:
            return str(err)
        status = str(summary[Summary._fields.index("status")])
        return (sig, status, summary, _matters_until(case))  # type: ignore[return-value]

    def _note(self, token: bytes, entries: dict[str, OpenEntry]) -> DayNote:
        """What the small index file keeps of a day's open cases."""
        at = Summary._fields.index("sweep_at")
        known = {p.id for p in self.cfg.people}
        wakes = [s[at] for _, s in entries.values() if s[at] is not None]
        loads: dict[str, int] = {}
        odd, orphans = [], []
        for _, s in entries.values():
            if s[1] not in self.cfg.levels and s[1] != NO_SEVERITY:  # a price inquiry has none
                odd.append((s[0], s[1]))
            if s[3]:
                loads[s[3]] = loads.get(s[3], 0) + 1
                if s[3] not in known:
                    orphans.append((s[3], s[0]))
        newest = max(_newest_key(s) for _, s in entries.values())
        return DayNote(token, len(entries), min(wakes, default=None), newest, odd, orphans, loads)

    # --- the files ---------------------------------------------------------------------

    def _header(self) -> tuple[Any, ...]:
        root = self.cfg.root
        rules = ("roster.yaml", "severity.yaml")
        return (FORMAT, *(_signature(os.stat(os.path.join(root, n))) for n in rules))

    def _load(self) -> tuple[bool, dict[str, Any], dict[str, str], dict[str, DayNote]]:
        """(saved under the current rules, folder stamps, broken files, the notes of the
        days with open cases)."""
        try:
            header, dirs, broken, notes = marshal.loads(state.read(self.path))  # load(f): slower
            notes = {day: DayNote._make(note) for day, note in notes.items()}
            if not isinstance(dirs, dict) or not isinstance(broken, dict):
                raise TypeError
        except (OSError, EOFError, ValueError, TypeError, AttributeError):
            return False, {}, {}, {}  # garbled: built again
        return header == self._header(), dirs, broken, notes

    def _month(self, month: str) -> dict[str, dict[str, FileEntry | str]]:
        if month not in self._months:
            days = {}
            try:
                data = memoryview(state.read(os.path.join(self.months_dir, month)))
                size = int.from_bytes(data[:4], "big")
                if marshal.loads(data[4 : 4 + size])[0] == FORMAT:
                    days = marshal.loads(data[4 + size :])
            except (OSError, EOFError, ValueError, TypeError, IndexError):
                pass
            self._months[month] = days
        return self._months[month]

    def _closed_of(self, month: str) -> list[tuple]:
        """The summaries of a month's closed cases."""
        return [e[2] for day in self._month(month).values() for e in day.values()
                if isinstance(e, tuple) and e[2]]  # fmt: skip

    def _facts_month(self, month: str) -> dict[str, FactsEntry]:
        if month not in self._facts:
            try:
                form, facts = marshal.loads(state.read(os.path.join(self.facts_dir, month)))
                self._facts[month] = facts if form == FORMAT else {}
            except (OSError, EOFError, ValueError, TypeError):
                self._facts[month] = {}
        return self._facts[month]

    def _head(self, month: str) -> MonthHead:
        """(until when the month's closed cases matter to a report, how many there are,
        the newest): from the month file's small header alone, unless it is loaded."""
        if month in self._months:
            return _month_head(self._months[month])
        try:
            with state.open_file(os.path.join(self.months_dir, month)) as f:
                size = int.from_bytes(f.read(4), "big")
                form, *head = marshal.loads(f.read(size))
            if form == FORMAT:
                return tuple(head)  # type: ignore[return-value]
        except (OSError, EOFError, ValueError, TypeError):
            pass
        return _month_head(self._month(month))  # unreadable or old: load it, which reads it again

    def _save_if_dirty(self) -> None:
        if self._dirty or self._touched:
            self._save()

    def _save(self) -> None:
        """The changed days' open entries, the changed months, then the small index file,
        which names each day file by its token: a day file it does not name is not read."""
        self.store.state_folder()
        gone = []
        if self._dirty:
            os.makedirs(self.days_dir, exist_ok=True)
        for day in sorted(self._dirty):
            entries = self._days.get(day)
            if entries:
                token = os.urandom(8)
                _write(
                    os.path.join(self.days_dir, day.replace("/", "-")),
                    marshal.dumps((token, entries)),
                )
                self._notes[day] = self._note(token, entries)
            elif self._notes.pop(day, None) is not None:
                gone.append(day)
        self._dirty = set()
        if self._touched:
            os.makedirs(self.months_dir, exist_ok=True)
        for month in sorted(self._touched):
            days = {d: files for d, files in self._months[month].items() if d in self._dirs}
            header = marshal.dumps((FORMAT, *_month_head(days)))
            body = marshal.dumps(days)
            size = len(header).to_bytes(4, "big")
            _write(os.path.join(self.months_dir, month), size + header + body)
        self._touched = set()
        notes = {day: tuple(note) for day, note in self._notes.items()}  # marshal: plain tuples
        record = (self._header(), self._dirs, self._broken, notes)
        _write(self.path, marshal.dumps(record))
        for day in gone:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.days_dir, day.replace("/", "-")))

    def _save_facts(self) -> None:
        """The facts of the months `facts` changed, less those of files no longer there."""
        if self._facts_touched:
            os.makedirs(self.facts_dir, exist_ok=True)
        for month in sorted(self._facts_touched):
            kept = {i for files in self._month(month).values() for i in map(id_of, files) if i}
            facts = {i: f for i, f in self._facts[month].items() if i in kept}
            _write(os.path.join(self.facts_dir, month), marshal.dumps((FORMAT, facts)))
        self._facts_touched = set()


def _files(folder: str) -> list[tuple[str, str, Signature]]:
    """(name, kind, signature) of a day folder's entries, temporary files left out."""
    found = []
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.name.startswith("."):
                    continue
                st = entry.stat(follow_symlinks=False)
                kind = (
                    "link"
                    if stat.S_ISLNK(st.st_mode)
                    else "file"
                    if stat.S_ISREG(st.st_mode)
                    else "other"
                )
                found.append((entry.name, kind, _signature(st)))
    except (FileNotFoundError, NotADirectoryError):
        pass
    return found


def _misplaced(day: str, name: str, case_id: str | None, kind: str) -> str | None:
    where = f"cases/{day}/{name}"
    if kind == "link":
        return f"{where} is a symbolic link; casectl does not follow it"
    if kind != "file":
        return f"{where} is not a case file"
    if case_id is None:
        return f"{where}: not a case file name (expected an id such as 261126-K7Q3M.yaml)"
    if day_of(case_id) != day:
        return f"{where}: case {case_id} belongs in cases/{day_of(case_id)}/"
    return None


def read_case(path: str) -> Case:
    """The case at `path`; a broken file's reason in English, whatever the language:
    the index keeps it, and `sweep --json` reports it."""
    from casectl import i18n

    with i18n.english():
        return _read_any_language(path)


def _matters_until(case: Case) -> float:
    """Until when a closed case matters to a report: its last event, or for ever while one
    of its RMAs is outstanding (a forced close leaves it so)."""
    from casectl.model import RMA_DONE

    if any(r.status not in RMA_DONE for r in case.state.rmas.values()):
        return float("inf")
    return max((e["at"].timestamp() for e in case.events), default=0.0)


def _month_head(days: dict[str, dict[str, FileEntry | str]]) -> MonthHead:
    """(the latest time any closed case of these days matters to a report, how many closed
    cases there are, the newest of them)."""
    latest, count, newest = float("-inf"), 0, ("", "")
    for files in days.values():
        for e in files.values():
            if isinstance(e, tuple) and e[1] == "closed":
                count += 1
                if e[3] is not None and e[3] > latest:
                    latest = e[3]
                if e[2]:
                    newest = max(newest, _newest_key(e[2]))
    return latest, count, newest


def _newest_key(summary: tuple) -> tuple[str, str]:
    """What `list` orders by, newest first: when the case was opened, then its id."""
    return summary[4], summary[0]


def _month_of(day: str) -> str:
    """The month file of a day folder: `2026/11/27` -> `2026-11`."""
    return day[:7].replace("/", "-")


def _closed_since(day: str, files: dict[str, FileEntry | str], since: float) -> dict[str, str]:
    """{case id: day} of the day's closed cases that matter at or after `since`."""
    found = {}
    for name, e in files.items():
        case_id = id_of(name)
        if case_id and isinstance(e, tuple) and e[1] == "closed" and (e[3] or 0) >= since:
            found[case_id] = day
    return found


def _months(folder: str) -> list[str]:
    return [n for n in names(folder) if _MONTH.fullmatch(n)]


def _write(path: str, data: bytes) -> None:
    """Replace the file at `path` whole; a folder in its place (the index is derived:
    nothing of anyone's is in the state folder) is removed first."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        os.replace(tmp, path)
    except IsADirectoryError:
        import shutil

        shutil.rmtree(path)
        os.replace(tmp, path)
