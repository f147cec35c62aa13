"""The case repository on disk: where it is, case ids and paths, atomic writes, the lock.

Layout: `cases/open/<id>.yaml` for open cases, `cases/closed/<yyyy>/<mm>/<id>.yaml`
for closed ones (year and month of the id), so commands about open cases never
touch closed files and every commit stays small. Files are written whole to a
temporary name, fsynced and renamed into place, under an `fcntl` lock that the
kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from os.path import isfile, join
from typing import Any

from casectl import yamlio
from casectl.config import STATE_DIR
from casectl.errors import BrokenCaseError, CasectlError, NotFoundError, RefusedError
from casectl.ids import new_case_id, normalize_case_id
from casectl.model import Case

# Paths are plain strings: pathlib costs 4 ms of start-up, a twentieth of a command.


def find_root(given: str | None, cwd: str | None = None) -> str:
    """--repo, else CASECTL_REPO, else the nearest folder at or above cwd with severity.yaml."""
    if given:
        if not isfile(join(given, "severity.yaml")):
            raise CasectlError(f"{given} is not a case repository: it has no severity.yaml")
        return os.path.realpath(given)
    here = folder = os.path.realpath(cwd or os.getcwd())
    while True:
        if isfile(join(folder, "severity.yaml")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            raise CasectlError(
                f"no case repository at or above {here}: no severity.yaml found; "
                "use --repo DIR, set CASECTL_REPO, or create one with casectl init"
            )
        folder = parent


class Store:
    def __init__(self, root: str) -> None:
        self.root = root
        self.cases = join(root, "cases")
        self.open_dir = join(self.cases, "open")
        self.state_dir = join(root, STATE_DIR)

    def open_path(self, case_id: str) -> str:
        return join(self.open_dir, f"{case_id}.yaml")

    def closed_path(self, case_id: str) -> str:
        return join(self.cases, "closed", f"20{case_id[:2]}", case_id[2:4], f"{case_id}.yaml")

    def path_for(self, case: Case) -> str:
        closed = case.state.status == "closed"
        return self.closed_path(case.id) if closed else self.open_path(case.id)

    def relative(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def places(self, case_id: str) -> list[str]:
        """Where a case may live, relative to the repository (for git)."""
        return [self.relative(p) for p in (self.open_path(case_id), self.closed_path(case_id))]

    def locate(self, case_id: str) -> str:
        case_id = normalize_case_id(case_id)
        for path in (self.open_path(case_id), self.closed_path(case_id)):
            if isfile(path):
                return path
        raise NotFoundError(f"no case {case_id}{self._suggest(case_id)}")

    def _suggest(self, case_id: str) -> str:
        import difflib

        names = _stems(self.open_dir) + _stems(os.path.dirname(self.closed_path(case_id)))
        close = difflib.get_close_matches(case_id, names, n=3, cutoff=0.6)
        return f"; did you mean {', '.join(close)}?" if close else ""

    def load(self, case_id: str) -> Case:
        return read_case(self.locate(case_id))

    def closed_folders(self) -> Iterator[str]:
        closed = join(self.cases, "closed")
        for year in _names(closed):
            for month in _names(join(closed, year)):
                yield join(closed, year, month)

    def unused_id(self, opened: datetime) -> str:
        """A new case id no file here has (`create` still refuses a race)."""
        while True:
            case_id = new_case_id(opened)
            if not any(map(os.path.exists, (self.open_path(case_id), self.closed_path(case_id)))):
                return case_id

    def create(self, case: Case) -> str:
        """Write a new case; refuses if its id exists (`link` fails on an existing name)."""
        if os.path.exists(self.closed_path(case.id)):
            raise RefusedError(f"case {case.id} exists")
        path = self.open_path(case.id)
        tmp = self._write_temp(path, dump_case(case))
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise RefusedError(f"case {case.id} exists") from None
        finally:
            os.unlink(tmp)
        return path

    def save(self, case: Case, was: str) -> list[str]:
        """Replace the case file; a close or reopen moves it. Returns the paths changed."""
        path = self.path_for(case)
        os.replace(self._write_temp(path, dump_case(case)), path)
        if path != was:
            os.unlink(was)
            return [was, path]
        return [path]

    def _write_temp(self, path: str, data: bytes) -> str:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            if os.path.exists(tmp):
                os.unlink(tmp)
            name = os.path.basename(path)
            raise CasectlError(
                f"cannot write {name}: {err.strerror}; nothing was changed"
            ) from None
        return tmp

    def refile(self, names: list[str]) -> list[str]:
        """Move case files that a git merge left in the wrong folder (open vs closed)."""
        moved = []
        for name in names:
            path = join(self.root, name)
            if not name.endswith(".yaml") or not isfile(path):
                continue
            case = read_case(path)
            if self.path_for(case) != path:
                moved += self.save(case, path)
        return moved

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time in this repository; released by the kernel if we die."""
        os.makedirs(self.state_dir, exist_ok=True)
        with open(join(self.state_dir, "lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield


def _names(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except FileNotFoundError:
        return []


def _stems(folder: str) -> list[str]:
    return [n[:-5] for n in _names(folder) if n.endswith(".yaml") and not n.startswith(".")]


def dump_case(case: Case) -> bytes:
    return yamlio.dump(case.to_document())


def read_case(path: str) -> Case:
    try:
        document = yamlio.load(yamlio.read(path))
    except (OSError, ValueError) as err:
        raise BrokenCaseError(f"{path}: cannot read case: {err}") from None
    return case_from_document(document, path)


def case_from_document(document: Any, where: str) -> Case:
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise BrokenCaseError(f"{where}: not a case file: expected `id` and a list of `events`")
    for i, event in enumerate(document["events"]):
        if not isinstance(event, dict) or not all(k in event for k in ("id", "at", "by", "type")):
            raise BrokenCaseError(f"{where}: event {i + 1}: expected id, at, by and type")
        if not isinstance(event["at"], datetime) or event["at"].tzinfo is None:
            raise BrokenCaseError(f"{where}: event {i + 1}: `at` is not a time with an offset")
    events = document["events"]
    if not events or events[0]["type"] != "open":
        raise BrokenCaseError(f"{where}: the first event is not the opening of the case")
    return Case(str(document.get("id")), events)
