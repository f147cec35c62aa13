"""A case: an append-only list of events, the state replayed from them, and the steps.

Each step checks the service rules against the replayed state, then appends one
event. Nothing derivable (status, assignee, severity, RMA progress) is stored:
two people's steps are two events, and a merge is the union of both lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl.config import Config, Person
from casectl.errors import RefusedError
from casectl.i18n import N_, _
from casectl.ids import random_code
from casectl.names import rma_status, roles_or, stage
from casectl.records import Record

# Keys of an event, in the order a file shows them; unknown keys follow in their own order.
EVENT_KEYS = (
    "id",
    "at",
    "by",
    "entered_by",
    "type",
    "customer",
    "contact",
    "contract",
    "description",
    "inquiry",
    "approved_by",
    "source",
    "severity",
    "from",
    "to",
    "onsite",
    "engineer",
    "when",
    "rma",
    "part",
    "parts",
    "qty",
    "serial",
    "new_serial",
    "owner",
    "status",
    "deadline",
    "withdraws",
    "due",
    "notify",
    "customer_request",
    "alert",
    "reason",
    "text",
    "solution",
    "unresolved",
    "teller",
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
RMA_ORDER = N_("requested -> shipped -> delivered -> installed, or returned / cancelled")
MAX_QTY = 10_000
INQUIRIES = ("price", "technical")  # what a caller without a contract asks about
NO_SEVERITY = 0  # a price inquiry's: severity.yaml numbers its levels from 1


class Rma(Record):
    id: str
    part: str
    qty: int
    serial: str | None
    owner: str | None
    status: str = "requested"
    new_serial: str | None = None  # the replacement part's


class Visit(Record):
    """A request for on-site service, the manager's decision, and the visit it leads to."""

    id: str  # OS-XXXX
    requested_by: str
    requested_at: datetime
    reason: str
    planned: datetime | None = None
    status: str = "pending"  # pending, approved, denied, cancelled; approved: on site, done
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision: str | None = None  # the manager's reason
    engineer: str | None = None  # who goes: a field engineer or the requester
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    work: tuple[dict[str, Any], ...] = ()  # the `onsite-work` events
    solved: str | None = None
    solution: str | None = None
    unresolved: str | None = None
    cancelled_by: str | None = None  # a request or approved visit called off before arrival
    cancelled_at: datetime | None = None
    cancellation: str | None = None  # why

    @property
    def stage(self) -> str:
        """pending, denied, cancelled, approved (not on site yet), on site, done."""
        if self.status != "approved":
            return self.status
        return "done" if self.departed_at else "on site" if self.arrived_at else "approved"


class Amendment(Record):
    """An `amend` event and the values it replaced, by field (customer, contact...)."""

    event: dict[str, Any]
    before: dict[str, str | None]


AMENDABLE = ("customer", "contact", "contract", "description")  # what `amend` corrects


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
    inquiry: str | None = None  # price or technical: a caller without a contract
    resolution: str | None = None  # the latest close's, while closed
    forced_close: str | None = None  # why it was closed with RMAs not done (--force)
    approval: str | None = None  # "needed": opened by the intake without a valid contract

    def __init__(self) -> None:
        self.rmas: dict[str, Rma] = {}
        self.severity_changes: list[dict[str, Any]] = []
        self.visits: dict[str, Visit] = {}  # on-site requests and their visits, by id
        self.customer_requests: list[dict[str, Any]] = []  # severity/escalate steps asked for
        self.alerts: list[dict[str, Any]] = []  # steps that told the manager at once
        self.amendments: list[Amendment] = []  # corrections of the opening, in order
        self.escalations: list[dict[str, Any]] = []  # every one: each engineer keeps the case

    @property
    def escalation_engineers(self) -> tuple[str, ...]:
        """Everyone the case was escalated to, first first: the senior keeps the case's work
        when the manager joins."""
        return tuple(dict.fromkeys(e["to"] for e in self.escalations))

    @property
    def engineers(self) -> tuple[str, ...]:
        """The case's own engineers: the assignee and every escalation engineer."""
        return tuple(p for p in dict.fromkeys((self.assignee, *self.escalation_engineers)) if p)


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
                _("{at} is before case {case} was opened ({opened})").format(
                    at=f"{at:%Y-%m-%d %H:%M}", case=self.id,
                    opened=f"{self.events[0]['at']:%Y-%m-%d %H:%M}")
            )  # fmt: skip
        if event["type"] in ("close", "reopen") and self.events and at < self.events[-1]["at"]:
            raise RefusedError(
                _("a {step} at {at} would come before the latest step ({latest})").format(
                    step=event["type"], at=f"{at:%Y-%m-%d %H:%M}",
                    latest=f"{self.events[-1]['at']:%Y-%m-%d %H:%M}")
            )  # fmt: skip
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
            s.severity, s.inquiry = e.get("severity", NO_SEVERITY), e.get("inquiry")
            s.customer, s.contact = e["customer"], e["contact"]
            s.contract, s.approved_by = e.get("contract"), e.get("approved_by")
            s.source, s.description = e.get("source", "phone"), e.get("text", "")
            s.duty, s.opened_at = e.get("duty", e["by"]), e["at"]
            s.approval = e.get("approval")
        elif kind in ("assign", "reassign") or (kind == "withdraw" and e.get("to")):
            s.assignee = e["to"]
        elif kind == "severity":
            s.severity_changes.append(e)
            s.severity = e["severity"]
        elif kind == "escalate":
            s.escalations.append(e)
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
            s.resolution, s.forced_close = e.get("text"), e.get("reason")
        elif kind == "reopen":
            s.status, s.closed_at, s.resolution, s.forced_close = "open", None, None, None
        elif kind == "approve":
            s.approval, s.approved_by = None, e["by"]
        elif kind.startswith("onsite-"):
            _replay_visit(s.visits, e)
        elif kind == "amend":
            before = {k: getattr(s, k) for k in AMENDABLE if k in e}
            for key in before:
                setattr(s, key, e[key])
            s.amendments.append(Amendment(e, before))
        if e.get("customer_request") and kind in ("severity", "escalate"):
            s.customer_requests.append(e)
        if e.get("alert"):
            s.alerts.append(e)
    return s


def _replay_visit(visits: dict[str, Visit], e: dict[str, Any]) -> None:
    """An `onsite-*` event folded into the case's visits. The steps that record these
    are `onsite`'s; the folding stays with `replay` (`onsite` imports this module)."""
    kind, visit = e["type"], visits.get(e.get("onsite", ""))
    if kind == "onsite-request":
        visits[e["onsite"]] = Visit(e["onsite"], e["by"], e["at"], e.get("text", ""), e.get("when"))
    elif visit is None:
        return
    elif kind == "onsite-approve":
        visits[visit.id] = visit._replace(
            status="approved", decided_by=e["by"], decided_at=e["at"], decision=e.get("text"),
            engineer=e.get("engineer", visit.requested_by), planned=e.get("when", visit.planned),
        )  # fmt: skip
    elif kind == "onsite-deny":
        visits[visit.id] = visit._replace(
            status="denied", decided_by=e["by"], decided_at=e["at"], decision=e.get("text")
        )
    elif kind == "onsite-cancel":
        visits[visit.id] = visit._replace(
            status="cancelled", cancelled_by=e["by"], cancelled_at=e["at"],
            cancellation=e.get("text"),
        )  # fmt: skip
    elif kind == "onsite-arrive":
        visits[visit.id] = visit._replace(arrived_at=e["at"])
    elif kind == "onsite-work":
        visits[visit.id] = visit._replace(work=(*visit.work, e))
    elif kind == "onsite-depart":
        visits[visit.id] = visit._replace(
            departed_at=e["at"], solved=e.get("text"), solution=e.get("solution"),
            unresolved=e.get("unresolved"),
        )  # fmt: skip


# --- who may act -------------------------------------------------------------------


def actor(cfg: Config, person_id: str | None) -> Person:
    if not person_id:
        raise RefusedError(_("who is acting? give --by ID or set CASECTL_USER"))
    return roster_person(cfg, person_id)


def require_role(person: Person, step: str, *roles: str) -> None:
    if not person.has(*roles):
        raise RefusedError(
            _("{person} may not {step}: only {roles} may").format(
                person=person.id, step=_(step), roles=roles_or(roles))
        )  # fmt: skip


def _require_owner(case: Case, person: Person, step: str, rma: Any = None) -> None:
    """The case's engineers and the manager (and `rma`'s owner): `step`, marked with N_(),
    names the case as {case} (and the RMA as {rma}) and is translated here."""
    s = case.state
    if person.id not in s.engineers and not person.has("manager"):
        said = (
            _(
                "{person} may not {step}: only the RMA's owner ({owner}), the assigned engineer "
                "({assignee}), the escalation engineer ({escalation}) or the manager may"
            )
            if rma is not None
            else _(
                "{person} may not {step}: only the assigned engineer ({assignee}), the "
                "escalation engineer ({escalation}) or the manager may"
            )
        )
        raise RefusedError(
            said.format(
                person=person.id, step=_(step).format(case=case.id, rma=rma and rma.id),
                owner=rma and rma.owner, assignee=s.assignee or _("none"),
                escalation=escalated(s))
        )  # fmt: skip


def escalated(s: State) -> str:
    """The escalation engineers as messages name them: `a, b`, or none."""
    return ", ".join(s.escalation_engineers) or _("none")


def filled(value: str, name: str) -> str:
    if not value.strip():
        raise RefusedError(_("the {name} is empty").format(name=_(name)))
    return value


def ids_with_role(cfg: Config, role: str) -> str:
    return ", ".join(p.id for p in cfg.with_role(role)) or _("none in roster.yaml")


def require_open(case: Case) -> State:
    s = case.state
    if s.status == "closed":
        raise RefusedError(_("case {case} is closed; reopen it first").format(case=case.id))
    return s


def require_engineering(case: Case, step: str) -> None:
    """A price inquiry is sales' business: no engineer, severity, escalation, RMA or visit.

    Here, not in `inquiries`, which holds the rest of the inquiry rules: the core steps
    below refuse with it, and `inquiries` imports this module (a cycle otherwise)."""
    if case.state.inquiry == "price":
        raise RefusedError(
            _("case {case} is a price inquiry for sales and cannot be {step}; a caller with a "
              "technical question needs open --inquiry technical --approved-by ID").format(
                case=case.id, step=_(step))
        )  # fmt: skip


def _level(cfg: Config, severity: int) -> None:
    if severity not in cfg.levels:
        known = ", ".join(str(n) for n in sorted(cfg.levels))
        raise RefusedError(
            _("severity {severity} is not configured; configured: {known}").format(
                severity=severity, known=known)
        )  # fmt: skip


def roster_person(cfg: Config, person_id: str) -> Person:
    """The roster's engineer with this id, matched case-blind; else the closest ids."""
    person = cfg.person(person_id)
    if person is None:
        wanted = person_id.casefold()
        person = next((p for p in cfg.people if p.id.casefold() == wanted), None)
    if person is None:
        raise RefusedError(
            _("{typed!r} is not in roster.yaml{suggestion}").format(
                typed=person_id, suggestion=suggest(cfg, person_id))
        )  # fmt: skip
    return person


def suggest(cfg: Config, person_id: str) -> str:
    """`; did you mean a, b?` with the roster ids closest to a mistyped one, or nothing."""
    import difflib

    ids = {p.id.casefold(): p.id for p in cfg.people}
    close = difflib.get_close_matches(person_id.casefold(), list(ids), n=3, cutoff=0.6)
    if not close:
        return ""
    return _("; did you mean {ids}?").format(ids=", ".join(ids[c] for c in close))


def new_event(by: Person | str, at: datetime, kind: str, **fields: Any) -> dict[str, Any]:
    who = by if isinstance(by, str) else by.id
    return {"id": random_code(8), "at": at, "by": who, "type": kind} | {
        k: v for k, v in fields.items() if v is not None
    }


def orphan_warnings(case: Case, cfg: Config) -> list[str]:
    """A warning for each of the case's engineers no longer in the roster (a roster change)."""
    s = case.state
    found = []
    for person_id, said in (
        (
            s.assignee,
            _(
                "warning: case {case} is assigned to {person}, who is no longer in "
                "roster.yaml; assign it to someone"
            ),
        ),
        *(
            (
                p,
                _(
                    "warning: case {case} is escalated to {person}, who is no longer in "
                    "roster.yaml; escalate it to someone"
                ),
            )
            for p in s.escalation_engineers
        ),
    ):
        if s.status == "open" and person_id and cfg.person(person_id) is None:
            found.append(said.format(case=case.id, person=person_id))
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
    inquiry: str | None = None,
) -> Case:
    """Open a case; `inquiry`: technical, a caller without a contract asking an engineer
    (approved like any such customer), which then runs as a normal case."""
    require_role(by, N_("open a case"), "duty", "manager")
    _level(cfg, severity)
    for name, value in (
        (N_("customer"), customer),
        (N_("contact"), contact),
        (N_("description"), description),
    ):
        filled(value, name)
    if contract is None:
        approver = roster_person(cfg, approved_by) if approved_by else None
        if approver is None or not approver.has("manager", "sales-manager"):
            raise RefusedError(
                _("a customer without a contract needs --approved-by the manager or a sales "
                  "manager")
            )  # fmt: skip
    case = Case(case_id, [])
    case.append(
        new_event(
            by,
            at,
            "open",
            customer=customer,
            contact=contact,
            contract=contract,
            inquiry=inquiry,
            approved_by=approved_by,
            source=source,
            severity=severity,
            text=description,
        )
    )
    return case


def off_duty_opening(cfg: Config, by: Person, at: datetime) -> str | None:
    """A duty engineer opening a case outside her duty_hours: refused where severity.yaml
    says `off_duty_open: refuse`, else the warning to print (the case's checks then go to
    whoever is on duty when each falls due: `checker`)."""
    if by.on_duty(at) or not by.has("duty") or by.has("manager"):
        return None
    local = f"{at.astimezone(cfg.zone):%Y-%m-%d %H:%M}"
    on_duty = ", ".join(p.id for p in cfg.with_role("duty") if p.on_duty(at)) or _("nobody")
    if cfg.off_duty_open == "refuse":
        raise RefusedError(
            _("{person} is off duty at {at} and severity.yaml says off_duty_open: refuse; a "
              "duty engineer on duty ({on_duty}) opens the case").format(
                person=by.id, at=local, on_duty=on_duty)
        )  # fmt: skip
    return _(
        "warning: {person} is off duty at {at}; the case's checks go to the duty engineer on "
        "duty when each falls due ({on_duty} now)"
    ).format(person=by.id, at=local, on_duty=on_duty)


def checker(cfg: Config, duty: str, at: datetime) -> str:
    """Who checks on a case at `at`: the duty engineer who opened it if on duty then, else
    the first duty engineer in roster order on duty then; nobody: the manager."""
    person = cfg.person(duty)
    if person is not None and person.on_duty(at):
        return duty
    on_duty = next((p for p in cfg.with_role("duty") if p.on_duty(at)), None)
    return (on_duty or cfg.manager).id


def assign(case: Case, cfg: Config, by: Person, at: datetime, to: str) -> dict[str, Any]:
    s = require_open(case)
    require_engineering(case, N_("assigned to an engineer"))
    require_role(by, N_("assign a case"), "duty", "manager")
    engineer = roster_person(cfg, to)
    if not engineer.has("first-line", "senior", "manager"):
        raise RefusedError(
            _("{engineer} may not be assigned cases: assign names a first-line engineer "
              "({first_line}), a senior engineer ({senior}) or the manager ({manager})").format(
                engineer=engineer.id, first_line=ids_with_role(cfg, "first-line"),
                senior=ids_with_role(cfg, "senior"), manager=ids_with_role(cfg, "manager"))
        )  # fmt: skip
    if s.assignee == engineer.id:
        raise RefusedError(
            _("case {case} is already assigned to {engineer}").format(
                case=case.id, engineer=engineer.id)
        )  # fmt: skip
    return case.append(new_event(by, at, "assign", **{"from": s.assignee}, to=engineer.id))


def pick_next(cfg: Config, loads: dict[str, int], at: datetime, exclude: str | None) -> Person:
    """The least-loaded first-line engineer on duty; ties go to roster order."""
    on_duty = [p for p in cfg.with_role("first-line") if p.on_duty(at) and p.id != exclude]
    if not on_duty:
        raise RefusedError(_("no first-line engineer is on duty; assign someone by id"))
    return min(on_duty, key=lambda p: loads.get(p.id, 0))


def _engineers_at(case: Case, at: datetime) -> tuple[str, ...]:
    """The case's engineers when a step at `at` happened (a step typed late, or shared
    late, is judged by who held the case then)."""
    return replay([e for e in case.events if e["at"] <= at]).engineers


def _require_on_case(case: Case, by: Person) -> None:
    s = case.state
    on_case: set[str | None] = {s.duty, *s.engineers}
    on_case |= {v.engineer for v in s.visits.values() if v.status == "approved"}
    on_case |= {r.owner for r in s.rmas.values()}
    if by.id not in on_case and not by.has("duty", "manager"):
        shown = ", ".join(sorted(p for p in on_case if p))
        raise RefusedError(
            _("{person} may not alert the manager about case {case}: only people on the case "
              "({shown}), a duty engineer or the manager may").format(
                person=by.id, case=case.id, shown=shown)
        )  # fmt: skip


def log(
    case: Case, by: Person, at: datetime, text: str, kind: str = "note", alert: bool = False
) -> dict[str, Any]:
    """Append a step; a callback by anyone but the case's engineers is recorded as a
    contact (it meets the first reply, not the callback the assignee owes). An on-site
    step needs a visit the manager approved; `alert`: a special situation, which the
    next sweep tells the manager once (anyone on the case, a duty engineer, a manager)."""
    s = require_open(case)
    if alert:
        _require_on_case(case, by)
    if kind == "callback" and by.id not in _engineers_at(case, at):
        kind = "contact"
    if kind not in LOG_TYPES:
        raise RefusedError(
            _("unknown step type {kind!r}; expected one of {known}").format(
                kind=kind, known=", ".join(LOG_TYPES))
        )  # fmt: skip
    if kind == "onsite" and not any(v.stage in ("approved", "on site") for v in s.visits.values()):
        raise RefusedError(
            _("case {case} has no approved on-site visit under way; ask the manager first: "
              "casectl onsite {case} --request --reason TEXT").format(case=case.id)
        )  # fmt: skip
    if kind == "resume" and s.waiting is None:
        raise RefusedError(_("case {case} is not waiting").format(case=case.id))
    if kind.startswith("wait-") and s.waiting == kind:
        already = {"wait-customer": N_("case {case} is already waiting on customer"),
                   "wait-parts": N_("case {case} is already waiting on parts")}  # fmt: skip
        raise RefusedError(_(already[kind]).format(case=case.id))
    if not text.strip():
        raise RefusedError(_("the text of the step is empty"))
    return case.append(new_event(by, at, kind, alert="manager" if alert else None, text=text))


def change_severity(
    case: Case,
    cfg: Config,
    by: Person,
    at: datetime,
    severity: int,
    reason: str,
    customer_request: bool = False,
) -> dict[str, Any]:
    """`customer_request`: the customer asked the manager directly; only the manager says so."""
    s = require_open(case)
    require_engineering(case, N_("given a severity"))
    if customer_request:
        require_role(by, N_("record a customer's request"), "manager")
    _require_owner(case, by, N_("change the severity of case {case}"))
    _level(cfg, severity)
    if severity == s.severity:
        raise RefusedError(
            _("case {case} already has severity {severity}").format(case=case.id, severity=severity)
        )
    filled(reason, N_("reason"))
    asked = True if customer_request else None
    return case.append(
        new_event(by, at, "severity", **{"from": s.severity}, severity=severity,
               customer_request=asked, text=reason)
    )  # fmt: skip


def escalate(
    case: Case,
    cfg: Config,
    by: Person,
    at: datetime,
    to: str,
    reason: str | None,
    customer_request: bool = False,
) -> dict[str, Any]:
    """`customer_request`: the customer asked the manager directly (the manager acts anyway)."""
    s = require_open(case)
    require_engineering(case, N_("escalated"))
    require_role(by, N_("designate the escalation engineer"), "manager")
    engineer = roster_person(cfg, to)
    who = _(
        "escalate --to names a senior engineer ({senior}), or the manager ({manager}) for "
        "the second escalation"
    ).format(senior=ids_with_role(cfg, "senior"), manager=ids_with_role(cfg, "manager"))
    if not engineer.has("senior", "manager"):
        raise RefusedError(
            _("{engineer} may not be the escalation engineer: {who}").format(
                engineer=engineer.id, who=who)
        )  # fmt: skip
    if not engineer.has("senior") and s.escalation_engineer is None:
        raise RefusedError(
            _("case {case} is not escalated yet, so the manager may not be named: {who}").format(
                case=case.id, who=who)
        )  # fmt: skip
    if engineer.id in s.escalation_engineers:
        raise RefusedError(
            _("case {case} is already escalated to {engineer}").format(
                case=case.id, engineer=engineer.id)
        )  # fmt: skip
    if reason is not None:
        filled(reason, N_("reason"))
    asked = True if customer_request else None
    return case.append(
        new_event(by, at, "escalate", to=engineer.id, customer_request=asked, text=reason)
    )


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
    s = require_open(case)
    require_engineering(case, N_("given an RMA"))
    _require_owner(case, by, N_("record an RMA for case {case}"))
    filled(part, N_("part number"))
    if not 1 <= qty <= MAX_QTY:
        raise RefusedError(
            _("the quantity must be from 1 to {most}, got {qty}").format(
                most=f"{MAX_QTY:,}", qty=qty)
        )  # fmt: skip
    owner_id = roster_person(cfg, owner).id if owner else by.id
    rma_id = "RMA-" + random_code(4)
    while rma_id in s.rmas:
        rma_id = "RMA-" + random_code(4)
    return case.append(
        new_event(
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
    """An RMA's next status (forward only), with the replacement part's serial if given; also
    on a closed case (the defective part comes back days after the close), which stays
    closed with no clock restarted."""
    s = case.state
    require_engineering(case, N_("given an RMA"))
    rma = s.rmas.get(rma_id.upper())
    if rma is None:
        known = ", ".join(s.rmas) or _("none")
        raise RefusedError(
            _("case {case} has no {rma}; its RMAs: {known}").format(
                case=case.id, rma=rma_id, known=known)
        )  # fmt: skip
    if by.id != rma.owner:
        _require_owner(case, by, N_("update {rma} of case {case}"), rma)
    if status not in RMA_STATES:
        raise RefusedError(
            _("unknown RMA status {status!r}; expected one of {known}").format(
                status=status, known=", ".join(RMA_STATES))
        )  # fmt: skip
    if new_serial is not None:
        filled(new_serial, N_("new serial"))
    if status == rma.status and new_serial in (None, rma.new_serial):
        raise RefusedError(
            _("{rma} is already {status}").format(rma=rma.id, status=rma_status(status))
        )
    if status != rma.status and status not in RMA_NEXT[rma.status]:
        raise RefusedError(
            _("{rma} is {status} and cannot go back to {wanted} ({order})").format(
                rma=rma.id, status=rma_status(rma.status), wanted=rma_status(status),
                order=_(RMA_ORDER))
        )  # fmt: skip
    return case.append(
        new_event(by, at, "rma-status", rma=rma.id, new_serial=new_serial, status=status)
    )


def close(
    case: Case, by: Person, at: datetime, resolution: str, force_reason: str | None
) -> dict[str, Any]:
    s = require_open(case)
    _require_owner(case, by, N_("close case {case}"))
    filled(resolution, N_("resolution"))
    if force_reason is not None:
        filled(force_reason, N_("reason"))
    _no_visit_under_way(case)
    pending = [r for r in s.rmas.values() if r.status not in RMA_DONE]
    if pending and force_reason is None:
        which = ", ".join(
            _("{rma} ({part}) is {status}").format(
                rma=r.id, part=r.part, status=rma_status(r.status)
            )
            for r in pending
        )
        said = (
            _("{rmas}: not installed or returned; close with --force --reason TEXT")
            if len(pending) > 1
            else _("{rmas}, not installed or returned; close with --force --reason TEXT")
        )
        raise RefusedError(said.format(rmas=which))  # fmt: skip
    return case.append(new_event(by, at, "close", reason=force_reason, text=resolution))


def _no_visit_under_way(case: Case) -> None:
    """A close leaves no on-site request or visit behind: it is cancelled, or the engineer
    records leaving the site, first (a closed case could never do either). A rule of
    `close`'s, so here, not in `onsite` (which imports this module)."""
    busy = [v for v in case.state.visits.values() if v.stage in ("pending", "approved")]
    if busy:
        raise RefusedError(
            _("case {case} has on-site request {visit}, {stage}: cancel it first (casectl "
              "onsite {case} --cancel --reason TEXT), then close").format(
                case=case.id, visit=busy[0].id, stage=stage(busy[0].stage))
        )  # fmt: skip
    there = [v for v in case.state.visits.values() if v.stage == "on site"]
    if there:
        raise RefusedError(
            _("{engineer} is on site for {visit} of case {case}: record the departure first "
              "(casectl onsite {case} --depart), then close").format(
                engineer=there[0].engineer, visit=there[0].id, case=case.id)
        )  # fmt: skip


def reopen(case: Case, by: Person, at: datetime, reason: str) -> dict[str, Any]:
    s = case.state
    if s.status != "closed":
        raise RefusedError(_("case {case} is open").format(case=case.id))
    own = [p for p in dict.fromkeys((s.duty, *s.engineers)) if p]
    if by.id not in own and not by.has("manager", "duty"):
        raise RefusedError(
            _("{person} may not reopen case {case}: only a duty engineer, the manager, or the "
              "case's own engineers ({own}) may").format(
                person=by.id, case=case.id, own=", ".join(own))
        )  # fmt: skip
    filled(reason, N_("reason"))
    return case.append(new_event(by, at, "reopen", text=reason))


AMENDED = {"customer": N_("customer"), "contact": N_("contact"), "contract": N_("contract"),
           "description": N_("description")}  # fmt: skip


def amend(
    case: Case, by: Person, at: datetime, changes: dict[str, str | None], reason: str
) -> dict[str, Any]:
    """Correct the opening's customer, contact, contract or description, as an event
    (the opening itself never changes: every clone holds it as it was recorded). Who
    may: a duty engineer (who takes the intake), the manager, or the case's engineers
    (who hear the customer); open or closed, so a report is corrected too. Only the
    fields that change are recorded; a correction that changes nothing is refused."""
    s = case.state
    own = [p for p in dict.fromkeys((s.assignee, s.escalation_engineer)) if p]
    if by.id not in own and not by.has("duty", "manager"):
        raise RefusedError(
            _("{person} may not amend case {case}: only a duty engineer, the manager, or the "
              "case's engineers ({own}) may").format(
                person=by.id, case=case.id, own=", ".join(own) or _("none"))
        )  # fmt: skip
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        raise RefusedError(
            _("nothing to amend: give --customer, --contact, --contract or --description")
        )
    for key, value in given.items():
        filled(value or "", AMENDED[key])
    filled(reason, N_("reason"))
    changed = {k: v for k, v in given.items() if v != getattr(s, k)}
    if not changed:
        raise RefusedError(
            _("case {case} already has these values; nothing to amend").format(case=case.id)
        )
    return case.append(new_event(by, at, "amend", **changed, text=reason))


# --- what the sweep tells the manager beyond deadlines ---------------------------------
# (the sweep, `notify` and the index read these here)


class Notice(Record):
    """Something the sweep tells once that is no deadline of the case."""

    kind: str  # onsite_pending, manager_alert, withdraw
    key: str  # the sweep records each key once
    due: datetime
    label: str
    to: str | None = None  # a withdrawn reassignment: who keeps the case


def notices(case: Case, cfg: Config) -> list[Notice]:
    """What the sweep has yet to tell the manager, with when it falls due: each on-site
    request still waiting at its severity's `onsite_approval` limit, and each alert."""
    s = case.state
    if s.status != "open":
        return []
    told = {e["deadline"] for e in case.events if "deadline" in e}
    found = []
    level = cfg.levels.get(s.severity)
    for v in s.visits.values():
        if v.status == "pending" and level is not None:
            due = level.calendar.add(v.requested_at, level.onsite_approval)
            label = f"on-site request {v.id} by {v.requested_by} awaits approval"
            found.append(Notice("onsite_pending", f"onsite-pending@{v.id}", due, label))
    for e in s.alerts:
        text = e.get("text", "").strip().splitlines()
        label = f"alert from {e['by']}: {text[0] if text else ''}"
        found.append(Notice("manager_alert", f"alert@{e['id']}", e["at"], label))
    return [n for n in needless(case, cfg) + found if n.key not in told]


def needless(case: Case, cfg: Config) -> list[Notice]:
    """The sweep's actions that a step typed or shared late shows were needless, each to
    be withdrawn once: a reassignment after the engineer had in fact called back before
    the sweep acted (with every reassignment that followed from it), and a missed reply,
    update or escalation reported after the step that met it was made."""
    events = case.events
    withdrawn = {e["withdraws"] for e in events if e["type"] == "withdraw"}
    found: list[Notice] = []
    anchor, caller = 0, None  # the callback clock's start; who in fact called back
    for i, e in enumerate(events):
        kind = e["type"]
        if kind in ("open", "reopen", "assign"):
            anchor, caller = i, None
        elif kind == "reassign" and e["id"] not in withdrawn:
            called = caller or next(
                (c for c in events[anchor:i] if c["type"] in CONTACTS and c["by"] == e["from"]),
                None,
            )
            if called is None:
                anchor = i
                continue
            caller = called
            label = (f"no action: {called['by']} called back at {called['at']:%Y-%m-%d %H:%M}; "
                     f"the reassignment to {e['to']} is withdrawn")  # fmt: skip
            found.append(Notice("withdraw", f"withdraw@{e['id']}", called["at"], label,
                                called["by"]))  # fmt: skip
        elif kind == "overdue" and e["id"] not in withdrawn:
            met = _met_before(events, e, cfg)
            if met is not None:
                what = str(e["deadline"]).split("@")[0].split("/")[0]
                label = f"no action: {what} was met at {met['at']:%Y-%m-%d %H:%M}, before the sweep"
                found.append(Notice("withdraw", f"withdraw@{e['id']}", met["at"], label))
    return found


def _met_before(
    events: list[dict[str, Any]], overdue: dict[str, Any], cfg: Config
) -> dict[str, Any] | None:
    """The step that met the deadline an `overdue` reported, made before the sweep acted."""
    name, _sep, anchor_id = str(overdue["deadline"]).partition("@")
    name = name.split("/")[0]
    anchor = next((e for e in events if e["id"] == anchor_id), None)
    if anchor is None:
        return None
    for e in events:
        if not anchor["at"] <= e["at"] < overdue["at"]:
            continue
        if name in ("reply", "update") and e["type"] in CONTACTS and e["id"] != anchor_id:
            return e
        if name == "escalation-senior" and e["type"] == "escalate":
            return e
        if name == "escalation-manager" and e["type"] == "escalate" and e["to"] in cfg.managers:
            return e
    return None
