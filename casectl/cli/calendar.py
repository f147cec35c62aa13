"""`casectl calendar`: keeping the calendars' holiday data filled, year by year."""

from __future__ import annotations

import click

from casectl.cli.app import App, pass_app


@click.group()
def calendar() -> None:
    """The working-time calendars of severity.yaml."""


@calendar.command()
@click.option("--year", type=click.IntRange(2000, 2099), required=True, help="The year to fill.")
@click.option(
    "--calendar",
    "name",
    default="business",
    show_default=True,
    help="The calendar of severity.yaml whose holiday_file is written.",
)
@pass_app
def holidays(app: App, year: int, name: str) -> None:
    """Fill a calendar's holidays and make-up workdays for a year.

    The dates come from the chinese_calendar package (pip install 'casectl[cn]'),
    which follows the State Council's yearly notice, and are written as explicit
    dates into the file the calendar's `holiday_file` names; other years stay as
    they are. Review the change with git diff, then commit it.

    Example: casectl calendar holidays --year 2027
    """
    from casectl import holidays as holiday_data

    click.echo(holiday_data.fill(app.cfg, name, year))
