"""`casectl check`: what is wrong in a case repository, one problem a line, with file and line.

It reads roster.yaml and severity.yaml (and the calendars' holiday data), every
file under `cases/` (the layout, symlinks, temporary files left by a killed
command, conflict markers, the schema, the service rules replayed against today's
roster), `.git` (locks left by a dead git), tracked paths no push may bring (links,
clone state), hand-edited openings, and the clone's own state folder and outbox.
Fast enough for a pre-commit hook:
each case file's findings are kept in the state folder's `check`, keyed by the file's
(inode, size, mtime) and the rules' files, so only changed files are read again;
every file is still stat-ed, so an edit made in place is never missed.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import stat
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from casectl import casefile, i18n, inquiries, model, state, yamlio
from casectl.config import Config
from casectl.errors import CasectlError, RefusedError
from casectl.i18n import _
from casectl.ids import CASE_ID
from casectl.model import Case
from casectl.store import names

FORMAT = ("casectl-check", 3, sys.version_info[:2])  # 3: steps judged where they were made
LOCK_AGE = 60.0  # seconds: no git command holds a lock this long
_DIGITS = (re.compile(r"\d{4}"), re.compile(r"\d{2}"), re.compile(r"\d{2}"))
_TEMP = re.compile(rf"\.({CASE_ID.pattern})\.yaml\.(\d+)\.tmp")
_SWEEP = casefile.SWEEP_TYPES  # every type the sweep records, notices included
Found = tuple[int | None, str]  # (line, problem) within one file


class Finding(NamedTuple):
    file: str  # relative to the repository
    line: int | None
    problem: str

    def text(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.problem}"
            if self.line
            else (f"{self.file}: {self.problem}")
        )

    def document(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "problem": self.problem}


class Report(NamedTuple):
    findings: list[Finding]
    case_files: int  # how many case files were checked
    warnings: list[Finding] = []  # told, but no problem yet: the exit status stays 0


def run(root: str, now: datetime, wall: float) -> Report:
    """Everything wrong in the repository at `root`; `now` is the run's time (holiday
    data), `wall` the file system's clock in epoch seconds (the age of files)."""
    cfg, findings = _config(root)
    warnings: list[Finding] = []
    if cfg is not None:
        findings += _holidays(root, cfg, now, this_year=True) + _idle_calendars(cfg, now)
        warnings = _holidays(root, cfg, now, this_year=False)
        from casectl.intake.rules import findings as intake_findings

        findings += [Finding(*f) for f in intake_findings(root, cfg)]
    findings += _git_locks(root, wall) + _merge_attribute(root) + _pushed_paths(root)
    findings += _state_files(root) + _hand_edited_openings(root) + _outbox(root)
    if cfg is not None:
        findings += _signatures(root, cfg)
    found, count = Cases(root, cfg, wall).check()
    return Report(sorted(findings + found, key=lambda f: (f.file, f.line or 0)), count, warnings)


def _signatures(root: str, cfg: Config) -> list[Finding]:
    """Steps `signed:` names without their taker's signature, and changes of the roster
    or the rules no trusted key signed (casectl.signing); nothing when neither is on."""
    from casectl import signing

    if cfg.signed is None and not signing.trusted(root):
        return []
    from casectl.store import Store

    return [Finding(file, None, problem) for file, problem in
            signing.findings(root, Store(root), cfg)]  # fmt: skip


# --- roster.yaml, severity.yaml and holiday data ---------------------------------------


def _config(root: str) -> tuple[Config | None, list[Finding]]:
    from casectl import config

    try:
        return config.load(root), []
    except CasectlError as err:
        name, _, rest = str(err).partition(": ")
        if not name.endswith((".yaml", ".yml")):
            return None, [Finding("severity.yaml", None, str(err))]
        return None, [Finding(name, _config_line(root, name, rest), rest)]


def _config_line(root: str, name: str, problem: str) -> int | None:
    """The line a config error is at: from the YAML error, else from its key path."""
    if problem.startswith(("not valid YAML", "cannot read")):
        said = re.search(r"\bline (\d+)", problem)
        return int(said.group(1)) if said else None
    where = problem.split(": ", 1)[0]
    if where == "top level":
        return 1
    path = re.sub(r" \([^)]*\)", "", where).replace("[", ".").replace("]", "")
    try:
        return casefile.node_line(yamlio.read(os.path.join(root, name)), path.split("."))
    except OSError:
        return None


def _holidays(root: str, cfg: Config, now: datetime, this_year: bool) -> list[Finding]:
    """Calendars whose holiday data runs out (their working time would silently count
    holidays as workdays): `this_year`, a problem, none for the current year; else, a
    warning from December 1, none for the next (the sweep tells the manager too)."""
    from casectl.holidays import _years, has_holiday_data, missing_year

    today = now.astimezone(cfg.zone).date()
    if not this_year and today.month != 12:
        return []
    year = today.year if this_year else today.year + 1
    data = yamlio.read(os.path.join(root, "severity.yaml"))
    return [
        Finding("severity.yaml", casefile.node_line(data, ["calendars", c.name]),
                missing_year(c, year))
        for c in cfg.calendars.values()
        if _years(c) and (this_year or today.year in _years(c)) and not has_holiday_data(c, year)
    ]  # fmt: skip


def _idle_calendars(cfg: Config, now: datetime) -> list[Finding]:
    """Levels whose calendar gives their callback no working time for years: every
    deadline on it would stop the sweep."""
    from casectl.errors import ConfigError

    found = []
    for level in cfg.levels.values():
        try:
            level.calendar.add(now, level.callback)
        except ConfigError as err:
            found.append(Finding("severity.yaml", None, f"level {level.number}: {err}"))
    return found


# --- git ---------------------------------------------------------------------------------


def _outbox(root: str) -> list[Finding]:
    """Files in this clone's outbox that delivery would quarantine (a FIFO, a link, an
    item off its schema or not composed here); only with a configured channel."""
    from casectl.notify import configured

    if not configured(root):
        return []
    from casectl.notify.outbox import Outbox
    from casectl.store import Store

    outbox = Outbox(Store(root).shared_state_dir)
    return [Finding(os.path.relpath(path, root), None, problem)
            for path, problem in outbox.findings()]  # fmt: skip


def _git_locks(root: str, wall: float) -> list[Finding]:
    """Lock files git left behind (a killed git): every later commit fails on them."""
    gitdir = os.path.join(root, ".git")
    if not os.path.isdir(gitdir):
        return []
    found = []
    candidates = [os.path.join(gitdir, n) for n in names(gitdir) if n.endswith(".lock")]
    for folder, _folders, files in os.walk(os.path.join(gitdir, "refs")):
        candidates += [os.path.join(folder, n) for n in files if n.endswith(".lock")]
    for path in candidates:
        try:
            age = wall - os.lstat(path).st_mtime
        except FileNotFoundError:
            continue
        if age >= LOCK_AGE:
            found.append(
                Finding(os.path.relpath(path, root), None,
                        _("a git lock left {minutes} minutes ago by a git that is no longer "
                          "running; remove it if no git command is running").format(
                            minutes=int(age // 60)))
            )  # fmt: skip
    return found


def _merge_attribute(root: str) -> list[Finding]:
    """Case files must merge through casectl's driver: a `.gitattributes` that drops it (or
    says `merge=union`) makes git merge them as text, and sync then refuses merges."""
    if not os.path.isdir(os.path.join(root, ".git")):
        return []
    from casectl import gitrepo

    probe = "cases/2026/01/01/260101-00000.yaml"
    said = gitrepo.git(root, "check-attr", "merge", "--", probe, check=False).strip()
    if said.endswith(": casectl"):
        return []
    return [
        Finding(".gitattributes", None,
                f"case files do not merge through casectl's driver (git: {said or 'no answer'}); "
                "the line `cases/**/*.yaml merge=casectl` is needed")
    ]  # fmt: skip


def _pushed_paths(root: str) -> list[Finding]:
    """Tracked paths casectl never takes from a push (symbolic links, clone state under
    `.casectl/`): in HEAD, with the commit that brought each (`sync` refuses them, but
    history may hold them from before), and staged for the commit being made. HEAD's
    are found once per tree and kept in the state folder."""
    if not os.path.lexists(os.path.join(root, ".git")):
        return []
    from casectl import gitrepo, remote

    tree = gitrepo.run(root, "rev-parse", "-q", "--verify", "HEAD^{tree}").stdout.strip()
    found = _tip_paths(root, tree) if tree else []
    staged = gitrepo.run(root, "diff", "--cached", "--raw", "--no-renames", "-z",
                         tree or remote.EMPTY_TREE).stdout  # fmt: skip
    found += [
        Finding(path, None, _("staged to be committed: {why}; unstage it with "
                              "git rm --cached").format(why=why))
        for path, why in remote.refused_paths(staged)
    ]  # fmt: skip
    return found


def _tip_paths(root: str, tree: str) -> list[Finding]:
    from casectl import gitrepo, remote

    cache = os.path.join(state.folders(root)[0], "check-tree")
    key = (tree, i18n.current())
    try:
        saved, found = marshal.loads(state.read(cache))
        if saved == key:
            return [Finding(*f) for f in found]
    except (OSError, EOFError, ValueError, TypeError):
        pass
    raw = gitrepo.git(root, "diff", "--raw", "--no-renames", "-z", remote.EMPTY_TREE, tree)
    said = _("{why}, committed in {commit}: remove it (git rm --cached) and commit")
    found = [
        Finding(path, None, said.format(why=why, commit=remote.brought_by(root, path, "HEAD")))
        for path, why in remote.refused_paths(raw)
    ]
    with contextlib.suppress(OSError, CasectlError):
        from casectl.store import Store

        Store(root).state_folder()
        tmp = f"{cache}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(marshal.dumps((key, [tuple(f) for f in found])))
        os.replace(tmp, cache)
    return found


def _state_files(root: str) -> list[Finding]:
    """What no casectl wrote in this clone's state folder: a link, a FIFO, a device (a
    reader that met one would follow it, hang, or read for ever; casectl refuses them)."""
    own, shared = state.folders(root)
    said = _("not a regular file or folder in this clone's state folder: remove it")
    found = []
    for top in dict.fromkeys((own, shared)):
        for folder, folders, files in os.walk(top):
            for name in folders + files:
                path = os.path.join(folder, name)
                mode = os.lstat(path).st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    found.append(Finding(path, None, said))
    return found


def _hand_edited_openings(root: str) -> list[Finding]:
    """Case files not pushed yet (changed since HEAD, or in commits no remote-tracking
    branch has) whose opening differs from the one in the commit that created the file:
    a hand edit, which every other clone's sync would refuse to merge. (With no remote
    at all, only what is not committed yet: the pre-commit hook's moment.)"""
    if not os.path.lexists(os.path.join(root, ".git")):
        return []
    from casectl import gitrepo
    from casectl.store import id_of, relative_path

    if not gitrepo.run(root, "rev-parse", "-q", "--verify", "HEAD").stdout.strip():
        return []
    # diff-index, not diff: it never writes the index (check changes nothing)
    changed = gitrepo.run(root, "diff-index", "--name-only", "--no-renames", "-z", "HEAD", "--",
                          "cases").stdout.split("\0")  # fmt: skip
    if gitrepo.run(root, "for-each-ref", "--count=1", "refs/remotes").stdout.strip():
        changed += gitrepo.run(
            root,
            "log",
            "--format=",
            "--name-only",
            "--no-renames",
            "-z",
            "HEAD",
            "--not",
            "--remotes",
            "--",
            "cases",
        ).stdout.split("\0")
    paths = []
    for path in dict.fromkeys(p.strip("\n") for p in changed):
        case_id = id_of(os.path.basename(path))
        if case_id and relative_path(case_id) == path and os.path.isfile(os.path.join(root, path)):
            paths.append(path)
    found = []
    for path, commit in _creations(root, paths).items():
        finding = _opening_edited(root, path, commit)
        if finding:
            found.append(finding)
    return found


def _creations(root: str, paths: list[str]) -> dict[str, str]:
    """The commit that created each of `paths` (the oldest that added it)."""
    from casectl import gitrepo

    created: dict[str, str] = {}
    for start in range(0, len(paths), 500):
        chunk = paths[start : start + 500]
        said = gitrepo.run(root, "log", "--diff-filter=A", "--no-renames", "--format=%x01%H",
                           "--name-only", "-z", "--", *chunk).stdout  # fmt: skip
        commit = ""
        for item in said.split("\0"):
            item = item.strip("\n")
            if item.startswith("\x01"):
                commit, _sep, item = item[1:].partition("\n")
            if item:
                created[item] = commit  # oldest last: it wins
    return created


def _opening_edited(root: str, path: str, commit: str) -> Finding | None:
    from casectl import gitrepo

    try:
        data = yamlio.read(os.path.join(root, path))
        document = yamlio.load(data)
        if casefile.problems(document, os.path.basename(path)[:-5], first=True):
            return None  # not a valid case: the file's own findings say what is wrong
        now = document["events"][0]
        then = yamlio.load(gitrepo._blob(root, f"{commit}:{path}"))["events"][0]
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        return None  # not readable as a case: the file's own findings say so
    if not isinstance(now, dict) or not isinstance(then, dict) or now == then:
        return None
    keys = [k for k in dict.fromkeys([*then, *now]) if then.get(k) != now.get(k)]
    case_id = os.path.basename(path)[:-5]
    line = casefile.line_of(data, casefile.Problem("", 0, keys[0] if keys[0] in now else None))
    return Finding(path, line, _(
        "the opening of case {case} was edited by hand ({keys} not as commit {commit} created "
        "it); other clones' sync refuses that: put the opening back as it was and correct it "
        "with casectl amend {case} --reason TEXT").format(
            case=case_id, keys=", ".join(keys), commit=commit[:12]))  # fmt: skip


# --- case files --------------------------------------------------------------------------


def config_stamp(root: str) -> list[Any]:
    """What case findings depend on besides the file: the roster and the severity levels."""
    stamp: list[Any] = []
    for name in ("roster.yaml", "severity.yaml"):
        try:
            st = os.stat(os.path.join(root, name))
            stamp.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            stamp.append(None)
    return stamp


class Cases:
    """Walks `cases/`, checking the files that changed since the last run."""

    def __init__(self, root: str, cfg: Config | None, wall: float) -> None:
        self.root, self.cfg, self.wall = root, cfg, wall
        self.cases = os.path.join(root, "cases")
        self.cache_path = os.path.join(state.folders(root)[0], "check")
        self.header = [FORMAT, i18n.current(), cfg is not None, *config_stamp(root)]
        self.saved: dict[str, Any] = self._load()
        self.kept: dict[str, Any] = {}
        self.findings: list[Finding] = []
        self.ids: dict[str, list[str]] = {}  # case id: the files named for it
        self.count = 0

    def check(self) -> tuple[list[Finding], int]:
        if os.path.lexists(self.cases):
            self._folder("cases", 0)
        for case_id, files in sorted(self.ids.items()):
            for file in files[1:]:
                self.findings.append(
                    Finding(
                        file,
                        None,
                        _("case {case} is also in {other}: one id, two files").format(
                            case=case_id, other=files[0]
                        ),
                    )  # fmt: skip
                )
        if self.kept != self.saved:
            self._save()
        return self.findings, self.count

    def _folder(self, rel: str, depth: int) -> None:
        """A folder of the layout: cases/, a year, a month (depth 0-2), or a day (3)."""
        for name in names(os.path.join(self.root, rel)):
            path = f"{rel}/{name}"
            try:
                st = os.lstat(os.path.join(self.root, path))
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode):
                self._add(
                    path,
                    None,
                    _(
                        "a symbolic link; casectl never follows links: "
                        "replace it with the folder or file itself"
                    ),
                )
            elif depth < 3 and stat.S_ISDIR(st.st_mode) and _DIGITS[depth].fullmatch(name):
                self._folder(path, depth + 1)
            elif depth == 3 and stat.S_ISREG(st.st_mode):
                self._day_file(rel, name, st)
            else:
                self._outside(path, depth, stat.S_ISDIR(st.st_mode))

    def _outside(self, path: str, depth: int, folder: bool) -> None:
        if depth == 0 and path in ("cases/open", "cases/closed"):
            self._add(path + "/", None, _("the layout before fixed paths: casectl migrate "
                      "(or casectl sync) moves its cases to cases/<yyyy>/<mm>/<dd>/"))  # fmt: skip
            return
        where = _("outside the layout: case files live at cases/<yyyy>/<mm>/<dd>/<id>.yaml")
        self._add(path + ("/" if folder else ""), None, where)

    def _day_file(self, day: str, name: str, st: os.stat_result) -> None:
        path = f"{day}/{name}"
        temporary = _TEMP.fullmatch(name)
        if temporary:
            if not _alive(int(temporary.group(2))) or self.wall - st.st_mtime >= LOCK_AGE:
                self._add(path, None, _("a temporary file left by casectl process {pid}, "
                          "which is gone: remove it").format(pid=temporary.group(2)))  # fmt: skip
            return
        from casectl.store import id_of, relative_path

        case_id = id_of(name)
        if case_id is None:
            self._outside(path, 3, False)
            return
        self.ids.setdefault(case_id, []).append(path)
        if relative_path(case_id) != path:
            self._add(path, None, _("case {case} belongs in {path}").format(
                case=case_id, path=relative_path(case_id)))  # fmt: skip
            return
        self.count += 1
        signature = (st.st_ino, st.st_size, st.st_mtime_ns)
        entry = self.saved.get(path)
        if entry is None or entry[0] != list(signature):
            entry = [list(signature), self._case_file(path, case_id)]
        if self.wall - st.st_mtime > 2:  # an mtime this fresh may hide a second change
            self.kept[path] = entry
        for line, problem in entry[1]:
            self._add(path, line, problem)

    def _case_file(self, path: str, case_id: str) -> list[Found]:
        try:
            fd = os.open(os.path.join(self.root, path), os.O_RDONLY | os.O_NOFOLLOW)
            with open(fd, "rb") as f:
                data = f.read(yamlio.MAX_BYTES + 1)
        except OSError as err:
            return [(None, _("cannot read: {reason}").format(reason=err.strerror))]
        line = casefile.conflict_line(data)
        if line:
            return [(line, _("conflict markers: resolve the merge (casectl sync sets up the "
                     "merge driver that avoids them)"))]  # fmt: skip
        try:
            document = yamlio.load(data)
        except ValueError as err:
            said = re.search(r"\bline (\d+)", str(err))
            return [(int(said.group(1)) if said else None,
                     _("not valid YAML: {error}").format(error=err))]  # fmt: skip
        found = casefile.problems(document, case_id)
        if found:
            return [(casefile.line_of(data, p), p.message) for p in found]
        if self.cfg is None:
            return []
        case = Case(case_id, document["events"])
        return [
            (casefile.line_of(data, casefile.Problem(text, i, key)), text)
            for i, key, text in rules(case, self.cfg, self._made_on(path, case_id))
        ]

    def _made_on(self, path: str, case_id: str) -> Callable[[str], list[dict[str, Any]] | None]:
        """The events of the case file `path` as the commit that recorded an event left it."""

        def events(event_id: str) -> list[dict[str, Any]] | None:
            from casectl import gitrepo

            data = gitrepo.as_committed(self.root, path, event_id)
            if data is None:
                return None
            try:
                document = yamlio.load(data)
            except ValueError:
                return None
            return None if casefile.problems(document, case_id) else document["events"]

        return events

    def _add(self, file: str, line: int | None, problem: str) -> None:
        self.findings.append(Finding(file, line, problem))

    def _load(self) -> dict[str, Any]:
        try:
            header, entries = marshal.loads(state.read(self.cache_path))
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return entries if header == self.header else {}  # type: ignore[no-any-return]

    def _save(self) -> None:
        from casectl.store import Store

        try:
            Store(self.root).state_folder()
            tmp = f"{self.cache_path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(marshal.dumps((self.header, self.kept)))
            os.replace(tmp, self.cache_path)
        except (OSError, CasectlError):
            pass  # a read-only checkout: check everything each time


# --- the service rules, replayed -----------------------------------------------------------

Rule = tuple[int, str | None, str]  # (event index, key, problem)


def rules(
    case: Case, cfg: Config, made_on: Callable[[str], list[dict[str, Any]] | None] | None = None
) -> list[Rule]:
    """Each event's step taken again on the case as it stood before it: what the rules
    (with today's roster) refuse. In a closed case, people no longer in the roster and
    severities no longer configured are history, not problems. A step refused here may
    have been made in another clone before this one's steps reached it (a note logged
    while someone else closed the case): `made_on(event id)` gives the events as its
    author's clone had them, and the step is judged on those."""
    closed = case.state.status == "closed"
    found: list[Rule] = []
    for i, event in enumerate(case.events):
        where = _("event {number} ({type})").format(number=i + 1, type=event["type"])
        if event["by"] == "sweep" or event["type"] in _SWEEP:
            if (event["by"] == "sweep") != (event["type"] in _SWEEP):
                found.append((i, "by", _("{where}: only the sweep records {kinds}, and it "
                              "records nothing else").format(where=where,
                                                             kinds=", ".join(_SWEEP))))  # fmt: skip
            continue
        if event["by"] == "intake" and event["type"] in ("open", "assign", "alert",
                                                          "alarm-cleared"):  # fmt: skip
            continue  # the alarm intake's, checked as it took them
        before = Case(case.id, case.events[:i])
        try:
            person = model.actor(cfg, event["by"])
            _step(before, cfg, person, event)
        except RefusedError as err:
            if closed and _history(before, cfg, event):
                continue
            if made_on and _allowed_where_made(case.id, cfg, event, made_on(event["id"])):
                continue
            found.append((i, None, f"{where}: {err}"))
    if not closed:
        found += _open_case(case, cfg)
    return found


def _history(case: Case, cfg: Config, event: dict[str, Any]) -> bool:
    """Whether the step is refused only for a person or severity no longer configured, or
    is a close made while an on-site visit was under way, which casectl allowed before
    issue 20.7 (judged on the English reason, whatever the language)."""
    with i18n.english():
        try:
            _step(case, cfg, model.actor(cfg, event["by"]), event)
        except RefusedError as err:
            message = str(err)
            return (" is not in roster.yaml" in message or "is not configured" in message
                    or message.endswith(", then close"))  # fmt: skip
    return False


def _allowed_where_made(
    case_id: str, cfg: Config, event: dict[str, Any], events: list[dict[str, Any]] | None
) -> bool:
    """Whether `event` was allowed on the case as `events` (its author's version) had it."""
    if events is None:
        return False
    index = next((i for i, e in enumerate(events) if e.get("id") == event["id"]), None)
    if index is None or events[index] != event:
        return False
    try:
        _step(Case(case_id, events[:index]), cfg, model.actor(cfg, event["by"]), event)
    except RefusedError:
        return False
    return True


def _open_case(case: Case, cfg: Config) -> list[Rule]:
    s, found = case.state, list[Rule]()
    if s.severity not in cfg.levels and s.inquiry != "price":
        found.append((0, "severity", _("severity {severity} is not configured in "
                      "severity.yaml: the case's deadlines are not checked").format(
                          severity=s.severity)))  # fmt: skip
    for warning in model.orphan_warnings(case, cfg):
        found.append((len(case.events) - 1, None, warning.removeprefix("warning: ")))
    return found


def _step(case: Case, cfg: Config, by: model.Person, e: dict[str, Any]) -> None:
    """The step that would have recorded `e`; raises what the rules refuse."""
    kind, at, text = e["type"], e["at"], e.get("text", "")
    if kind == "open":
        _opening(case, cfg, by, e)
    elif kind == "assign" and case.state.inquiry == "price":
        inquiries.route_price_inquiry(case, by, at, model.actor(cfg, e["to"]))
    elif kind == "assign":
        model.assign(case, cfg, by, at, e["to"])
    elif kind in model.LOG_TYPES or kind == "open-contact":
        _logged(case, by, e)
    elif kind == "severity":
        model.change_severity(case, cfg, by, at, e["severity"], text)
    elif kind == "escalate":
        model.escalate(case, cfg, by, at, e["to"], e.get("text"))
    elif kind == "rma":
        model.rma_request(
            case,
            cfg,
            by,
            at,
            part=e["part"],
            qty=e.get("qty", 1),
            serial=e.get("serial"),
            owner=e.get("owner"),
        )
    elif kind == "rma-status":
        model.rma_progress(case, by, at, e["rma"], e["status"], e.get("new_serial"))
    elif kind == "close":
        model.close(case, by, at, text, e.get("reason"))
    elif kind == "reopen":
        model.reopen(case, by, at, text)  # fmt: skip
    elif kind == "approve":
        from casectl.approval import approve

        approve(case, by, at, text)
    elif kind == "amend":
        model.amend(case, by, at, {k: e.get(k) for k in model.AMENDABLE}, text)


def _opening(case: Case, cfg: Config, by: model.Person, e: dict[str, Any]) -> None:
    """The opening `e` records, a price inquiry's or a case's."""
    if e.get("inquiry") == "price":
        inquiries.open_price_inquiry(
            cfg, case.id, by, e["at"], customer=e["customer"], contact=e["contact"],
            description=e.get("text"), to=None,
        )  # fmt: skip
    else:
        model.open_case(
            cfg,
            case.id,
            by,
            e["at"],
            customer=e["customer"],
            contact=e["contact"],
            contract=e.get("contract"),
            approved_by=e.get("approved_by"),
            severity=e["severity"],
            description=e.get("text", ""),
            source=e.get("source", "phone"),
            inquiry=e.get("inquiry"),
        )


def _logged(case: Case, by: model.Person, e: dict[str, Any]) -> None:
    """The `log` step `e` records (an `open-contact`: a contact made as the case opened)."""
    kind = e["type"]
    if kind == "callback" and by.id not in case.state.engineers:
        raise RefusedError(
            _(
                "a callback by {person}, who is not the case's engineer: casectl records that "
                "as a contact"
            ).format(person=by.id)
        )
    text = e.get("text", "")
    model.log(case, by, e["at"], text, "contact" if kind == "open-contact" else kind)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
