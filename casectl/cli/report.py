"""`casectl report`: the daily report to the manager, for a day, a week, a month or dates."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from typing import Any

import click

from casectl.cli.app import App, pass_app
from casectl.errors import CasectlError
from casectl.i18n import _

DATE = click.DateTime(formats=["%Y-%m-%d"])
DAY_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")  # --to: a day; any other value is a roster id


@click.command()
@click.option(
    "--date", "day", type=DATE, metavar="YYYY-MM-DD", help="That day (default: yesterday)."
)
@click.option("--from", "first", type=DATE, metavar="YYYY-MM-DD", help="From this day ...")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="YYYY-MM-DD|ID",
    help="... to this day, inclusive. With --mail, a roster id: they get it too (repeatable).",
)
@click.option("--week", is_flag=True, help="The week (Monday to Sunday) of --date or yesterday.")
@click.option("--month", is_flag=True, help="The month of --date or yesterday.")
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document.")
@click.option("--html", "html_file", metavar="FILE", help="Write a self-contained HTML page.")
@click.option("--csv", "csv_dir", metavar="DIR", help="Write one CSV file per table into DIR.")
@click.option(
    "--mail", is_flag=True, help="Mail it to the manager and --to IDs (HTML and plain text)."
)
@click.option(
    "--rows",
    metavar="N",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="List at most N rows of each list, saying how many it has (0: all).",
)
@pass_app
def report(
    app: App,
    day: datetime | None,
    first: datetime | None,
    to: tuple[str, ...],
    week: bool,
    month: bool,
    json_out: bool,
    html_file: str | None,
    csv_dir: str | None,
    mail: bool,
    rows: int,
) -> None:
    """Report the center's case handling to the manager: volume, deadlines met, met late
    and missed, reassignments, escalations, RMAs, cases needing attention, late sweeps.

    The period is yesterday in the repository's timezone unless given; the report is
    judged as of the period's end, so a past period's report never changes. --mail
    sends it by the clone's e-mail channel (see docs/running-a-center.md,
    Notifications) and says to whom; --json, --html or --csv still print or write
    their form.

    Example: casectl report --week --html week.html

    Example: casectl report --mail --to zhou.qiang
    """
    from casectl.report import facts, numbers, period, quiet

    if sum(map(bool, (json_out, html_file, csv_dir))) > 1:
        raise click.UsageError(_("give one of --json, --html FILE, --csv DIR"))
    last, ids = _split_to(to, mail)
    zone = app.cfg.zone  # a broken severity.yaml is exit 1, not a usage error
    try:
        chosen = period.choose(app.now, zone, _day(day), _day(first), last,
                               week, month)  # fmt: skip
    except CasectlError as err:
        raise click.UsageError(str(err)) from None
    mailing = _mailing(app, ids) if mail else None  # checked before anything is computed
    index = app.index()
    found = index.report_facts(
        chosen.start.timestamp(),
        lambda case: facts.of(case, app.cfg),
        facts.rules_key(app.root),
        quiet.thin,
    )
    document = numbers.build_cases(found, chosen, app.now, app.cfg, limit=rows)
    if mailing is not None:  # first: a mail that fails leaves nothing written
        said = _mail(app, mailing, document)
        click.echo(said, err=json_out)  # stdout is the JSON document's
    _output(document, json_out, html_file, csv_dir, table=mailing is None)
    _fail_on_broken(index.broken)


def _output(
    document: dict[str, Any],
    json_out: bool,
    html_file: str | None,
    csv_dir: str | None,
    table: bool,
) -> None:
    """Print or write the form asked for; the tables unless `table` is false (--mail)."""
    from casectl.report import render

    if json_out:
        for part in render.json_parts(document):  # a table at a time: never the whole text
            click.echo(part, nl=False)
    elif html_file:
        _write(html_file, render.html(document))
        click.echo(_("wrote {file}").format(file=html_file))
    elif csv_dir:
        os.makedirs(csv_dir, exist_ok=True)
        for name, text in render.csv_files(document).items():
            _write(os.path.join(csv_dir, name), text, "utf-8-sig")  # Excel reads UTF-8 by its BOM
        click.echo(_("wrote {file}").format(file=csv_dir))
    elif table:
        from casectl.terminal import safe

        click.echo(safe(render.text(document)))


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _split_to(values: tuple[str, ...], mail: bool) -> tuple[date | None, list[str]]:
    """`--to` values: the one shaped YYYY-MM-DD ends the period, the others are roster ids
    to mail (so `--from D --to D --mail --to ID` reads as it is meant)."""
    days = [v for v in values if DAY_SHAPE.fullmatch(v)]
    ids = [v for v in values if not DAY_SHAPE.fullmatch(v)]
    if len(days) > 1:
        raise click.BadParameter(
            _("one day ends the period, got {days}").format(days=", ".join(days)),
            param_hint="'--to'",
        )
    if ids and not mail:
        raise click.BadParameter(
            _(
                "{text!r} is not a day (YYYY-MM-DD); a roster id names who gets the report "
                "with --mail"
            ).format(text=ids[0]),
            param_hint="'--to'",
        )
    try:
        return (date.fromisoformat(days[0]) if days else None), ids
    except ValueError:
        raise click.BadParameter(
            _("{text!r} is not a day").format(text=days[0]), param_hint="'--to'"
        ) from None


def _mailing(app: App, ids: list[str]) -> tuple[Any, list[Any]]:
    """The clone's settings and the people to mail; a one-line error before any work."""
    from casectl.report import mail

    return mail.settings(app.root), mail.recipients(app.cfg, ids)


def _mail(app: App, mailing: tuple[Any, list[Any]], document: dict[str, Any]) -> str:
    """Send the report; the line saying to whom."""
    from casectl.report import mail

    settings, people = mailing
    mail.send(settings, people, document, app.now)
    names = ", ".join(f"{p.id} <{p.email}>" for p in people)
    said = _("mailed the report of {period} to {people}")
    return said.format(period=document["period"]["label"], people=names)


def _write(path: str, text: str, encoding: str = "utf-8") -> None:
    """Whole or not at all: a temporary file renamed into place."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding=encoding, newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise CasectlError(
            _("cannot write {file}: {reason}").format(file=path, reason=err.strerror)
        ) from None


def _fail_on_broken(broken: list[Any]) -> None:
    """A report that left out unreadable case files says so, and exits 1."""
    from casectl.terminal import safe

    for problem in broken:
        click.echo(safe(str(problem)), err=True)
    if broken:
        raise click.exceptions.Exit(1)
