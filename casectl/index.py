"""The open-case index: a derived cache of each open case's summary and deadlines.

Kept in `.casectl/open-index.pickle` (never committed; delete it at will). An entry
is trusted while its file's inode, size and mtime are unchanged and roster.yaml and
severity.yaml are as they were; anything else is parsed again. Only `cases/open/`
is read, so closed cases cost nothing here.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from casectl import deadlines
from casectl.config import Config
from casectl.errors import BrokenCaseError
from casectl.model import Case
from casectl.store import Store, read_case

VERSION = 1
Signature = tuple[int, int, int]


@dataclass(frozen=True)
class Summary:
    id: str
    severity: int
    customer: str
    assignee: str | None
    duty: str
    opened_at: datetime
    waiting: str | None
    deadlines: tuple[deadlines.Deadline, ...]
    next_due: datetime | None  # the earliest deadline the sweep has yet to act on


def summarize(case: Case, cfg: Config) -> Summary:
    s = case.state
    found = tuple(deadlines.compute(case, cfg))
    acted = {e["deadline"] for e in case.events if "deadline" in e}
    pending = [d.due for d in found if d.met is None and d.due is not None and d.key not in acted]
    return Summary(
        case.id,
        s.severity,
        s.customer,
        s.assignee,
        s.duty,
        s.opened_at,  # type: ignore[arg-type]
        s.waiting,
        found,
        min(pending, default=None),
    )


def _signature(st: os.stat_result) -> Signature:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class OpenIndex:
    def __init__(self, store: Store, cfg: Config) -> None:
        self.store, self.cfg = store, cfg
        self.path = store.state_dir / "open-index.pickle"
        self.broken: list[str] = []

    def _config_signature(self) -> tuple[Any, ...]:
        root = self.cfg.root
        return (VERSION, *(_signature(os.stat(root / n)) for n in ("roster.yaml", "severity.yaml")))

    def _load(self) -> dict[str, tuple[Signature, Summary]]:
        try:
            with open(self.path, "rb") as f:
                saved = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
            return {}
        if not isinstance(saved, dict) or saved.get("config") != self._config_signature():
            return {}
        return saved["entries"]  # type: ignore[no-any-return]

    def summaries(self) -> dict[str, Summary]:
        """Every open case's summary, refreshed from the files that changed."""
        cached = self._load()
        entries, changed = {}, False
        try:
            scan = list(os.scandir(self.store.open_dir))
        except FileNotFoundError:
            scan = []
        for entry in scan:
            name = entry.name
            if not name.endswith(".yaml") or name.startswith("."):
                continue
            sig = _signature(entry.stat())
            hit = cached.get(name)
            if hit is not None and hit[0] == sig:
                entries[name] = hit
                continue
            try:
                entries[name] = (sig, summarize(read_case(Path(entry.path)), self.cfg))
            except BrokenCaseError as err:
                self.broken.append(str(err))
            changed = True
        if changed or len(entries) != len(cached):
            self._save(entries)
        return {summary.id: summary for _, summary in entries.values()}

    def update(self, case: Case, path: Path) -> None:
        """Record a case this process just wrote, so the next run need not parse it."""
        entries = self._load()
        if path.parent == self.store.open_dir and path.exists():
            entries[path.name] = (_signature(os.stat(path)), summarize(case, self.cfg))
        else:
            entries.pop(f"{case.id}.yaml", None)
        self._save(entries)

    def _save(self, entries: dict[str, tuple[Signature, Summary]]) -> None:
        self.store.state_dir.mkdir(exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump({"config": self._config_signature(), "entries": entries}, f, protocol=5)
        os.replace(tmp, self.path)

    def loads(self) -> dict[str, int]:
        """Open cases per assignee."""
        counts: dict[str, int] = {}
        for s in self.summaries().values():
            if s.assignee:
                counts[s.assignee] = counts.get(s.assignee, 0) + 1
        return counts
