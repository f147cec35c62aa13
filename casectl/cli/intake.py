"""`casectl intake [--maildir DIR] [--dry-run]` and `casectl intake log`.

One mail or trap on stdin is first kept in the clone's spool (a maildir in the
state folder), then handled with whatever an interrupted run left there; a maildir's
messages are handled from `new/` and moved to `cur/` once their steps are committed.
A crash anywhere leaves the messages in `new/`: the next run takes them, and each
alert's id, recorded in its case and in the log, keeps it from being taken twice.
"""

from __future__ import annotations

import os
import stat
import sys
from os.path import join
from typing import Any

import click

from casectl.cli.app import App, as_json, pass_app, say
from casectl.i18n import _

CHUNK = 200  # messages per commit


@click.group(invoke_without_command=True)
@click.option("--maildir", metavar="DIR", help="Take every message in DIR/new (then in cur/).")
@click.option(
    "--spool", is_flag=True, help="Take only what interrupted runs left in the spool (cron)."
)
@click.option("--dry-run", is_flag=True, help="Say what each alert would become; change nothing.")
@click.pass_context
def intake(ctx: click.Context, maildir: str | None, spool: bool, dry_run: bool) -> None:
    """Turn a storage system's alarms into cases: a mail or trap on stdin, or a maildir.

    One line per alert says what it became; `intake log` lists the last 50.

    Example (snmptrapd.conf): traphandle default /usr/local/bin/casectl --repo /srv/cases intake

    Example (cron): casectl intake --maildir ~/Maildir/alerts

    Example (cron, after a crash or reboot): casectl intake --spool
    """
    if ctx.invoked_subcommand:
        return
    app = ctx.find_object(App)
    assert app is not None
    if maildir is not None:
        for sub in ("new", "cur"):
            if not os.path.isdir(join(maildir, sub)):
                raise click.UsageError(_("{folder} is not a maildir (no {sub}/)").format(
                    folder=maildir, sub=sub))  # fmt: skip
        _take(app, join(maildir, "new"), join(maildir, "cur"), dry_run)
        return
    if spool:
        from casectl.intake.journal import Journal

        _take(app, join(Journal(app.store.state_dir).folder, "spool", "new"), None, dry_run)
        return
    data = sys.stdin.buffer.read(_max() + 1)
    if not data.strip():
        raise click.ClickException(_("no alert on stdin"))
    if dry_run:
        _dry(app, data)
        return
    from casectl.intake.journal import Journal, deliver

    journal = Journal(app.store.state_folder())
    journal.ready()
    spooled = join(journal.folder, "spool")
    deliver(spooled, data, f"{app.now:%Y%m%d%H%M%S}")  # kept before anything else
    _take(app, join(spooled, "new"), None, False)


def _repo_option(f: Any) -> Any:
    """--repo after `intake log` too, as after any command."""
    from casectl.cli import REPO_HELP, _repo_after

    option = click.option("--repo", metavar="DIR", expose_value=False, callback=_repo_after,
                          help=REPO_HELP)  # fmt: skip
    return option(f)


@intake.command("log")
@as_json
@_repo_option
@pass_app
def log(app: App, json_out: bool) -> None:
    """The last 50 alerts this clone took, and what each became."""
    import json

    from casectl.intake.journal import Journal
    from casectl.terminal import safe

    entries = Journal(app.store.state_dir).last(50)
    if json_out:
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    for e in entries:
        row = [str(e.get(k) or "-") for k in ("now", "source", "vendor", "serial", "code")]
        click.echo(safe(f"{' '.join(row)} -> {e.get('outcome')} {e.get('case') or ''}".rstrip()))


def _max() -> int:
    from casectl.intake import MAX_BYTES

    return MAX_BYTES


def _desk(app: App, journal: Any) -> Any:
    from casectl import contracts
    from casectl.intake import rules
    from casectl.intake.desk import Desk

    found = rules.parse(app.cfg.alerts, app.cfg)
    register = contracts.load(app.root, app.cfg.calendars)
    index = app.index()
    return Desk(app.cfg, found, register, journal, _lookup(app), index.loads(), app.now,
                app.store.unused_id)  # fmt: skip


def _lookup(app: App) -> Any:
    """serial -> the open cases whose file names it: every open case file is read once
    (bytes only), and parsed only when an alert's serial is in it."""
    import re

    from casectl import yamlio
    from casectl.errors import CasectlError
    from casectl.store import read_case

    first = re.compile(rb"^  serial: ['\"]?([^'\"\n]+)['\"]?$", re.M)
    by_serial: dict[str, list[str]] = {}
    for case_id in app.index().summaries():
        path = app.store.path(case_id)
        try:
            said = first.search(yamlio.read(path))
        except OSError:
            continue
        if said:  # the opening's serial comes first; a later one (an RMA's) is checked too
            by_serial.setdefault(said.group(1).decode(errors="replace"), []).append(path)

    def lookup(serial: str) -> list[Any]:
        found = []
        for path in by_serial.get(serial, []):
            try:
                found.append(read_case(path))
            except CasectlError:
                continue  # `check` names a broken file; an alert must not stop on it
        return found

    return lookup


def _dry(app: App, data: bytes) -> None:
    from casectl.intake import Unreadable, read
    from casectl.intake.journal import Journal

    desk = _desk(app, Journal(app.store.state_dir))
    try:
        outcome = desk.take(read(data, app.cfg.zone))
    except Unreadable as err:
        click.echo(_("would quarantine: {reason}").format(reason=err))
        return
    click.echo(_("would do: {line}").format(line=outcome.line))


def _take(app: App, new: str, cur: str | None, dry_run: bool) -> None:
    """Take every message in `new`, in name order; move each to `cur` (None: remove it,
    the spool's) once its steps are committed."""
    from casectl.cli.notify import Notices
    from casectl.intake.journal import Journal

    journal = Journal(app.store.state_folder())
    journal.ready()
    told = Notices(app)
    with app.store.lock():
        names = sorted(n for n in os.listdir(new) if not n.startswith("."))
        desk = _desk(app, journal)
        for start in range(0, len(names), CHUNK):
            chunk = names[start : start + CHUNK]
            taken = [(n, _one(app, desk, journal, join(new, n), n, dry_run)) for n in chunk]
            if dry_run:
                continue
            _write(app, desk, told)
            journal.flush()
            for name, done in taken:
                if done:
                    _done(join(new, name), cur, name)
    told.finish()


def _one(app: App, desk: Any, journal: Any, path: str, name: str, dry_run: bool) -> bool:
    """Take one message; whether it is done with (moved or removed)."""
    from casectl.intake import Unreadable, read
    from casectl.terminal import safe

    data = _read(path)
    if data is None:
        say(safe(_("skipped {name}: not a regular file").format(name=name)))
        return False
    now = app.now
    try:
        alert = read(data, app.cfg.zone)
    except Unreadable as err:
        if not dry_run:
            journal.quarantine(data, name)
        said = _("quarantined {name}: {reason}") if not dry_run else _(
            "would quarantine {name}: {reason}")  # fmt: skip
        say(safe(said.format(name=name, reason=err)))
        journal.add({"t": now.timestamp(), "now": f"{now:%Y-%m-%d %H:%M:%S}",
                     "outcome": "quarantined", "line": str(err)[:200]})  # fmt: skip
        return True
    outcome = desk.take(alert)
    entry = {"t": now.timestamp(), "now": f"{now:%Y-%m-%d %H:%M:%S}", "at": alert.at.timestamp(),
             "source": alert.source,
             "vendor": alert.vendor, "serial": alert.serial, "code": alert.code,
             "severity": alert.severity, "id": alert.id, "outcome": outcome.kind,
             "case": outcome.case}  # fmt: skip
    journal.add(entry)
    line = outcome.line if not dry_run else _("would do: {line}").format(line=outcome.line)
    click.echo(safe(line))
    return True


def _read(path: str) -> bytes | None:
    """A message's bytes, never through a link or from a FIFO, at most one past the cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return f.read(_max() + 1)


def _done(path: str, cur: str | None, name: str) -> None:
    if cur is None:
        os.unlink(path)
        return
    flagged = name if ":2," in name else f"{name}:2,S"
    os.rename(path, join(cur, flagged))


def _write(app: App, desk: Any, told: Any) -> None:
    """Write and commit the cases this chunk changed, telling whom their events tell."""
    from casectl import gitrepo
    from casectl.errors import CasectlError
    from casectl.intake.desk import BY

    if not desk.changed:
        return
    said = list(desk.said)
    desk.said.clear()
    paths, new = [], False
    for case in desk.changed.values():
        told.tell(case, desk.fresh.get(case.id, []))  # queued before the write: never lost
        if case.id in desk.created:
            paths.append(app.store.create(case))
            new = True
        else:
            paths.append(app.store.save(case))
    ids = list(desk.changed)
    desk.changed.clear()
    desk.created.clear()
    desk.fresh.clear()
    if not app.committing():
        app.store.finish()
        return
    label = ids[0] if len(ids) == 1 else f"{len(ids)} cases"
    message = gitrepo.message(f"{label}: alerts taken ({BY})", "\n".join(said), ids)
    try:
        gitrepo.commit(app.root, paths, app.author(BY), message, say, new)
    except CasectlError as err:
        app.store.roll_back()
        names = [app.store.relative(p) for p in paths]
        gitrepo.git(app.root, "reset", "-q", "--", *names, check=False)  # unstage
        raise CasectlError(
            _("{label}: not recorded, {reason}; nothing was written").format(
                label=label, reason=err)
        ) from None  # fmt: skip
    app.store.finish()
