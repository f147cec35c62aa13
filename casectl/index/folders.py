"""The folders under `cases/`: which changed since the last run, told by their stamps.

A folder's stamp is its (inode, mtime): every write by casectl or git adds, replaces or
removes a file by rename, which changes its folder's mtime, so a folder whose stamp is as
saved has had no file added, replaced or removed and none of its files is even stat-ed.
A folder changed in the last two seconds is not trusted by its stamp alone (mtimes are
coarse: another change in the same tick leaves it as it was). Such a day folder is saved
with a stamp to verify: the next run lists its names and inode numbers (no stat), which
any rename changes, and compares them with the files the index knows; a racy year or
month folder is listed again. A hand edit made in place, not by rename, is noticed at the
next change in its folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable
from typing import Any

from casectl.index.disk import Signature, day_of, signature
from casectl.store import id_of, names

_FOLDER = (re.compile(r"\d{4}"), re.compile(r"\d{2}"), re.compile(r"\d{2}"))  # year, month, day
LEGACY = frozenset({"open", "closed"})  # folders of the layout before fixed paths
Stamp = Any  # (inode, mtime) trusted; (inode, mtime, 0) to verify by names; None: look again


class Folders:
    """The stamps of the folders under `cases/` and what does not belong there."""

    def __init__(self, cases: str, saved: dict[str, Stamp], broken: dict[str, str]) -> None:
        self.cases = cases
        self.stamps: dict[str, Stamp] = {}  # as found by this run's walk
        self.saved = saved  # as the last run saved them
        self.broken = broken  # why, by path under cases/

    @property
    def days(self) -> list[str]:
        """The day folders found."""
        return [rel for rel in self.stamps if rel.count("/") == 2]

    def walk(self, trusted: bool) -> tuple[list[str], list[str]]:
        """Stat every folder under `cases/`: (the day folders whose files may have changed,
        those whose stamp is as saved but to be verified by their names)."""
        children: dict[str, list[str]] = {}
        for rel in self.saved:
            if rel:
                children.setdefault(rel.rpartition("/")[0], []).append(rel)
        changed: list[str] = []
        verify: list[str] = []
        fresh = time.time_ns() - 2_000_000_000
        stack = [""]
        while stack:
            rel = stack.pop()
            try:
                st = os.lstat(os.path.join(self.cases, rel))
            except (FileNotFoundError, NotADirectoryError):  # a pushed file above it
                continue
            if stat.S_ISLNK(st.st_mode):
                self.broken[rel] = f"cases/{rel} is a symbolic link; casectl does not follow it"
                self.stamps[rel] = None  # looked at again on every run, while it is there
                continue
            if not stat.S_ISDIR(st.st_mode):
                continue
            stamp = (st.st_ino, st.st_mtime_ns)
            saved = self.saved.get(rel) if trusted else None
            depth = rel.count("/") + 1 if rel else 0
            if depth == 3:
                if saved == stamp:
                    self.stamps[rel] = stamp
                elif saved is not None and saved[:2] == stamp:  # racy when saved: verify
                    self.stamps[rel] = stamp if st.st_mtime_ns < fresh else saved
                    verify.append(rel)
                else:
                    self.stamps[rel] = self.stamp(st, fresh)
                    changed.append(rel)
                continue
            self.stamps[rel] = stamp if st.st_mtime_ns < fresh else None
            stack += children.get(rel, []) if saved == stamp else self._list(rel, depth)
        return changed, verify

    def stamp(self, st: os.stat_result, fresh: int | None = None) -> Stamp:
        """A day folder's stamp after its files were read: to verify when racy."""
        if fresh is None:
            fresh = time.time_ns() - 2_000_000_000
        stamp = (st.st_ino, st.st_mtime_ns)
        return stamp if st.st_mtime_ns < fresh else (*stamp, 0)

    def restamp(self, day: str) -> None:
        """A day this run wrote into: its stamp now, to verify by names next time."""
        try:
            self.stamps[day] = self.stamp(os.lstat(os.path.join(self.cases, day)))
        except OSError:
            self.stamps[day] = None

    def inodes(self, day: str) -> dict[str, int] | None:
        """{name: inode} of a day folder's entries (no stat), temporary files left out."""
        try:
            with os.scandir(os.path.join(self.cases, day)) as scan:
                return {e.name: e.inode() for e in scan if not e.name.startswith(".")}
        except OSError:
            return None

    def forget(self, days: set[str]) -> None:
        """The problems found in these days, which are about to be read again."""
        self.broken = {k: v for k, v in self.broken.items() if k.rpartition("/")[0] not in days}

    def _list(self, rel: str, depth: int) -> list[str]:
        """The folders in a year, month or `cases/` itself, noting what does not belong."""
        self.broken = {
            k: v for k, v in self.broken.items() if k.count("/") == 3 or k.rpartition("/")[0] != rel
        }
        entries = names(os.path.join(self.cases, rel))
        if depth == 0:
            for name in LEGACY.intersection(entries):
                self.broken[name] = (
                    f"cases/{name}/ is the layout before fixed paths: its cases are not read "
                    "until `casectl migrate` (or `casectl sync`) converts it"
                )
        pattern = _FOLDER[depth]
        return [f"{rel}/{n}" if rel else n for n in entries if pattern.fullmatch(n)]


def files(folder: str, only: Iterable[str] | None = None) -> list[tuple[str, str, Signature]]:
    """(name, kind, signature) of a day folder's entries (or of the names `only`, those
    there), temporary files left out."""
    found = []
    if only is not None:
        for name in only:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                found.append((name, *_kind(os.lstat(os.path.join(folder, name)))))
        return found
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                if not entry.name.startswith("."):
                    found.append((entry.name, *_kind(entry.stat(follow_symlinks=False))))
    except (FileNotFoundError, NotADirectoryError):
        pass
    return found


def _kind(st: os.stat_result) -> tuple[str, Signature]:
    mode = st.st_mode
    kind = "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "other"
    return kind, signature(st)


def misplaced(day: str, name: str, kind: str) -> str | None:
    """Why a day folder's entry is not a case file that belongs there, if it is not."""
    where = f"cases/{day}/{name}"
    case_id = id_of(name)
    if kind == "link":
        return f"{where} is a symbolic link; casectl does not follow it"
    if kind != "file":
        return f"{where} is not a case file"
    if case_id is None:
        return f"{where}: not a case file name (expected an id such as 261126-K7Q3M.yaml)"
    if day_of(case_id) != day:
        return f"{where}: case {case_id} belongs in cases/{day_of(case_id)}/"
    return None
