"""The steps of a case's life: open, assign, log, severity, escalate, rma, close, reopen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import click

from casectl import model
from casectl.cli.app import (
    Acting,
    App,
    Step,
    acting,
    as_json,
    event_yaml,
    first_line,
    pass_app,
    record,
    record_step,
    say,
    show_json,
    signed,
)
from casectl.cli.recovery import already, retried, step_key
from casectl.config import Config, Person
from casectl.i18n import N_, _
from casectl.model import Case

if TYPE_CHECKING:
    from casectl.cli.notify import Notices


def taken(
    app: App, case_id: str, act: Acting, step: Step, what: Callable[[dict[str, Any]], str]
) -> tuple[Case, dict[str, Any]]:
    """`record` the step; the case after it, and the event the step appended (or, for a
    retry, the event recorded the first time)."""
    return record_step(app, case_id, act, step, what)


def assigned(cfg: Config, case_id: str, person_id: str) -> str:
    """`261127-9MM76 assigned to zhang.wei 张伟 +86 138 0101 0004`: whom the duty engineer tells."""
    p = cfg.person(person_id)
    reach = f" {p.name} {p.phone or p.email}" if p else ""
    return _("{case} assigned to {engineer}{reach}").format(
        case=case_id, engineer=person_id, reach=reach
    )


# what `log` says it recorded, per step type (the type itself stays English in the case)
LOGGED = {
    "note": N_("{case} note recorded"),
    "contact": N_("{case} contact recorded"),
    "callback": N_("{case} callback recorded"),
    "onsite": N_("{case} onsite recorded"),
    "wait-customer": N_("{case} wait-customer recorded"),
    "wait-parts": N_("{case} wait-parts recorded"),
    "resume": N_("{case} resume recorded"),
}
# what `rma RMA-ID --status` says, per status
RMA_SAID = {
    "requested": N_("{rma} requested"),
    "shipped": N_("{rma} shipped"),
    "delivered": N_("{rma} delivered"),
    "installed": N_("{rma} installed"),
    "returned": N_("{rma} returned"),
    "cancelled": N_("{rma} cancelled"),
}


@click.command("open")
@click.option("--customer", help="The customer (company); from contracts.yaml if omitted.")
@click.option(
    "--contact", help="Contact person with phone or e-mail; from contracts.yaml if omitted."
)
@click.option("--contract", metavar="NO", help="Project or warranty contract number.")
@click.option(
    "--serial", metavar="SN", help="The array's serial: its contract from contracts.yaml."
)
@click.option("--no-contract", is_flag=True, help="A customer without a contract.")
@click.option("--approved-by", metavar="ID", help="Manager or sales manager who approved support.")
@click.option("--severity", type=int, help="Severity level, 1 (critical) to 4.")
@click.option("--description", help="The fault as the customer described it.")
@click.option(
    "--inquiry",
    type=click.Choice(model.INQUIRIES),
    help="With --no-contract: a price question (goes to sales) or a technical one (approved).",
)
@click.option(
    "--source",
    type=click.Choice(["phone", "email", "alarm"]),
    default="phone",
    show_default=True,
    help="How the fault was reported.",
)
@click.option("--assign", "assign_to", metavar="ID", help="Assign at once to this engineer.")
@click.option(
    "--auto-assign", is_flag=True, help="Assign to the least-loaded first-line engineer on duty."
)
@acting
@as_json
@pass_app
def open_(
    app: App,
    customer: str | None,
    contact: str | None,
    contract: str | None,
    serial: str | None,
    no_contract: bool,
    approved_by: str | None,
    severity: int | None,
    description: str | None,
    inquiry: str | None,
    source: str,
    assign_to: str | None,
    auto_assign: bool,
    act: Acting,
    json_out: bool,
) -> None:
    """Open a case from a hotline call, e-mail or alarm; prints its id.

    Example: casectl open --customer 招商银行 --contact "刘先生 13800000000"
    --contract HT-2026-031 --severity 1 --description "阵列控制器离线" --auto-assign

    Example: casectl open --no-contract --inquiry price --customer 某公司 --contact "赵女士"
    """
    contract, customer, contact, service = _contract_and_customer(
        app, contract, serial, no_contract, customer, contact, approved_by
    )
    _open_usage(no_contract, inquiry, severity, description, assign_to, auto_assign)
    if inquiry == "price":
        _open_price_inquiry(app, customer, contact, description, act, json_out)
        return
    person = app.actor(act)
    at = app.at(act.at)
    off_duty = model.off_duty_opening(app.cfg, person, at)
    from casectl.cli.notify import Notices  # a step that tells nobody never loads it

    told = Notices(app)
    with app.store.lock():
        key = step_key(person, at if act.at else None, {})
        if _opened_before(app, key, at if act.at else None, json_out):
            return
        opening: dict[str, Any] = dict(
            customer=customer, contact=contact, contract=contract, approved_by=approved_by,
            severity=severity, description=description, source=source, inquiry=inquiry,
        )  # fmt: skip
        case = _new_case(app, person, at, key, opening, serial, service)
        assign_to = _assigned_at_once(app, case, person, at, assign_to, auto_assign, told)
        path = app.store.create(case)
        # the id before the commit: whatever happens next, the duty engineer has the id
        # of a case that exists (a failed commit says on stderr that it does not)
        click.echo(show_json(app, case) if json_out else case.id)
        what = f"opened, severity {severity}, {customer}" + (
            f", assigned to {assign_to}" if assign_to else ""
        )
        _commit_opening(app, person, case, path, what, act.no_commit)
    if assign_to:  # stdout stays the id alone, for scripts; the person is for the duty engineer
        click.echo(assigned(app.cfg, case.id, assign_to), err=True)
    if off_duty:
        click.echo(off_duty, err=True)
    told.finish()


def _open_usage(
    no_contract: bool,
    inquiry: str | None,
    severity: int | None,
    description: str | None,
    assign_to: str | None,
    auto_assign: bool,
) -> None:
    """open's usage errors beyond the contract's: --inquiry only without a contract, a
    price inquiry with no severity or engineer, a case with --severity, --description
    and one way to assign."""
    if inquiry and not no_contract:
        raise click.UsageError(_("--inquiry is for callers without a contract: give --no-contract"))
    if inquiry == "price":
        if severity is not None or assign_to or auto_assign:
            raise click.UsageError(
                _("a price inquiry goes to sales: no --severity, --assign or --auto-assign")
            )
        return
    for name, given in (("--severity", severity), ("--description", description)):
        if given is None:
            raise click.UsageError(_("Missing option '{name}'.").format(name=name))
    if assign_to and auto_assign:
        raise click.UsageError(_("give --assign ID or --auto-assign, not both"))


def _opened_before(app: App, key: str, at: datetime | None, json_out: bool) -> bool:
    """Whether this open is a retry of one recorded (`opened_again`): then its id is said
    again and nothing new is recorded."""
    again = opened_again(app, key, at)
    if again:
        say(already(again.id, again.events[0]))
        click.echo(show_json(app, again) if json_out else again.id)
    return again is not None


def _commit_opening(
    app: App, person: Person, case: Case, path: str, what: str, no_commit: bool
) -> None:
    """Commit a new case (its opening's YAML the commit's body), and sign its steps."""
    body = partial(event_yaml, case.events[0])  # not dumped under --no-commit
    app.commit([path], person, [case.id], what, body, no_commit, True)
    signed(app, case.id, case.events, no_commit)


def _contract_and_customer(
    app: App,
    contract: str | None,
    serial: str | None,
    no_contract: bool,
    customer: str | None,
    contact: str | None,
    approved_by: str | None,
) -> tuple[str | None, str, str, str | None]:
    """The contract (--contract, or --serial through contracts.yaml; or --no-contract),
    the customer and contact (typed, or the register's), and the contract's service
    calendar; a usage error when either is missing."""
    if bool(contract or serial) == no_contract:
        raise click.UsageError(_("give either --contract NO or --no-contract --approved-by ID"))
    service = None  # the calendar of the contract's service level, from contracts.yaml
    if contract or serial:
        from casectl.cli.contracts import opening

        contract, customer, contact, service = opening(
            app, contract, serial, customer, contact, approved_by
        )
    for name, typed in (("--customer", customer), ("--contact", contact)):
        if typed is None:
            raise click.UsageError(_("Missing option '{name}'.").format(name=name))
    assert customer is not None and contact is not None
    return contract, customer, contact, service


def _new_case(
    app: App,
    person: Person,
    at: datetime,
    key: str,
    opening: dict[str, Any],
    serial: str | None,
    service: str | None,
) -> Case:
    """The case `open` records, its opening marked with the step's key (a retry finds
    it), the array's serial and the contract's service calendar (its clocks')."""
    case = model.open_case(app.cfg, app.store.unused_id(at), person, at, **opening)
    first = case.events[0]
    first["key"] = key
    if serial:
        first["serial"] = serial
    if service:  # the contract's service level: its clocks' calendar
        first["calendar"] = service
    app.mark(first)
    signed(app, case.id, case.events, None)
    return case


def _assigned_at_once(
    app: App,
    case: Case,
    person: Person,
    at: datetime,
    assign_to: str | None,
    auto_assign: bool,
    told: Notices,
) -> str | None:
    """open --assign ID or --auto-assign: the case assigned in the same step, the
    engineer told (queued before the write: never lost); who got it."""
    if auto_assign:
        app.warn_orphans()
        assign_to = model.pick_next(app.cfg, app.index().loads(), at, None).id
    if assign_to:
        assign_to = app.mark(model.assign(case, app.cfg, person, at, assign_to))["to"]
        signed(app, case.id, case.events[-1:], None)
        told.tell(case, [case.events[-1]])
    return assign_to


def _open_price_inquiry(
    app: App, customer: str, contact: str, description: str | None, act: Acting, json_out: bool
) -> None:
    """Record a price question from a caller without a contract and route it to sales."""
    from casectl import inquiries  # only here: not on every step's start-up

    person = app.actor(act)
    at = app.at(act.at)
    off_duty = model.off_duty_opening(app.cfg, person, at)
    with app.store.lock():
        to = inquiries.pick_sales(app.cfg, app.index().loads())
        case = inquiries.open_price_inquiry(
            app.cfg, app.store.unused_id(at), person, at,
            customer=customer, contact=contact, description=description, to=to,
        )  # fmt: skip
        for event in case.events:
            app.mark(event)
        signed(app, case.id, case.events, None)
        path = app.store.create(case)
        what = f"price inquiry, {customer}, routed to {to.id}"
        _commit_opening(app, person, case, path, what, act.no_commit)
    click.echo(show_json(app, case) if json_out else case.id)
    reach = f" {to.name} {to.phone or to.email}"
    said = _("{case} price inquiry routed to sales: {person}{reach}")
    click.echo(said.format(case=case.id, person=to.id, reach=reach), err=True)
    if off_duty:
        click.echo(off_duty, err=True)


def opened_again(app: App, key: str, at: datetime | None) -> Case | None:
    """The case an `open` with this key created within RETRY_WINDOW (a retry after a
    kill, or after the id went unheard); with --at (`at`), whenever it was made. Reads
    only files written that recently in the day folders the case's id could name."""
    import os
    import time

    from casectl import yamlio
    from casectl.cli.recovery import RETRY_WINDOW
    from casectl.errors import CasectlError
    from casectl.store import id_of, read_case

    now = at or app.now
    since = 0.0 if at else time.time() - RETRY_WINDOW.total_seconds()
    for day in dict.fromkeys([now, now - RETRY_WINDOW] if at is None else [at]):
        folder = os.path.dirname(app.store.path(f"{day:%y%m%d}-00000"))
        try:
            app.store.refuse_links(folder)  # a pushed link or file is no folder of ours
        except CasectlError:
            continue
        for entry in os.scandir(folder) if os.path.isdir(folder) else []:
            if not id_of(entry.name) or not entry.is_file(follow_symlinks=False):
                continue  # a pushed link (to /dev/zero) or folder named like a case
            if entry.stat(follow_symlinks=False).st_mtime < since:
                continue
            try:
                if key.encode() not in yamlio.read(entry.path):
                    continue
            except OSError:
                continue
            case = read_case(entry.path)
            first = case.events[0]
            if retried([first], key, str(first["by"]), None if at else app.now):
                return case
    return None


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("engineer", metavar="[ID]", required=False)
@click.option("--next", "next_", is_flag=True, help="The least-loaded first-line engineer on duty.")
@acting
@as_json
@pass_app
def assign(
    app: App,
    case_id: str,
    engineer: str | None,
    next_: bool,
    act: Acting,
    json_out: bool,
) -> None:
    """Assign the case to an engineer, printing who got it; starts the callback clock.

    Example: casectl assign 261126-K7Q3M zhang.wei
    """
    if bool(engineer) == next_:
        raise click.UsageError(_("give an engineer ID or --next"))
    from casectl.cli.notify import Notices

    told = Notices(app)

    def step(case: Case, person: Person, at: datetime) -> dict[str, Any]:
        if next_:
            app.warn_orphans()
        to = engineer or model.pick_next(app.cfg, app.index().loads(), at, case.state.assignee).id
        event = model.assign(case, app.cfg, person, at, to)
        told.tell(case, [event])  # queued before the write: never lost
        return event

    case, event = taken(app, case_id, act, step, lambda e: f"assigned to {e['to']}")
    said = assigned(app.cfg, case.id, event["to"])
    if json_out:
        click.echo(show_json(app, case))
    click.echo(said, err=json_out)  # with --json, stdout is the document alone
    told.finish()


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("text")
@click.option("--callback", is_flag=True, help="The assigned engineer reached the customer.")
@click.option(
    "--type",
    "kind",
    type=click.Choice(model.LOG_TYPES),
    default=None,
    help="The kind of step (default: note).",
)
@click.option(
    "--alert-manager",
    is_flag=True,
    help="A special situation: the manager is told now, or by the next sweep.",
)
@acting
@as_json
@pass_app
def log(
    app: App,
    case_id: str,
    text: str,
    callback: bool,
    kind: str | None,
    alert_manager: bool,
    act: Acting,
    json_out: bool,
) -> None:
    """Record a step in the process record.

    Contacts with the customer (--callback, --type contact) meet the callback and
    reply deadlines; --type wait-customer / wait-parts pause the clocks the
    severity names until --type resume; --type onsite needs a visit the manager
    approved (casectl onsite). --alert-manager: a special situation, which the
    manager is told of at once where this clone has a channel reaching them (else by
    the next sweep), once.

    Example: casectl log 261126-K7Q3M "已电话联系客户，收集日志" --callback
    """
    if callback and kind not in (None, "callback"):
        raise click.UsageError(_("--callback is a type of its own; drop --type"))
    step_kind = "callback" if callback else (kind or "note")
    from casectl.cli.notify import Notices

    told = Notices(app) if alert_manager else None  # only an alert may tell someone
    at_once = []

    def step(case: Case, person: Person, at: datetime) -> dict[str, Any]:
        event = model.log(case, person, at, text, step_kind, alert_manager)
        if told is not None and told.alert_now(case, event, at):
            at_once.append(True)
        return event

    case, event = taken(
        app,
        case_id,
        act,
        step,
        lambda e: f"{e['type']}{' (manager alerted)' if alert_manager else ''}: {first_line(text)}",
    )
    said = _logged(app, case, event, step_kind, alert_manager, bool(at_once))
    click.echo(show_json(app, case) if json_out else said)
    if told is not None:
        told.finish()


def _logged(
    app: App, case: Case, event: dict[str, Any], step_kind: str, alert_manager: bool, at_once: bool
) -> str:
    """What `log` says it recorded: the step, whether the manager is told now or at the
    next sweep, or that a callback by someone not on the case was recorded as a contact."""
    said = _(LOGGED[step_kind]).format(case=case.id)
    if alert_manager and at_once:
        said += _("; the manager ({manager}) is told now").format(manager=app.cfg.manager.id)
    elif alert_manager:
        said += _("; the manager ({manager}) is told at the next sweep").format(
            manager=app.cfg.manager.id
        )
    if event["type"] != step_kind:
        s, by = case.state, event["by"]
        said = _(
            "{case} contact recorded: {person} is not the assigned engineer ({assignee}) or "
            "the escalation engineer ({escalation}), so it meets the first reply but not the "
            "callback"
        ).format(
            case=case.id,
            person=by,
            assignee=s.assignee or _("none"),
            escalation=model.escalated(s),
        )
    return said


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("level", metavar="N", type=int)
@click.option("--reason", required=True, help="Why the severity changes.")
@click.option(
    "--customer-request", is_flag=True, help="The customer asked the manager (manager only)."
)
@acting
@as_json
@pass_app
def severity(
    app: App,
    case_id: str,
    level: int,
    reason: str,
    customer_request: bool,
    act: Acting,
    json_out: bool,
) -> None:
    """Adjust the severity (assigned or escalation engineer, or the manager).

    --customer-request: the customer asked the manager directly; show says so.

    Example: casectl severity 261126-K7Q3M 2 --reason "业务已恢复，性能下降"
    """
    case = record(
        app,
        case_id,
        act,
        lambda case, person, at: model.change_severity(
            case, app.cfg, person, at, level, reason, customer_request
        ),
        lambda e: f"severity {e['from']} -> {e['severity']}" + _asked(e),
    )
    click.echo(
        show_json(app, case)
        if json_out
        else _("{case} severity {level}").format(case=case.id, level=level)
    )


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--to", "to", required=True, metavar="ID", help="The escalation engineer.")
@click.option("--reason", help="Why the case is escalated.")
@click.option("--customer-request", is_flag=True, help="The customer asked the manager.")
@acting
@as_json
@pass_app
def escalate(
    app: App,
    case_id: str,
    to: str,
    reason: str | None,
    customer_request: bool,
    act: Acting,
    json_out: bool,
) -> None:
    """Designate the escalation engineer (the manager); records the escalation time.

    --to names a senior engineer, or the manager for the second escalation;
    --customer-request: the customer asked the manager directly; show says so.

    Example: casectl escalate 261126-K7Q3M --to zhou.qiang --reason "需要高级工程师分析"
    """
    from casectl.cli.notify import Notices  # the escalation engineer is told at once

    told = Notices(app)

    def step(case: Case, person: Person, at: datetime) -> dict[str, Any]:
        event = model.escalate(case, app.cfg, person, at, to, reason, customer_request)
        told.tell(case, [event])
        return event

    case, event = taken(app, case_id, act, step, lambda e: f"escalated to {e['to']}" + _asked(e))
    said = _("{case} escalated to {engineer}").format(case=case.id, engineer=event["to"])
    click.echo(show_json(app, case) if json_out else said)
    told.finish()


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("rma_id", metavar="[RMA-ID]", required=False)
@click.option("--part", metavar="PN", help="Part number of the spare part.")
@click.option("--qty", type=int, default=1, show_default=True, help="How many.")
@click.option("--serial", metavar="SN", help="Serial number of the failed part.")
@click.option("--owner", metavar="ID", help="Who owns the RMA (default: whoever records it).")
@click.option("--status", type=click.Choice(model.RMA_STATES), help="The RMA's progress.")
@click.option(
    "--new-serial", metavar="SN", help="With --status: serial number of the replacement part."
)
@acting
@as_json
@pass_app
def rma(
    app: App,
    case_id: str,
    rma_id: str | None,
    part: str | None,
    qty: int,
    serial: str | None,
    owner: str | None,
    status: str | None,
    new_serial: str | None,
    act: Acting,
    json_out: bool,
) -> None:
    """Record an RMA request, or its progress with RMA-ID --status.

    Statuses move forward only: requested, shipped, delivered, installed; or
    returned (the defective part, also after installing) or cancelled.

    Example: casectl rma 261126-K7Q3M --part HDS-DKC-CTL --serial SN12345

    Example: casectl rma 261126-K7Q3M RMA-7K2Q --status installed --new-serial SN67890
    """
    if rma_id:
        if not status or part is not None:
            raise click.UsageError(_("with an RMA-ID give --status, and no --part"))
        case, event = taken(
            app,
            case_id,
            act,
            lambda case, person, at: model.rma_progress(
                case, person, at, rma_id, status, new_serial
            ),
            lambda e: f"{e['rma']} {e['status']}",
        )
        said = _(RMA_SAID[status]).format(rma=event["rma"])
        if new_serial:
            said += _(", new serial {serial}").format(serial=new_serial)
        click.echo(show_json(app, case) if json_out else said)
        return
    if part is None or status or new_serial is not None:
        raise click.UsageError(_("give --part PN for a new RMA, or RMA-ID --status S"))
    case, event = taken(
        app,
        case_id,
        act,
        lambda case, person, at: model.rma_request(
            case, app.cfg, person, at, part=part, qty=qty, serial=serial, owner=owner
        ),
        lambda e: f"{e['rma']} requested: {e['qty']} x {e['part']}",
    )
    click.echo(show_json(app, case) if json_out else event["rma"])


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--resolution", required=True, help="What was done, as agreed with the customer.")
@click.option("--force", is_flag=True, help="Close although an RMA is still in progress.")
@click.option("--reason", help="Why, with --force.")
@acting
@as_json
@pass_app
def close(
    app: App,
    case_id: str,
    resolution: str,
    force: bool,
    reason: str | None,
    act: Acting,
    json_out: bool,
) -> None:
    """Close the case after agreeing with the customer.

    An RMA neither installed nor returned blocks closing unless --force --reason.

    Example: casectl close 261126-K7Q3M --resolution "更换控制器后恢复，客户确认关闭"
    """
    if force != (reason is not None):
        raise click.UsageError(_("--force and --reason go together"))
    case = record(
        app,
        case_id,
        act,
        lambda case, person, at: model.close(case, person, at, resolution, reason),
        lambda e: "closed" + (" (forced)" if reason else ""),
    )
    click.echo(show_json(app, case) if json_out else _("{case} closed").format(case=case.id))


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True, help="Why the case is reopened.")
@acting
@as_json
@pass_app
def reopen(app: App, case_id: str, reason: str, act: Acting, json_out: bool) -> None:
    """Reopen a closed case; its clocks start afresh.

    Example: casectl reopen 261126-K7Q3M --reason "故障复现"
    """
    case = record(
        app,
        case_id,
        act,
        lambda case, person, at: model.reopen(case, person, at, reason),
        lambda e: "reopened",
    )
    click.echo(show_json(app, case) if json_out else _("{case} reopened").format(case=case.id))


def _asked(event: dict[str, Any]) -> str:
    return " at the customer's request" if event.get("customer_request") else ""
