"""The case index: a derived cache of each case's summary and deadlines, kept in the state
folder. Never committed, safe to delete: any file of it missing or garbled is built again
from the cases.

Plain tuples in `marshal` format (10,000 entries load in a few milliseconds; the format
is tied to this Python version, so another one rebuilds it), in its parts:
- `index`, small (this module): the stamp of every folder under `cases/` (`folders`), the
  files that cannot be read, a note on each day with open cases (`opendays`) and the head
  of each day's file entries (`dayfiles`). Valid while roster.yaml and severity.yaml are
  as they were. A sweep with nothing due, `open`'s choice by load and the orphan warning
  read only this file.
- `index-days/`: the open cases' summaries, one file per day (`opendays`): `list` reads
  the newest days until it has its cases; a sweep, the days with something due.
- `index-files/`: every case file with its signature, and the closed ones' summaries, one
  file per day (`dayfiles`), independent of the rules.
- `index-facts/`: the report's facts, one file per day (`facts`): only `report` loads
  them.

A warm run stats the folders and nothing else; a day a step just wrote into is checked by
its names and inodes, a changed day's files are stat-ed, and only a changed file is
parsed: the work grows with what changed, not with the cases.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from casectl.config import Config
from casectl.errors import BrokenCaseError
from casectl.index import changes
from casectl.index import summary as _summary
from casectl.index.dayfiles import DayFiles, Files
from casectl.index.disk import FORMAT, Signature, day_of, load, signature, write
from casectl.index.facts import Facts, FactsEntry
from casectl.index.folders import Folders, files, misplaced
from casectl.index.opendays import DayNote, Deadlines, OpenDays, OpenEntry
from casectl.index.summary import STATUS, SWEEP_AT, Summary, newest_key, summarize
from casectl.model import Case
from casectl.store import Store, id_of

__all__ = ["Index", "Summary", "day_of", "read_case", "summarize"]
Progress = Callable[[int, int], None]  # (parsed so far, to parse)
read_case = _summary.read_case  # how the index reads a case file (tests count its calls)


class Index:
    """Every case's summary, refreshed from the folders that changed since the last run."""

    def __init__(self, store: Store, cfg: Config, progress: Progress | None = None) -> None:
        self.store, self.cfg, self.progress = store, cfg, progress
        self.path = os.path.join(store.state_dir, "index")
        self._walked = False  # the folders were stat-ed and what changed read again
        self.folders = Folders(store.cases, {}, {})
        self.open = OpenDays(os.path.join(store.state_dir, "index-days"), {})
        self.files = DayFiles(os.path.join(store.state_dir, "index-files"), {})
        self._facts = Facts(os.path.join(store.state_dir, "index-facts"))
        self._unreadable: dict[str, str] = {}  # found unreadable by `facts`, not saved
        self._changed = False  # the small index file must be saved

    # --- what commands read ----------------------------------------------------------

    @property
    def broken(self) -> list[str]:
        """Why each unreadable file under `cases/` cannot be read, in path order."""
        self._refresh()
        found = self.folders.broken | self._unreadable
        return [found[k] for k in sorted(found)]

    @property
    def unconfigured(self) -> list[tuple[str, int]]:
        """(case id, severity) of open cases whose severity the rules do not configure."""
        self._refresh()
        return sorted(odd for note in self.open.notes.values() for odd in note.unconfigured)

    @property
    def orphans(self) -> list[tuple[str, str]]:
        """(engineer, case id) of open cases assigned to someone no longer in the roster."""
        self._refresh()
        return sorted(lost for note in self.open.notes.values() for lost in note.orphans)

    def summaries(self) -> dict[str, Summary]:
        """The summary of every open case, by case id."""
        return {s[0]: Summary._make(s) for s in self.open_summaries()}

    def open_summaries(self) -> list[tuple]:
        """The summary of every open case as the plain tuple the index keeps (`Summary`'s
        fields in order), for a caller that makes a `Summary` of the few it shows."""
        self._refresh()
        found = [e[1] for day in list(self.open.notes) for e in self._day(day).values()]
        self._save_if_changed()
        return found

    def due(self, now: float) -> list[str]:
        """The ids of open cases with a deadline the sweep has yet to act on by `now`: only
        the days whose earliest such deadline has come are read."""
        self._refresh()
        notes = self.open.notes
        waking = [d for d, note in notes.items() if note.wake is not None and note.wake <= now]
        found = [
            i
            for d in waking
            for i, (_, s) in self._day(d).items()
            if s[SWEEP_AT] is not None and s[SWEEP_AT] <= now
        ]
        self._save_if_changed()
        return sorted(found)

    def loads(self) -> dict[str, int]:
        """Open cases per assignee, from the small index file alone."""
        self._refresh()
        counts: dict[str, int] = {}
        for note in self.open.notes.values():
            for person, count in note.loads.items():
                counts[person] = counts.get(person, 0) + count
        return counts

    def closed(self) -> list[Summary]:
        """Every closed case's summary: only `list --status closed|all` pays for them."""
        self._refresh()
        days = [day for day, head in sorted(self.files.heads.items()) if head[2]]
        found = [Summary._make(s) for day in days for s in self._closed(day)]
        self._save_if_changed()
        return found

    def notes(self) -> dict[str, DayNote]:
        """The note of each day with open cases, by day."""
        self._refresh()
        return self.open.notes

    def deadlines(self, day: str) -> Deadlines:
        """A day's unmet deadlines, sorted, with its cases first due (`opendays.Deadlines`);
        made again from the day's summaries when their file is missing or stale."""
        self._refresh()
        found = self.open.deadlines(day)
        return found if found is not None else self.open.deadlines_again(day, self._day(day))

    def newest(
        self,
        status: str,
        limit: int,
        keeps: Callable[[Summary], bool] | None = None,
        counts: dict[str, int] | None = None,
        known: dict[str, list[tuple]] | None = None,
    ) -> tuple[list[tuple[str, Summary]], int]:
        """The `limit` newest cases of `status` (open, closed or all), newest first, and how
        many there are. Each day says how many open cases (in its note) and closed ones (in
        its head) it holds and its newest; only the days that hold the newest are read.
        With `keeps`, the open cases it keeps, `counts` saying how many each day holds, and
        `known` the summaries of every such case of some days, which are then not read."""
        assert limit > 0
        self._refresh()
        sources: list[tuple[tuple[str, str], int, str, str]] = []
        if status in ("open", "all"):
            for day, note in self.open.notes.items():
                count = note.cases if counts is None else counts.get(day, 0)
                if count:
                    sources.append((note.newest, count, "open", day))
        if status in ("closed", "all"):
            heads = self.files.heads.items()
            sources += [(h[3], h[2], "closed", day) for day, h in heads if h[2]]
        sources.sort(reverse=True)
        found: list[tuple[str, Summary]] = []
        for newest, _, kind, day in sources:
            if len(found) >= limit and newest < newest_key(found[limit - 1][1]):
                break  # every case left is older than the last one kept
            if kind == "open":
                given = (known or {}).get(day)
                made = map(Summary._make, given if given is not None else
                           (e[1] for e in self._day(day).values()))  # fmt: skip
                found += [("open", s) for s in made if keeps is None or keeps(s)]
            else:
                found += [("closed", Summary._make(s)) for s in self._closed(day)]
            found.sort(key=lambda pair: newest_key(pair[1]), reverse=True)
            del found[limit:]
        self._save_if_changed()
        return found, sum(source[1] for source in sources)

    def facts(self, since: float, make: Callable[[Case], Any], key: str) -> list[Any]:
        """The report's facts, `make(case)` under the rules named `key`, of every open case
        and every closed one that matters at or after `since` (epoch seconds), in id order.

        A case file is parsed only when its facts are missing, stale, or of other rules.
        Days whose closed cases all went quiet before `since` are not even loaded.
        """
        return [load() for _, _, load in self.report_facts(since, make, key, None)]

    def report_facts(
        self,
        since: float,
        make: Callable[[Case], Any],
        key: str,
        thin: Callable[[Any], Any] | None,
    ) -> Iterator[tuple[str, Any, Callable[[], Any]]]:
        """(case id, slim record, a call that gives its full facts) of the cases `facts`
        names, in id order, one day's facts in memory at a time: `thin(facts)` is the slim
        record kept beside the facts (None without `thin`), and the full facts are read
        only for the cases whose caller asks for them, before it takes the next case."""
        self._refresh()
        wanted: dict[str, tuple[str, Signature | None]] = {}
        for day in list(self.open.notes):
            wanted |= {i: (day, e[0]) for i, e in self._day(day).items()}
            if day not in self.open.dirty:  # the summaries: read again if anything asks
                del self.open.loaded[day]
        for day, head in list(self.files.heads.items()):
            if head[1] >= since:
                wanted |= {i: (day, None) for i in _closed_since(day, self._files(day), since)}
        self._save_if_changed()
        last = None
        for case_id in sorted(wanted):
            day, sig = wanted[case_id]
            if day != last and last is not None:
                self._facts.drop(last)
            last = day
            entry = self._facts_of(case_id, day, sig, make, key, thin)
            if entry is not None:
                load = functools.partial(self._full, case_id, day, entry, make, key, thin)
                yield case_id, entry[2], load
        if self._facts.touched:  # less the facts of files no longer there
            touched = [d for d in self.folders.days if d in self._facts.touched]
            self._facts.save({d: [i for i in map(id_of, self._files(d)) if i] for d in touched})
            self._save_if_changed()

    def record(self, cases: Iterable[Case]) -> None:
        """Cases this process just wrote: their summaries now, so the next run parses nothing."""
        self._refresh()
        days = set()
        for case in cases:
            day, name = day_of(case.id), f"{case.id}.yaml"
            sig = signature(os.stat(self.store.path(case.id)))
            made = tuple(summarize(case, self.cfg))
            entries, known = self._day(day), self._files(day)
            if case.state.status == "open":
                entries[case.id], known[name] = (sig, made), (sig, "open", None, None)
            else:
                entries.pop(case.id, None)
                known[name] = (sig, "closed", made, _summary.matters_until(case))
            self.open.put(day, entries)
            self.files.put(day, known)
            days.add(day)
        for day in days:
            self.folders.restamp(day)  # the next run checks the day by its names alone
        self._save()

    # --- keeping it current ----------------------------------------------------------

    def _refresh(self) -> None:
        """Stat the folders once per run; read again the days that changed (only the files
        a step wrote, when the changes file says so). Days that did not change are read
        only when a command asks for their cases."""
        if self._walked:
            return
        self._walked = True
        current, saved, broken, notes, heads = self._load()
        self.folders = Folders(self.store.cases, saved, broken)
        self.open.notes = notes if current else {}  # open summaries depend on the rules
        self.files.heads = heads
        changed, verify = self.folders.walk(current)
        if current and (changed or verify):
            lines = changes.read(self.store.state_dir)
            caught = {d for d in changed + verify if self._catch_up(d, saved.get(d), lines)}
            changed = [d for d in changed + verify if d not in caught]
            self._changed |= any(self.folders.stamps.get(d) != saved.get(d) for d in caught)
        changed += [d for d in saved if d.count("/") == 2 and d not in self.folders.stamps]
        if not current:
            self._forget_old_formats()
        if changed:
            self._rescan(changed)
        if changed or not current or self._changed:
            self._save()
            changes.forget(self.store.state_dir)

    def _catch_up(self, day: str, saved: Any, lines: dict[str, list[changes.Line]]) -> bool:
        """Bring a day up to date by the files steps wrote there, when the changes file
        accounts for its stamp and its names and inodes are otherwise those the index
        knows; False when the day must be read again whole."""
        now = self.folders.stamps.get(day)
        if saved is None or now is None:
            return False
        written = changes.written(lines.get(day, []), tuple(saved[:2]), tuple(now[:2]))
        known = self.files.get(day)
        found = self.folders.inodes(day)
        if written is None or found is None or day in self.files.stale:
            return False
        for name, ino in found.items():
            entry = known.get(name)
            if name not in written and (not isinstance(entry, tuple) or entry[0][0] != ino):
                return False
        if any(name not in found for name in known):
            return False  # a file was removed
        if not written:
            return True
        entries = self.open.read(day)
        if entries is None:
            return False
        for name, kind, sig in files(os.path.join(self.store.cases, day), written & found.keys()):
            old = known.get(name)
            if isinstance(old, tuple) and old[0] == sig:
                continue
            entry = misplaced(day, name, kind) or self._parse(day, name, sig)
            self._place(day, name, sig, entry, known, entries)
        self.files.put(day, known)
        self.open.put(day, entries)
        return True

    def _day(self, day: str) -> dict[str, OpenEntry]:
        """The open entries of one day, read on demand. A day whose file is not the one its
        note names (two runs saved at once, or a run was killed between the two) is read
        again from its case files."""
        if day not in self.open.loaded:
            found = self._read_day(day)
            if found is None:
                self._rescan([day], reuse=False)
            else:
                self.open.loaded[day] = found
        return self.open.loaded[day]

    def _read_day(self, day: str) -> dict[str, OpenEntry] | None:
        return self.open.read(day)

    def _files(self, day: str) -> Files:
        """The file entries of one day; a day whose file is not the one its head names is
        read again from its folder."""
        self.files.get(day)
        if day in self.files.stale:
            self._rescan([day])
            self._changed = True
        return self.files.get(day)

    def _closed(self, day: str) -> list[tuple]:
        """The summaries of one day's closed cases."""
        self._files(day)
        return self.files.closed(day)

    def _place(
        self, day: str, name: str, sig: Signature, entry: Any, known: Files,
        entries: dict[str, OpenEntry],
    ) -> None:  # fmt: skip
        """Note what reading a case file found (its entry, or why it cannot be read) in its
        day's file entries, and its summary among the day's open ones while it is open."""
        entries.pop(name[:-5], None)
        if isinstance(entry, str):
            known[name] = self.folders.broken[f"{day}/{name}"] = entry
        elif entry[1] == "open":
            known[name], entries[name[:-5]] = (sig, "open", None, None), (sig, entry[2])
        else:
            known[name] = entry

    def _rescan(self, days: list[str], reuse: bool = True) -> None:
        """Read again the days' files: parse those whose signature changed (all the open
        ones, without `reuse` of the open entries saved)."""
        self.folders.forget(set(days))
        work: list[tuple[str, str, Signature]] = []
        for day in days:
            kept = (self.open.loaded.get(day) or self.open.read(day) or {}) if reuse else {}
            before = self.files.get(day)  # stale or not: each entry is checked by signature
            entries: dict[str, OpenEntry] = {}
            now: Files = {}
            for name, kind, sig in files(os.path.join(self.store.cases, day)):
                problem = misplaced(day, name, kind)
                if problem:
                    now[name] = self.folders.broken[f"{day}/{name}"] = problem
                    continue
                case_id = name[:-5]
                old = before.get(name)
                if isinstance(old, tuple) and old[0] == sig:
                    if old[1] == "closed" and len(old) == 4:
                        now[name] = old
                        continue
                    known = kept.get(case_id)
                    if known and known[0] == sig:
                        now[name], entries[case_id] = old, known
                        continue
                work.append((day, name, sig))
            self.files.put(day, now)
            self.open.put(day, entries)
        for done, (day, name, sig) in enumerate(work):
            if self.progress and len(work) > 200 and done % 100 == 0:
                self.progress(done, len(work))
            entry = self._parse(day, name, sig)
            self._place(day, name, sig, entry, self.files.loaded[day], self.open.loaded[day])
        if self.progress and len(work) > 200:
            self.progress(len(work), len(work))

    def _parse(self, day: str, name: str, sig: Signature) -> Any:
        """A case file's entry: (signature, status, summary, until when it matters), or
        why it cannot be read."""
        path = os.path.join(self.store.cases, day, name)
        try:
            case = read_case(path)
            made = tuple(summarize(case, self.cfg))
        except BrokenCaseError as err:
            return str(err)
        return (sig, str(made[STATUS]), made, _summary.matters_until(case))

    def _facts_of(
        self,
        case_id: str,
        day: str,
        sig: Signature | None,
        make: Callable[[Case], Any],
        key: str,
        thin: Callable[[Any], Any] | None,
    ) -> FactsEntry | None:
        """A case's facts entry, computed again when missing, stale or of other rules (an
        open case's signature is its open entry's; a closed one's, its file entry's)."""
        if sig is None:
            entry = self._files(day).get(f"{case_id}.yaml")
            if not isinstance(entry, tuple):
                return None  # broken, or gone since the index was read: named by `broken`
            sig = entry[0]
        cached = self._facts.get(day, case_id, sig, key)
        if cached is not None:
            if thin is None or cached[2] is not None:
                return cached
            made = self._full(case_id, day, cached, make, key, None)
            if made is None:
                return None
        else:
            try:
                made = make(read_case(os.path.join(self.store.cases, day, f"{case_id}.yaml")))
            except BrokenCaseError as err:
                self._unreadable[f"{day}/{case_id}.yaml"] = str(err)
                return None
        slim = thin(made) if thin is not None else None
        found = (sig, key, slim, marshal.dumps(made))
        self._facts.put(day, case_id, found)
        return found

    def _full(
        self,
        case_id: str,
        day: str,
        entry: FactsEntry,
        make: Callable[[Case], Any],
        key: str,
        thin: Callable[[Any], Any] | None,
    ) -> Any:
        """The full facts of a case's entry; a .full file cut short or garbled since: made
        again from the case file."""
        try:
            return self._facts.full(day, entry)
        except (OSError, ValueError, EOFError, TypeError):
            self._facts.days.get(day, {}).pop(case_id, None)
            found = self._facts_of(case_id, day, entry[0], make, key, thin)
            return None if found is None else self._facts.full(day, found)

    # --- the small file ----------------------------------------------------------------

    def _header(self) -> tuple[Any, ...]:
        root = self.cfg.root
        rules = ("roster.yaml", "severity.yaml")
        return (FORMAT, *(signature(os.stat(os.path.join(root, n))) for n in rules))

    def _load(self) -> tuple[bool, dict[str, Any], dict[str, str], dict[str, DayNote], dict]:
        """(saved under the current rules, folder stamps, broken files, the notes of the
        days with open cases, the heads of the days' file entries)."""
        try:
            header, dirs, broken, notes, heads = load(self.path)
            notes = {day: DayNote._make(note) for day, note in notes.items()}
            if not all(isinstance(x, dict) for x in (dirs, broken, heads)):
                raise TypeError
        except (ValueError, TypeError, AttributeError):
            return False, {}, {}, {}, {}  # missing, garbled or of another format: built again
        if header[0] != FORMAT:
            return False, {}, {}, {}, {}
        return header == self._header(), dirs, broken, notes, heads

    def _forget_old_formats(self) -> None:
        """What older casectl kept: the open summaries in one file (7), months (9)."""
        state_dir = self.store.state_dir
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(state_dir, "index-open"))
        months = os.path.join(state_dir, "index-months")
        if os.path.isdir(months) and not os.path.islink(months):
            import shutil

            shutil.rmtree(months, ignore_errors=True)

    def _save_if_changed(self) -> None:
        if self.open.dirty or self.files.touched or self._changed:
            self._save()

    def _save(self) -> None:
        """The changed days' files, then the small index file, which names each day's files
        by their tokens: a day file it does not name is not trusted."""
        self.store.state_folder()
        gone = self.open.save(self.cfg)
        self.files.save()
        notes = {day: tuple(note) for day, note in self.open.notes.items()}  # plain tuples
        record = (self._header(), self.folders.stamps, self.folders.broken, notes,
                  self.files.heads)  # fmt: skip
        write(self.path, marshal.dumps(record))
        self.open.remove(gone)
        self._changed = False


def _closed_since(day: str, known: Files, since: float) -> dict[str, str]:
    """{case id: day} of the day's closed cases that matter at or after `since`."""
    found = {}
    for name, e in known.items():
        case_id = id_of(name)
        if case_id and isinstance(e, tuple) and e[1] == "closed" and (e[3] or 0) >= since:
            found[case_id] = day
    return found
