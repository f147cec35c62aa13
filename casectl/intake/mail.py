"""One RFC 5322 mail: an AutoSupport notification, or a JSON alert as its text body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl.i18n import _
from casectl.intake import Alert, Unreadable, netapp, text


def parse(data: bytes, zone: Any) -> Alert:
    import email
    import email.policy
    import email.utils

    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        subject = text(str(message.get("Subject", "")), 300)
        message_id = text(str(message.get("Message-ID", "")), 200)
        sent = _date(str(message.get("Date", "")), zone)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
    except Exception as err:  # noqa: BLE001 - malformed MIME, in any of email's ways
        said = _("malformed mail: {error}").format(error=text(type(err).__name__, 40))
        raise Unreadable(said) from None
    if not message.keys() or not isinstance(body, str):
        raise Unreadable(_("neither a trap, a mail nor JSON"))
    if netapp.matches(subject):
        return netapp.parse(subject, body, message_id, sent, zone)
    if body.lstrip().startswith("{"):
        from casectl.intake import generic

        return generic.parse(body, zone, source="mail")
    said = _("a mail casectl has no parser for (subject {subject})")
    raise Unreadable(said.format(subject=repr(subject[:60])))


def _date(value: str, zone: Any) -> datetime | None:
    import email.utils

    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return at if at.tzinfo else at.replace(tzinfo=zone)
