"""A case: an append-only list of events, the state replayed from them, and the steps.

Each step checks the service rules against the replayed state, then appends one
event. Nothing derivable (status, assignee, severity, RMA progress) is stored:
two people's steps are two events, and a merge is the union of both lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from casectl.config import Config, Person
from casectl.errors import RefusedError
from casectl.ids import random_code

# Keys of an event, in the order a file shows them; unknown keys follow in their own order.
EVENT_KEYS = (
    "id",
    "at",
    "by",
    "type",
    "customer",
    "contact",
    "contract",
    "approved_by",
    "source",
    "severity",
    "from",
    "to",
    "rma",
    "part",
    "qty",
    "serial",
    "new_serial",
    "owner",
    "status",
    "deadline",
    "due",
    "notify",
    "reason",
    "text",
)
LOG_TYPES = ("note", "contact", "callback", "onsite", "wait-customer", "wait-parts", "resume")
CONTACTS = frozenset({"callback", "contact", "open-contact"})
RMA_STATES = ("requested", "shipped", "delivered", "installed", "returned", "cancelled")
RMA_DONE = frozenset({"installed", "returned", "cancelled"})
# progress moves forward only; the defective part may be returned after the installation
RMA_NEXT = {
    "requested": ("shipped", "delivered", "installed", "returned", "cancelled"),
    "shipped": ("delivered", "installed", "returned", "cancelled"),
    "delivered": ("installed", "returned", "cancelled"),
    "installed": ("returned",),
    "returned": (),
    "cancelled": (),
}
RMA_ORDER = "requested -> shipped -> delivered -> installed, or returned / cancelled"
MAX_QTY = 10_000


class Rma(NamedTuple):
    id: str
    part: str
    qty: int
    serial: str | None
    owner: str | None
    status: str = "requested"
    new_serial: str | None = None  # the replacement part's


class State:
    """What the events say now (class attributes are the defaults)."""

    status: str = "open"
    severity: int = 0
    customer: str = ""
    contact: str = ""
    contract: str | None = None
    approved_by: str | None = None
    source: str = "phone"
    description: str = ""
    duty: str = ""
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    assignee: str | None = None
    escalation_engineer: str | None = None
    escalated_at: datetime | None = None
    waiting: str | None = None

    def __init__(self) -> None:
        self.rmas: dict[str, Rma] = {}
        self.severity_changes: list[dict[str, Any]] = []


class Case:
    """A case id and its events, in time order; the state is replayed on demand.

    `extra`: the file's top-level keys casectl does not know, written back as they are.
    """

    def __init__(
        self, case_id: str, events: list[dict[str, Any]], extra: dict[str, Any] | None = None
    ) -> None:
        self.id = case_id
        self.events = events
        self.extra = extra or {}
        self._state: State | None = None

    @property
    def state(self) -> State:
        if self._state is None:
            self._state = replay(self.events)
        return self._state

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Insert in time order (after every event at the same instant) and return it.

        Refuses a step dated before the opening, and a close or reopen dated before
        the latest step: replayed in time order, either would rewrite the past.
        """
        at = event["at"]
        if self.events and at < self.events[0]["at"]:
            raise RefusedError(
                f"{at:%Y-%m-%d %H:%M} is before case {self.id} was opened "
                f"({self.events[0]['at']:%Y-%m-%d %H:%M})"
            )
        if event["type"] in ("close", "reopen") and self.events and at < self.events[-1]["at"]:
            raise RefusedError(
                f"a {event['type']} at {at:%Y-%m-%d %H:%M} would come before the latest step "
                f"({self.events[-1]['at']:%Y-%m-%d %H:%M})"
            )
        index = len(self.events)
        while index and self.events[index - 1]["at"] > at:
            index -= 1
        self.events.insert(index, event)
        self._state = None
        return event

    def to_document(self) -> dict[str, Any]:
        return {"id": self.id, "events": [ordered(e) for e in self.events]} | self.extra


_RANK = {key: rank for rank, key in enumerate(EVENT_KEYS)}


def ordered(event: dict[str, Any]) -> dict[str, Any]:
    """The event's keys in EVENT_KEYS order, unknown keys after them in their own order.

    An event whose known keys are in that order already (every event read from a file
    casectl wrote) is kept as it is, keys casectl does not know where they stood.
    """
    last = -1
    for key in event:
        rank = _RANK.get(key, last)
        if rank < last:
            break
        last = rank
    else:
        return dict(event)
    known = {k: event[k] for k in EVENT_KEYS if k in event}
    return known | {k: v for k, v in event.items() if k not in known}


def replay(events: list[dict[str, Any]]) -> State:
    s = State()
    for e in events:
        kind = e["type"]
        if kind == "open":
            s.severity, s.customer, s.contact = e["severity"], e["customer"], e["contact"]
            s.contract, s.approved_by = e.get("contract"), e.get("approved_by")
            s.source, s.description = e.get("source", "phone"), e.get("text", "")
            s.duty, s.opened_at = e["by"], e["at"]
        elif kind in ("assign", "reassign"):
            s.assignee = e["to"]
        elif kind == "severity":
            s.severity_changes.append(e)
            s.severity = e["severity"]
        elif kind == "escalate":
            s.escalation_engineer, s.escalated_at = e["to"], e["at"]
        elif kind in ("wait-customer", "wait-parts"):
            s.waiting = kind
        elif kind == "resume":
            s.waiting = None
        elif kind == "rma":
            s.rmas[e["rma"]] = Rma(
                e["rma"], e["part"], e.get("qty", 1), e.get("serial"), e.get("owner")
            )
        elif kind == "rma-status" and e["rma"] in s.rmas:
            rma = s.rmas[e["rma"]]
            s.rmas[e["rma"]] = rma._replace(
                status=e["status"], new_serial=e.get("new_serial", rma.new_serial)
            )
        elif kind == "close":
            s.status, s.closed_at, s.waiting = "closed", e["at"], None
        elif kind == "reopen":
            s.status, s.closed_at = "open", None
    return s


# --- who may act -------------------------------------------------------------------


def actor(cfg: Config, person_id: str | None) -> Person:
    if not person_id:
        raise RefusedError("who is acting? give --by ID or set CASECTL_USER")
    return _engineer(cfg, person_id)


def _require_role(person: Person, step: str, *roles: str) -> None:
    if not person.has(*roles):
        raise RefusedError(f"{person.id} may not {step}: only {' or '.join(roles)} may")


def _require_owner(case: Case, person: Person, step: str, also: str = "") -> None:
    """The case's engineers and the manager; `also`: who else may, said first."""
    s = case.state
    if person.id not in (s.assignee, s.escalation_engineer) and not person.has("manager"):
        raise RefusedError(
            f"{person.id} may not {step} case {case.id}: only {also}the assigned engineer "
            f"({s.assignee or 'none'}), the escalation engineer "
            f"({s.escalation_engineer or 'none'}) or the manager may"
        )


def _filled(value: str, name: str) -> str:
    if not value.strip():
        raise RefusedError(f"the {name} is empty")
    return value


def _ids(cfg: Config, role: str) -> str:
    return ", ".join(p.id for p in cfg.with_role(role)) or "none in roster.yaml"


def _require_open(case: Case) -> State:
    s = case.state
    if s.status == "closed":
        raise RefusedError(f"case {case.id} is closed; reopen it first")
    return s


def _level(cfg: Config, severity: int) -> None:
    if severity not in cfg.levels:
        known = ", ".join(str(n) for n in sorted(cfg.levels))
        raise RefusedError(f"severity {severity} is not configured; configured: {known}")


def _engineer(cfg: Config, person_id: str) -> Person:
    """The roster's engineer with this id, matched case-blind; else the closest ids."""
    person = cfg.person(person_id)
    if person is None:
        wanted = person_id.casefold()
        person = next((p for p in cfg.people if p.id.casefold() == wanted), None)
    if person is None:
        raise RefusedError(f"{person_id!r} is not in roster.yaml{suggest(cfg, person_id)}")
    return person


def suggest(cfg: Config, person_id: str) -> str:
    """`; did you mean a, b?` with the roster ids closest to a mistyped one, or nothing."""
    import difflib

    ids = {p.id.casefold(): p.id for p in cfg.people}
    close = difflib.get_close_matches(person_id.casefold(), list(ids), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(ids[c] for c in close)}?" if close else ""


def _event(by: Person | str, at: datetime, kind: str, **fields: Any) -> dict[str, Any]:
    who = by if isinstance(by, str) else by.id
    return {"id": random_code(8), "at": at, "by": who, "type": kind} | {
        k: v for k, v in fields.items() if v is not None
    }


def orphan_warnings(case: Case, cfg: Config) -> list[str]:
    """A warning for each of the case's engineers no longer in the roster (a roster change)."""
    s = case.state
    found = []
    for person_id, role, step in (
        (s.assignee, "assigned", "assign"),
        (s.escalation_engineer, "escalated", "escalate"),
    ):
        if s.status == "open" and person_id and cfg.person(person_id) is None:
            found.append(
                f"warning: case {case.id} is {role} to {person_id}, who is no longer in "
                f"roster.yaml; {step} it to someone"
            )
    return found


# --- the steps ---------------------------------------------------------------------


def open_case(
    cfg: Config,
    case_id: str,
    by: Person,
    at: datetime,
    *,
    customer: str,
    contact: str,
    contract: str | None,
    approved_by: str | None,
    severity: int,
    description: str,
    source: str = "phone",
) -> Case:
    _require_role(by, "open a case", "duty", "manager")
    _level(cfg, severity)
    for name, value in (("customer", customer), ("contact", contact), ("description", description)):
        _filled(value, name)
    if contract is None:
        approver = _engineer(cfg, approved_by) if approved_by else None
        if approver is None or not approver.has("manager", "sales-manager"):
            raise RefusedError(
                "a customer without a contract needs --approved-by the manager or a sales manager"
            )
    case = Case(case_id, [])
    case.append(
        _event(
            by,
            at,
            "open",
            customer=customer,
            contact=contact,
            contract=contract,
            approved_by=approved_by,
            source=source,
            severity=severity,
            text=description,
        )
    )
    return case


def assign(case: Case, cfg: Config, by: Person, at: datetime, to: str) -> dict[str, Any]:
    s = _require_open(case)
    _require_role(by, "assign a case", "duty", "manager")
    engineer = _engineer(cfg, to)
    if not engineer.has("first-line", "senior", "manager"):
        raise RefusedError(
            f"{engineer.id} may not be assigned cases: assign names a first-line engineer "
            f"({_ids(cfg, 'first-line')}), a senior engineer ({_ids(cfg, 'senior')}) "
            f"or the manager ({_ids(cfg, 'manager')})"
        )
    if s.assignee == engineer.id:
        raise RefusedError(f"case {case.id} is already assigned to {engineer.id}")
    return case.append(_event(by, at, "assign", **{"from": s.assignee}, to=engineer.id))


def pick_next(cfg: Config, loads: dict[str, int], at: datetime, exclude: str | None) -> Person:
    """The least-loaded first-line engineer on duty; ties go to roster order."""
    on_duty = [p for p in cfg.with_role("first-line") if p.on_duty(at) and p.id != exclude]
    if not on_duty:
        raise RefusedError("no first-line engineer is on duty; assign someone by id")
    return min(on_duty, key=lambda p: loads.get(p.id, 0))


def log(case: Case, by: Person, at: datetime, text: str, kind: str = "note") -> dict[str, Any]:
    """Append a step; a callback by anyone but the case's engineers is recorded as a
    contact (it meets the first reply, not the callback the assignee owes)."""
    s = _require_open(case)
    if kind == "callback" and by.id not in (s.assignee, s.escalation_engineer):
        kind = "contact"
    if kind not in LOG_TYPES:
        raise RefusedError(f"unknown step type {kind!r}; expected one of {', '.join(LOG_TYPES)}")
    if kind == "resume" and s.waiting is None:
        raise RefusedError(f"case {case.id} is not waiting")
    if kind.startswith("wait-") and s.waiting == kind:
        raise RefusedError(f"case {case.id} is already {kind.replace('-', 'ing on ')}")
    if not text.strip():
        raise RefusedError("the text of the step is empty")
    return case.append(_event(by, at, kind, text=text))


def change_severity(
    case: Case, cfg: Config, by: Person, at: datetime, severity: int, reason: str
) -> dict[str, Any]:
    s = _require_open(case)
    _require_owner(case, by, "change the severity of")
    _level(cfg, severity)
    if severity == s.severity:
        raise RefusedError(f"case {case.id} already has severity {severity}")
    _filled(reason, "reason")
    return case.append(
        _event(by, at, "severity", **{"from": s.severity}, severity=severity, text=reason)
    )


def escalate(
    case: Case, cfg: Config, by: Person, at: datetime, to: str, reason: str | None
) -> dict[str, Any]:
    s = _require_open(case)
    _require_role(by, "designate the escalation engineer", "manager")
    engineer = _engineer(cfg, to)
    who = (
        f"escalate --to names a senior engineer ({_ids(cfg, 'senior')}), or the manager "
        f"({_ids(cfg, 'manager')}) for the second escalation"
    )
    if not engineer.has("senior", "manager"):
        raise RefusedError(f"{engineer.id} may not be the escalation engineer: {who}")
    if not engineer.has("senior") and s.escalation_engineer is None:
        raise RefusedError(
            f"case {case.id} is not escalated yet, so the manager may not be named: {who}"
        )
    if s.escalation_engineer == engineer.id:
        raise RefusedError(f"case {case.id} is already escalated to {engineer.id}")
    if reason is not None:
        _filled(reason, "reason")
    return case.append(_event(by, at, "escalate", to=engineer.id, text=reason))


def rma_request(
    case: Case,
    cfg: Config,
    by: Person,
    at: datetime,
    *,
    part: str,
    qty: int,
    serial: str | None,
    owner: str | None,
) -> dict[str, Any]:
    s = _require_open(case)
    _require_owner(case, by, "record an RMA for")
    _filled(part, "part number")
    if not 1 <= qty <= MAX_QTY:
        raise RefusedError(f"the quantity must be from 1 to {MAX_QTY:,}, got {qty}")
    owner_id = _engineer(cfg, owner).id if owner else by.id
    rma_id = "RMA-" + random_code(4)
    while rma_id in s.rmas:
        rma_id = "RMA-" + random_code(4)
    return case.append(
        _event(
            by,
            at,
            "rma",
            rma=rma_id,
            part=part,
            qty=qty,
            serial=serial,
            owner=owner_id,
            status="requested",
        )
    )


def rma_progress(
    case: Case, by: Person, at: datetime, rma_id: str, status: str, new_serial: str | None = None
) -> dict[str, Any]:
    """An RMA's next status (forward only), with the replacement part's serial if given."""
    s = _require_open(case)
    rma = s.rmas.get(rma_id.upper())
    if rma is None:
        known = ", ".join(s.rmas) or "none"
        raise RefusedError(f"case {case.id} has no {rma_id}; its RMAs: {known}")
    if by.id != rma.owner:
        _require_owner(case, by, f"update {rma.id} of", f"the RMA's owner ({rma.owner}), ")
    if status not in RMA_STATES:
        raise RefusedError(
            f"unknown RMA status {status!r}; expected one of {', '.join(RMA_STATES)}"
        )
    if new_serial is not None:
        _filled(new_serial, "new serial")
    if status == rma.status and new_serial in (None, rma.new_serial):
        raise RefusedError(f"{rma.id} is already {status}")
    if status != rma.status and status not in RMA_NEXT[rma.status]:
        raise RefusedError(f"{rma.id} is {rma.status} and cannot go back to {status} ({RMA_ORDER})")
    return case.append(
        _event(by, at, "rma-status", rma=rma.id, new_serial=new_serial, status=status)
    )


def close(
    case: Case, by: Person, at: datetime, resolution: str, force_reason: str | None
) -> dict[str, Any]:
    s = _require_open(case)
    _require_owner(case, by, "close")
    _filled(resolution, "resolution")
    if force_reason is not None:
        _filled(force_reason, "reason")
    pending = [r for r in s.rmas.values() if r.status not in RMA_DONE]
    if pending and force_reason is None:
        which = ", ".join(f"{r.id} ({r.part}) is {r.status}" for r in pending)
        raise RefusedError(
            f"{which}{':' if len(pending) > 1 else ','} not installed or returned; "
            "close with --force --reason TEXT"
        )
    return case.append(_event(by, at, "close", reason=force_reason, text=resolution))


def reopen(case: Case, by: Person, at: datetime, reason: str) -> dict[str, Any]:
    s = case.state
    if s.status != "closed":
        raise RefusedError(f"case {case.id} is open")
    own = [p for p in dict.fromkeys((s.duty, s.assignee, s.escalation_engineer)) if p]
    if by.id not in own and not by.has("manager", "duty"):
        raise RefusedError(
            f"{by.id} may not reopen case {case.id}: only a duty engineer, the manager, or the "
            f"case's own engineers ({', '.join(own)}) may"
        )
    _filled(reason, "reason")
    return case.append(_event(by, at, "reopen", text=reason))
