"""NetApp AutoSupport mail: `HA Group Notification from <system> (<message>) <severity>`
in the subject, and the body's `KEY=value` lines (SYSTEM_ID, SERIAL_NUM, HOSTNAME,
MODEL, GENERATED_ON...). The message id is the mail's Message-ID."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from casectl.i18n import _
from casectl.intake import Alert, Unreadable, digest, name, text

SUBJECT = re.compile(
    r"HA Group Notification from (?P<system>\S+) \((?P<message>[^()]{1,200})\) (?P<severity>\w+)",
    re.I,
)
_FIELD = re.compile(r"^\s*([A-Z_]{2,40})\s*=\s*(.*?)\s*$", re.M)


def matches(subject: str) -> bool:
    return SUBJECT.search(subject) is not None


def parse(subject: str, body: str, message_id: str, sent: datetime | None, zone: Any) -> Alert:
    said = SUBJECT.search(subject)
    if said is None:
        raise Unreadable(_("not an AutoSupport subject"))
    fields = dict(_FIELD.findall(body[:65536]))
    serial = name(fields.get("SERIAL_NUM") or fields.get("SYSTEM_ID"), "serial")
    message = text(said["message"], 200)
    code = re.sub(r"[^A-Za-z0-9.]+", "_", message).strip("_").upper()[:64]
    at = sent or datetime.now(zone)
    return Alert(
        vendor="netapp",
        model=text(fields.get("MODEL") or fields.get("PLATFORM"), 64),
        serial=serial,
        code=name(code, "message"),
        component=text(fields.get("HOSTNAME") or said["system"], 128),
        severity=said["severity"].upper(),
        at=at,
        id=text(message_id, 200) or digest(serial, code, at.isoformat()),
        description=text(f"{message} on {said['system']}"),
        clear=False,
        source="mail",
    )
