"""The case index: a derived cache of each case's summary and deadlines, kept in `.casectl/`.

Never committed, safe to delete. Two kinds of file, both plain tuples in `marshal`
format (10,000 entries load in a few milliseconds; the format is tied to this
Python version, so another one rebuilds it):
- `index`: the stamp (inode, mtime) of every folder under `cases/`, the files
  that cannot be read, and when the sweep must next look at an open case; and
  `index-open`, every open case's summary, which `list` and `sweep` read. Both are
  valid while roster.yaml and severity.yaml are as they were; a sweep that finds
  no folder changed and nothing due reads only the first.
- `index-months/<yyyy>-<mm>`: every case file of that month with its (inode, size,
  mtime), status, the summaries of the closed ones and until when each closed case
  matters to a report. It does not depend on the rules, so closed cases are never
  parsed again when they change. Its small header (the latest time any of its closed
  cases matters) is read alone: a report skips the months whose closed cases all went
  quiet before its period.
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

import marshal
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from casectl import deadlines
from casectl.config import Config
from casectl.errors import BrokenCaseError
from casectl.model import NO_SEVERITY, Case, notices
from casectl.store import Store, id_of, names
from casectl.store import read_case as _read_any_language

FORMAT = ("casectl-index", 7, sys.version_info[:2])
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
    first = unmet[0] if unmet else None
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
        self.months_dir = os.path.join(store.state_dir, "index-months")
        self.open_path = os.path.join(store.state_dir, "index-open")
        self.facts_dir = os.path.join(store.state_dir, "index-facts")
        self._open: dict[str, tuple[Signature, tuple]] | None = None  # by case id
        self._clean: tuple[bytes, float | None] | None = None  # (token, wake) of a clean index
        self._unconfigured: list[tuple[str, int]] = []
        self._orphans: list[tuple[str, str]] = []
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
        self._refresh(entries=False)
        found = self._broken | self._unreadable
        return [found[k] for k in sorted(found)]

    @property
    def unconfigured(self) -> list[tuple[str, int]]:
        """(case id, severity) of open cases whose severity the rules do not configure."""
        self._refresh(entries=False)
        return self._unconfigured

    @property
    def orphans(self) -> list[tuple[str, str]]:
        """(engineer, case id) of open cases assigned to someone no longer in the roster."""
        self._refresh(entries=False)
        return self._orphans

    def summaries(self) -> dict[str, Summary]:
        """The summary of every open case, by case id."""
        return {i: Summary._make(e[1]) for i, e in self._refresh().items()}

    def due(self, now: float) -> list[str]:
        """The ids of open cases with a deadline the sweep has yet to act on by `now`."""
        if self._open is None:
            self._refresh(entries=False)
            wake = self._clean[1] if self._clean else 0.0
            if wake is None or wake > now:
                return []  # nothing changed and nothing due: the summaries stay unread
        at = Summary._fields.index("sweep_at")
        found = self._refresh().items()
        return sorted(i for i, (_, s) in found if s[at] is not None and s[at] <= now)

    def loads(self) -> dict[str, int]:
        """Open cases per assignee."""
        counts: dict[str, int] = {}
        for s in self.summaries().values():
            if s.assignee:
                counts[s.assignee] = counts.get(s.assignee, 0) + 1
        return counts

    def closed(self) -> list[Summary]:
        """Every closed case's summary: only `list --status closed|all` pays for them."""
        self._refresh()
        found = []
        for month in _months(self.months_dir):
            for day in self._month(month).values():
                kept = [e[2] for e in day.values() if isinstance(e, tuple) and e[2]]
                found += [Summary._make(summary) for summary in kept]
        return found

    def facts(self, since: float, make: Callable[[Case], Any], key: str) -> list[Any]:
        """The report's facts, `make(case)` under the rules named `key`, of every open case
        and every closed one that matters at or after `since` (epoch seconds), in id order.

        Read from the month files; a case file is parsed only when its facts are missing,
        stale, or of other rules. Months whose closed cases all went quiet before
        `since` are not even loaded.
        """
        wanted = {i: day_of(i) for i in self._refresh()}
        for month in _months(self.months_dir):
            if self._latest(month) >= since:
                for day, files in self._month(month).items():
                    wanted |= _closed_since(day, files, since)
        found = [self._facts_of(case_id, day, make, key) for case_id, day in sorted(wanted.items())]
        if self._touched:
            self._save()
        self._save_facts()
        return [f for f in found if f is not None]

    def _facts_of(self, case_id: str, day: str, make: Callable[[Case], Any], key: str) -> Any:
        month = day[:7].replace("/", "-")
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
        entries = self._refresh()
        for case in cases:
            path = self.store.path(case.id)
            summary = tuple(summarize(case, self.cfg))
            if case.state.status == "open":
                entries[case.id] = (_signature(os.stat(path)), summary)
            else:
                entries.pop(case.id, None)
            self._dirs[day_of(case.id)] = None  # its day changed: the next run stats its files
        self._save()

    # --- keeping it current ----------------------------------------------------------

    def _refresh(self, entries: bool = True) -> dict[str, tuple[Signature, tuple]]:
        """The open cases' entries, after reading again what changed. Without `entries`,
        a clean index (no folder changed) stops before reading them: `_clean` says so."""
        if self._open is not None:
            return self._open
        if self._clean is None:
            current, saved, self._broken, token, wake, notes = self._load()
            self._unconfigured, self._orphans = notes
            changed = self._walk(saved, current)
            changed += [d for d in saved if d.count("/") == 2 and d not in self._dirs]  # gone
            if current and not changed:
                self._clean = (token, wake)
        if self._clean is not None:
            if not entries:
                return {}
            changed, current, token = [], True, self._clean[0]
        saved_token, self._open = self._load_open()
        if not current:
            self._open = {}  # open summaries depend on the rules
        elif saved_token != token:  # the two files were saved by two runs: trust neither
            changed = [d for d in self._dirs if d.count("/") == 2]
        if changed or not current or saved_token != token:
            self._rescan(changed)
            self._save()
        return self._open

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

    def _rescan(self, days: list[str]) -> None:
        """Read again the changed days' files: parse those whose signature changed."""
        assert self._open is not None
        reuse, again = self._open, set(days)
        self._open = {i: e for i, e in reuse.items() if day_of(i) not in again}
        self._broken = {k: v for k, v in self._broken.items() if k.rpartition("/")[0] not in again}
        work: list[tuple[str, str, str, Signature]] = []
        for day in days:
            month = self._month(day[:7].replace("/", "-"))
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
                    kept = reuse.get(case_id)  # type: ignore[arg-type]
                    if old[1] == "closed" and len(old) == 4:
                        now[name] = old
                        continue
                    if kept and kept[0] == sig:
                        now[name], self._open[case_id] = old, kept  # type: ignore[index]
                        continue
                work.append((day, name, case_id, sig))  # type: ignore[arg-type]
            month[day] = now
            self._touched.add(day[:7].replace("/", "-"))
        for done, (day, name, case_id, sig) in enumerate(work):
            if self.progress and len(work) > 200 and done % 100 == 0:
                self.progress(done, len(work))
            entry = self._parse(day, name, sig)
            month = self._months[day[:7].replace("/", "-")]
            if isinstance(entry, str):
                month[day][name] = self._broken[f"{day}/{name}"] = entry
            elif entry[1] == "open":
                month[day][name] = (sig, "open", None, None)
                self._open[case_id] = (sig, entry[2])  # type: ignore[assignment]
            else:
                month[day][name] = entry
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

    # --- the files ---------------------------------------------------------------------

    def _header(self) -> tuple[Any, ...]:
        root = self.cfg.root
        rules = ("roster.yaml", "severity.yaml")
        return (FORMAT, *(_signature(os.stat(os.path.join(root, n))) for n in rules))

    def _load(self) -> tuple[bool, dict[str, Any], dict[str, str], bytes, float | None, Any]:
        """(saved under the current rules, folder stamps, broken files, the token shared
        with `index-open`, when the sweep must next look, what the rules leave out:
        cases of unconfigured levels and cases of engineers not in the roster)."""
        try:
            with open(self.path, "rb") as f:
                header, dirs, broken, token, wake, notes = marshal.loads(
                    f.read()
                )  # load(f): slower
        except (OSError, EOFError, ValueError, TypeError):
            return False, {}, {}, b"", None, ([], [])
        return header == self._header(), dirs, broken, token, wake, notes

    def _load_open(self) -> tuple[bytes, dict[str, tuple[Signature, tuple]]]:
        try:
            with open(self.open_path, "rb") as f:
                token, entries = marshal.loads(f.read())
        except (OSError, EOFError, ValueError, TypeError):
            return b"", {}
        return token, entries

    def _month(self, month: str) -> dict[str, dict[str, FileEntry | str]]:
        if month not in self._months:
            days = {}
            try:
                with open(os.path.join(self.months_dir, month), "rb") as f:
                    data = memoryview(f.read())
                size = int.from_bytes(data[:4], "big")
                if marshal.loads(data[4 : 4 + size])[0] == FORMAT:
                    days = marshal.loads(data[4 + size :])
            except (OSError, EOFError, ValueError, TypeError, IndexError):
                pass
            self._months[month] = days
        return self._months[month]

    def _facts_month(self, month: str) -> dict[str, FactsEntry]:
        if month not in self._facts:
            try:
                with open(os.path.join(self.facts_dir, month), "rb") as f:
                    form, facts = marshal.loads(f.read())
                self._facts[month] = facts if form == FORMAT else {}
            except (OSError, EOFError, ValueError, TypeError):
                self._facts[month] = {}
        return self._facts[month]

    def _latest(self, month: str) -> float:
        """Until when the month's closed cases matter to a report; from its header alone."""
        if month in self._months:
            return _latest(self._months[month])
        try:
            with open(os.path.join(self.months_dir, month), "rb") as f:
                size = int.from_bytes(f.read(4), "big")
                form, latest = marshal.loads(f.read(size))
            return latest if form == FORMAT else float("inf")  # type: ignore[no-any-return]
        except (OSError, EOFError, ValueError, TypeError):
            return float("inf")  # unreadable: load it, which reads it again

    def _save(self) -> None:
        self.store.state_folder()
        token = os.urandom(8)
        at = Summary._fields.index("sweep_at")
        wake, odd, orphans = None, [], []
        known = {p.id for p in self.cfg.people}
        for _, s in (self._open or {}).values():
            if s[at] is not None and (wake is None or s[at] < wake):
                wake = s[at]
            if s[1] not in self.cfg.levels and s[1] != NO_SEVERITY:  # a price inquiry has none
                odd.append((s[0], s[1]))
            if s[3] and s[3] not in known:
                orphans.append((s[3], s[0]))
        self._unconfigured, self._orphans = sorted(odd), sorted(orphans)
        _write(self.open_path, marshal.dumps((token, self._open)))
        notes = (self._unconfigured, self._orphans)
        record = (self._header(), self._dirs, self._broken, token, wake, notes)
        _write(self.path, marshal.dumps(record))
        self._clean = None
        if self._touched:
            os.makedirs(self.months_dir, exist_ok=True)
        for month in sorted(self._touched):
            days = {d: files for d, files in self._months[month].items() if d in self._dirs}
            header = marshal.dumps((FORMAT, _latest(days)))
            body = marshal.dumps(days)
            size = len(header).to_bytes(4, "big")
            _write(os.path.join(self.months_dir, month), size + header + body)
        self._touched = set()

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


def _latest(days: dict[str, dict[str, FileEntry | str]]) -> float:
    """The latest time any closed case of these days matters to a report."""
    found = [
        e[3] for files in days.values() for e in files.values()
        if isinstance(e, tuple) and e[1] == "closed" and e[3] is not None
    ]  # fmt: skip
    return max(found, default=float("-inf"))


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
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
