"""`casectl report`: the daily report to the manager, for a day, a week, a month or dates."""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

import click

from casectl.cli.app import App, pass_app
from casectl.errors import CasectlError

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.option(
    "--date", "day", type=DATE, metavar="YYYY-MM-DD", help="That day (default: yesterday)."
)
@click.option("--from", "first", type=DATE, metavar="YYYY-MM-DD", help="From this day ...")
@click.option("--to", "last", type=DATE, metavar="YYYY-MM-DD", help="... to this day, inclusive.")
@click.option("--week", is_flag=True, help="The week (Monday to Sunday) of --date or yesterday.")
@click.option("--month", is_flag=True, help="The month of --date or yesterday.")
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document.")
@click.option("--html", "html_file", metavar="FILE", help="Write a self-contained HTML page.")
@click.option("--csv", "csv_dir", metavar="DIR", help="Write one CSV file per table into DIR.")
@pass_app
def report(
    app: App,
    day: datetime | None,
    first: datetime | None,
    last: datetime | None,
    week: bool,
    month: bool,
    json_out: bool,
    html_file: str | None,
    csv_dir: str | None,
) -> None:
    """Report the center's case handling to the manager: volume, deadlines met, met late
    and missed, reassignments, escalations, RMAs, cases needing attention, late sweeps.

    The period is yesterday in the repository's timezone unless given; the report is
    judged as of the period's end, so a past period's report never changes.

    Example: casectl report --week --html week.html
    """
    from casectl.report import facts, numbers, period, render

    if sum(map(bool, (json_out, html_file, csv_dir))) > 1:
        raise click.UsageError("give one of --json, --html FILE, --csv DIR")
    zone = app.cfg.zone  # a broken severity.yaml is exit 1, not a usage error
    try:
        chosen = period.choose(app.now, zone, _day(day), _day(first), _day(last),
                               week, month)  # fmt: skip
    except CasectlError as err:
        raise click.UsageError(str(err)) from None
    index = app.index()
    found = index.facts(
        chosen.start.timestamp(), lambda case: facts.of(case, app.cfg), facts.rules_key(app.root)
    )
    document = numbers.build(found, chosen, app.now, app.cfg)
    if json_out:
        click.echo(render.to_json(document), nl=False)
    elif html_file:
        _write(html_file, render.html(document))
        click.echo(f"wrote {html_file}")
    elif csv_dir:
        os.makedirs(csv_dir, exist_ok=True)
        for name, text in render.csv_files(document).items():
            _write(os.path.join(csv_dir, name), text, "utf-8-sig")  # Excel reads UTF-8 by its BOM
        click.echo(f"wrote {csv_dir}")
    else:
        from casectl.terminal import safe

        click.echo(safe(render.text(document)))
    _fail_on_broken(index.broken)


# --mail (the notifications issue): send render.mail_parts(document), the same numbers as
# HTML with a plain-text alternative, to the manager and to anyone named by --to, through
# the mail-sending function notifications provide. Not offered until it can be sent.


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _write(path: str, text: str, encoding: str = "utf-8") -> None:
    """Whole or not at all: a temporary file renamed into place."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding=encoding, newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise CasectlError(f"cannot write {path}: {err.strerror}") from None


def _fail_on_broken(broken: list[Any]) -> None:
    """A report that left out unreadable case files says so, and exits 1."""
    from casectl.terminal import safe

    for problem in broken:
        click.echo(safe(str(problem)), err=True)
    if broken:
        raise click.exceptions.Exit(1)
