"""Alarm intake: a storage system's alerts (traps, mails, JSON) turned into case steps.

Each parser is a small module with one function, `parse(data, zone) -> Alert`, that
raises `Unreadable` with a one-line reason; `read` tries them in turn. The modules:
`hitachi` (HM800MIB SIM traps as snmptrapd hands them to a traphandle), `netapp`
(AutoSupport mail), `generic` (a JSON alert, alone or as a mail's body), `mail`
(RFC 5322 parsing), `rules` (severity.yaml's `alerts:`), `journal` (the clone's own
log, spool and quarantine), `desk` (what each alert becomes).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from casectl.i18n import _
from casectl.records import Record

MAX_BYTES = 1 << 20  # an alert is a few KB; a bigger one is quarantined, never parsed
MAX_TEXT = 2000  # characters of description kept in a case
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # a serial number, a code
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Unreadable(Exception):
    """Not an alert casectl can read: the reason, one line."""


class Alert(Record):
    """One alert, the same whatever sent it."""

    vendor: str  # hitachi, netapp, or what a JSON alert names
    model: str
    serial: str
    code: str  # the vendor's reference code or message name
    component: str
    severity: str  # the vendor's word for it
    at: datetime  # when the array raised it, with its zone
    id: str  # the message id or sequence number: an exact repeat has the same
    description: str
    clear: bool = False  # the fault is gone (a recovery alert)
    source: str = ""  # trap, mail or json

    def document(self) -> dict[str, Any]:
        """What a case records of it."""
        found = {"vendor": self.vendor, "model": self.model, "serial": self.serial,
                 "code": self.code, "component": self.component, "severity": self.severity,
                 "id": self.id, "seen": self.at}  # fmt: skip
        return {k: v for k, v in found.items() if v not in ("", None)}


def name(value: Any, what: str) -> str:
    """A serial number or code: short, printable, no spaces; else Unreadable."""
    text = str(value).strip() if value is not None else ""
    if not _NAME.fullmatch(text):
        raise Unreadable(
            _("{what} {value} is not a serial number or code casectl accepts").format(
                what=what, value=_shown(text)
            )
        )
    return text


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """Untrusted text as a case keeps it: no control characters, at most `limit` long."""
    cleaned = _CONTROL.sub(" ", str(value or "")).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _shown(value: str) -> str:
    shown = repr(_CONTROL.sub("?", value))
    return shown if len(shown) <= 40 else shown[:37] + "...'"


def digest(*parts: Any) -> str:
    """An id for an alert that carries none: the same alert gives the same id."""
    import hashlib

    joined = "\x1f".join(str(p) for p in parts).encode()
    return "sha1:" + hashlib.sha1(joined, usedforsecurity=False).hexdigest()[:16]


def read(data: bytes, zone: Any) -> Alert:
    """The alert in `data` (a trap, a mail or a JSON document); Unreadable otherwise."""
    if len(data) > MAX_BYTES:
        raise Unreadable(
            _("{size} bytes, more than an alert may have ({most})").format(
                size=f"{len(data):,}", most=f"{MAX_BYTES:,}"
            )
        )
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        from casectl.intake import generic

        return generic.parse(data, zone)
    if b"\x00" in data:
        raise Unreadable(_("binary data, not a trap, a mail or JSON"))
    from casectl.intake import hitachi

    if hitachi.looks_like(data):
        return hitachi.parse(data, zone)
    from casectl.intake import mail

    return mail.parse(data, zone)
