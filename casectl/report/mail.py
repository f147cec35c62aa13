"""The report by e-mail (`--mail`): who gets it, checked before the report is computed.

The manager (everyone with the role) always gets it, and so does every roster id named
with `--to`; each needs an e-mail address in roster.yaml. The mail goes out through the
clone's first e-mail channel (`casectl.notify.mail.send_report`): HTML with a plain-text
alternative, both from the one report structure, so they hold the same numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from casectl.config import Config, Person
from casectl.errors import CasectlError, RefusedError
from casectl.i18n import _

if TYPE_CHECKING:
    from casectl.notify.settings import Settings

NO_CHANNEL = (
    "no e-mail channel is configured in this clone, so the report cannot be mailed: "
    "git config casectl.email.host HOST and casectl.email.from ADDRESS "
    "(see docs/running-a-center.md, Notifications)"
)


def settings(root: str) -> Settings:
    """This clone's notification settings, which must hold an e-mail channel."""
    from casectl.notify import configured

    if not configured(root):
        raise CasectlError(NO_CHANNEL)
    from casectl.notify import settings as notify_settings

    found = notify_settings.load(root)
    if not any(channel.kind == "email" for channel in found.channels.values()):
        raise CasectlError(NO_CHANNEL)
    return found


def recipients(cfg: Config, ids: list[str]) -> list[Person]:
    """The manager(s), then the people `ids` name (case-blind), each once, in that order."""
    from casectl.model import actor

    people: list[Person] = []
    for person in [*cfg.with_role("manager"), *(actor(cfg, i) for i in ids)]:
        if person not in people:
            people.append(person)
    lacking = [p.id for p in people if not p.email]
    if lacking:
        raise RefusedError(
            _("no e-mail address in roster.yaml for {people}: the report cannot reach them").format(
                people=", ".join(lacking)
            )
        )
    return people


def send(found: Settings, people: list[Person], report: dict[str, Any], now: datetime) -> None:
    """Mail the report to `people`, dated `now`; a CasectlError in one line if not sent."""
    from casectl.notify.mail import send_report
    from casectl.report.render import mail_parts

    subject, text, html = mail_parts(report)
    send_report(found, [p.email for p in people], subject, text, html, now)
