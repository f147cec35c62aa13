"""`casectl notify test|status|flush`, and `Notices`: what a step or the sweep tells people.

Exit status 3 means: the step was recorded, but not every message went out; they
stay in the outbox and the next sweep (or `notify flush`) retries. Do not repeat
the step. Status 1 keeps its meaning: refused, nothing written.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from casectl.cli.app import App, as_json, pass_app
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.model import Case
from casectl.store import Store
from casectl.terminal import safe

if TYPE_CHECKING:
    from casectl.notify.deliver import Report
    from casectl.notify.outbox import Outbox
    from casectl.notify.settings import Settings

UNDELIVERED = 3  # recorded, not all delivered
HOLD = 5  # seconds a command waits for another's delivery (deliver.HOLD_WAIT)


class Notices:
    """What one command tells. Without a channel in this clone it does nothing, and
    imports nothing of the notify package; with one, its settings are checked before
    the command writes anything (a mistake is one line, exit 1)."""

    def __init__(self, app: App) -> None:
        from casectl.notify import configured

        self.app = app
        self.keys: list[str] = []
        self.sent = 0
        self.settings: Settings | None = None
        self._outbox: Outbox | None = None
        if configured(app.root):
            from casectl.notify import settings

            self.settings = settings.load(app.root)
            self.outbox().ready()  # before the command writes anything
            self.say_notes()

    def outbox(self) -> Outbox:
        if self._outbox is None:
            from casectl.notify.outbox import Outbox

            self._outbox = Outbox(self.app.store.shared_folder())
        return self._outbox

    def say_notes(self) -> None:
        """One line on stderr for each file the outbox moved aside (quarantined)."""
        if self._outbox is not None:
            for note in self._outbox.notes:
                click.echo(f"casectl: {safe(note)}", err=True)
            self._outbox.notes.clear()

    def tell(self, case: Case, events: list[dict[str, Any]]) -> None:
        """Queue the messages these events (not yet written) tell; call before saving.
        Each event is marked with this clone as its `teller`, so that the cron host, when
        the event reaches it, does not tell it again."""
        if self.settings is None or not events:
            return
        teller = os.uname().nodename or "casectl"
        for event in events:
            event["teller"] = teller
        self.queue(case, events)

    def queue(self, case: Case, events: list[dict[str, Any]]) -> None:
        """Queue the messages of events already written (ones another clone recorded)."""
        if self.settings is None or not events:
            return
        from casectl.notify import deliver

        app = self.app
        self.keys += deliver.queue(self.outbox(), self.settings, app.cfg, case, events, app.now)

    def reaches(self, person_id: str) -> bool:
        """Whether a channel of this clone reaches the person (a step can tell them now)."""
        person = self.app.cfg.person(person_id)
        return bool(self.settings and person and self.settings.channels_of(person))

    def alert_now(self, case: Case, note: dict[str, Any], at: datetime) -> bool:
        """`log --alert-manager`: where this clone reaches the manager, record that the
        manager is told (as the sweep would) and queue it, so the step tells them at once
        and the sweep never again; False: the next sweep tells them."""
        if not self.reaches(self.app.cfg.manager.id):
            return False
        from casectl import model
        from casectl.sweep import _tell

        key = f"alert@{note['id']}"
        found = [n for n in model.notices(case, self.app.cfg) if n.key == key]
        if not found:
            return False
        event = _tell(case, self.app.cfg, found[0], at)[1]
        case.append(event)
        self.tell(case, [event])
        return True

    def tell_notice(self, key: str, person_id: str, title: str, lines: list[str]) -> None:
        """Queue a notice about the repository, of no case (holiday data running out)."""
        person = self.app.cfg.person(person_id)
        if self.settings is None or person is None:
            return
        from casectl.notify import compose
        from casectl.notify.outbox import new_item

        part = compose.notice(title, lines)
        items = [new_item(key, None, person.id, channel.name, part, self.app.now, False)
                 for channel in self.settings.channels_of(person)]  # fmt: skip
        self.keys += self.outbox().enqueue(items)

    def watching(self, store: Store) -> Store:
        """The store the sweep writes through: each case it saves first queues what the
        sweep's new events (by the sweep, at this `now`) tell."""
        if self.settings is None:
            return store
        from casectl.sweep import BOT

        now = self.app.now
        # the same store, so a failed commit rolls back what the sweep wrote through it
        # not marked with a teller: a standby sweeper tells what a dead one recorded but
        # never delivered; the outbox's keys keep the holder from telling its own twice
        store.on_save = lambda case: self.queue(
            case, [e for e in case.events if e["by"] == BOT and e["at"] == now]
        )
        return store

    def deliver(self, everything: bool) -> int:
        """Deliver what is due; say on stderr what was not. The exit status: 3 when a
        message of this command (`everything`: any message) was not delivered."""
        if self.settings is None:
            return 0
        from casectl.notify import deliver

        app = self.app
        report = deliver.run(self.outbox(), self.settings, app.cfg, app.store, app.now)
        self.say_notes()
        self.sent = len(report.sent)
        for line in problems(report, None if everything else set(self.keys)):
            click.echo(f"casectl: {line}", err=True)
        lost = report.failed + report.refused + report.paced
        mine = lost if everything else [f for f in lost if f[0]["key"] in self.keys]
        if report.held:
            outbox = self.outbox()
            left = [k for k in self.keys if outbox.still_pending(k)]
            if everything or left:
                click.echo("casectl: " + _(
                    "another casectl process is delivering and did not finish within {wait} s: "
                    "{count} messages of this command stay in the outbox for it or the next "
                    "sweep (`casectl notify flush`)").format(wait=int(HOLD), count=len(left)),
                    err=True)  # fmt: skip
                return UNDELIVERED
        return UNDELIVERED if mine else 0

    def finish(self) -> None:
        """A step's last word: deliver its own messages; exit 3 if any was not delivered."""
        status = self.deliver(everything=False)
        if status:
            raise SystemExit(status)


def problems(report: Report, keys: set[str] | None) -> list[str]:
    """One line for what failed (of `keys`, or all), one for what expired or was dropped."""
    lines = []
    failed = [(i, e) for i, e in report.failed if keys is None or i["key"] in keys]
    if failed:
        attempted = len(failed) + len([i for i in report.sent if keys is None or i["key"] in keys])
        more = len({e for _, e in failed}) - 1
        reasons = failed[0][1] + (
            _("; and {count} more reasons").format(count=more) if more > 0 else ""
        )
        lines.append(
            _("recorded, but {failed} of {attempted} messages not delivered ({reasons}); they "
              "stay in the outbox and the next sweep or `casectl notify flush` retries: do not "
              "repeat the step").format(failed=len(failed), attempted=attempted, reasons=reasons)
        )  # fmt: skip
    refused = [(i, e) for i, e in report.refused if keys is None or i["key"] in keys]
    if refused:
        lines.append(
            _("recorded, but {count} messages refused for good ({reason}); they are not "
              "retried, and the manager is told").format(count=len(refused), reason=refused[0][1])
        )  # fmt: skip
    paced = [(i, e) for i, e in report.paced if keys is None or i["key"] in keys]
    if paced:
        lines.append(
            _("{count} messages wait for the robot's rate limit ({reason}); the next sweep or "
              "`casectl notify flush` sends them").format(count=len(paced), reason=paced[0][1])
        )  # fmt: skip
    if report.expired:
        lines.append(
            _("gave up on {count} messages undelivered too long; the manager is told, and "
              "the outbox's log lists them").format(count=len(report.expired))
        )  # fmt: skip
    if report.dropped and keys is None:
        lines.append(
            _("dropped {count} messages: {reason}").format(
                count=len(report.dropped), reason=report.dropped[0][1])
        )  # fmt: skip
    return [safe(line) for line in lines]


# --- commands --------------------------------------------------------------------------


@click.group()
def notify() -> None:
    """Tell people by e-mail and group robot: test a channel, see or flush the outbox.

    Channels are this clone's git config (`git config casectl.NAME.KEY`), secrets
    environment variables the settings name; see docs/running-a-center.md, Notifications.
    """


def _configured(app: App) -> tuple[Notices, Settings]:
    notices = Notices(app)
    if notices.settings is None:
        raise CasectlError(
            _("no notification channel is configured in this clone: "
              "git config casectl.email.host HOST (see docs/running-a-center.md, Notifications)")
        )  # fmt: skip
    return notices, notices.settings


@notify.command()
@click.option("--to", "to", required=True, metavar="ID", help="Who gets the test message.")
@click.option("--channel", metavar="NAME", help="Only this channel (default: all of theirs).")
@pass_app
def test(app: App, to: str, channel: str | None) -> None:
    """Send a test message to a person now, on their channels (none is queued).

    Example: casectl notify test --to zhang.wei --channel email
    """
    from casectl import model
    from casectl.notify import DeliveryError, deliver

    settings = _configured(app)[1]
    person = model.actor(app.cfg, to)
    channels = settings.channels_of(person) if channel is None else [settings.channels.get(channel)]
    if not channels or channels[0] is None:
        known = ", ".join(settings.channels) or _("none")
        said = (
            _("no configured channel reaches {person} named {channel!r}; configured: {known}")
            if channel
            else _("no configured channel reaches {person}; configured: {known}")
        )
        raise CasectlError(said.format(person=person.id, channel=channel, known=known))
    failed = []
    for found in channels:
        assert found is not None
        try:
            deliver.send_now(found, person, _test_part(app.now), app.now, settings.message_deadline)
            click.echo(
                _("sent to {person} by {channel}").format(person=person.id, channel=found.name)
            )
        except DeliveryError as err:
            failed.append(str(err))
    if failed:
        raise CasectlError(
            _("test message not delivered: {reasons}").format(reasons="; ".join(failed))
        )


def _test_part(now: datetime) -> dict[str, Any]:
    return {
        "case": None,
        "title": "casectl 测试消息 test message",
        "lines": [
            f"这是一条测试消息，发送于 {now:%Y-%m-%d %H:%M}。 A test message; nothing to do."
        ],
    }


@notify.command()
@as_json
@pass_app
def status(app: App, json_out: bool) -> None:
    """The outbox: each message not yet delivered, its retries and last error.

    Example: casectl notify status --json
    """
    from casectl import render

    notices, settings = _configured(app)
    items = notices.outbox().pending()
    notices.say_notes()
    rows = [
        {
            "key": i["key"], "person": i["person"], "channel": i["channel"], "case": i.get("case"),
            "event": i["event"], "queued": i["created"], "attempts": i.get("attempts", 0),
            "last_attempt": i.get("last_attempt"), "last_error": i.get("last_error"),
        }
        for i in items
    ]  # fmt: skip
    unreachable = settings.unreachable(app.cfg)
    document: dict[str, Any] = {
        "channels": [{"name": c.name, "kind": c.kind} for c in settings.channels.values()],
        "interval": int(settings.interval.total_seconds()),
        "expiry": int(settings.expiry.total_seconds()),
        "unreachable": unreachable,
        "pending": rows,
    }
    if json_out:
        click.echo(render.to_json(document))
        return
    channels = ", ".join(f"{c.name} ({c.kind})" for c in settings.channels.values())
    lines = [_("channels: {channels}").format(channels=channels),
             _("pending: {count}").format(count=len(rows))]  # fmt: skip
    if rows:
        table = [[r["person"], r["channel"], r["case"] or "", r["queued"], r["attempts"],
                  (r["last_error"] or "")[:60]] for r in rows]  # fmt: skip
        headers = [_("person"), _("channel"), _("case"), _("queued"), _("tries"), _("error")]
        lines.append(render.table(table, headers))
    if unreachable:
        lines.append(
            _("reached by no channel here: {people}").format(people=", ".join(unreachable))
        )
    click.echo(safe("\n".join(lines)))


@notify.command()
@pass_app
def flush(app: App) -> None:
    """Deliver what is due in the outbox now, without sweeping; exit 3 if some is not.

    Example: casectl notify flush
    """
    notices = _configured(app)[0]
    status = notices.deliver(everything=True)
    notices.outbox().prune()
    if notices.sent:
        click.echo(_("{count} messages delivered").format(count=notices.sent))
    if status:
        raise SystemExit(status)
