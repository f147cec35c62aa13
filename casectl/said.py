"""What the sweep's events say, in the reader's language, made when they are shown.

The sweep records one language-free event (two clones must write the same one): its
type, `deadline` key, `due`, `at` (so late by `at - due`), `from`, `to`, `withdraws`.
Its `text` is the English line for old files and other tools; `show`, `history` and the
notifications render the line from the fields instead. An event whose fields do not say
enough (a shape this version does not know) shows its stored text.

Durations people read are said here too: `4d23h55m` is `4 天 23 小时 55 分钟` in Chinese.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from casectl.i18n import N_, Np_, _, current

SWEEP = "sweep"  # sweep.BOT: the `by` of the sweep's events
# a deadline's key without its tag and anchor (`reply/s1@E1` -> reply), as people say it
KINDS = {"reply": N_("first reply"), "update": N_("customer update"),
         "escalation-senior": N_("escalate to senior"),
         "escalation-manager": N_("escalate to manager")}  # fmt: skip
UNITS = (Np_("{n} day", "{n} days"), Np_("{n} hour", "{n} hours"),
         Np_("{n} minute", "{n} minutes"), Np_("{n} second", "{n} seconds"))  # fmt: skip
_MET_LATE = re.compile(r".* met \S+ late, at (\d{4}-\d\d-\d\d \d\d:\d\d)")


def spoken(amount: timedelta) -> str:
    """A duration as people read it: English keeps the compact `4d23h55m` (deadlines.span);
    Chinese says `4 天 23 小时 55 分钟`."""
    from casectl.deadlines import span

    if current() == "en":
        return span(amount)
    minutes = int(amount.total_seconds() // 60)
    if minutes < 1:
        return _unit(3, max(int(amount.total_seconds()), 0))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return " ".join(_unit(i, n) for i, n in enumerate((days, hours, minutes)) if n)


def _unit(index: int, n: int) -> str:
    from casectl.i18n import _catalog

    singular, plural = UNITS[index]
    return str(_catalog(current()).ngettext(singular, plural, n)).format(n=n)


def check_name(key: str) -> str:
    """`check15@E1` (or `check 15m`): `check 15m`, `15 分钟检查`."""
    minutes = int(re.sub(r"\D", "", key.split("@")[0]) or 0)
    return _("check {after}").format(after=spoken(timedelta(minutes=minutes)))


def deadline_name(key: str, assignee: str | None = None) -> str:
    """A deadline's name for people from its key (`callback/s1@E1`, `reply@E1`)."""
    kind = key.split("@")[0].split("/")[0]
    if kind.startswith("check"):
        return check_name(key)
    if kind == "callback":
        return _("callback by {engineer}").format(engineer=assignee or "-")
    return _(KINDS[kind]) if kind in KINDS else kind


def line(event: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    """The sweep's event `event` of a case whose events are `events`, as one line in the
    reader's language; None for anyone else's event or a shape this version cannot say."""
    if event.get("by") != SWEEP or not isinstance(event.get("deadline"), str):
        return None
    try:
        said = _line(event, events)
    except (KeyError, TypeError, ValueError, StopIteration):
        return None
    if said is None:
        return None
    due, at = event.get("due"), event.get("at")
    late = at - due if isinstance(due, datetime) and isinstance(at, datetime) else None
    if event["type"] in ("check", "reassign", "overdue") and late:
        said += _(" (sweep {late} late)").format(late=spoken(late))
    return said


def _line(event: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    kind, key = event["type"], str(event["deadline"])
    if kind == "check":
        return _("{deadline}: {engineer} has not called the customer back yet").format(
            deadline=check_name(key), engineer=_assignee(event, events)
        )
    if kind == "reassign":
        return _("callback missed by {engineer}; reassigned to {to}").format(
            engineer=event["from"], to=event["to"]
        )
    if kind == "overdue":
        if key.startswith("callback"):
            return _("callback missed by {engineer}; nobody left to take it").format(
                engineer=_assignee(event, events)
            )
        return _("{deadline} missed").format(deadline=deadline_name(key))
    if kind == "met-late":
        found = _MET_LATE.fullmatch(str(event.get("text", "")))
        if found is None:
            return None
        met = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M")
        due = event["due"].replace(tzinfo=None)
        return _("{deadline} met {late} late, at {at}").format(
            deadline=deadline_name(key, _assignee(event, events)),
            late=spoken(met - due),
            at=found.group(1),
        )
    if kind == "onsite-pending":
        visit = key.partition("@")[2]
        asked = next(e for e in events if e["type"] == "onsite-request" and e["onsite"] == visit)
        return _("on-site request {visit} by {person} awaits approval").format(
            visit=visit, person=asked["by"]
        )
    if kind == "manager-alert":
        alert_id = key.partition("@")[2]
        alert = next(e for e in events if e["id"] == alert_id)
        text = str(alert.get("text", "")).strip().splitlines()
        return _("alert from {person}: {text}").format(
            person=alert["by"], text=text[0] if text else ""
        )
    if kind == "withdraw":
        action = next(e for e in events if e["id"] == event["withdraws"])
        at = f"{event['due']:%Y-%m-%d %H:%M}"
        if action["type"] == "reassign":
            return _(
                "no action: {person} called back at {at}; the reassignment to {to} is withdrawn"
            ).format(person=event["to"], at=at, to=action["to"])
        return _("no action: {deadline} was met at {at}, before the sweep").format(
            deadline=deadline_name(str(action["deadline"])), at=at
        )
    return None  # fmt: skip


_GAP = re.compile(r"calendar (\S+) has holidays for (\d+) but none for (\d+): .*")


def holiday_gap(gap: str) -> str:
    """The sweep's December notice (holidays.holiday_gaps: the English line this clone
    remembers in its `notices`), in the reader's language."""
    found = _GAP.fullmatch(gap)
    if found is None:
        return gap
    name, year, following = found.groups()
    return _("calendar {name} has holidays for {year} but none for {next}: run casectl "
             "calendar holidays --year {next} --calendar {name}").format(
        name=name, year=year, next=following)  # fmt: skip


def _assignee(event: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """Who had the case when the sweep recorded `event`."""
    from casectl.model import replay

    index = next(i for i, e in enumerate(events) if e is event or e["id"] == event["id"])
    return replay(events[:index]).assignee or "-"
