"""What every command shares: the run's repository, config and clock, and recording a step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from casectl import clock, model, yamlio
from casectl.config import Config, Person
from casectl.errors import CasectlError
from casectl.model import Case
from casectl.store import Store, find_root, read_case

if TYPE_CHECKING:
    from casectl.index import Index

Step = Callable[[Case, Person, datetime], dict[str, Any]]


class App:
    """What one run works on: found and read lazily, once."""

    def __init__(self, repo: str | None) -> None:
        self.repo = repo
        self._index: Index | None = None

    @cached_property
    def root(self) -> str:
        return find_root(self.repo)

    @cached_property
    def cfg(self) -> Config:
        from casectl import config, gitrepo

        cfg = config.load(self.root)
        gitrepo.warn_if_no_driver(self.root, click.echo)
        return cfg

    @cached_property
    def store(self) -> Store:
        return Store(self.root)

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
        from casectl import listing

        warning = listing.orphans(self.index())
        if warning:
            click.echo(warning, err=True)

    def commit(
        self,
        paths: list[str],
        person: Person | None,
        cases: list[str],
        what: str,
        body: str,
        no_commit: bool,
        new: bool = False,
        label: str | None = None,
    ) -> None:
        """Commit the step's files as the person who acted (the bot when None).

        The subject is `<case>: <what> (<who>)`, or `<label>: ...` for several cases,
        with a `Case:` trailer for each case; `new`: some files git does not know yet.
        """
        from casectl import gitrepo

        if no_commit or not self.cfg.commit or not gitrepo.is_repo(self.root):
            return
        who = person.id if person else "sweep"
        author = (
            (person.name, person.email or f"{person.id}@casectl")
            if person
            else (self.cfg.bot_name, self.cfg.bot_email)
        )
        label = cases[0] if len(cases) == 1 else (label or f"{len(cases)} cases")
        message = gitrepo.message(f"{label}: {what} ({who})", body, cases)
        try:
            gitrepo.commit(self.root, paths, author, message, new)
        except CasectlError as err:
            raise CasectlError(f"recorded in the case file, but not committed: {err}") from None


pass_app = click.make_pass_decorator(App)


class Acting(NamedTuple):
    """Who records a step, when it happened, and whether to commit it."""

    by: str | None
    at: str | None
    no_commit: bool


def acting(f: Callable[..., Any]) -> Callable[..., Any]:
    """--by, --at and --no-commit, handed to the command as one `act: Acting`."""

    @wraps(f)
    def command(*args: Any, by: str | None, at: str | None, no_commit: bool, **kw: Any) -> Any:
        return f(*args, act=Acting(by, at, no_commit), **kw)

    options = [
        click.option("--by", envvar="CASECTL_USER", metavar="ID",
                     help="Who acts: a roster id (default: $CASECTL_USER)."),
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
    person = model.actor(app.cfg, act.by)
    at = app.at(act.at)
    with app.store.lock():
        case = read_case(app.store.locate(case_id))
        event = step(case, person, at)
        path = app.store.save(case)
        app.commit([path], person, [case.id], what(event), event_yaml(event), act.no_commit)
    return case


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
        render.case_document(case, deadlines.compute(case, app.cfg), app.cfg, app.now)
    )


def normalize(case_id: str) -> str:
    from casectl.ids import normalize_case_id

    return normalize_case_id(case_id)


def count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 60 else line[:57] + "..."
