"""`casectl check`: validate the rules, every case file and the git state; for CI and hooks."""

from __future__ import annotations

import click

from casectl.cli.app import App, as_json, pass_app
from casectl.i18n import _


@click.command()
@as_json
@pass_app
def check(app: App, json_out: bool) -> None:
    """Check roster.yaml, severity.yaml, every case file and git's locks.

    Prints one line per problem, `FILE:LINE: problem`, and exits 1 if there is
    any: the schema and time order of every case file, actors and steps against
    the roster and the rules, cases whose severity is not configured or whose
    engineer left the roster, duplicate ids, conflict markers, files outside
    cases/<yyyy>/<mm>/<dd>/<id>.yaml, symlinks, temporary files left by a killed
    command, stale git locks, calendars without holiday data for this year
    (from December 1, a warning for next year's, exit 0). Unchanged case
    files are not read again, so it is fast enough for a pre-commit hook
    (`casectl setup-git --hook`).

    Example: casectl check
    """
    import time
    from datetime import timezone

    from casectl import check as checking
    from casectl import clock, i18n, render
    from casectl.errors import CasectlError

    try:
        zone = app.cfg.zone
    except CasectlError:
        zone = timezone.utc  # check names the broken file itself
    if json_out:  # the same document in every language
        with i18n.english():
            report = checking.run(app.root, clock.now(zone), time.time())
    else:
        report = checking.run(app.root, clock.now(zone), time.time())
    if json_out:
        findings = [f.document() for f in report.findings]
        warnings = [f.document() for f in report.warnings]
        click.echo(render.to_json({"problems": findings, "warnings": warnings,
                                   "case_files": report.case_files}))  # fmt: skip
    else:
        from casectl.terminal import safe

        for finding in report.findings:
            click.echo(safe(finding.text()))
        for warning in report.warnings:
            said = _("{file}: warning: {problem}").format(
                file=f"{warning.file}:{warning.line}" if warning.line else warning.file,
                problem=warning.problem)  # fmt: skip
            click.echo(safe(said))
    if report.findings:
        count = len(report.findings)
        said = (_("casectl check: {count} problem") if count == 1
                else _("casectl check: {count} problems"))  # fmt: skip
        click.echo(said.format(count=count), err=True)
        raise SystemExit(1)
    said = _("casectl check: {count} case files, no problems").format(count=report.case_files)
    click.echo(said, err=True)
