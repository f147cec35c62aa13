"""On-site service: the engineer's request, the manager's decision, and the visit.

The case's engineer asks; the manager approves (naming who goes: a field engineer or
the requester) or denies; a pending request or an approved visit may be cancelled
before anyone arrives; the engineer approved records arriving, the work done (parts
from the case's RMAs or from stock) and leaving, with the field rules' report. One
request at a time per case.

What stays in `model`, which the case itself needs and which may not import this
module (it imports `model`): the `Visit` record and the folding of `onsite-*` events
into the state (`replay`), the close's refusal while a visit is under way, `log --type
onsite`'s need of an approved visit, and the sweep's reminder of a request left
waiting (`model.notices`, which the index reads too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl.config import Config, Person
from casectl.errors import RefusedError
from casectl.i18n import N_, _
from casectl.ids import random_code
from casectl.model import (
    Case,
    Visit,
    escalated,
    filled,
    ids_with_role,
    new_event,
    require_engineering,
    require_open,
    require_role,
    roster_person,
)
from casectl.names import stage


def _visit(case: Case, *stages: str, doing: str) -> Visit:
    """The case's latest visit (the last requested, in the order of the events: a request
    made in the minute another was cancelled is later), which must be at one of `stages`."""
    visits = list(require_open(case).visits.values())
    latest = visits[-1] if visits else None
    if latest is None:
        raise RefusedError(
            _("cannot {doing}: case {case} has no on-site request").format(
                doing=_(doing), case=case.id)
        )  # fmt: skip
    if latest.stage not in stages:
        raise RefusedError(
            _("cannot {doing}: {visit} of case {case} is {stage}").format(
                doing=_(doing), visit=latest.id, case=case.id, stage=stage(latest.stage))
        )  # fmt: skip
    return latest


def _after(at: datetime, since: datetime | None, what: str, visit: str) -> None:
    """`what`, marked with N_(), names the visit as {visit}."""
    if since is not None and at < since:
        raise RefusedError(
            _("{at} is before {what} ({since})").format(
                at=f"{at:%Y-%m-%d %H:%M}", what=_(what).format(visit=visit),
                since=f"{since:%Y-%m-%d %H:%M}")
        )  # fmt: skip


def request_onsite(
    case: Case, by: Person, at: datetime, reason: str, when: datetime | None
) -> dict[str, Any]:
    """The case's engineer asks the manager for on-site service (one request at a time)."""
    s = require_open(case)
    require_engineering(case, N_("served on site"))
    if by.id not in s.engineers:
        raise RefusedError(
            _("{person} may not request on-site service for case {case}: only the assigned "
              "engineer ({assignee}) or the escalation engineer ({escalation}) may").format(
                person=by.id, case=case.id, assignee=s.assignee or _("none"),
                escalation=escalated(s))
        )  # fmt: skip
    busy = [v for v in s.visits.values() if v.stage in ("pending", "approved", "on site")]
    if busy:
        raise RefusedError(
            _("case {case} already has on-site request {visit}, {stage}").format(
                case=case.id, visit=busy[0].id, stage=stage(busy[0].stage))
        )  # fmt: skip
    filled(reason, N_("reason"))
    visit_id = "OS-" + random_code(4)
    while visit_id in s.visits:
        visit_id = "OS-" + random_code(4)
    return case.append(new_event(by, at, "onsite-request", onsite=visit_id, when=when, text=reason))


def approve_onsite(
    case: Case,
    cfg: Config,
    by: Person,
    at: datetime,
    engineer: str | None,
    when: datetime | None,
    note: str | None,
) -> dict[str, Any]:
    """The manager approves the pending request, naming who goes (a field engineer, or
    the requester, the default)."""
    require_role(by, N_("approve on-site service"), "manager")
    visit = _visit(case, "pending", doing=N_("approve on-site service"))
    _after(at, visit.requested_at, N_("the request {visit}"), visit.id)
    who = roster_person(cfg, engineer) if engineer else roster_person(cfg, visit.requested_by)
    if who.id != visit.requested_by and not who.has("field"):
        raise RefusedError(
            _("{person} may not go on site: --engineer names a field engineer ({field}) or "
              "the requester ({requester})").format(
                person=who.id, field=ids_with_role(cfg, "field"), requester=visit.requested_by)
        )  # fmt: skip
    if note is not None:
        filled(note, N_("reason"))
    fields = dict(onsite=visit.id, engineer=who.id, when=when, text=note)
    return case.append(new_event(by, at, "onsite-approve", **fields))


def deny_onsite(case: Case, by: Person, at: datetime, reason: str) -> dict[str, Any]:
    require_role(by, N_("deny on-site service"), "manager")
    visit = _visit(case, "pending", doing=N_("deny on-site service"))
    _after(at, visit.requested_at, N_("the request {visit}"), visit.id)
    filled(reason, N_("reason"))
    return case.append(new_event(by, at, "onsite-deny", onsite=visit.id, text=reason))


def cancel_onsite(case: Case, cfg: Config, by: Person, at: datetime, reason: str) -> dict[str, Any]:
    """Call off a pending request or an approved visit before anyone arrived (the customer
    fixed it, the window moved): by the manager, the requester or the engineer approved.
    The case may then ask again."""
    doing = N_("cancel on-site service")
    visit = _visit(case, "pending", "approved", doing=doing)
    allowed = {visit.requested_by, visit.engineer, *cfg.managers} - {None}
    if by.id not in allowed:
        raise RefusedError(
            _("{person} may not {doing} {visit}: the manager, {requester} or {engineer} may")
            .format(person=by.id, doing=_(doing), visit=visit.id, requester=visit.requested_by,
                    engineer=visit.engineer or visit.requested_by)
        )  # fmt: skip
    _after(at, visit.decided_at or visit.requested_at, N_("the last step of {visit}"), visit.id)
    filled(reason, N_("reason"))
    return case.append(new_event(by, at, "onsite-cancel", onsite=visit.id, text=reason))


def _visiting(case: Case, by: Person, doing: str, *stages: str) -> Visit:
    visit = _visit(case, *stages, doing=doing)
    if by.id != visit.engineer:
        raise RefusedError(
            _("{person} may not {doing}: the manager approved {engineer} for {visit}").format(
                person=by.id, doing=_(doing), engineer=visit.engineer, visit=visit.id)
        )  # fmt: skip
    return visit


def arrive_onsite(case: Case, by: Person, at: datetime) -> dict[str, Any]:
    visit = _visiting(case, by, N_("record an arrival on site"), "approved")
    _after(at, visit.decided_at, N_("the approval of {visit}"), visit.id)
    return case.append(new_event(by, at, "onsite-arrive", onsite=visit.id))


def work_onsite(
    case: Case, by: Person, at: datetime, text: str, parts: list[str]
) -> dict[str, Any]:
    """What was done on site; each part used is one of the case's RMAs (by RMA id or
    part number) or else a spare taken from stock."""
    visit = _visiting(case, by, N_("record work on site"), "on site")
    _after(at, visit.arrived_at, N_("the arrival for {visit}"), visit.id)
    filled(text, N_("text of the work"))
    used = [_part_used(case, filled(part, N_("part number"))) for part in parts]
    return case.append(new_event(by, at, "onsite-work", onsite=visit.id, parts=used or None,
                              text=text))  # fmt: skip


def _part_used(case: Case, part: str) -> dict[str, str]:
    """An RMA by its id, else the one live RMA with that part number, else a spare."""
    every = case.state.rmas.values()
    rmas = [r for r in every if r.id == part.upper()] or [
        r for r in every if r.part.upper() == part.upper() and r.status != "cancelled"
    ]
    if part.upper().startswith("RMA-") and not rmas:
        known = ", ".join(case.state.rmas) or _("none")
        raise RefusedError(
            _("case {case} has no {rma}; its RMAs: {known}").format(
                case=case.id, rma=part, known=known)
        )  # fmt: skip
    if len(rmas) > 1:
        which = ", ".join(r.id for r in rmas)
        raise RefusedError(
            _("part {part} is in several RMAs of case {case} ({which}); give the RMA id").format(
                part=part, case=case.id, which=which)
        )  # fmt: skip
    if rmas and rmas[0].status == "cancelled":
        raise RefusedError(
            _("{rma} ({part}) was cancelled; it cannot be used").format(
                rma=rmas[0].id, part=rmas[0].part)
        )  # fmt: skip
    if rmas:
        return {"part": rmas[0].part, "rma": rmas[0].id}
    return {"part": part, "source": "stock"}


def depart_onsite(
    case: Case,
    by: Person,
    at: datetime,
    summary: str,
    solution: str,
    unresolved: str | None,
) -> dict[str, Any]:
    """The field rules' report on leaving: what was solved, how, and what is still open."""
    visit = _visiting(case, by, N_("record a departure from site"), "on site")
    last = max([visit.arrived_at, *(w["at"] for w in visit.work)])  # type: ignore[type-var]
    _after(at, last, N_("the latest step of {visit}"), visit.id)
    filled(summary, N_("summary"))
    filled(solution, N_("solution"))
    if unresolved is not None:
        filled(unresolved, N_("list of what is still open"))
    fields = dict(onsite=visit.id, text=summary, solution=solution, unresolved=unresolved)
    return case.append(new_event(by, at, "onsite-depart", **fields))
