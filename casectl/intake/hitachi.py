"""Hitachi VSP (HM800MIB) SIM traps, as snmptrapd hands them to a `traphandle` on stdin.

The handler reads the sender's host name, its transport address, then one variable
binding a line: an OID (numeric with -On, or a name) and its value (quoted text,
an integer, an OID; with a `TYPE: ` prefix unless -OQ). The trap's type gives the
failure level: raidRoot.0.N (1.3.6.1.4.1.116.3.11.4.1.1), N = 1 acute, 2 serious,
3 moderate, 4 service. Its variables are raidExMibDummyX.N (1.3.6.1.4.1.116.5.11.4.2).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from casectl.i18n import _
from casectl.intake import Alert, Unreadable, digest, name, text

TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"  # snmpTrapOID.0
RAID_ROOT = "1.3.6.1.4.1.116.3.11.4.1.1"  # the traps' ENTERPRISE
VARIABLES = "1.3.6.1.4.1.116.5.11.4.2."  # eventTrap*
LEVELS = {"1": "acute", "2": "serious", "3": "moderate", "4": "service"}
FIELDS = {"1": "serial", "2": "nickname", "3": "refcode", "4": "parts", "5": "date",
          "6": "time", "7": "description"}  # fmt: skip
NAMES = {"SNMPv2-MIB::snmpTrapOID.0": TRAP_OID, "iso.": "1.", "SNMPv2-SMI::enterprises.":
         "1.3.6.1.4.1."}  # fmt: skip
_HM800 = {f"HM800MIB::{n}": VARIABLES + k for k, n in (
    ("1", "eventTrapSerialNumber"), ("2", "eventTrapNickname"), ("3", "eventTrapREFCODE"),
    ("4", "eventTrapPartsID"), ("5", "eventTrapDate"), ("6", "eventTrapTime"),
    ("7", "eventTrapDescription"))}  # fmt: skip
_TYPED = re.compile(r"(?:[A-Za-z][A-Za-z0-9 -]*): (.*)", re.S)


def looks_like(data: bytes) -> bool:
    """snmptrapd's traphandle format: a host line, a transport line, then bindings."""
    lines = data.split(b"\n", 3)
    return (
        len(lines) >= 3
        and lines[1].startswith((b"UDP", b"TCP", b"udp", b"tcp"))
        and (b" " in lines[2])
    )


def oid(raw: str) -> str:
    raw = raw.strip().lstrip(".")
    for prefix, numeric in (*_HM800.items(), *NAMES.items()):
        if raw == prefix or (prefix.endswith(".") and raw.startswith(prefix)):
            return numeric + raw[len(prefix) :] if prefix.endswith(".") else numeric
    return raw


def value(raw: str) -> str:
    raw = raw.strip()
    typed = _TYPED.fullmatch(raw)
    if typed and not raw.startswith('"'):
        raw = typed.group(1).strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return oid(raw)  # unquoted: a number, or an OID by number or by name


def bindings(data: bytes) -> dict[str, str]:
    lines = data.decode("utf-8", "replace").splitlines()[2:]
    found: dict[str, str] = {}
    for line in lines:
        key, _, rest = line.partition(" ")
        if key:
            found[oid(key)] = value(rest)
    return found


def parse(data: bytes, zone: Any) -> Alert:
    found = bindings(data)
    trap = found.get(TRAP_OID, "")
    level = LEVELS.get(trap.removeprefix(RAID_ROOT + ".0.")) if trap.startswith(RAID_ROOT) else None
    if level is None:
        said = _("a trap that is no HM800 SIM (snmpTrapOID {oid})")
        raise Unreadable(said.format(oid=text(trap, 60) or _("none")))
    v = {field: found.get(VARIABLES + k, "") for k, field in FIELDS.items()}
    serial, code = name(v["serial"], "serial"), name(v["refcode"], "REFCODE")
    at = _when(v["date"], v["time"], zone)
    nickname = text(v["nickname"], 32)  # the array's name at the customer
    return Alert(
        vendor="hitachi",
        model="VSP Gx00",  # the arrays HM800MIB describes
        serial=serial,
        code=code.upper(),
        component=text(v["parts"], 128),
        severity=level,
        at=at,
        id=digest(serial, code, v["date"], v["time"], v["description"]),
        description=text(f"[{nickname}] {v['description']}" if nickname else v["description"]),
        source="trap",
    )


def _when(day: str, clock: str, zone: Any) -> datetime:
    try:
        return datetime.strptime(f"{day} {clock}", "%Y/%m/%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        said = _("date {date} and time {time} unreadable")
        shown = {"date": repr(text(day, 20)), "time": repr(text(clock, 20))}
        raise Unreadable(said.format(**shown)) from None
