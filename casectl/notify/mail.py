"""The e-mail channel: messages built with `email.message.EmailMessage`, sent over SMTP.

Subjects and bodies are UTF-8 (headers encoded as RFC 2047 by the standard
library), every message has a `Date` and a `Message-ID`, and `In-Reply-To` and
`References` name one root id per case, so a mail client threads all mail about
a case together. Connecting gives up after 5 seconds, so a dead server never
stalls a person's step. `send_report` is the daily report's `--mail`.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from casectl.errors import CasectlError
from casectl.notify import DeliveryError
from casectl.notify.settings import Email, Settings

CONNECT_TIMEOUT = 5.0  # seconds to reach the server
ANSWER_TIMEOUT = 30.0  # seconds for each answer once connected
SUBJECT_MAX = 200  # characters of a subject


def connect(channel: Email) -> smtplib.SMTP:
    """A logged-in session; DeliveryError(down=True) when the server cannot be reached."""
    where = f"{channel.name}: {channel.host}:{channel.port}"
    try:
        if channel.security == "tls":
            context = ssl.create_default_context()
            session: smtplib.SMTP = smtplib.SMTP_SSL(
                channel.host, channel.port, timeout=CONNECT_TIMEOUT, context=context
            )
        else:
            session = smtplib.SMTP(channel.host, channel.port, timeout=CONNECT_TIMEOUT)
        if session.sock is not None:
            session.sock.settimeout(ANSWER_TIMEOUT)
        if channel.security == "starttls":
            session.starttls(context=ssl.create_default_context())
        if channel.user:
            session.login(channel.user, channel.password or "")
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"{where}: {_reason(err)}", down=True) from None
    return session


def message(
    channel: Email,
    to: list[tuple[str, str]],
    subject: str,
    text: str,
    now: datetime,
    message_id: str,
    cases: list[str],
    html: str | None = None,
) -> EmailMessage:
    """`to`: (name, address) pairs. One root id per case ties the thread together."""
    domain = parseaddr(channel.sender)[1].rpartition("@")[2] or "casectl"
    msg = EmailMessage()
    msg.set_raw("Subject", encoded_subject(subject))
    msg["From"] = channel.sender
    try:
        msg["To"] = [Address(display_name=name, addr_spec=address) for name, address in to]
    except (ValueError, IndexError) as err:
        raise DeliveryError(f"{channel.name}: not an e-mail address: {err}") from None
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message_id}@{domain}>"
    roots = [f"<{case_id}.case@{domain}>" for case_id in cases]
    if roots:
        msg["In-Reply-To"] = roots[0]
        msg["References"] = " ".join(roots)
    msg.set_content(text, charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def encoded_subject(subject: str) -> str:
    """The subject as RFC 2047 encoded words of UTF-8, folded between words of at most 76
    characters, every space inside a word: unfolding never loses one. (The standard
    library's own folding drops the space at a fold between two encoded words:
    "assigned toyou".) One line of at most SUBJECT_MAX characters, with an ellipsis."""
    from email.header import Header

    text = " ".join(subject.split())
    if len(text) > SUBJECT_MAX:
        text = text[: SUBJECT_MAX - 1] + "…"
    return Header(text, "utf-8", header_name="Subject").encode(linesep="\n", maxlinelen=76)


def send(session: smtplib.SMTP, channel: Email, msg: EmailMessage, to: list[str]) -> None:
    """Send on an open session; a refused recipient is a DeliveryError for this message
    only, and the session stays usable for the next."""
    try:
        session.send_message(msg, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as err:
        refused = "; ".join(
            f"{address} refused: {code} {_text(detail)}"
            for address, (code, detail) in err.recipients.items()
        )
        permanent = all(code >= 500 for code, _ in err.recipients.values())
        raise DeliveryError(f"{channel.name}: {refused}", permanent=permanent) from None
    except smtplib.SMTPDataError as err:  # the message itself refused (554 ...)
        permanent = err.smtp_code >= 500
        raise DeliveryError(f"{channel.name}: {_reason(err)}", permanent=permanent) from None
    except (smtplib.SMTPServerDisconnected, OSError) as err:
        raise DeliveryError(f"{channel.name}: {_reason(err)}", down=True) from None
    except smtplib.SMTPException as err:
        raise DeliveryError(f"{channel.name}: {_reason(err)}") from None


def close(session: smtplib.SMTP) -> None:
    try:
        session.quit()
    except (OSError, smtplib.SMTPException):
        session.close()


def send_report(
    settings: Settings,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    now: datetime | None = None,
) -> None:
    """Mail a report (text, and HTML as its alternative) through the clone's first e-mail
    channel; a CasectlError in one line when there is none or it fails.

    Example: send_report(settings.load(root), ["wang.jianguo@example.com"], "日报", text, html)
    """
    channel = next((c for c in settings.channels.values() if isinstance(c, Email)), None)
    if channel is None:
        raise CasectlError(
            "no e-mail channel is configured in this clone (git config casectl.email.*)"
        )
    when = now or datetime.now().astimezone()
    msg = message(
        channel, [("", a) for a in to], subject, text, when, os.urandom(12).hex(), [], html
    )
    from casectl.notify.deadline import TimeUp, within

    try:
        with within(settings.run_deadline):  # whatever the server does
            session = connect(channel)
            try:
                send(session, channel, msg, to)
            finally:
                close(session)
    except DeliveryError as err:
        raise CasectlError(f"report not mailed: {err}") from None
    except TimeUp:
        raise CasectlError(
            f"report not mailed: {channel.name}: no answer within {settings.run_deadline:g} s"
        ) from None


def _reason(err: BaseException) -> str:
    if isinstance(err, smtplib.SMTPResponseException):
        return f"{err.smtp_code} {_text(err.smtp_error)}"
    return str(err) or type(err).__name__


def _text(detail: bytes | str) -> str:
    return detail.decode(errors="replace") if isinstance(detail, bytes) else detail
