"""What people read: show, list, roster, history; and the cron job, sweep."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from casectl.cli.app import (
    App,
    as_json,
    count,
    pass_app,
    show_json,
)
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.terminal import safe  # the one escaping point of text output; JSON is exact

if TYPE_CHECKING:
    from casectl import listing
    from casectl.cli.notify import Notices
    from casectl.lease import Turn
    from casectl.sweep import Outcome


@click.command()
@click.argument("case_id", metavar="CASE")
@as_json
@pass_app
def show(app: App, case_id: str, json_out: bool) -> None:
    """Show one case: its record, deadlines, and process record.

    Example: casectl show 261126-K7Q3M
    """
    from casectl import deadlines, render
    from casectl.model import orphan_warnings

    case = app.store.load(case_id)
    bad: dict = {}
    if app.cfg.signed is not None:  # severity.yaml's `signed:`: unverified steps are not acted on
        from casectl import signing

        bad = signing.unverified_in(app.store, app.cfg, case)
    full, case = case, signing.screened(case, bad) if bad else case
    found = deadlines.shown(case, app.cfg)
    for warning in orphan_warnings(case, app.cfg):
        click.echo(warning, err=True)
    if json_out and bad:  # every event, the state as the rules see it, and what is not verified
        document = render.case_document(case, found, app.cfg, app.now)
        document["events"] = render.events(full)
        document["unverified"] = signing.documents(bad)
        click.echo(render.to_json(document))
    elif json_out:
        click.echo(show_json(app, case))
    else:
        click.echo(safe(render.show(case, found, app.cfg, app.now)))
        if bad:
            click.echo(safe("\n".join(signing.shown(full, bad))))


@click.command("list")
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
@click.option("--inquiries", is_flag=True, help="Only inquiries from callers without a contract.")
@click.option(
    "--due-within", metavar="DURATION", help="Only cases with a deadline due within, e.g. 30m."
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Show at most N cases (0: all).",
)
@click.option(
    "--mine",
    is_flag=True,
    help="Only cases assigned to me or whose next step I owe (me: the person this clone "
    "is bound to, else --by).",
)
@click.option(
    "--by",
    envvar="CASECTL_USER",
    metavar="ID",
    help="Who I am for --mine (default: $CASECTL_USER).",
)
@click.option("--wide", is_flag=True, help="Every column, whole, however wide the terminal.")
@as_json
@pass_app
def list_(
    app: App,
    status: str,
    assignee: str | None,
    severity: int | None,
    customer: str | None,
    overdue: bool,
    inquiries: bool,
    due_within: str | None,
    limit: int,
    mine: bool,
    by: str | None,
    wide: bool,
    json_out: bool,
) -> None:
    """List cases, newest first, with the next deadline and who owes it.

    On a terminal the table fits its width (the customer cut, the widest optional
    columns left out; --wide shows all) and the rows are coloured: missed red,
    due soon amber, paused dim (NO_COLOR, or output into a pipe, turns it off).

    Unreadable case files are named on stderr (exit 1); `no cases match` says so.

    Example: casectl list --overdue
    """
    from casectl import listing

    wanted = _filter(app, status, assignee, severity, customer, overdue, due_within,
                     inquiries, by, mine)  # fmt: skip
    selected, total, broken, warning = listing.select(app.cfg, app.index(), wanted, app.now, limit)
    if warning:
        click.echo(warning, err=True)
    shown = listing.rows(selected, app.cfg, app.now)
    _print_rows(app, shown, json_out, wide)
    if not shown:
        click.echo(_("no cases match"), err=True)
    elif len(shown) < total:
        click.echo(
            _("({shown} of {total} cases shown; --limit 0 shows all)").format(
                shown=len(shown), total=total),
            err=True,
        )  # fmt: skip
    for problem in broken:
        click.echo(
            safe(_("casectl list: skipped {problem}").format(problem=_reread(problem))), err=True
        )
    if broken:
        raise SystemExit(1)


def _filter(
    app: App,
    status: str,
    assignee: str | None,
    severity: int | None,
    customer: str | None,
    overdue: bool,
    due_within: str | None,
    inquiries: bool,
    by: str | None,
    mine: bool,
) -> listing.Filter:
    """list's options checked and made one filter (a usage error names the option)."""
    from casectl import listing

    window = None
    if due_within:
        from casectl.durations import parse_duration

        try:
            window = parse_duration(due_within)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--due-within") from None
    if severity is not None and severity not in app.cfg.levels:
        configured = ", ".join(str(n) for n in sorted(app.cfg.levels))
        raise click.BadParameter(
            _("severity {severity} is not configured; configured: {known}").format(
                severity=severity, known=configured
            ),
            param_hint="'--severity'",
        )
    if assignee:
        try:
            assignee = listing.assignee_id(app.cfg, app.index(), assignee)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="'--assignee'") from None
    me = _me(app, by) if mine else None
    return listing.Filter(status, assignee, severity, customer, overdue, window, inquiries, me)


def _print_rows(app: App, shown: list[dict], json_out: bool, wide: bool) -> None:
    """The rows on stdout: fitted to the terminal and coloured where a person reads them,
    else plain text or JSON."""
    from casectl import listing

    people = frozenset(p.id for p in app.cfg.people)
    if shown and not json_out and sys.stdout.isatty():  # a person reads it: fit, colour
        import shutil

        from casectl.terminal import colour_wanted

        width = None if wide else shutil.get_terminal_size().columns
        colour = colour_wanted(sys.stdout)
        click.echo(listing.screen(shown, people, app.now, width, colour))  # escaped there
    else:
        text = listing.render_rows(shown, json_out, people)
        click.echo(text if json_out else safe(text), nl=bool(shown) or json_out)


def _me(app: App, by: str | None) -> str:
    """The person this clone is bound to (git config casectl.user), else --by."""
    from casectl import identity, listing

    who = identity.bound(app.root) or by
    if not who:
        raise CasectlError(
            _("list --mine: nobody is known here: bind this clone with `casectl whoami ID`, "
              "or give --by ID (or set CASECTL_USER)")
        )  # fmt: skip
    try:
        return listing.assignee_id(app.cfg, app.index(), who)
    except ValueError as err:
        raise CasectlError(_("list --mine: {reason}").format(reason=err)) from None


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what is due; record nothing.")
@click.option("--no-commit", is_flag=True, help="Record the actions but do not commit.")
@click.option("--sync", "share", is_flag=True,
              help="Fetch and merge first and push after (the cron host's line); with "
                   "channels, tell people of the steps other clones made.")  # fmt: skip
@as_json
@pass_app
def sweep(app: App, dry_run: bool, no_commit: bool, share: bool, json_out: bool) -> None:
    """Check every open case's deadlines now and act: the cron job.

    Reports staged callback checks, reassigns missed callbacks to the next
    engineer on the roster (telling the manager, the duty engineer and who lost
    the case), reports missed reply, update and escalation deadlines, and
    deadlines met late before any sweep saw them. Prints nothing when nothing
    is due. A broken case file, or a case whose severity is not configured, is
    named on stderr and the exit status is 1; every other case is still swept.

    --sync (the cron host, every minute): fetch and merge what the other clones
    shared, sweep, and push the sweep's steps. A remote that cannot be reached
    is said once on stderr, and the sweep goes on with what this clone has.

    Example (crontab): * * * * * casectl --repo /srv/cases sweep --sync
    """
    from casectl import gitrepo, remote
    from casectl.cli.notify import Notices

    told = Notices(app)  # without channels: nothing, and nothing imported
    sharing = share and not dry_run and gitrepo.is_repo(app.root)
    turn, since = None, None
    if sharing:
        from casectl import lease

        turn = lease.begin(app.root, app.store.shared_folder(), _sent_dir(app), app.now,
                           lease.length(app.root), remote.NETWORK_WAIT)  # fmt: skip
        if not turn.sweep:
            return  # another sweeper holds the lease: it sweeps and tells; cron stays silent
        since = _share_and_tell(app, told, turn.told_through)
    outcome = _swept(app, told, dry_run, no_commit)
    _print_outcome(app, told, outcome, dry_run, json_out)
    if sharing and outcome.changed:
        _share_and_tell(app, None, None)
    undelivered = 0 if dry_run else told.deliver(everything=True)
    if turn is not None:
        _end_turn(app, turn, since, undelivered)
    unwritten = None if dry_run else _board_page(app)
    if unwritten:
        click.echo(safe(f"casectl sweep: {unwritten}"), err=True)
    if outcome.broken or outcome.unconfigured or unwritten or undelivered:
        failed = outcome.broken or outcome.unconfigured or unwritten
        raise SystemExit(1 if failed else undelivered)


def _swept(app: App, told: Notices, dry_run: bool, no_commit: bool) -> Outcome:
    """Act on what is due under the lock, queue what it tells, commit it, and let git
    do its housekeeping."""
    from casectl import gitrepo
    from casectl import sweep as sweeping

    with app.store.lock():
        store = told.watching(app.store)  # queues what each saved case's new events tell
        outcome = sweeping.run(store, app.cfg, app.index(), app.now, dry_run)
        for a in outcome.actions if not dry_run else []:
            if a.kind == "holidays_missing":  # of no case: told through the channels too
                title = _("节假日数据缺失 holiday data missing")
                told.tell_notice(_notice_key(a.deadline), app.cfg.manager.id, title, [a.deadline])
        app.warn_orphans()
        if outcome.changed:
            cases = sorted({a.case for a in outcome.actions if a.case})
            body = "\n".join(f"{a.case}: {a.kind} {a.deadline}" for a in outcome.actions)
            what = f"{count(outcome.actions, 'action')} on {count(cases, 'case')}"
            app.commit(outcome.changed, None, cases, what, body, no_commit, label="sweep")
        # steps skip git's auto-maintenance; cron does it, after the steps since its last
        # (a quiet sweep that exits 1 for a broken or unconfigured case writes nothing)
        quiet = not outcome.changed
        troubled = quiet and (outcome.broken or outcome.unconfigured)
        if not (dry_run or no_commit or troubled) and app.cfg.commit and gitrepo.is_repo(app.root):
            gitrepo.maintain(app.root, app.store.state_dir, if_moved=quiet)
    return outcome


def _print_outcome(
    app: App, told: Notices, outcome: Outcome, dry_run: bool, json_out: bool
) -> None:
    """The actions on stdout (JSON, or what no channel told); the cases not swept on stderr."""
    if json_out:
        from casectl import render

        document = {
            "now": app.now.isoformat(),
            "dry_run": dry_run,
            "actions": [a.document() for a in outcome.actions],
            "broken": outcome.broken,
            "unconfigured": [case_id for case_id, _ in outcome.unconfigured],
        }
        click.echo(render.to_json(document))
    else:
        # with channels, people are told of their cases directly; a notice about the
        # repository (no case, no event to deliver) is still printed, for cron's mail
        shown = [a for a in outcome.actions if told.settings is None or not a.case]
        if shown:
            from casectl import render

            click.echo(safe(render.sweep(shown, app.cfg)))
    for problem in outcome.broken:
        click.echo(
            safe(_("casectl sweep: skipped {problem}").format(problem=_reread(problem))), err=True
        )
    for case_id, level in outcome.unconfigured:
        click.echo(
            _(
                "casectl sweep: case {case}: severity {severity} is not configured in "
                "severity.yaml; its deadlines are not checked"
            ).format(case=case_id, severity=level),
            err=True,
        )


def _end_turn(app: App, turn: Turn, since: str | None, undelivered: int) -> None:
    """Hand the sweeper's lease back, with how far this run told what other clones made."""
    from casectl import lease, remote
    from casectl import share as sharing_

    # what was told travels with the lease; with messages still undelivered, the
    # next holder starts telling from where this run started
    through = since if undelivered else sharing_.told_through(app.store)
    lease.end(app.root, turn, _sent_dir(app), app.now, lease.length(app.root), through,
              remote.NETWORK_WAIT)  # fmt: skip


def _board_page(app: App) -> str | None:
    """Rewrite the board's page where this clone's git config names one (a quiet sweep
    without it reads one small file more)."""
    from casectl.cli.board import rewrite_page

    return rewrite_page(app)


def _sent_dir(app: App) -> str:
    import os

    return os.path.join(app.store.shared_folder(), "outbox", "sent")


def _share_and_tell(app: App, told: Notices | None, start: str | None) -> str:
    """`sweep --sync`'s sharing: sync (a remote down is said once, when it goes down, and
    the sweep goes on); with `told`, queue what the events that arrived since `start` (the
    lease's record), else since this clone last told, tell. Where telling started."""
    from casectl import gitrepo, share
    from casectl.cli.repository import synced

    head = gitrepo.git(app.root, "rev-parse", "HEAD").strip()
    since = start or share.told_through(app.store) or head
    with share.turn(app.store, wait=True):
        try:
            synced(app)
            share.note(app.store, None)
        except CasectlError as err:
            if share.note(app.store, str(err)):
                click.echo(safe(_("casectl sweep: cannot share with the remote ({reason}); "
                                  "sweeping on what this clone has").format(reason=err)),
                           err=True)  # fmt: skip
    if told is None:
        return since
    known = gitrepo.run(app.root, "cat-file", "-e", f"{since}^{{commit}}").returncode == 0
    since = since if known else head  # a record from a history this clone never had
    head = gitrepo.git(app.root, "rev-parse", "HEAD").strip()
    if told.settings is not None and since != head:
        oldest = app.now - told.settings.expiry
        for case, events in share.arrived(app.root, app.store, since, head):
            events = [e for e in events if share.worth_telling(case, e, oldest)]
            if events and app.cfg.signed is not None:  # a step not verified is not told
                from casectl import signing

                bad = signing.unverified_in(app.store, app.cfg, case)
                events = [e for e in events if e["id"] not in bad]
            told.queue(case, events)
    share.mark_told(app.store, head)
    return since


def _notice_key(text: str) -> str:
    """The same notice is queued once (its outbox key is made from this)."""
    import hashlib

    return "holidays-" + hashlib.sha256(text.encode()).hexdigest()[:16]


@click.command()
@click.option("--on-duty", is_flag=True, help="Only who takes the hotline (at --at).")
@click.option("--at", metavar="TIME", help="At this time, ahead or past (default: now).")
@as_json
@pass_app
def roster(app: App, on_duty: bool, at: str | None, json_out: bool) -> None:
    """Who is who: id, name, roles, phone, e-mail, and whether on duty now.

    --on-duty: who takes the hotline, the duty engineers on duty by their duty
    hours (nobody: the manager, reachable round the clock).

    Example: casectl roster --on-duty --at "2026-11-28 20:00"
    """
    from casectl import clock, render

    moment = clock.parse_time(at, app.cfg.zone, app.now, what="--at") if at else app.now
    people, text = render.roster(app.cfg, moment, on_duty)
    if on_duty and not any("duty" in p["roles"] for p in people):
        click.echo(f"no duty engineer is on duty at {render.when(moment)}; "
                   "the manager takes the hotline", err=True)  # fmt: skip
    click.echo(render.to_json(people) if json_out else safe(text))


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--diff", is_flag=True, help="The git commits that touched the case, with diffs.")
@as_json
@pass_app
def history(app: App, case_id: str, diff: bool, json_out: bool) -> None:
    """A case's steps in time order: when, who, what; with --diff, its git commits
    (dates in the repository's timezone; the committer where it is not the author;
    with --json: commit, author, email, committer, committer_email, date, subject, diff).

    A step recorded with --for says who typed it: recorded by X for Y.

    Example: casectl history 261126-K7Q3M --diff
    """
    from casectl import gitrepo, render

    case = app.store.load(case_id)
    if diff:
        if not gitrepo.is_repo(app.root):
            raise CasectlError(
                _("{folder} is not a git repository: no commits to show").format(folder=app.root)
            )
        commits = render.git_commits(
            gitrepo.log_case(app.root, [app.store.relative(app.store.path(case.id))]), app.cfg.zone
        )
        click.echo(render.to_json(commits) if json_out else safe(render.git_log(commits)),
                   nl=json_out)  # fmt: skip
    elif json_out:
        click.echo(render.to_json(render.events(case)))
    else:
        click.echo(safe(render.history(case)))


def _reread(problem: str) -> str:
    """A broken case's problem as the index keeps it (`path:line: reason`, in English for
    --json), said again in the reader's language by reading the file (a rare path)."""
    from casectl import i18n

    if i18n.current() == "en":
        return problem
    from casectl.store import read_case

    try:
        read_case(problem.split(":", 1)[0])
    except CasectlError as err:
        return str(err)
    except OSError:
        pass
    return problem
