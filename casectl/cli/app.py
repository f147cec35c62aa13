"""What every command shares: the run's repository, config and clock, and recording a step.

A step is written and committed as one unit: a commit that fails rolls the case
file back (exit 1, nothing written); what a killed step left, and a step typed
again, are casectl.cli.recovery's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any

import click

from casectl import clock, i18n, model, yamlio
from casectl.config import Config, Person
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.model import Case
from casectl.records import Record
from casectl.store import Store, find_root, read_case

if TYPE_CHECKING:
    from casectl.index import Index

Step = Callable[[Case, Person, datetime], dict[str, Any]]
BOT = "sweep"  # the `by` of the sweep's events (casectl.sweep.BOT), committed as the bot


class App:
    """What one run works on: found and read lazily, once."""

    def __init__(self, repo: str | None) -> None:
        self.repo = repo
        self._index: Index | None = None
        self.entered_by: str | None = None  # who typed the step, when not who acted

    @cached_property
    def root(self) -> str:
        root = find_root(self.repo)
        i18n.use_repository(root)  # its `language:` wins over the environment's
        return root

    @cached_property
    def cfg(self) -> Config:
        from casectl import config, gitrepo

        cfg = config.load(self.root)
        gitrepo.warn_if_no_driver(self.root, click.echo)
        return cfg

    @cached_property
    def store(self) -> Store:
        store = Store(self.root)
        store.on_lock = self.settle
        return store

    @cached_property
    def now(self) -> datetime:
        return clock.now(self.cfg.zone)

    def at(self, text: str | None) -> datetime:
        return clock.step_time(text, self.cfg.zone, self.now) if text else self.now

    def index(self) -> Index:
        """The case index, refreshed once per run."""
        if self._index is None:
            import sys

            from casectl.index import Index

            progress = show_progress if sys.stderr.isatty() else None
            self._index = Index(self.store, self.cfg, progress)
        return self._index

    def warn_orphans(self) -> None:
        """Name open cases left with engineers no longer in the roster (from the index)."""
        if not self.index().orphans:
            return  # the usual case: listing (and json) stay unimported
        from casectl import listing

        warning = listing.orphans(self.index())
        if warning:
            click.echo(warning, err=True)

    def committing(self) -> bool:
        """Whether this run's writes are to be committed (no --no-commit, a git repository,
        commits not switched off in severity.yaml)."""
        from casectl import gitrepo

        ctx = click.get_current_context(silent=True)
        no_commit = bool(ctx and ctx.params.get("no_commit"))
        return not no_commit and self.cfg.commit and gitrepo.is_repo(self.root)

    def settle(self) -> None:
        """As a writer takes the lock: repair what a killed step or git left (recovery)."""
        from casectl.cli import recovery

        recovery.settle(self)

    def actor(self, act: Acting) -> Person:
        """The person a step is recorded as (its `by`): in a clone bound to someone
        (`whoami`) the bound person, or with `--for ID` the person they record it for;
        the person typing is then kept for `mark` (casectl.identity.acting)."""
        from casectl import identity

        person, self.entered_by = identity.acting(self.cfg, self.root, act.by, act.for_)
        return person

    def mark(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event with who typed it, where that is not the person acting (`--for`)."""
        if self.entered_by:
            event["entered_by"] = self.entered_by
        return event

    def author(self, by: str) -> tuple[str, str]:
        """Name and e-mail of a commit by `by`: a roster id, or the sweep's bot."""
        person = self.cfg.person(by)
        if person:
            return person.name, person.email or f"{person.id}@casectl"
        return (self.cfg.bot_name, self.cfg.bot_email) if by == BOT else (by, f"{by}@casectl")

    def commit(
        self,
        paths: list[str],
        person: Person | None,
        cases: list[str],
        what: str,
        body: str | Callable[[], str],
        no_commit: bool,
        new: bool = False,
        label: str | None = None,
        by: str = BOT,
    ) -> None:
        """Commit the step's files as the person who acted (when None: `by`, the sweep or intake).

        The subject is `<case>: <what> (<who>)`, or `<label>: ...` for several cases,
        with a `Case:` trailer for each case; `new`: some files git does not know yet;
        `body` may be a function, called only when there is a commit to make.
        A commit that fails rolls the files back: exit 1 means nothing was written.
        """
        from casectl import gitrepo

        if no_commit or not self.cfg.commit or not gitrepo.is_repo(self.root):
            self.store.finish()
            return
        who = person.id if person else by
        label = cases[0] if len(cases) == 1 else (label or f"{len(cases)} cases")
        text = body if isinstance(body, str) else body()
        message = gitrepo.message(f"{label}: {what} ({who})", text, cases)
        try:
            gitrepo.commit(self.root, paths, self.author(who), message, say, new)
        except CasectlError as err:
            self.store.roll_back()
            names = [self.store.relative(p) for p in paths]
            gitrepo.git(self.root, "reset", "-q", "--", *names, check=False)  # unstage
            raise CasectlError(
                _("{label}: not recorded, {reason}; nothing was written").format(
                    label=label, reason=err)
            ) from None  # fmt: skip
        self.store.finish()
        if who != BOT:  # a person's step, or intake's; the sweep shares with `sweep --sync`
            from casectl import share

            share.after_step(self.root, self.store, say)


def say(text: str) -> None:
    """A notice on stderr (a lock file removed, a step found already recorded)."""
    click.echo(text, err=True)


def event_ids(data: bytes) -> set[str]:
    """The ids of the events in a version of a case file (none when it is not one)."""
    try:
        document = yamlio.load(data) if data else None
    except ValueError:
        return set()
    events = document.get("events") if isinstance(document, dict) else None
    return {str(e.get("id")) for e in events or [] if isinstance(e, dict)}


pass_app = click.make_pass_decorator(App)


class Acting(Record):
    """Who records a step, when it happened, whether to commit it, and for whom (`--for`:
    the person who did what is recorded, when someone else types it)."""

    by: str | None
    at: str | None
    no_commit: bool
    for_: str | None = None


def acting(f: Callable[..., Any]) -> Callable[..., Any]:
    """--by, --for, --at and --no-commit, handed to the command as one `act: Acting`."""

    @wraps(f)
    def command(
        *args: Any, by: str | None, for_: str | None, at: str | None, no_commit: bool, **kw: Any
    ) -> Any:
        return f(*args, act=Acting(by, at, no_commit, for_), **kw)

    options = [
        click.option("--by", envvar="CASECTL_USER", metavar="ID",
                     help="Who acts: a roster id (default: $CASECTL_USER, else the person "
                          "this clone is bound to)."),
        click.option("--for", "for_", metavar="ID",
                     help="Record what this person did (reported by phone): the step is "
                          "theirs, entered by you."),
        click.option("--at", metavar="TIME", help="When the step happened (default: now)."),
        click.option("--no-commit", is_flag=True, help="Write the case file but do not commit."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def as_json(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "json_out", is_flag=True, help="Print one JSON document.")(f)


def record(
    app: App, case_id: str, act: Acting, step: Step, what: Callable[[dict[str, Any]], str]
) -> Case:
    """Load the case under the lock, take the step, write it, commit it."""
    return record_step(app, case_id, act, step, what)[0]


def record_step(
    app: App, case_id: str, act: Acting, step: Step, what: Callable[[dict[str, Any]], str]
) -> tuple[Case, dict[str, Any]]:
    """`record`: the case after the step, and the step's event; a retry of a step
    already recorded (same key, within the window) gives that event, adding nothing."""
    from casectl.cli.recovery import already, retried, step_key

    person = app.actor(act)
    at = app.at(act.at)
    with app.store.lock():
        case = read_case(app.store.locate(case_id))
        key = step_key(person, at if act.at else None, {"case_id": case.id})
        done = retried(case.events, key, person.id, None if act.at else app.now)
        if done:
            say(already(case.id, done))
            return case, done
        event = step(case, person, at)
        event["key"] = key
        app.mark(event)
        signed(app, case.id, [event], None)
        path = app.store.save(case)
        body = lambda: event_yaml(event)  # noqa: E731 - not dumped under --no-commit
        app.commit([path], person, [case.id], what(event), body, act.no_commit)
        signed(app, case.id, [event], act.no_commit)
    return case, event


def signed(app: App, case_id: str, events: list[dict[str, Any]], no_commit: bool | None) -> None:
    """Before the write (`no_commit` None): refuse a step severity.yaml's `signed:` names
    that this clone would not sign; after the commit: remember it as verified."""
    if app.cfg.signed is None:
        return
    from casectl import gitrepo, signing

    if no_commit is None:
        signing.require(app.root, app.cfg, events)
    elif not no_commit and app.cfg.commit and gitrepo.is_repo(app.root):
        signing.committed(app.store, app.cfg, case_id, events)


def show_progress(done: int, total: int) -> None:
    """The first index build after a clone reads every case file: say how far it is."""
    width = 30
    filled = width * done // total
    end = "\n" if done == total else ""
    bar = "#" * filled + " " * (width - filled)
    click.echo(f"\rindexing case files [{bar}] {done}/{total}{end}", nl=False, err=True)


def event_yaml(event: dict[str, Any]) -> str:
    return yamlio.dump([model.ordered(event)]).decode()


# --- commands --------------------------------------------------------------------------


def show_json(app: App, case: Case) -> str:
    from casectl import deadlines, render

    return render.to_json(
        render.case_document(case, deadlines.shown(case, app.cfg), app.cfg, app.now)
    )


def normalize(case_id: str) -> str:
    from casectl.ids import normalize_case_id

    return normalize_case_id(case_id)


def count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 60 else line[:57] + "..."
