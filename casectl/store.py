"""The case repository on disk: where it is, case paths, atomic writes, the lock.

Every case lives at one path for its whole life, derived from its id alone:
`cases/<yyyy>/<mm>/<dd>/<id>.yaml`, the day the case was opened. Open or closed
is replayed from its events like every other state, so no step ever moves a
file and git's rename detection never meets a case. Paths come from ids (checked
for their shape), never from a file's content, and no write follows a symlink:
the repository's files are other people's input. Files are written whole to a
temporary name, fsynced and renamed into place, under an `fcntl` lock that the
kernel releases when the process dies.

Before a step writes a file it notes the file in `.casectl/pending`; the note goes
once the step is committed or rolled back. A note found when taking the lock is
what a killed step left: the lock's owner (`on_lock`) commits those files and
removes their temporary files before anything else is written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from os.path import isfile, join
from typing import Any
from weakref import WeakKeyDictionary

from casectl import casefile, state, yamlio
from casectl.errors import BrokenCaseError, CasectlError, NotFoundError, RefusedError
from casectl.i18n import _
from casectl.ids import CASE_ID, new_case_id, normalize_case_id
from casectl.model import Case, ordered

# Paths are plain strings: pathlib costs 4 ms of start-up, a twentieth of a command.

PENDING = "pending"  # in the state folder: the files a step wrote and has not committed yet
CHANGES = "index-changes"  # in the state folder: what steps wrote, for the index to read
CHANGES_CAP = 1 << 20  # a clone where no index runs: started again past this
WRITERS = 16  # threads writing a batch: concurrent fsyncs share the journal's commits
_READ: WeakKeyDictionary[Case, tuple[bytes, tuple[dict[str, Any], ...]]] = WeakKeyDictionary()


def find_root(given: str | None, cwd: str | None = None) -> str:
    """--repo, else CASECTL_REPO, else the nearest folder at or above cwd with severity.yaml."""
    if given:
        if not isfile(join(given, "severity.yaml")):
            raise CasectlError(
                _("{folder} is not a case repository: it has no severity.yaml").format(folder=given)
            )
        return os.path.realpath(given)
    here = folder = os.path.realpath(cwd or os.getcwd())
    while True:
        if isfile(join(folder, "severity.yaml")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            raise CasectlError(
                _(
                    "no case repository at or above {folder}: no severity.yaml found; use --repo "
                    "DIR, set CASECTL_REPO, or create one with casectl init"
                ).format(folder=here)
            )
        folder = parent


def relative_path(case_id: str) -> str:
    """Where a case lives, relative to the repository: `cases/2026/11/27/261127-9MM76.yaml`."""
    return f"cases/20{case_id[:2]}/{case_id[2:4]}/{case_id[4:6]}/{case_id}.yaml"


def id_of(name: str) -> str | None:
    """The case id a file name stands for, or None when it is not a case file's name."""
    stem = name[:-5] if name.endswith(".yaml") else ""
    return stem if CASE_ID.fullmatch(stem) else None


class Store:
    def __init__(self, root: str) -> None:
        self.root = root
        self.cases = join(root, "cases")
        self.state_dir, self.shared_state_dir = state.folders(root)  # in the git folder
        self.on_lock: Callable[[], None] | None = None  # run as the lock is taken
        self.on_save: Callable[[Case], None] | None = None  # run before a case is saved
        self.commit_writes = True  # the pending note says whether to commit a write
        self._before: dict[str, bytes | None] = {}  # path: its bytes before this run wrote
        self._batch: dict[str, bytes] | None = None  # inside `batch`: what to write, by path

    def path(self, case_id: str) -> str:
        return join(self.root, relative_path(case_id))

    def relative(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def locate(self, case_id: str) -> str:
        case_id = normalize_case_id(case_id)
        path = self.path(case_id)
        self.refuse_links(path)
        if not isfile(path):
            close = self._suggest(case_id)
            raise NotFoundError(
                _("no case {case}; did you mean {cases}?").format(case=case_id, cases=close)
                if close
                else _("no case {case}").format(case=case_id)
            )
        return path

    def refuse_links(self, path: str) -> None:
        """Refuse a path under the repository any part of which is a symlink: a pushed
        link (`cases/2026/12 -> /elsewhere`) must never lead a write outside."""
        part = path
        while len(part) > len(self.root):
            try:
                mode = os.lstat(part).st_mode
            except (FileNotFoundError, NotADirectoryError):
                mode = stat.S_IFDIR  # missing: made when written; a file above: named there
            if stat.S_ISLNK(mode):
                raise CasectlError(
                    _(
                        "{path} is a symbolic link; casectl never follows links inside the "
                        "repository: replace it with a folder or file"
                    ).format(path=self.relative(part))
                )
            if part != path and not stat.S_ISDIR(mode):  # a pushed file where a folder goes
                raise CasectlError(
                    _("{path} is not a folder: move it away").format(path=self.relative(part))
                )
            part = os.path.dirname(part)

    def _suggest(self, case_id: str) -> str:
        import difflib

        stems = [n[:-5] for n in names(os.path.dirname(self.path(case_id))) if id_of(n)]
        close = difflib.get_close_matches(case_id, stems, n=3, cutoff=0.6)
        return ", ".join(close)

    def load(self, case_id: str) -> Case:
        return read_case(self.locate(case_id))

    def unused_id(self, opened: datetime) -> str:
        """A new case id no file here has (`create` still refuses a race)."""
        while True:
            case_id = new_case_id(opened)
            if not os.path.lexists(self.path(case_id)):
                return case_id

    def create(self, case: Case) -> str:
        """Write a new case; refuses if its id exists (`link` fails on an existing name)."""
        path = self.path(case.id)
        self._note(path, None)
        stamp = _stamp(os.path.dirname(path))
        tmp = self._write_temp(path, dump_case(case))
        try:
            os.link(tmp, path)
        except FileExistsError:
            del self._before[path]  # not ours: a roll-back must leave it
            raise RefusedError(_("case {case} exists").format(case=case.id)) from None
        finally:
            os.unlink(tmp)
        self._changed(path, stamp)
        return path

    def save(self, case: Case) -> str:
        """Replace the case file at its one path; returns that path. Inside `batch`, the
        file is written when the batch ends."""
        if self.on_save:
            self.on_save(case)
        path = self.path(case.id)
        before = _read_bytes(path)
        self._note(path, before)
        if self._batch is not None:
            self._batch[path] = _appended(case, before) or dump_case(case)
            return path
        stamp = _stamp(os.path.dirname(path))
        os.replace(self._write_temp(path, dump_case(case)), path)
        self._changed(path, stamp)
        return path

    def _changed(self, path: str, before: tuple[int, int] | None) -> None:
        """Tell the index which file a step wrote, with its folder's stamp before and after
        (one line appended to `index-changes`): the next run reads that file, not every file
        of the day (casectl/index/changes.py). Best effort: a line missing costs a rescan."""
        after = _stamp(os.path.dirname(path))
        if before is None or after is None:
            return
        folder, name = os.path.split(self.relative(path))
        line = f"{folder} {before[0]} {before[1]} {after[0]} {after[1]} {name}\n"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
        with suppress(OSError):
            fd = os.open(join(self.state_dir, CHANGES), flags, 0o644)
            try:
                if os.fstat(fd).st_size > CHANGES_CAP:
                    os.ftruncate(fd, 0)
                os.write(fd, line.encode())
            finally:
                os.close(fd)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Saves inside only add events (the sweep's): a file read by `read_case` is
        written as its bytes plus the new events, and every file is written when the
        batch ends, together: their fsyncs run at once, which the file system commits
        as one, then each is renamed into place. 2,500 cases: 0.3 s, not 6."""
        self._batch = {}
        try:
            yield
            self._write_all(self._batch)
        finally:
            self._batch = None

    def _write_all(self, queued: dict[str, bytes]) -> None:
        if not queued:
            return  # a quiet sweep: no threads, nor their 6 ms of imports
        from concurrent.futures import ThreadPoolExecutor

        def write(item: tuple[str, bytes]) -> str | CasectlError:
            try:
                return self._write_temp(*item)
            except CasectlError as err:
                return err

        with ThreadPoolExecutor(WRITERS) as pool:
            written = list(pool.map(write, queued.items()))
        failed = [w for w in written if isinstance(w, CasectlError)]
        if failed:
            for tmp in written:
                if isinstance(tmp, str):
                    os.unlink(tmp)
            raise failed[0]
        for path, tmp in zip(queued, written, strict=True):
            os.replace(tmp, path)  # type: ignore[arg-type]

    def _note(self, path: str, before: bytes | None) -> None:
        """Before writing `path`: keep its bytes for a roll-back, and note it in the
        pending file so that the next command commits it if this one is killed."""
        self._before.setdefault(path, before)
        line = f"{'commit' if self.commit_writes else 'keep'} {self.relative(path)}\n"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
        fd = os.open(join(self.state_dir, PENDING), flags, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def finish(self) -> None:
        """The run's writes are committed (or are not to be): forget them and the note."""
        self._before.clear()
        with suppress(FileNotFoundError):
            os.unlink(join(self.state_dir, PENDING))

    def roll_back(self) -> None:
        """Give every file this run wrote its bytes back (a created one goes), atomically
        file by file; a kill meanwhile leaves the note, and the next command commits."""
        for path, before in reversed(self._before.items()):
            if before is None:
                with suppress(FileNotFoundError, NotADirectoryError):
                    os.unlink(path)
            else:
                os.replace(self._write_temp(path, before), path)
        self.finish()

    def pending(self) -> list[tuple[bool, str]]:
        """What a killed step left noted: (to commit?, path relative to the repository)."""
        try:
            data = state.read(join(self.state_dir, PENDING), 1 << 20)
        except FileNotFoundError:
            return []
        except OSError as err:  # not a regular file, or huge: no step of ours wrote that
            raise CasectlError(
                _("{path}: {reason}: move it away").format(path=err.filename, reason=err.strerror)
            ) from None
        lines = data.decode("utf-8", "replace").splitlines()
        found: dict[str, bool] = {}
        for line in lines:
            how, _sep, name = line.partition(" ")
            case_id = id_of(os.path.basename(name))
            if how in ("commit", "keep") and case_id and relative_path(case_id) == name:
                found[name] = found.get(name, False) or how == "commit"
        return [(commit, name) for name, commit in found.items()]

    def remove_temporary(self, files: list[str]) -> None:
        """Remove the temporary files (`.ID.yaml.PID.tmp`) a killed write of these left."""
        for name in files:
            folder, base = os.path.split(join(self.root, name))
            for leftover in names(folder):
                if leftover.startswith(f".{base}.") and leftover.endswith(".tmp"):
                    with suppress(FileNotFoundError):
                        os.unlink(join(folder, leftover))

    def _write_temp(self, path: str, data: bytes) -> str:
        self.refuse_links(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with open(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            name = os.path.basename(path)
            raise CasectlError(
                f"cannot write {name}: {err.strerror}; nothing was changed"
            ) from None
        return tmp

    def remove_dead_temporary(self) -> None:
        """Remove the temporary files in the state folder (the index's, the config cache's)
        whose writer, the pid in their name, is dead: killed while writing them."""
        for folder, _dirs, files in os.walk(self.state_dir):
            for name in files:
                pid = _writer(name)
                if pid and not _alive(pid):
                    with suppress(FileNotFoundError):
                        os.unlink(join(folder, name))

    def state_folder(self) -> str:
        """This clone's state folder (casectl.state), made if missing."""
        return state.make(self.root, self.state_dir, self.shared_state_dir)

    def shared_folder(self) -> str:
        """The clone's state shared by its linked worktrees (the outbox), made if missing."""
        self.state_folder()
        return self.shared_state_dir

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time in this repository; released by the kernel if we die.

        Taking it first settles what a killed writer left (`on_lock`). A failure inside
        rolls back every file written under it, so a refused step leaves no byte changed.
        """
        name = join(self.state_folder(), "lock")
        try:  # never through a link: a pushed `.casectl/lock` would create a file elsewhere
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        except OSError as err:
            why = "a symbolic link: remove it" if err.errno == errno.ELOOP else err.strerror
            raise CasectlError(
                _("{name} cannot be locked: {why}").format(name=name, why=why)
            ) from None
        with open(fd, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            if self.on_lock:
                self.on_lock()
            try:
                yield
            except BaseException:
                self.roll_back()
                raise

    def migrate(self) -> list[str]:
        """Move the case files of the layout before fixed paths (`cases/open/`,
        `cases/closed/<yyyy>/<mm>/`) to their one path; the paths changed.

        A case found in both layouts (a clone that had not converted yet logged a step
        to the old path) becomes the union of both versions' events.
        """
        from casectl.merge import merge

        changed = []
        for top in ("open", "closed"):
            self.refuse_links(join(self.cases, top))  # os.walk follows a link at its top
            for folder, _dirs, files in os.walk(join(self.cases, top), topdown=False):
                for name in sorted(n for n in files if id_of(n)):
                    old = join(folder, name)
                    case = read_case(old)
                    if os.path.lexists(self.path(case.id)):
                        both = merge(None, self.load(case.id).to_document(), case.to_document())
                        case = case_from_document(both, old, case.id)
                    changed += [old, self.save(case)]
                    os.unlink(old)
                if not os.listdir(folder):
                    os.rmdir(folder)
        return changed


def _stamp(folder: str) -> tuple[int, int] | None:
    """A folder's (inode, mtime), as the index stamps it."""
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def names(folder: str) -> list[str]:
    """A folder's entries in order; none when it is missing or not a folder."""
    try:
        return sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _writer(name: str) -> int | None:
    """The pid in a temporary file's name (`index.4242.tmp`, `config-cache.4242`)."""
    parts = name.removesuffix(".tmp").split(".")
    if (
        len(parts) > 1
        and parts[-1].isdigit()
        and (name.endswith(".tmp") or parts[0] == "config-cache")
    ):
        return int(parts[-1])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _read_bytes(path: str) -> bytes | None:
    """The file's bytes, or None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with open(fd, "rb") as f:
        return f.read()


def dump_case(case: Case) -> bytes:
    return yamlio.dump(case.to_document())


def _appended(case: Case, before: bytes | None) -> bytes | None:
    """`before` plus the case's new events, when that is what the file is to hold: the
    case was read from these very bytes, its events since are those read plus new ones
    at the end, it has no other top-level key, and `events:` is the file's last key,
    a block list at the left margin (as casectl writes it). Else None: dump it whole."""
    read = _READ.get(case)
    if read is None or before is None or read[0] != before or case.extra:
        return None
    old = read[1]
    new = case.events[len(old) :]
    if not new or any(a is not b for a, b in zip(old, case.events[: len(old)], strict=True)):
        return None
    start = before.rfind(b"\nevents:\n") + 9
    tail = before[start:]
    if start < 9 or not tail.startswith(b"- ") or not tail.endswith(b"\n"):
        return None
    if any(line and not line.startswith((b" ", b"- ")) for line in tail.split(b"\n")):
        return None
    return before + yamlio.dump([ordered(e) for e in new])


def read_case(path: str) -> Case:
    """The case in the file at `path`; its id is the file's name, which the content must match.

    A file that breaks the schema is named with the line of what is wrong.
    """
    data = b""
    try:
        data = yamlio.read(path)
        document = yamlio.load(data)
    except (OSError, ValueError) as err:
        reason = _("a symbolic link") if getattr(err, "errno", None) == errno.ELOOP else err
        marker = casefile.conflict_line(data) if isinstance(err, ValueError) else None
        if marker:  # git's markers make the YAML invalid: say what really happened
            reason = _("conflict markers at line {line}: resolve the merge").format(line=marker)
        raise BrokenCaseError(
            _("{path}: cannot read case: {reason}").format(path=path, reason=reason)
        ) from None
    try:
        case = case_from_document(document, path, os.path.basename(path)[:-5])
    except casefile.InvalidCaseFile as err:
        raise BrokenCaseError(casefile.located(path, data, err.problem)) from None
    _READ[case] = (data, tuple(case.events))  # a batch appends to these bytes
    return case


def case_from_document(document: Any, where: str, case_id: str) -> Case:
    """The case a parsed file holds; `case_id` is what its path says it must be.

    Refuses (InvalidCaseFile, a BrokenCaseError) the first problem casefile finds.
    """
    found = casefile.problems(document, case_id, first=True)
    if found:
        raise casefile.InvalidCaseFile(where, found[0])
    extra = {k: v for k, v in document.items() if k != "id" and k != "events"}
    return Case(case_id, document["events"], extra)
