"""A JSON alert, for any array casectl has no parser for: one object with the fields of
`Alert` (`serial` and `code` required; `time` ISO 8601; `state: clear` for a recovery).

    {"vendor": "dell", "model": "PowerStore 500T", "serial": "PS-0042", "code": "0x1A2B",
     "component": "node A", "severity": "critical", "time": "2026-12-06T10:00:00+08:00",
     "id": "evt-991", "description": "Node A rebooted", "state": "raised"}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl.i18n import _
from casectl.intake import Alert, Unreadable, digest, name, text

CLEAR = frozenset({"clear", "cleared", "ok", "resolved", "recovered"})


def parse(data: bytes | str, zone: Any, source: str = "json") -> Alert:
    import json

    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as err:
        raise Unreadable(_("not valid JSON: {error}").format(error=text(err, 80))) from None
    if not isinstance(body, dict):
        raise Unreadable(_("a JSON alert is one object"))
    serial, code = name(body.get("serial"), "serial"), name(body.get("code"), "code")
    at = _when(body.get("time"), zone)
    description = text(body.get("description") or body.get("message") or code)
    return Alert(
        vendor=text(body.get("vendor") or "generic", 32).lower(),
        model=text(body.get("model"), 64),
        serial=serial,
        code=code,
        component=text(body.get("component"), 128),
        severity=text(body.get("severity"), 32).lower(),
        at=at,
        id=text(body.get("id"), 128) or digest(serial, code, at.isoformat(), description),
        description=description,
        clear=str(body.get("state", "")).lower() in CLEAR,
        source=source,
    )


def _when(value: Any, zone: Any) -> datetime:
    if value is None:
        raise Unreadable(_("a JSON alert needs its `time`"))
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        said = _("time {value} is not ISO 8601").format(value=repr(text(value, 40)))
        raise Unreadable(said) from None
    return at if at.tzinfo else at.replace(tzinfo=zone)
