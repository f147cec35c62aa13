"""What people read: show, list, roster, history; and the cron job, sweep."""

from __future__ import annotations

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
    found = deadlines.compute(case, app.cfg)
    for warning in orphan_warnings(case, app.cfg):
        click.echo(warning, err=True)
    if json_out:
        click.echo(show_json(app, case))
    else:
        click.echo(safe(render.show(case, found, app.cfg, app.now)))


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
    json_out: bool,
) -> None:
    """List cases, newest first, with the next deadline and who owes it.

    Unreadable case files are named on stderr (exit 1); `no cases match` says so.

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
    if severity is not None and severity not in app.cfg.levels:
        configured = ", ".join(str(n) for n in sorted(app.cfg.levels))
        raise click.BadParameter(
            f"severity {severity} is not configured; configured: {configured}",
            param_hint="'--severity'",
        )
    if assignee:
        try:
            assignee = listing.assignee_id(app.cfg, app.index(), assignee)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="'--assignee'") from None
    wanted = listing.Filter(status, assignee, severity, customer, overdue, window, inquiries)
    selected, total, broken, warning = listing.select(app.cfg, app.index(), wanted, app.now, limit)
    if warning:
        click.echo(warning, err=True)
    shown = listing.rows(selected, app.cfg, app.now)
    people = frozenset(p.id for p in app.cfg.people)
    text = listing.render_rows(shown, json_out, people)
    click.echo(text if json_out else safe(text), nl=bool(shown) or json_out)
    if not shown:
        click.echo(_("no cases match"), err=True)
    elif len(shown) < total:
        click.echo(
            _("({shown} of {total} cases shown; --limit 0 shows all)").format(
                shown=len(shown), total=total),
            err=True,
        )  # fmt: skip
    for problem in broken:
        click.echo(safe(f"casectl list: skipped {problem}"), err=True)
    if broken:
        raise SystemExit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what is due; record nothing.")
@click.option("--no-commit", is_flag=True, help="Record the actions but do not commit.")
@as_json
@pass_app
def sweep(app: App, dry_run: bool, no_commit: bool, json_out: bool) -> None:
    """Check every open case's deadlines now and act: the cron job.

    Reports staged callback checks, reassigns missed callbacks to the next
    engineer on the roster (telling the manager, the duty engineer and who lost
    the case), reports missed reply, update and escalation deadlines, and
    deadlines met late before any sweep saw them. Prints nothing when nothing
    is due. A broken case file, or a case whose severity is not configured, is
    named on stderr and the exit status is 1; every other case is still swept.

    Example (crontab): */5 * * * * casectl --repo /srv/cases sweep
    """
    from casectl import gitrepo
    from casectl import sweep as sweeping
    from casectl.cli.notify import Notices

    told = Notices(app)  # without channels: nothing, and nothing imported
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
        click.echo(safe(f"casectl sweep: skipped {problem}"), err=True)
    for case_id, level in outcome.unconfigured:
        click.echo(
            _(
                "casectl sweep: case {case}: severity {severity} is not configured in "
                "severity.yaml; its deadlines are not checked"
            ).format(case=case_id, severity=level),
            err=True,
        )
    undelivered = 0 if dry_run else told.deliver(everything=True)
    if outcome.broken or outcome.unconfigured or undelivered:
        raise SystemExit(1 if outcome.broken or outcome.unconfigured else undelivered)


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
    (dates in the repository's timezone; with --json: commit, author, email, date,
    subject, diff).

    Example: casectl history 261126-K7Q3M --diff
    """
    from casectl import gitrepo, render

    case = app.store.load(case_id)
    if diff:
        if not gitrepo.is_repo(app.root):
            raise CasectlError(f"{app.root} is not a git repository: no commits to show")
        commits = render.git_commits(
            gitrepo.log_case(app.root, [app.store.relative(app.store.path(case.id))]), app.cfg.zone
        )
        click.echo(render.to_json(commits) if json_out else safe(render.git_log(commits)),
                   nl=json_out)  # fmt: skip
    elif json_out:
        click.echo(render.to_json(render.events(case)))
    else:
        click.echo(safe(render.history(case)))
