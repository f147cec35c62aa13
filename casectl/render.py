"""Everything casectl prints: text for people (tabulate, imported only here) and JSON.

Renderers return strings; only the CLI prints them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from casectl import said
from casectl.config import Config
from casectl.deadlines import Deadline
from casectl.i18n import N_, Nc_, _, pgettext
from casectl.model import EVENT_KEYS, Amendment, Case, State, Visit
from casectl.names import rma_status, role
from casectl.terminal import columns, pad


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "-"


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def to_json(document: Any) -> str:
    import json  # only --json pays for it

    return json.dumps(document, ensure_ascii=False, indent=2, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot show {type(value).__name__} as JSON")


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """Rows laid out in columns. The CLI escapes all text output (`terminal.safe`); cells are
    escaped here first too, as tabulate would break a cell at CR and misjudge the width
    of an escape sequence (escaping twice changes nothing)."""
    from tabulate import tabulate

    from casectl.terminal import safe

    cells = [[safe(c) if isinstance(c, str) else c for c in row] for row in rows]
    return tabulate(cells, headers=headers, disable_numparse=True)


def deadline_rows(
    deadlines: list[Deadline], now: datetime, soon: timedelta, calendar: Any = None
) -> list[dict]:
    return [
        {
            "kind": d.kind,
            "label": d.label,
            "due": iso(d.due),
            "state": d.state(now, soon),
            "owner": d.owner,
            "met_at": iso(d.met),
            "late_by": _seconds(d.late_by(now)),
            "holiday_data": _holidays_known(calendar, d.due),
        }
        for d in deadlines
    ]


def _holidays_known(calendar: Any, due: datetime | None) -> bool:
    """False when the deadline falls in a year its calendar has no holiday data for."""
    from casectl.holidays import has_holiday_data

    return calendar is None or due is None or has_holiday_data(calendar, due.year)


def _no_holidays(calendar: Any, due: datetime | None) -> str:
    if _holidays_known(calendar, due):
        return ""
    return _(" (no holiday data for {year}: not checked for holidays)").format(year=due.year)  # type: ignore[union-attr]


def _calendar(cfg: Config, case: Case) -> Any:
    level = cfg.levels.get(case.state.severity)
    return level.calendar if level else None


def _seconds(amount: timedelta | None) -> int | None:
    return None if amount is None else int(amount.total_seconds())


def deadline_state(d: Deadline, now: datetime, soon: timedelta) -> str:
    """The state as `show` prints it: a late step says how late."""
    if d.late:
        return _("met late ({late})").format(late=said.spoken(d.late_by(now)))  # type: ignore[arg-type]
    return _(d.state(now, soon))


# what `show` says of an RMA, a visit and the way a case came in (--json keeps the values)
RMA_STATUSES = (Nc_("rma status", "requested"), Nc_("rma status", "shipped"),
                Nc_("rma status", "delivered"), Nc_("rma status", "installed"),
                Nc_("rma status", "returned"), Nc_("rma status", "cancelled"))  # fmt: skip
ONSITE_STAGES = (Nc_("on-site stage", "pending"), Nc_("on-site stage", "denied"),
                 Nc_("on-site stage", "cancelled"),
                 Nc_("on-site stage", "approved"), Nc_("on-site stage", "on site"),
                 Nc_("on-site stage", "done"))  # fmt: skip
SOURCES = (Nc_("case source", "phone"), Nc_("case source", "email"),
           Nc_("case source", "alarm"))  # fmt: skip
# what `show` and the sweep print of a deadline's state and a sweep's action (JSON keeps
# the English values); the states are deadlines.state_of's, the kinds sweep.Action's
STATUSES = (N_("open"), N_("closed"), N_("price"), N_("technical"))  # and inquiries' kinds
STATES = (N_("pending"), N_("due soon"), N_("missed"), N_("met"), N_("met late"), N_("paused"))
ACTIONS = (
    N_("check"), N_("reassign"), N_("callback_overdue"), N_("reply_overdue"),
    N_("update_overdue"), N_("escalation_due"), N_("met_late"), N_("onsite_pending"),
    N_("manager_alert"), N_("holidays_missing"), N_("unverified_step"),
)  # fmt: skip


def label(d: Deadline) -> str:
    """A deadline's name for people (deadlines.py makes the English one, which JSON keeps)."""
    words = d.label.split(" ")
    if d.kind == "check":
        return said.check_name(words[-1])
    if d.kind == "callback":
        return _("callback by {engineer}").format(engineer=words[-1])
    names = {"first reply": N_("first reply"), "customer update": N_("customer update"),
             "escalate to senior": N_("escalate to senior"),
             "escalate to manager": N_("escalate to manager")}  # fmt: skip
    return _(names[d.label]) if d.label in names else d.label


def next_step(deadlines: list[Deadline], now: datetime, soon: timedelta) -> Deadline | None:
    """Who owes the next step: the earliest deadline not yet met."""
    return next(
        (d for d in deadlines if d.state(now, soon) in ("missed", "due soon", "pending")), None
    )


def next_step_document(deadlines: list[Deadline], now: datetime, soon: timedelta) -> dict | None:
    d = next_step(deadlines, now, soon)
    return {"owner": d.owner, "deadline": d.label, "due": iso(d.due)} if d else None


def case_document(case: Case, deadlines: list[Deadline], cfg: Config, now: datetime) -> dict:
    s = case.state
    now = s.closed_at or now  # a closed case's deadlines as its close left them
    return {
        "id": case.id,
        "status": s.status,
        "severity": s.severity,
        "customer": s.customer,
        "contact": s.contact,
        "contract": s.contract,
        "approved_by": s.approved_by,
        "approval": s.approval,
        "source": s.source,
        "description": s.description,
        "duty": s.duty,
        "assignee": s.assignee,
        "escalation_engineer": s.escalation_engineer,
        "escalated_at": iso(s.escalated_at),
        "escalation_engineers": list(s.escalation_engineers),
        "escalations": [_escalation_document(e) for e in s.escalations],
        "opened_at": iso(s.opened_at),
        "closed_at": iso(s.closed_at),
        "waiting": s.waiting,
        "resolution": s.resolution,
        "forced_close": s.forced_close,
        "deadlines": deadline_rows(deadlines, now, cfg.due_soon, _calendar(cfg, case)),
        "next_step": None if s.closed_at else next_step_document(deadlines, now, cfg.due_soon),
        "rmas": [r._asdict() for r in s.rmas.values()],
        "inquiry": s.inquiry,
        "onsite": [_visit_document(v) for v in s.visits.values()],
        "customer_requests": [_plain(e) for e in s.customer_requests],
        "alerts": [_plain(e) for e in s.alerts],
        "amendments": [_amendment_document(a) for a in s.amendments],
        "events": events(case),
    }


def _escalation_document(e: dict[str, Any]) -> dict[str, Any]:
    return {"at": iso(e["at"]), "by": e["by"], "to": e["to"], "reason": e.get("text"),
            "customer_request": bool(e.get("customer_request"))}  # fmt: skip


def _escalated(e: dict[str, Any]) -> str:
    """One escalation as `show` prints it."""
    said = _("{at} to {to} by {by}").format(at=when(e["at"]), to=e["to"], by=e["by"])
    return said + (f": {e['text']}" if e.get("text") else "")


def _amendment_document(a: Amendment) -> dict[str, Any]:
    """A correction of the opening as `show --json` gives it: each field from, to."""
    e = a.event
    changes = {k: {"from": old, "to": e[k]} for k, old in a.before.items()}
    return {"at": iso(e["at"]), "by": e["by"], "entered_by": e.get("entered_by"),
            "reason": e.get("text", ""), "changes": changes}  # fmt: skip


def _plain(event: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in event.items()}


def _visit_document(v: Visit) -> dict[str, Any]:
    """An on-site request and its visit, as `show --json` gives it."""
    return {
        "id": v.id, "stage": v.stage, "requested_by": v.requested_by,
        "requested_at": iso(v.requested_at), "reason": v.reason, "planned": iso(v.planned),
        "decided_by": v.decided_by, "decided_at": iso(v.decided_at), "decision": v.decision,
        "engineer": v.engineer, "arrived_at": iso(v.arrived_at),
        "departed_at": iso(v.departed_at),
        "work": [{"at": iso(w["at"]), "by": w["by"], "text": w.get("text", ""),
                  "parts": w.get("parts", [])} for w in v.work],
        "solved": v.solved, "solution": v.solution, "unresolved": v.unresolved,
        "cancelled_by": v.cancelled_by, "cancelled_at": iso(v.cancelled_at),
        "cancellation": v.cancellation,
    }  # fmt: skip


def events(case: Case) -> list[dict[str, Any]]:
    """The process record as JSON: each event with its times in ISO 8601."""
    return [_plain(e) for e in case.events]


def _awaiting(case_id: str, contract: str | None) -> str:
    """An alarm case without a valid contract: no clock runs until someone approves."""
    return _("{contract}, awaits approval: casectl approve {case}").format(
        contract=contract or _("none"), case=case_id
    )


def show(case: Case, deadlines: list[Deadline], cfg: Config, now: datetime) -> str:
    """A case as `show` prints it: its fields, RMAs, on-site service, alerts, amendments,
    deadlines and process record."""
    s = case.state
    now = s.closed_at or now  # a closed case's deadlines as its close left them
    fields = _fields(case, cfg)
    width = max(columns(name) for name, _value in fields) + 2
    out = [pad(name + _(":"), width) + _indent(value, width) for name, value in fields]
    if s.rmas:
        out += ["", _("RMAs:"), _rma_table(s)]
    if s.visits:
        out += ["", _("On-site service:"), _visits(list(s.visits.values()))]
    if s.alerts:
        out += ["", _("Manager alerts:"), *_alerts(case)]
    if s.amendments:
        out += ["", _("Opening amended:"), *(_amended(a) for a in s.amendments)]
    if deadlines:
        out += ["", _("Deadlines:"), *_deadline_lines(case, deadlines, cfg, now)]
    out += ["", _("Process record:")]
    for e in case.events:
        detail = _event_detail(e, case.events)
        out.append(
            f"  {when(e['at'])}  {pad(e['by'], 12)} {pad(event_type(e['type']), 14)} "
            f"{_indent(detail, 44)}".rstrip()
        )
    return "\n".join(out)


def _fields(case: Case, cfg: Config) -> list[tuple[str, str]]:
    """`show`'s head: each field's name and value (a value may run over lines)."""
    s = case.state

    def who(person_id: str | None) -> str:
        person = cfg.person(person_id) if person_id else None
        if person is None:
            return person_id or "-"
        return _("{id} ({name})").format(id=person_id, name=person.name)

    def line(e: dict[str, Any]) -> str:
        return _("{at} {old} -> {new} by {by}: {text}").format(
            at=when(e["at"]), old=e["from"], new=e["severity"], by=e["by"], text=e.get("text", "")
        )

    level = cfg.levels.get(s.severity)
    changes = [line(e) for e in s.severity_changes]
    status = _(s.status) + (_(", {kind} inquiry").format(kind=_(s.inquiry)) if s.inquiry else "")
    waiting = _(", waiting: {what}").format(what=event_type(s.waiting)) if s.waiting else ""
    fields = [
        (_("Case"), _("{case} ({status})").format(case=case.id, status=status + waiting)),
        (_("Severity"), _severity(s, level.name if level else None)),
        (_("Duty engineer"), who(s.duty)),
        (_("Assigned engineer"), who(s.assignee)),
        (_("Opened"), when(s.opened_at)),
        (_("Closed"), when(s.closed_at)),
        (_("Fault description"), f"{s.description} [{pgettext('case source', s.source)}]"),
        (_("Severity changes"), "\n".join(changes) or "-"),
        (_("Escalation engineer"), ", ".join(map(who, s.escalation_engineers)) or "-"),
        (_("Escalated"), "\n".join(_escalated(e) for e in s.escalations) or "-"),
        (
            _("Contract"),
            _awaiting(case.id, s.contract)
            if s.approval
            else s.contract
            or (
                _("none (approved by {who})").format(who=who(s.approved_by))
                if s.approved_by
                else _("none")
            ),
        ),
        (_("Customer"), s.customer),
        (_("Contact"), s.contact),
        (_("Customer requests"), "\n".join(_asked(e) for e in s.customer_requests) or "-"),
    ]
    if s.status == "closed":
        fields.append((_("Resolution"), s.resolution or "-"))
        if s.forced_close:
            fields.append((_("Closed with RMAs open"), s.forced_close))
    return fields


def _rma_table(s: State) -> str:
    """The case's RMAs, one row each."""
    rows = [
        [
            r.id,
            r.part,
            r.qty,
            r.serial or "",
            r.new_serial or "",
            r.owner or "",
            pgettext("rma status", r.status),
        ]
        for r in s.rmas.values()
    ]
    headers = [_("rma"), _("part"), _("qty"), _("serial"), _("new serial"), _("owner"),
               _("status")]  # fmt: skip
    return table(rows, headers)


def _deadline_lines(case: Case, deadlines: list[Deadline], cfg: Config, now: datetime) -> list[str]:
    """The deadlines' table, and the next step owed while the case is open."""
    s = case.state
    calendar = _calendar(cfg, case)
    rows = [
        [
            label(d),
            when(d.due) if d.due else _("paused"),
            deadline_state(d, now, cfg.due_soon) + _no_holidays(calendar, d.due),
            d.owner or "",
        ]
        for d in deadlines
    ]
    headers = [_("deadline"), _("due"), _("state"), _("owner")]
    out = [table(rows, headers)]
    step = None if s.closed_at else next_step(deadlines, now, cfg.due_soon)
    if step:
        out.append(
            _("Next step: {owner} owes the {deadline}, due {due}").format(
                owner=step.owner, deadline=label(step), due=when(step.due)
            )
        )
    return out


# the opening's fields as `show` names them (the catalog has them already)
FIELDS = {"customer": N_("Customer"), "contact": N_("Contact"), "contract": N_("Contract"),
          "description": N_("Fault description")}  # fmt: skip


def field_names(keys: Any) -> str:
    """`Customer, Contract`: the opening's fields an amendment changed, for people."""
    return ", ".join(_(FIELDS[k]) for k in keys if k in FIELDS)


def _amended(a: Amendment) -> str:
    """`  2026-11-26 14:20 li.na: Contract HT-1 -> HT-2 (reason: 合同号记错)`."""
    e = a.event
    changes = "; ".join(
        f"{_(FIELDS[key])} {old or '-'} -> {e[key]}" for key, old in a.before.items()
    )
    said = _("{at} {person}: {changes} (reason: {reason})").format(
        at=when(e["at"]), person=e["by"], changes=changes, reason=first_line(e.get("text", ""))
    )
    entered = entered_by(e)
    return f"  {said}" + (f" [{entered}]" if entered else "")


def entered_by(e: dict[str, Any]) -> str:
    """`recorded by liu.yang for zhang.wei` for a step typed by someone other than the
    person who took it (`--for`); nothing otherwise."""
    typist = e.get("entered_by")
    if not typist or typist == e.get("by"):
        return ""
    return _("recorded by {typist} for {person}").format(typist=typist, person=e["by"])


def _alerts(case: Case) -> list[str]:
    """Each special situation raised, and when the sweep told the manager."""
    told = {e["deadline"]: e["at"] for e in case.events if e["type"] == "manager-alert"}
    lines = []
    for e in case.state.alerts:
        at = told.get(f"alert@{e['id']}")
        said = (
            _("manager told {at}").format(at=when(at))
            if at
            else _("the manager is told at the next sweep")
        )
        lines.append(f"  {when(e['at'])}  {e['by']}: {first_line(e.get('text', ''))} ({said})")
    return lines


def _severity(s: State, name: str | None) -> str:
    if s.inquiry == "price":
        return _("none (a price inquiry, for sales)")
    return (
        _("{severity}, {name}").format(severity=s.severity, name=name) if name else str(s.severity)
    )


def _asked(e: dict[str, Any]) -> str:
    """A step the customer asked the manager for."""
    did = _("severity {old} -> {new}").format(old=e["from"], new=e["severity"]) if (
        e["type"] == "severity") else _("escalated to {to}").format(to=e["to"])  # fmt: skip
    said = _("{at} {did} by {by}").format(at=when(e["at"]), did=did, by=e["by"])
    return said + (f": {e['text']}" if e.get("text") else "")


def first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _visits(visits: list[Visit]) -> str:
    """The on-site requests in a table, then what each visit did and left open."""
    rows = [
        [v.id, pgettext("on-site stage", v.stage), f"{when(v.requested_at)} {v.requested_by}",
         f"{when(v.decided_at)} {v.decided_by}" if v.decided_by else "-",
         v.engineer or "-", when(v.planned), when(v.arrived_at), when(v.departed_at)]
        for v in visits
    ]  # fmt: skip
    headers = [_("visit"), _("stage"), _("requested"), _("decided"), _("engineer"),
               _("planned"), _("arrived"), _("left")]  # fmt: skip
    lines = [table(rows, headers)]
    for v in visits:
        lines.append(_("{visit} reason: {reason}").format(visit=v.id, reason=v.reason))
        if v.decision:
            decided = "denied" if v.status == "denied" else "approved"  # before any cancel
            lines.append(f"{v.id} {decided}: {v.decision}")
        if v.cancelled_by:
            lines.append(_("{visit} cancelled {at} by {person}: {reason}").format(
                visit=v.id, at=when(v.cancelled_at), person=v.cancelled_by,
                reason=v.cancellation))  # fmt: skip
        for w in v.work:
            parts = ", ".join(_part(p) for p in w.get("parts", []))
            lines.append(f"{v.id} {when(w['at'])} {w.get('text', '')}" +
                         (_(" [parts: {parts}]").format(parts=parts) if parts else ""))  # fmt: skip
        if v.departed_at:
            lines.append(_("{visit} solved: {solved}; solution: {solution}; still open: {open}")
                         .format(visit=v.id, solved=v.solved,
                                 solution=v.solution,
                                 open=v.unresolved or _("nothing")))  # fmt: skip
    return "\n".join(lines)


def _part(used: dict[str, Any]) -> str:
    return f"{used.get('part')} ({used['rma'] if used.get('rma') else _('spare from stock')})"


# what the process record shows of an event beyond who, when, what kind, and its text
_DETAIL_KEYS = [
    k
    for k in EVENT_KEYS
    if k not in ("id", "at", "by", "entered_by", "type", "text", "deadline", "due")
]


# the names of the fields the process record shows, and of the event types (the step)
FIELD_NAMES = (
    Nc_("event field", "customer"), Nc_("event field", "contact"), Nc_("event field", "contract"),
    Nc_("event field", "description"), Nc_("event field", "inquiry"),
    Nc_("event field", "approved_by"), Nc_("event field", "source"),
    Nc_("event field", "severity"), Nc_("event field", "from"), Nc_("event field", "to"),
    Nc_("event field", "onsite"), Nc_("event field", "engineer"), Nc_("event field", "when"),
    Nc_("event field", "rma"), Nc_("event field", "part"), Nc_("event field", "parts"),
    Nc_("event field", "qty"), Nc_("event field", "serial"), Nc_("event field", "new_serial"),
    Nc_("event field", "owner"), Nc_("event field", "status"), Nc_("event field", "withdraws"),
    Nc_("event field", "notify"), Nc_("event field", "customer_request"),
    Nc_("event field", "alert"), Nc_("event field", "reason"), Nc_("event field", "solution"),
    Nc_("event field", "unresolved"), Nc_("event field", "teller"),
)  # fmt: skip
EVENT_TYPES = (
    Nc_("event type", "open"), Nc_("event type", "assign"), Nc_("event type", "reassign"),
    Nc_("event type", "severity"), Nc_("event type", "escalate"), Nc_("event type", "rma"),
    Nc_("event type", "rma-status"), Nc_("event type", "close"), Nc_("event type", "reopen"),
    Nc_("event type", "check"), Nc_("event type", "overdue"), Nc_("event type", "met-late"),
    Nc_("event type", "open-contact"), Nc_("event type", "alert"),
    Nc_("event type", "alarm-cleared"), Nc_("event type", "approve"), Nc_("event type", "amend"),
    Nc_("event type", "onsite-pending"), Nc_("event type", "manager-alert"),
    Nc_("event type", "withdraw"), Nc_("event type", "onsite-request"),
    Nc_("event type", "onsite-approve"), Nc_("event type", "onsite-deny"),
    Nc_("event type", "onsite-cancel"), Nc_("event type", "onsite-arrive"),
    Nc_("event type", "onsite-work"), Nc_("event type", "onsite-depart"),
    Nc_("event type", "note"), Nc_("event type", "contact"), Nc_("event type", "callback"),
    Nc_("event type", "onsite"), Nc_("event type", "wait-customer"),
    Nc_("event type", "wait-parts"), Nc_("event type", "resume"),
)  # fmt: skip


def event_type(kind: str) -> str:
    """An event's type as the process record names the step (files keep the English)."""
    return pgettext("event type", kind) if kind in EVENT_TYPES else kind


def _field(key: str, value: Any) -> str:
    name = pgettext("event field", key) if key in FIELD_NAMES else key
    if key == "status" and isinstance(value, str):
        value = rma_status(value)
    elif key == "alert" and isinstance(value, str):  # whom the step alerts: a role
        value = role(value)
    elif key == "source" and isinstance(value, str):
        value = pgettext("case source", value)
    return f"{name}={value}"


def _event_detail(e: dict[str, Any], events: list[dict[str, Any]] | None = None) -> str:
    swept = said.line(e, events) if events is not None else None
    if swept is not None:  # the sweep's line, in the reader's language, and who was told
        told = e.get("notify")
        if isinstance(told, list) and told:
            return _("{line} (told {people})").format(line=swept, people=", ".join(told))
        return swept
    parts = []
    if e["type"] != "open":  # the intake is shown in the record above
        for key in _DETAIL_KEYS:
            value = e.get(key)
            if key == "parts" and isinstance(value, list):
                parts.append(_field(key, ",".join(_part(p) for p in value if isinstance(p, dict))))
            elif isinstance(value, datetime):
                parts.append(_field(key, when(value)))
            elif value is not None:
                parts.append(_field(key, ",".join(value) if isinstance(value, list) else value))
    text = e.get("text", "")
    entered = entered_by(e)
    if entered:
        text = f"{text} ({entered})" if text else f"({entered})"
    return " ".join(parts) + (" " if parts and text else "") + text


def _indent(text: str, width: int) -> str:
    return text.replace("\n", "\n" + " " * width)


def roster(cfg: Config, now: datetime, hotline: bool = False) -> tuple[list[dict], str]:
    """Everyone, with whether on duty at `now`; `hotline`: only who takes the hotline then,
    the duty engineers on duty (none on duty: the manager, reachable round the clock)."""
    chosen = cfg.people
    if hotline:
        chosen = tuple(p for p in cfg.people if p.has("duty") and p.on_duty(now))
        chosen = chosen or tuple(p for p in cfg.people if p.has("manager"))
    people: list[dict[str, Any]] = [
        {
            "id": p.id,
            "name": p.name,
            "roles": list(p.roles),
            "phone": p.phone,
            "email": p.email,
            "on_duty": p.on_duty(now),
        }
        for p in chosen
    ]
    rows = [
        [
            p["id"],
            p["name"],
            ", ".join(role(r) for r in p["roles"]),
            p["phone"],
            p["email"],
            _("yes") if p["on_duty"] else _("no"),
        ]
        for p in people
    ]
    headers = [_("id"), _("name"), _("roles"), _("phone"), _("e-mail"), _("on duty")]
    return people, table(rows, headers)


def sweep(actions: list[Any], cfg: Config) -> str:
    """A short table for each person who has to act; nothing when nothing is due."""
    by_person: dict[str, list[Any]] = {}
    for action in actions:
        for person_id in action.notify:
            by_person.setdefault(person_id, []).append(action)
    blocks = []
    for person_id, todo in by_person.items():
        person = cfg.person(person_id)
        contact = (
            _(" ({name}, {phone})").format(name=person.name, phone=person.phone or person.email)
            if person
            else ""
        )
        todo.sort(key=lambda a: (a.due, a.case))
        rows = [[a.case or "-", _(a.kind), when(a.due), _sweep_detail(a)]
                for a in todo]  # fmt: skip
        headers = [_("case"), _("action"), _("due"), _("detail")]
        blocks.append(f"{person_id}{contact}{_(':')}\n" + table(rows, headers))
    return "\n\n".join(blocks)


def _sweep_detail(action: Any) -> str:
    """What happened, and how late: the sweep's lateness, or a late step's."""
    late = ""
    if action.late_by:
        late = _(" (sweep {late} late)").format(late=said.spoken(action.late_by))
    deadline = deadline_label(action.deadline)
    if action.kind == "reassign":
        return _("{engineer} missed the callback; now {to}").format(
            engineer=action.from_, to=action.to) + late  # fmt: skip
    if action.kind == "check":
        return _("{deadline}: {engineer} has not called back").format(
            deadline=deadline, engineer=action.to) + late  # fmt: skip
    if action.kind == "met_late":
        return _("{deadline} met {late} late").format(
            deadline=deadline, late=said.spoken(action.late_by)
        )
    return (getattr(action, "shown", None) or deadline) + late


def deadline_label(text: str) -> str:
    """A sweep action's deadline (a deadline's English label, or a notice's) for people."""
    kinds = {"check": "check", "callback": "callback", "first": "reply", "customer": "update"}
    kind = "escalation" if text.startswith("escalate to ") else kinds.get(text.split(" ")[0])
    if kind is None:
        return text
    return label(Deadline(kind, "", text, None, None, None))


def git_commits(log: str, zone: Any) -> list[dict[str, str]]:
    """`gitrepo.log_case`'s text as commits: commit, author, email, date (in `zone`),
    subject, diff. A line of a diff never starts with `commit ` (its lines start with a
    space, `+`, `-`, `@@`, `diff`, `index`...), so such a line always opens a commit."""
    import re

    commits = []
    for block in re.split(r"^commit (?=\S+\n)", log, flags=re.M)[1:]:
        head, _, diff = block.partition("\n\n\n")  # the subject's line, then git's blank
        lines = head.split("\n")
        name, _, email = lines[1].removeprefix("Author: ").rpartition(" <")
        by, _, by_email = lines[2].removeprefix("Commit: ").rpartition(" <")
        date = datetime.strptime(lines[3].removeprefix("Date:").strip(), "%Y-%m-%d %H:%M:%S %z")
        commits.append(
            {
                "commit": lines[0],
                "author": name,
                "email": email.removesuffix(">"),
                "committer": by,
                "committer_email": by_email.removesuffix(">"),
                "date": date.astimezone(zone).isoformat(),
                "subject": "\n".join(lines[5:]).strip(),
                "diff": diff.strip("\n") + "\n" if diff.strip() else "",
            }
        )
    return commits


def git_log(commits: list[dict[str, str]]) -> str:
    """The commits as `git log -p` shows them, dated in the repository's timezone; the
    committer (the clone's own git identity) where it is not the author."""
    return "".join(
        f"commit {c['commit']}\nAuthor: {c['author']} <{c['email']}>\n"
        + (
            f"Commit: {c['committer']} <{c['committer_email']}>\n"
            if (c["committer"], c["committer_email"]) != (c["author"], c["email"])
            else ""
        )
        + f"Date:   {datetime.fromisoformat(c['date']):%Y-%m-%d %H:%M:%S %z}\n\n"
        f"    {c['subject']}\n\n{c['diff']}"
        for c in commits
    )


def history(case: Case) -> str:
    """The steps in a table; one typed by someone else says `recorded by X for Y`."""
    rows = [[when(e["at"]), e["by"], event_type(e["type"]), _event_detail(e, case.events)]
            for e in case.events]  # fmt: skip
    return table(rows, [_("when"), _("who"), _("step"), _("what")])
