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
from pathlib import Path
from typing import Any

from casectl import yamlio
from casectl.errors import BrokenCaseError, CasectlError, NotFoundError, RefusedError
from casectl.ids import normalize_case_id
from casectl.model import Case

STATE_DIR = ".casectl"  # derived, never committed: the lock and the open-case index


def find_root(given: str | None, cwd: Path | None = None) -> Path:
    """--repo, else CASECTL_REPO, else the nearest folder at or above cwd with severity.yaml."""
    if given:
        root = Path(given)
        if not (root / "severity.yaml").is_file():
            raise CasectlError(f"{root} is not a case repository: it has no severity.yaml")
        return root.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "severity.yaml").is_file():
            return folder
    raise CasectlError(
        f"no case repository at or above {here}: no severity.yaml found; "
        "use --repo DIR, set CASECTL_REPO, or create one with casectl init"
    )


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases = root / "cases"
        self.open_dir = self.cases / "open"
        self.state_dir = root / STATE_DIR

    def open_path(self, case_id: str) -> Path:
        return self.open_dir / f"{case_id}.yaml"

    def closed_path(self, case_id: str) -> Path:
        return self.cases / "closed" / f"20{case_id[:2]}" / case_id[2:4] / f"{case_id}.yaml"

    def path_for(self, case: Case) -> Path:
        closed = case.state.status == "closed"
        return self.closed_path(case.id) if closed else self.open_path(case.id)

    def locate(self, case_id: str) -> Path:
        case_id = normalize_case_id(case_id)
        for path in (self.open_path(case_id), self.closed_path(case_id)):
            if path.is_file():
                return path
        raise NotFoundError(f"no case {case_id}{self._suggest(case_id)}")

    def _suggest(self, case_id: str) -> str:
        import difflib

        names = [p.stem for p in self.open_dir.glob("*.yaml")]
        names += [p.stem for p in self.closed_path(case_id).parent.glob("*.yaml")]
        close = difflib.get_close_matches(case_id, names, n=3, cutoff=0.6)
        return f"; did you mean {', '.join(close)}?" if close else ""

    def load(self, case_id: str) -> Case:
        return read_case(self.locate(case_id))

    def open_ids(self) -> list[str]:
        return sorted(
            (n[:-5] for n in os.listdir(self.open_dir) if n.endswith(".yaml")), reverse=True
        )

    def all_paths(self) -> Iterator[Path]:
        yield from self.open_dir.glob("*.yaml")
        yield from (self.cases / "closed").glob("*/*/*.yaml")

    def create(self, case: Case) -> Path:
        """Write a new case; refuses if its id exists (`link` fails on an existing name)."""
        if self.closed_path(case.id).exists():
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

    def save(self, case: Case, was: Path) -> list[Path]:
        """Replace the case file; a close or reopen moves it. Returns the paths changed."""
        path = self.path_for(case)
        os.replace(self._write_temp(path, dump_case(case)), path)
        if path != was:
            was.unlink()
            return [was, path]
        return [path]

    def _write_temp(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise CasectlError(
                f"cannot write {path.name}: {err.strerror}; nothing was changed"
            ) from None
        return tmp

    def refile(self, names: list[str]) -> list[Path]:
        """Move case files that a git merge left in the wrong folder (open vs closed)."""
        moved = []
        for name in names:
            path = self.root / name
            if path.suffix != ".yaml" or not path.is_file():
                continue
            case = read_case(path)
            if self.path_for(case) != path:
                moved += self.save(case, path)
        return moved

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time in this repository; released by the kernel if we die."""
        self.state_dir.mkdir(exist_ok=True)
        with open(self.state_dir / "lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield


def dump_case(case: Case) -> bytes:
    return yamlio.dump(case.to_document())


def read_case(path: Path) -> Case:
    try:
        document = yamlio.load(path.read_bytes())
    except (OSError, ValueError) as err:
        raise BrokenCaseError(f"{path}: cannot read case: {err}") from None
    return case_from_document(document, str(path))


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
