"""The schema of a case file and its validation: each event type's fields, their types, the order.

A case file is `{id, events}`; every event has `id`, `at`, `by` and `type` (and
may have `entered_by`: who typed a step recorded `--for` the person in `by`), and
the fields its type needs (REQUIRED), each of its type (the checks below). Times
carry an offset and lie from 2000 to 2099, never go back from one event to the
next, and event ids are unique. Keys casectl does not know are allowed and kept
as they are: another version of casectl, or a person, may have added them.

Reading cases is the hot path of a cold sweep, so a valid file costs one pass of
dictionary look-ups; lines are found only for a file found broken, by composing it
again (`line_of`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml

from casectl.errors import BrokenCaseError
from casectl.i18n import _
from casectl.model import LOG_TYPES, MAX_QTY, RMA_STATES
from casectl.records import Record

SOURCES = ("phone", "email", "alarm")
ONSITE_STEPS = ("request", "approve", "deny", "cancel", "arrive", "work", "depart")
SWEEP_TYPES = (
    "check", "reassign", "overdue", "met-late", "onsite-pending", "manager-alert", "withdraw"
)  # fmt: skip
# the fields each event type must have, beyond id, at, by and type
REQUIRED: dict[str, tuple[str, ...]] = {
    "open": ("customer", "contact"),  # and a severity, unless a price inquiry
    "assign": ("to",),
    "reassign": ("from", "to", "deadline"),
    "severity": ("from", "severity"),
    "escalate": ("to",),
    "rma": ("rma", "part"),
    "rma-status": ("rma", "status"),
    "close": (),
    "reopen": (),
    "check": ("deadline",),
    "overdue": ("deadline",),
    "met-late": ("deadline",),
    "open-contact": (),  # a contact recorded with the opening (older files)
    "alert": ("alarm",),  # the intake: another alert for an alarm case
    "alarm-cleared": ("alarm",),
    "approve": (),  # support approved for an alarm case without a valid contract
    "amend": ("text",),  # the reason; and the opening's fields it corrects
    "onsite-pending": ("deadline",),
    "manager-alert": ("deadline",),
    "withdraw": ("withdraws",),  # a sweep's action a step shared late shows needless
    **{f"onsite-{step}": ("onsite",) for step in ONSITE_STEPS},
} | {kind: ("text",) for kind in LOG_TYPES}
TYPES = tuple(REQUIRED)
# keys whose value is text when present (`from` is a severity in a severity change)
_TEXT = frozenset(
    ("id", "by", "type", "customer", "contact", "contract", "approved_by", "to", "rma",
     "part", "serial", "new_serial", "owner", "deadline", "reason", "text", "from",
     "onsite", "engineer", "inquiry", "withdraws", "teller", "entered_by", "description")
)  # fmt: skip
# ids: never empty (a customer, a text may be: `casectl check` holds them to the rules)
_NAMES = frozenset(
    ("id", "by", "to", "from", "rma", "deadline", "owner", "approved_by", "onsite", "engineer",
     "withdraws", "teller", "entered_by")
)  # fmt: skip
_FIRST_YEAR, _END_YEAR = 2000, 2100
_MUST = {kind: ("id", "at", "by", *keys) for kind, keys in REQUIRED.items()}
# how the fast path checks a known key: `str`, or with `_wrong`
_NAME = "name"
_CHECK: dict[str, Any] = (
    dict.fromkeys(_TEXT, str)
    | dict.fromkeys(_NAMES, _NAME)
    | dict.fromkeys(
        ("at", "due", "when", "severity", "qty", "status", "source", "notify", "from"), "value"
    )
)


class Problem(Record):
    """What is wrong; `event` (0-based) and `key` say where, for the line."""

    message: str
    event: int | None = None
    key: str | None = None


class InvalidCaseFile(BrokenCaseError):
    """A case document that breaks the schema: `where: message`, the problem kept."""

    def __init__(self, where: str, problem: Problem) -> None:
        super().__init__(f"{where}: {problem.message}")
        self.problem = problem


CONFLICT = re.compile(rb"^(<<<<<<<|=======|>>>>>>>)( |\r?$)", re.MULTILINE)


def conflict_line(data: bytes) -> int | None:
    """The line of the first git conflict marker in a file; None if it has none."""
    found = CONFLICT.search(data)
    return data.count(b"\n", 0, found.start()) + 1 if found else None


def located(where: str, data: bytes | str, problem: Problem) -> str:
    """`where:LINE: message` for a problem in an event; a whole file's, `where: message`."""
    line = line_of(data, problem) if problem.event is not None else None
    return f"{where}:{line}: {problem.message}" if line else f"{where}: {problem.message}"


def problems(document: Any, case_id: str, first: bool = False) -> list[Problem]:
    """Everything wrong with a case document whose file name says `case_id`; with
    `first`, stop at the first problem (reading a case needs no more)."""
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        return [Problem(_("not a case file: expected `id` and a list of `events`"))]
    if document.get("id") != case_id:
        named = document.get("id")
        return [
            Problem(
                _("its id {named!r} does not match its file name ({case})").format(
                    named=named, case=case_id
                ),
                key="id",
            )
        ]
    events = document["events"]
    if not events:
        return [Problem(_("no events: a case file starts with its opening"), key="events")]
    found: list[Problem] = []
    seen: set[str] = set()
    last = None
    for i, event in enumerate(events):
        if event.__class__ is not dict or not _fine(event):
            found += _event_problems(event, i)
            if first and found:
                return found
            if not isinstance(event, dict):
                continue
        event_id, at = event.get("id"), event.get("at")
        if event_id.__class__ is str:
            if event_id in seen:
                found.append(
                    Problem(
                        _("event {n}: id {id} is used twice").format(n=i + 1, id=event_id), i, "id"
                    )
                )
            seen.add(event_id)  # type: ignore[arg-type]
        if at.__class__ is datetime and at.tzinfo is not None:
            if last is None or at >= last:
                last = at
            else:
                found.append(Problem(_backwards(i, at, last), i, "at"))
        if (event.get("type") == "open") != (i == 0):
            found.append(_misplaced_opening(i))
        if first and found:
            return found
    return found


def _backwards(i: int, at: datetime, last: datetime) -> str:
    return _(
        "event {n}: at {at} is earlier than the event before it ({last}); events are in time order"
    ).format(n=i + 1, at=at.isoformat(), last=last.isoformat())


def _misplaced_opening(i: int) -> Problem:
    if i == 0:
        return Problem(_("the first event is not the opening of the case"), 0, "type")
    return Problem(
        _("event {n}: a second opening; a case is opened once").format(n=i + 1), i, "type"
    )


def _event_problems(event: Any, i: int) -> list[Problem]:
    if event.__class__ is dict and _fine(event):
        return []
    if not isinstance(event, dict):
        return [
            Problem(_("event {n}: expected a mapping of id, at, by and type").format(n=i + 1), i)
        ]
    kind = event.get("type")
    if kind not in REQUIRED:
        if "type" not in event:
            return [Problem(_("event {n}: no `type`").format(n=i + 1), i)]
        return [
            Problem(_("event {n}: unknown type {kind!r}").format(n=i + 1, kind=kind), i, "type")
        ]
    where = _("event {n} ({kind})").format(n=i + 1, kind=kind)
    found = [
        Problem(_("{where}: no `{key}`").format(where=where, key=key), i)
        for key in ("id", "at", "by", *REQUIRED[kind], *(["severity"] * _no_severity(event)))
        if key not in event
    ]
    for key, value in event.items():
        wrong = _wrong(kind, key, value)
        if wrong:
            found.append(
                Problem(
                    _("{where}: `{key}` {wrong}, got {value}").format(
                        where=where, key=key, wrong=wrong, value=_shown(value)
                    ),
                    i,
                    key,
                )
            )
    return found


def _no_severity(event: dict[str, Any]) -> bool:
    """An opening without a severity: only a price inquiry may have none."""
    return (
        event.get("type") == "open" and "severity" not in event and event.get("inquiry") != "price"
    )


def _fine(event: dict[str, Any]) -> bool:
    """The fast path: whether an event is valid, at a dictionary look-up or two a key."""
    keys = _MUST.get(event.get("type"))  # type: ignore[arg-type]
    if keys is None or _no_severity(event):
        return False
    for key in keys:
        if key not in event:
            return False
    for key, value in event.items():
        check = _CHECK.get(key)
        if check is None:
            continue
        if check is str:
            if value.__class__ is not str:
                return False
        elif check is _NAME:
            if value.__class__ is not str or not value.strip():
                return False
        elif _wrong(event["type"], key, value) is not None:
            return False
    return True


def _wrong(kind: str, key: Any, value: Any) -> str | None:
    """What a known key's value should be, when it is not that; None when it is fine."""
    if key in _TEXT and not (key == "from" and kind == "severity"):
        if type(value) is not str:
            return _("expected text")
        if key in _NAMES and not value.strip():
            return _("expected text, not empty")
        return None
    if key in ("at", "due", "when"):
        if not isinstance(value, datetime) or value.tzinfo is None:
            return _("expected a time with its offset, such as 2026-11-26T14:05:00+08:00")
        if not _FIRST_YEAR <= value.year < _END_YEAR:
            return _("expected a time from {first} to {last}").format(
                first=_FIRST_YEAR, last=_END_YEAR - 1
            )
        return None
    if key in ("severity", "from"):
        return None if type(value) is int and 1 <= value <= 9 else _("expected a severity, 1 to 9")
    if key == "qty":
        ok = type(value) is int and 1 <= value <= MAX_QTY
        return None if ok else _("expected a quantity from 1 to {most:,}").format(most=MAX_QTY)
    if key == "status":
        return (
            None
            if value in RMA_STATES
            else _("expected one of {known}").format(known=", ".join(RMA_STATES))
        )
    if key == "source":
        return (
            None
            if value in SOURCES
            else _("expected one of {known}").format(known=", ".join(SOURCES))
        )
    if key == "notify":
        ok = isinstance(value, list) and all(type(v) is str for v in value)
        return None if ok else _("expected a list of engineer ids")
    return None


def _shown(value: Any) -> str:
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return _("nothing") if value is None else f"{type(value).__name__} {text}"


# --- where in the file --------------------------------------------------------------


def line_of(data: bytes | str, problem: Problem) -> int | None:
    """The line (1-based) a problem is at: its key's, else its event's; None if unknown.

    Composes the file again, building nodes only (called once a file is found broken).
    """
    try:
        root = yaml.compose(data, Loader=_loader())
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return 1
    if problem.event is None:
        node = _value(root, problem.key) if problem.key else None
        return (node or root).start_mark.line + 1
    events = _value(root, "events")
    if not isinstance(events, yaml.SequenceNode) or problem.event >= len(events.value):
        return None
    event = events.value[problem.event]
    key = _key(event, problem.key) if problem.key else None
    return (key or event).start_mark.line + 1


def node_line(data: bytes | str, path: list[str]) -> int | None:
    """The line of the key at `path` (mapping keys as text, list positions as digits),
    or of the deepest part of it that exists; None if the file has no mapping."""
    try:
        node = yaml.compose(data, Loader=_loader())
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            key = _key(node, part)
            if key is None:
                break
            line, node = key.start_mark.line + 1, _value(node, part)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _loader() -> Any:
    from casectl.yamlio import CSafeLoader

    return CSafeLoader


def _pair(node: Any, name: str) -> tuple[Any, Any]:
    """The (key node, value node) of a mapping node's key `name`; (None, None) if none."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == name:
                return key, value
    return None, None


def _key(node: Any, name: str) -> Any:
    return _pair(node, name)[0]


def _value(node: Any, name: str) -> Any:
    return _pair(node, name)[1]
