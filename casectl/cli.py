"""The command line: each command parses, calls one domain function, saves, and prints.

Only this module reads the clock, prints, or exits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

import click

from casectl import clock, model
from casectl.config import Config, Person
from casectl.errors import CasectlError
from casectl.model import Case
from casectl.store import Store

Step = Callable[[Case, Person, datetime], dict[str, Any]]


class App:
    """What one run works on: found and read lazily, once."""

    def __init__(self, repo: str | None) -> None:
        self.repo = repo

    @cached_property
    def root(self) -> str:
        from casectl.store import find_root

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
        return clock.parse_time(text, self.cfg.zone, self.now, "--at") if text else self.now

    def index(self) -> Any:
        from casectl.index import OpenIndex

        return OpenIndex(self.store, self.cfg)

    def commit(
        self,
        paths: list[str],
        person: Person | None,
        case_id: str,
        what: str,
        body: str,
        no_commit: bool,
        new: bool = False,
    ) -> None:
        """Commit the step's files as the person who acted (`new`: files git does not know)."""
        from casectl import gitrepo

        if no_commit or not self.cfg.commit or not gitrepo.is_repo(self.root):
            return
        who = person.id if person else "sweep"
        author = (
            (person.name, person.email or f"{person.id}@casectl")
            if person
            else (self.cfg.bot_name, self.cfg.bot_email)
        )
        message = f"{case_id}: {what} ({who})\n\n{body.rstrip()}\n\nCase: {case_id}\n"
        try:
            gitrepo.commit(self.root, paths, author, message, new)
        except CasectlError as err:
            raise CasectlError(f"recorded in the case file, but not committed: {err}") from None


pass_app = click.make_pass_decorator(App)


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CasectlError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=Group)
@click.option(
    "--repo",
    envvar="CASECTL_REPO",
    metavar="DIR",
    help="The case repository (default: $CASECTL_REPO, else the nearest folder "
    "at or above here holding severity.yaml).",
)
@click.version_option(package_name="casectl")
@click.pass_context
def cli(ctx: click.Context, repo: str | None) -> None:
    """casectl: the support center's case tracker, one YAML file per case in git.

    Times are parsed like `2026-11-26 14:05`, `14:05` or ISO 8601, in the
    repository's timezone; CASECTL_NOW sets the current time for simulations.
    """
    ctx.obj = App(repo)


def acting(f: Callable[..., Any]) -> Callable[..., Any]:
    """--by, --at and --no-commit, shared by every command that records a step."""
    f = click.option("--no-commit", is_flag=True, help="Write the case file but do not commit.")(f)
    f = click.option(
        "--at", "at_text", metavar="TIME", help="When the step happened (default: now)."
    )(f)
    return click.option(
        "--by",
        envvar="CASECTL_USER",
        metavar="ID",
        help="Who acts: a roster id (default: $CASECTL_USER).",
    )(f)


def as_json(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "json_out", is_flag=True, help="Print one JSON document.")(f)


def record(
    app: App,
    case_id: str,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
    step: Step,
    what: Callable[[dict[str, Any]], str],
) -> Case:
    """Load the case under the lock, take the step, write it, commit it."""
    person = model.actor(app.cfg, by)
    at = app.at(at_text)
    with app.store.lock():
        path = app.store.locate(case_id)
        from casectl.store import read_case

        case = read_case(path)
        event = step(case, person, at)
        changed = app.store.save(case, path)
        moved = len(changed) > 1  # a close or reopen moved the file to a path git does not know
        app.commit(changed, person, case.id, what(event), _event_yaml(event), no_commit, moved)
    return case


def _event_yaml(event: dict[str, Any]) -> str:
    from casectl import yamlio

    return yamlio.dump([model.ordered(event)]).decode()


# --- commands --------------------------------------------------------------------------


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Create a case repository with example roster.yaml and severity.yaml.

    Sets up git (when available) with the case merge driver.

    Example: casectl init /srv/cases
    """
    from casectl import initrepo

    root = initrepo.init(directory)
    click.echo(f"Initialized case repository in {root}")


@cli.command("open")
@click.option("--customer", required=True, help="The customer (company).")
@click.option("--contact", required=True, help="Contact person with phone or e-mail.")
@click.option("--contract", metavar="NO", help="Project or warranty contract number.")
@click.option("--no-contract", is_flag=True, help="A customer without a contract.")
@click.option("--approved-by", metavar="ID", help="Manager or sales manager who approved support.")
@click.option("--severity", required=True, type=int, help="Severity level, 1 (critical) to 4.")
@click.option("--description", required=True, help="The fault as the customer described it.")
@click.option(
    "--source",
    type=click.Choice(["phone", "email", "alarm"]),
    default="phone",
    show_default=True,
    help="How the fault was reported.",
)
@click.option("--assign", "assign_to", metavar="ID", help="Assign at once to this engineer.")
@click.option(
    "--auto-assign", is_flag=True, help="Assign to the least-loaded first-line engineer on duty."
)
@acting
@as_json
@pass_app
def open_(
    app: App,
    customer: str,
    contact: str,
    contract: str | None,
    no_contract: bool,
    approved_by: str | None,
    severity: int,
    description: str,
    source: str,
    assign_to: str | None,
    auto_assign: bool,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
    json_out: bool,
) -> None:
    """Open a case from a hotline call, e-mail or alarm; prints its id.

    Example: casectl open --customer 招商银行 --contact "刘先生 13800000000"
    --contract HT-2026-031 --severity 1 --description "阵列控制器离线" --auto-assign
    """
    if bool(contract) == no_contract:
        raise click.UsageError("give either --contract NO or --no-contract --approved-by ID")
    if assign_to and auto_assign:
        raise click.UsageError("give --assign ID or --auto-assign, not both")
    person = model.actor(app.cfg, by)
    at = app.at(at_text)
    with app.store.lock():
        case = model.open_case(
            app.cfg,
            app.store.unused_id(at),
            person,
            at,
            customer=customer,
            contact=contact,
            contract=contract,
            approved_by=approved_by,
            severity=severity,
            description=description,
            source=source,
        )
        if auto_assign:
            assign_to = model.pick_next(app.cfg, app.index().loads(), at, None).id
        if assign_to:
            model.assign(case, app.cfg, person, at, assign_to)
        path = app.store.create(case)
        what = f"opened, severity {severity}, {customer}" + (
            f", assigned to {assign_to}" if assign_to else ""
        )
        app.commit([path], person, case.id, what, _event_yaml(case.events[0]), no_commit, True)
    click.echo(_show_json(app, case) if json_out else case.id)


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.argument("engineer", metavar="[ID]", required=False)
@click.option("--next", "next_", is_flag=True, help="The least-loaded first-line engineer on duty.")
@acting
@pass_app
def assign(
    app: App,
    case_id: str,
    engineer: str | None,
    next_: bool,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
) -> None:
    """Assign the case to an engineer; starts the callback clock.

    Example: casectl assign 261126-K7Q3M zhang.wei
    """
    if bool(engineer) == next_:
        raise click.UsageError("give an engineer ID or --next")

    def step(case: Case, person: Person, at: datetime) -> dict[str, Any]:
        to = engineer or model.pick_next(app.cfg, app.index().loads(), at, case.state.assignee).id
        return model.assign(case, app.cfg, person, at, to)

    record(app, case_id, by, at_text, no_commit, step, lambda e: f"assigned to {e['to']}")
    click.echo(f"{normalize(case_id)} assigned")


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.argument("text")
@click.option("--callback", is_flag=True, help="The assigned engineer reached the customer.")
@click.option(
    "--type",
    "kind",
    type=click.Choice(model.LOG_TYPES),
    default=None,
    help="The kind of step (default: note).",
)
@acting
@pass_app
def log(
    app: App,
    case_id: str,
    text: str,
    callback: bool,
    kind: str | None,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
) -> None:
    """Record a step in the process record.

    Contacts with the customer (--callback, --type contact) meet the callback and
    reply deadlines; --type wait-customer / wait-parts pause the clocks the
    severity names until --type resume.

    Example: casectl log 261126-K7Q3M "已电话联系客户，收集日志" --callback
    """
    if callback and kind not in (None, "callback"):
        raise click.UsageError("--callback is a type of its own; drop --type")
    step_kind = "callback" if callback else (kind or "note")
    record(
        app,
        case_id,
        by,
        at_text,
        no_commit,
        lambda case, person, at: model.log(case, person, at, text, step_kind),
        lambda e: f"{e['type']}: {_first_line(text)}",
    )
    click.echo(f"{normalize(case_id)} {step_kind} recorded")


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.argument("level", metavar="N", type=int)
@click.option("--reason", required=True, help="Why the severity changes.")
@acting
@pass_app
def severity(
    app: App,
    case_id: str,
    level: int,
    reason: str,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
) -> None:
    """Adjust the severity (assigned or escalation engineer, or the manager).

    Example: casectl severity 261126-K7Q3M 2 --reason "业务已恢复，性能下降"
    """
    record(
        app,
        case_id,
        by,
        at_text,
        no_commit,
        lambda case, person, at: model.change_severity(case, app.cfg, person, at, level, reason),
        lambda e: f"severity {e['from']} -> {e['severity']}",
    )
    click.echo(f"{normalize(case_id)} severity {level}")


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.option("--to", "to", required=True, metavar="ID", help="The escalation engineer.")
@click.option("--reason", help="Why the case is escalated.")
@acting
@pass_app
def escalate(
    app: App,
    case_id: str,
    to: str,
    reason: str | None,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
) -> None:
    """Designate the escalation engineer (the manager); records the escalation time.

    Example: casectl escalate 261126-K7Q3M --to zhou.qiang --reason "需要高级工程师分析"
    """
    record(
        app,
        case_id,
        by,
        at_text,
        no_commit,
        lambda case, person, at: model.escalate(case, app.cfg, person, at, to, reason),
        lambda e: f"escalated to {e['to']}",
    )
    click.echo(f"{normalize(case_id)} escalated to {to}")


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.argument("rma_id", metavar="[RMA-ID]", required=False)
@click.option("--part", metavar="PN", help="Part number of the spare part.")
@click.option("--qty", type=int, default=1, show_default=True, help="How many.")
@click.option("--serial", metavar="SN", help="Serial number of the failed part.")
@click.option("--owner", metavar="ID", help="Who owns the RMA (default: whoever records it).")
@click.option("--status", type=click.Choice(model.RMA_STATES), help="The RMA's progress.")
@acting
@pass_app
def rma(
    app: App,
    case_id: str,
    rma_id: str | None,
    part: str | None,
    qty: int,
    serial: str | None,
    owner: str | None,
    status: str | None,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
) -> None:
    """Record an RMA request, or its progress with RMA-ID --status.

    Statuses: requested, shipped, delivered, installed, returned (or cancelled).

    Example: casectl rma 261126-K7Q3M --part HDS-DKC-CTL --serial SN12345

    Example: casectl rma 261126-K7Q3M RMA-7K2Q --status shipped
    """
    if rma_id:
        if not status or part:
            raise click.UsageError("with an RMA-ID give --status, and no --part")
        record(
            app,
            case_id,
            by,
            at_text,
            no_commit,
            lambda case, person, at: model.rma_progress(case, person, at, rma_id, status),
            lambda e: f"{e['rma']} {e['status']}",
        )
        click.echo(f"{rma_id.upper()} {status}")
        return
    if not part or status:
        raise click.UsageError("give --part PN for a new RMA, or RMA-ID --status S")
    case = record(
        app,
        case_id,
        by,
        at_text,
        no_commit,
        lambda case, person, at: model.rma_request(
            case, app.cfg, person, at, part=part, qty=qty, serial=serial, owner=owner
        ),
        lambda e: f"{e['rma']} requested: {e['qty']} x {e['part']}",
    )
    click.echo([e for e in case.events if e["type"] == "rma"][-1]["rma"])


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.option("--resolution", required=True, help="What was done, as agreed with the customer.")
@click.option("--force", is_flag=True, help="Close although an RMA is still in progress.")
@click.option("--reason", help="Why, with --force.")
@acting
@pass_app
def close(
    app: App,
    case_id: str,
    resolution: str,
    force: bool,
    reason: str | None,
    by: str | None,
    at_text: str | None,
    no_commit: bool,
) -> None:
    """Close the case after agreeing with the customer.

    An RMA neither installed nor returned blocks closing unless --force --reason.

    Example: casectl close 261126-K7Q3M --resolution "更换控制器后恢复，客户确认关闭"
    """
    if force != bool(reason):
        raise click.UsageError("--force and --reason go together")
    record(
        app,
        case_id,
        by,
        at_text,
        no_commit,
        lambda case, person, at: model.close(case, person, at, resolution, reason),
        lambda e: "closed" + (" (forced)" if reason else ""),
    )
    click.echo(f"{normalize(case_id)} closed")


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True, help="Why the case is reopened.")
@acting
@pass_app
def reopen(
    app: App, case_id: str, reason: str, by: str | None, at_text: str | None, no_commit: bool
) -> None:
    """Reopen a closed case; its clocks start afresh.

    Example: casectl reopen 261126-K7Q3M --reason "故障复现"
    """
    record(
        app,
        case_id,
        by,
        at_text,
        no_commit,
        lambda case, person, at: model.reopen(case, person, at, reason),
        lambda e: "reopened",
    )
    click.echo(f"{normalize(case_id)} reopened")


@cli.command()
@click.argument("case_id", metavar="CASE")
@as_json
@pass_app
def show(app: App, case_id: str, json_out: bool) -> None:
    """Show one case: its record, deadlines, and process record.

    Example: casectl show 261126-K7Q3M
    """
    from casectl import deadlines, render

    case = app.store.load(case_id)
    found = deadlines.compute(case, app.cfg)
    if json_out:
        click.echo(_show_json(app, case))
    else:
        click.echo(render.show(case, found, app.cfg, app.now))


def _show_json(app: App, case: Case) -> str:
    from casectl import deadlines, render

    return render.to_json(
        render.case_document(case, deadlines.compute(case, app.cfg), app.cfg, app.now)
    )


@cli.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "closed", "all"]),
    default="open",
    show_default=True,
    help="Which cases.",
)
@click.option("--assignee", metavar="ID", help="Only cases assigned to this engineer.")
@click.option("--severity", type=int, help="Only cases of this severity.")
@click.option("--customer", help="Only customers whose name contains this text.")
@click.option("--overdue", is_flag=True, help="Only cases with a missed deadline.")
@click.option(
    "--due-within", metavar="DURATION", help="Only cases with a deadline due within, e.g. 30m."
)
@click.option("--limit", default=100, show_default=True, help="Show at most N cases (0: all).")
@as_json
@pass_app
def list_(
    app: App,
    status: str,
    assignee: str | None,
    severity: int | None,
    customer: str | None,
    overdue: bool,
    due_within: str | None,
    limit: int,
    json_out: bool,
) -> None:
    """List cases, newest first, with the next deadline and who owes it.

    Example: casectl list --overdue
    """
    from casectl import listing

    window = None
    if due_within:
        from casectl.durations import parse_duration

        try:
            window = parse_duration(due_within)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--due-within") from None
    wanted = listing.Filter(status, assignee, severity, customer, overdue, window)
    selected = listing.select(app.store, app.cfg, app.index(), wanted, app.now)
    shown = listing.rows(selected[:limit] if limit > 0 else selected, app.cfg, app.now)
    click.echo(listing.render_rows(shown, json_out), nl=bool(shown) or json_out)
    if len(shown) < len(selected):
        click.echo(f"({len(shown)} of {len(selected)} cases shown; --limit 0 shows all)", err=True)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what is due; record nothing.")
@click.option("--no-commit", is_flag=True, help="Record the actions but do not commit.")
@as_json
@pass_app
def sweep(app: App, dry_run: bool, no_commit: bool, json_out: bool) -> None:
    """Check every open case's deadlines now and act: the cron job.

    Reports staged callback checks, reassigns missed callbacks to the next
    engineer on the roster (telling the manager), and reports missed reply,
    update and escalation deadlines. Prints nothing when nothing is due.

    Example (crontab): */5 * * * * casectl --repo /srv/cases sweep
    """
    from casectl import render
    from casectl import sweep as sweeping

    with app.store.lock():
        outcome = sweeping.run(app.store, app.cfg, app.index(), app.now, dry_run)
        if outcome.changed:
            cases = sorted({a.case for a in outcome.actions})
            body = "\n".join(f"{a.case}: {a.kind} {a.deadline}" for a in outcome.actions)
            trailers = "\n".join(f"Case: {c}" for c in cases)
            what = f"{_count(outcome.actions, 'action')} on {_count(cases, 'case')}"
            app.commit(outcome.changed, None, "sweep", what, f"{body}\n\n{trailers}", no_commit)
    if json_out:
        document = {
            "now": app.now.isoformat(),
            "dry_run": dry_run,
            "actions": [a.document() for a in outcome.actions],
            "broken": outcome.broken,
        }
        click.echo(render.to_json(document))
    elif outcome.actions:
        click.echo(render.sweep(outcome.actions, app.cfg))
    for problem in outcome.broken:
        click.echo(f"casectl sweep: skipped {problem}", err=True)
    if outcome.broken:
        raise SystemExit(1)


@cli.command()
@as_json
@pass_app
def roster(app: App, json_out: bool) -> None:
    """Who is who: id, name, roles, phone, e-mail, and whether on duty now.

    Example: casectl roster --json
    """
    from casectl import render

    people, text = render.roster(app.cfg, app.now)
    click.echo(render.to_json(people) if json_out else text)


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.option("--diff", is_flag=True, help="The git commits that touched the case, with diffs.")
@as_json
@pass_app
def history(app: App, case_id: str, diff: bool, json_out: bool) -> None:
    """A case's steps in time order: when, who, what; with --diff, its git commits.

    Example: casectl history 261126-K7Q3M --diff
    """
    from casectl import gitrepo, render

    case = app.store.load(case_id)
    if diff:
        if not gitrepo.is_repo(app.root):
            raise CasectlError(f"{app.root} is not a git repository: no commits to show")
        paths = list(gitrepo.case_paths(case.id))
        click.echo(gitrepo.log_case(app.root, paths), nl=False)
    elif json_out:
        click.echo(render.to_json(render.case_document(case, [], app.cfg, app.now)["events"]))
    else:
        click.echo(render.history(case))


@cli.command()
@pass_app
def sync(app: App) -> None:
    """Share the repository through its git remote: pull, merge cases, push.

    Sets up the case merge driver in this clone, refuses while conflicts are
    unresolved, pulls (merging case files event by event), re-files cases the
    merge closed or reopened, and pushes, retrying when someone pushed first.

    Example: casectl sync
    """
    from casectl import gitrepo
    from casectl.store import dump_case

    if not gitrepo.is_repo(app.root):
        raise CasectlError(f"{app.root} is not a git repository; nothing to sync")

    def refile(names: list[str]) -> None:
        moved = app.store.refile(names)
        if moved:
            ids = sorted({os.path.basename(p)[: -len(".yaml")] for p in moved})
            app.commit(moved, None, ", ".join(ids), "re-filed after merge", "", False, True)

    def merge_case(case_id: str, base: bytes | None, sides: list[bytes]) -> tuple[str, bytes]:
        from casectl import merge

        merged = merge.merge_versions(case_id, base, sides)
        return app.store.relative(app.store.path_for(merged)), dump_case(merged)

    identity = (app.cfg.bot_name, app.cfg.bot_email)
    with app.store.lock():
        click.echo(gitrepo.sync(app.root, identity, refile, merge_case))


@cli.command("setup-git")
@pass_app
def setup_git(app: App) -> None:
    """Register the case merge driver in this clone (sync does it too).

    Git keeps the driver in each clone's own config, which a clone does not copy;
    without it git would merge case files as text.

    Example: casectl setup-git
    """
    from casectl import gitrepo

    if not gitrepo.is_repo(app.root):
        raise CasectlError(f"{app.root} is not a git repository")
    gitrepo.install_driver(app.root)
    click.echo("merge driver registered")


@cli.command("merge-file")
@click.argument("base", type=click.Path())
@click.argument("ours", type=click.Path())
@click.argument("theirs", type=click.Path())
@click.argument("path", required=False, default="")
def merge_file(base: str, ours: str, theirs: str, path: str) -> None:
    """Git's merge driver for case files: writes the union of both sides' events to OURS.

    Git runs it as `casectl merge-file %O %A %B %P` (see .gitattributes); exit 1
    is a conflict git will report: two different cases opened under one id.
    """
    from casectl import merge, yamlio
    from casectl.store import case_from_document

    def read(name: str) -> dict | None:
        with open(name, "rb") as f:
            data = f.read()
        if not data.strip():
            return None
        try:
            document = yamlio.load(data)
        except ValueError as err:
            raise CasectlError(f"{path or name}: not a case file: {err}") from None
        return case_from_document(document, path or name).to_document()

    try:
        sides = read(ours), read(theirs)
        if sides[0] is None or sides[1] is None:
            raise CasectlError(f"{path}: one side is empty")
        merged = merge.merge(read(base), sides[0], sides[1])
    except CasectlError as err:
        click.echo(f"casectl merge-file: {path}: {err}", err=True)
        raise SystemExit(1) from None
    with open(ours, "wb") as f:
        f.write(yamlio.dump(Case(merged["id"], merged["events"]).to_document()))


def normalize(case_id: str) -> str:
    from casectl.ids import normalize_case_id

    return normalize_case_id(case_id)


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 60 else line[:57] + "..."


def main() -> None:
    cli(prog_name="casectl")
