"""The case index: a derived cache of each case's summary and deadlines, by folder.

Kept in `.casectl/` (never committed; delete it at will): `open-index` for the
open cases, which `list` and `sweep` read, and one file per closed year/month
folder under `closed-index/`, read only when closed cases are listed. An entry is
trusted while its file's inode, size and mtime are unchanged and roster.yaml and
severity.yaml are as they were; anything else is parsed again. A hand edit made
in place (not by renaming, as casectl, git and most editors do) is noticed at the
next change in the folder; deleting the index rebuilds it. Only
`cases/open/` is read, so closed cases cost nothing here. Entries are plain
tuples in `marshal` format, which loads 10,000 of them in a few milliseconds;
the format is tied to this Python version, so the cache is rebuilt for another.
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from typing import Any, NamedTuple

from casectl import deadlines
from casectl.config import Config
from casectl.errors import BrokenCaseError
from casectl.model import Case
from casectl.store import Store, read_case

FORMAT = ("casectl-open-index", 3, sys.version_info[:2])


class Summary(NamedTuple):
    """What `list` and `sweep` need of an open case; instants in seconds since the epoch."""

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
        min((d.due.timestamp() for d in found if d.due and d.key not in acted), default=None),
    )  # fmt: skip


Entry = tuple[tuple[int, int, int], tuple]  # the file's (inode, size, mtime), its Summary


def _signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class FolderIndex:
    """The summaries of the case files of one folder, cached in `.casectl/<name>`."""

    def __init__(self, store: Store, cfg: Config, folder: str, name: str) -> None:
        self.store, self.cfg, self.folder = store, cfg, folder
        self.path = os.path.join(store.state_dir, name)
        self.broken: list[str] = []

    def _header(self) -> tuple[Any, ...]:
        root = self.cfg.root
        names = ("roster.yaml", "severity.yaml")
        return (FORMAT, *(_signature(os.stat(os.path.join(root, n))) for n in names))

    def _load(self) -> tuple[Any, dict[str, Entry], dict[str, str]]:
        """(the folder's stamp when saved, entries by file name, broken files' errors)."""
        try:
            with open(self.path, "rb") as f:
                header, stamp, entries, broken = marshal.loads(f.read())  # load(f): 100x slower
        except (OSError, EOFError, ValueError, TypeError):
            return None, {}, {}
        return (stamp, entries, broken) if header == self._header() else (None, {}, {})

    def _entries(self) -> dict[str, Entry]:
        """Every open case's entry, parsing only the files that changed.

        Every write casectl or git makes replaces a file by rename, which changes the
        folder's mtime; while that is as when the index was saved, no file was
        replaced and none is stat-ed. A folder changed in the last two seconds is not
        trusted (its mtime is coarse): those runs stat every file.
        """
        try:
            folder = os.stat(self.folder)
        except FileNotFoundError:
            return {}
        stamp = (folder.st_ino, folder.st_mtime_ns)
        saved, cached, broken = self._load()
        if saved == stamp:
            self.broken = list(broken.values())
            return cached
        entries: dict[str, Entry] = {}
        broken = {}
        with os.scandir(self.folder) as scan:
            for entry in scan:
                name = entry.name
                if name.endswith(".yaml") and not name.startswith("."):
                    sig = _signature(entry.stat())
                    hit: Entry | str | None = cached.get(name)
                    if hit is None or hit[0] != sig:
                        hit = self._parse(entry.path, sig)
                    if isinstance(hit, str):
                        broken[name] = hit
                    else:
                        entries[name] = hit
        self.broken = list(broken.values())
        settled = time.time_ns() - folder.st_mtime_ns > 2_000_000_000
        self._save(stamp if settled else None, entries, broken)
        return entries

    def summaries(self) -> dict[str, Summary]:
        """The summary of every case in the folder, by case id."""
        return {e[1][0]: Summary._make(e[1]) for e in self._entries().values()}

    def due(self, now: float) -> list[str]:
        """The ids of the cases with a deadline the sweep has yet to act on by `now`."""
        at = Summary._fields.index("sweep_at")
        return sorted(
            s[0] for _, s in self._entries().values() if s[at] is not None and s[at] <= now
        )

    def _parse(self, path: str, sig: tuple[int, int, int]) -> Entry | str:
        """The file's entry, or why it cannot be read."""
        try:
            return sig, tuple(summarize(read_case(path), self.cfg))
        except BrokenCaseError as err:
            return str(err)

    def update(self, case: Case, path: str) -> None:
        """Record a case this process just wrote, so the next run need not parse it."""
        _, entries, broken = self._load()
        if os.path.dirname(path) == self.folder and os.path.exists(path):
            entries[os.path.basename(path)] = (
                _signature(os.stat(path)),
                tuple(summarize(case, self.cfg)),
            )
        else:
            entries.pop(f"{case.id}.yaml", None)
        self._save(None, entries, broken)  # the folder changed: its next reader stats every file

    def _save(self, stamp: Any, entries: dict[str, Entry], broken: dict[str, str]) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(marshal.dumps((self._header(), stamp, entries, broken)))
        os.replace(tmp, self.path)


class OpenIndex(FolderIndex):
    """The open cases: what `list`, `sweep` and `assign --next` read."""

    def __init__(self, store: Store, cfg: Config) -> None:
        super().__init__(store, cfg, store.open_dir, "open-index")

    def loads(self) -> dict[str, int]:
        """Open cases per assignee."""
        counts: dict[str, int] = {}
        for s in self.summaries().values():
            if s.assignee:
                counts[s.assignee] = counts.get(s.assignee, 0) + 1
        return counts


def closed_summaries(store: Store, cfg: Config) -> list[Summary]:
    """Every closed case's summary, a cached index per year/month folder: only
    `list --status closed|all` pays for them."""
    found: list[Summary] = []
    for folder in store.closed_folders():
        name = os.path.join(
            "closed-index", os.path.relpath(folder, store.cases).replace(os.sep, "-")
        )
        found += FolderIndex(store, cfg, folder, name).summaries().values()
    return found
