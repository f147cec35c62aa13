"""What the report needs of one case: its events and deadlines as plain tuples.

The case index stores them per day (marshal), so a report parses no case file it has
seen before. Nothing here depends on a period: `numbers` judges the facts as of any time.

A deadline's record is the deadline as computed from the events before each step that
changes clocks (an assignment, a reassignment, a severity change, a close, a reopening),
valid from that step until the next one: so the report sees a callback that was missed
and then reassigned, and a reply owed when the case was closed, as they stood then.
"""

from __future__ import annotations

import os
from typing import Any

from casectl import deadlines
from casectl.config import Config
from casectl.model import Case

FORMAT = 8  # of the tuples below and quiet.thin's: a change makes the index compute them again
BOUNDARIES = frozenset({"assign", "reassign", "severity", "close", "reopen"})
FIELDS = {
    "open": ("customer", "contract", "source", "severity", "inquiry"),
    "amend": ("customer", "contract"),  # the opening corrected
    "assign": ("to",),
    "reassign": ("from", "to", "due"),
    "severity": ("from", "severity", "text", "customer_request"),
    "escalate": ("to", "text", "customer_request"),
    "close": ("reason", "text"),
    "reopen": ("text",),
    "rma": ("rma", "part", "qty", "owner"),
    "rma-status": ("rma", "status"),
    "wait-customer": (),
    "wait-parts": (),
    "resume": (),
    "check": ("due",),
    "overdue": ("due",),
    "met-late": ("due",),
    "withdraw": ("withdraws", "to", "text"),  # a sweep's action a step shared late undid
    "onsite-request": ("onsite", "when", "text"),
    "onsite-approve": ("onsite", "engineer", "when", "text"),
    "onsite-deny": ("onsite", "text"),
    "onsite-cancel": ("onsite", "text"),
    "onsite-arrive": ("onsite",),
    "onsite-depart": ("onsite", "text", "solution", "unresolved"),
}
ALERT = ("alert", "text")  # any step that told the manager at once
KINDS = ("callback", "reply", "update", "escalate_senior", "escalate_manager")

Event = tuple[float, str, str, dict[str, Any]]  # (at, type, by, fields)
# (base key, kind, due, met, begin, severity, owner, valid from, valid until or None)
Record = tuple[str, str, float, float | None, float, int, str | None, float, float | None]
Facts = tuple[int, str, tuple[Event, ...], tuple[Record, ...]]  # (FORMAT, id, events, records)


def of(case: Case, cfg: Config) -> Facts:
    """The facts of one case, under the rules of `cfg`."""
    return (FORMAT, case.id, tuple(_events(case)), tuple(_records(case, cfg)))


def _events(case: Case) -> list[Event]:
    found = []
    for e in case.events:
        keep = FIELDS.get(e["type"])
        if e.get("alert"):
            keep = (*(keep or ()), *ALERT)
        if keep is None:
            continue
        fields = {k: _plain(e[k]) for k in keep if e.get(k) is not None}
        found.append((e["at"].timestamp(), e["type"], str(e.get("by", "")), fields))
    return found


def _plain(value: Any) -> Any:
    """A marshal-able value: times as epoch seconds, text as text."""
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return value if isinstance(value, int | float | str) else str(value)


def _records(case: Case, cfg: Config) -> list[Record]:
    events = case.events
    cuts = [i for i, e in enumerate(events) if i and e["type"] in BOUNDARIES]
    anchors = {e["id"]: e["at"].timestamp() for e in events}
    versions: dict[str, list[list[Any]]] = {}
    starts = [0, *cuts]
    for start, end in zip(starts, [*cuts, len(events)], strict=True):
        part = Case(case.id, events[:end])
        valid_from = events[start]["at"].timestamp()
        valid_until = events[end]["at"].timestamp() if end < len(events) else None
        for d in deadlines.compute(part, cfg):
            record = _record(d, part, anchors)
            if record is None:
                continue
            kept = versions.setdefault(record[0], [])
            if kept and kept[-1][:7] == list(record) and kept[-1][8] == valid_from:
                kept[-1][8] = valid_until  # the same deadline through the next step
            else:
                kept.append([*record, valid_from, valid_until])
    return [tuple(v) for found in versions.values() for v in found]  # type: ignore[misc]


def _record(d: deadlines.Deadline, part: Case, anchors: dict[str, float]) -> tuple | None:
    if d.kind == "check" or d.due is None:
        return None
    name, _, anchor = d.key.partition("@")
    name, _, tag = name.partition("/s")
    kind = name.replace("escalation-", "escalate_")
    severity = int(tag) if tag.isdigit() else _severity_at(part, d.met)
    met = d.met.timestamp() if d.met else None
    begin = anchors.get(anchor, d.due.timestamp())
    return (f"{name}@{anchor}", kind, d.due.timestamp(), met, begin, severity, d.owner)


def rules_key(root: str) -> str:
    """A digest of the rules facts depend on: every YAML file at the repository's top
    (severity.yaml, roster.yaml, holiday files) and the facts' format."""
    import hashlib

    digest = hashlib.sha256(str(FORMAT).encode())
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.endswith(".yaml") and os.path.isfile(path):
            with open(path, "rb") as f:
                digest.update(name.encode() + b"\0" + f.read() + b"\0")
    return digest.hexdigest()[:16]


def _severity_at(case: Case, at: Any) -> int:
    """The severity a step made at `at` is judged by (deadlines' rule); unmet: the current."""
    if at is None:
        return case.state.severity
    changes = [e for e in case.events if e["type"] in ("open", "severity") and e["at"] <= at]
    return int(changes[-1]["severity"]) if changes else case.state.severity
