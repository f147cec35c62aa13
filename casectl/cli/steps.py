"""The steps of a case's life: open, assign, log, severity, escalate, rma, close, reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from casectl import model
from casectl.cli.app import (
    Acting,
    App,
    acting,
    as_json,
    event_yaml,
    first_line,
    normalize,
    pass_app,
    record,
    show_json,
)
from casectl.config import Person
from casectl.model import Case


@click.command("open")
@click.option("--customer", required=True, help="The customer (company).")
@click.option("--contact", required=True, help="Contact person with phone or e-mail.")
@click.option("--contract", metavar="NO", help="Project or warranty contract number.")
@click.option("--no-contract", is_flag=True, help="A customer without a contract.")
@click.option("--approved-by", metavar="ID", help="Manager or sales manager who approved support.")
@click.option("--severity", required=True, type=int, help="Severity level, 1 (critical) to 4.")
@click.option("--description", required=True, help="The fault as the customer described it.")
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
    customer: str,
    contact: str,
    contract: str | None,
    no_contract: bool,
    approved_by: str | None,
    severity: int,
    description: str,
    source: str,
    assign_to: str | None,
    auto_assign: bool,
    act: Acting,
    json_out: bool,
) -> None:
    """Open a case from a hotline call, e-mail or alarm; prints its id.

    Example: casectl open --customer 招商银行 --contact "刘先生 13800000000"
    --contract HT-2026-031 --severity 1 --description "阵列控制器离线" --auto-assign
    """
    if bool(contract) == no_contract:
        raise click.UsageError("give either --contract NO or --no-contract --approved-by ID")
    if assign_to and auto_assign:
        raise click.UsageError("give --assign ID or --auto-assign, not both")
    person = model.actor(app.cfg, act.by)
    at = app.at(act.at)
    with app.store.lock():
        case = model.open_case(
            app.cfg,
            app.store.unused_id(at),
            person,
            at,
            customer=customer,
            contact=contact,
            contract=contract,
            approved_by=approved_by,
            severity=severity,
            description=description,
            source=source,
        )
        if auto_assign:
            assign_to = model.pick_next(app.cfg, app.index().loads(), at, None).id
        if assign_to:
            model.assign(case, app.cfg, person, at, assign_to)
        path = app.store.create(case)
        what = f"opened, severity {severity}, {customer}" + (
            f", assigned to {assign_to}" if assign_to else ""
        )
        app.commit([path], person, [case.id], what, event_yaml(case.events[0]), act.no_commit, True)
    click.echo(show_json(app, case) if json_out else case.id)


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("engineer", metavar="[ID]", required=False)
@click.option("--next", "next_", is_flag=True, help="The least-loaded first-line engineer on duty.")
@acting
@pass_app
def assign(
    app: App,
    case_id: str,
    engineer: str | None,
    next_: bool,
    act: Acting,
) -> None:
    """Assign the case to an engineer; starts the callback clock.

    Example: casectl assign 261126-K7Q3M zhang.wei
    """
    if bool(engineer) == next_:
        raise click.UsageError("give an engineer ID or --next")

    def step(case: Case, person: Person, at: datetime) -> dict[str, Any]:
        to = engineer or model.pick_next(app.cfg, app.index().loads(), at, case.state.assignee).id
        return model.assign(case, app.cfg, person, at, to)

    record(app, case_id, act, step, lambda e: f"assigned to {e['to']}")
    click.echo(f"{normalize(case_id)} assigned")


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
@acting
@pass_app
def log(
    app: App,
    case_id: str,
    text: str,
    callback: bool,
    kind: str | None,
    act: Acting,
) -> None:
    """Record a step in the process record.

    Contacts with the customer (--callback, --type contact) meet the callback and
    reply deadlines; --type wait-customer / wait-parts pause the clocks the
    severity names until --type resume.

    Example: casectl log 261126-K7Q3M "已电话联系客户，收集日志" --callback
    """
    if callback and kind not in (None, "callback"):
        raise click.UsageError("--callback is a type of its own; drop --type")
    step_kind = "callback" if callback else (kind or "note")
    record(
        app,
        case_id,
        act,
        lambda case, person, at: model.log(case, person, at, text, step_kind),
        lambda e: f"{e['type']}: {first_line(text)}",
    )
    click.echo(f"{normalize(case_id)} {step_kind} recorded")


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("level", metavar="N", type=int)
@click.option("--reason", required=True, help="Why the severity changes.")
@acting
@pass_app
def severity(
    app: App,
    case_id: str,
    level: int,
    reason: str,
    act: Acting,
) -> None:
    """Adjust the severity (assigned or escalation engineer, or the manager).

    Example: casectl severity 261126-K7Q3M 2 --reason "业务已恢复，性能下降"
    """
    record(
        app,
        case_id,
        act,
        lambda case, person, at: model.change_severity(case, app.cfg, person, at, level, reason),
        lambda e: f"severity {e['from']} -> {e['severity']}",
    )
    click.echo(f"{normalize(case_id)} severity {level}")


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--to", "to", required=True, metavar="ID", help="The escalation engineer.")
@click.option("--reason", help="Why the case is escalated.")
@acting
@pass_app
def escalate(
    app: App,
    case_id: str,
    to: str,
    reason: str | None,
    act: Acting,
) -> None:
    """Designate the escalation engineer (the manager); records the escalation time.

    Example: casectl escalate 261126-K7Q3M --to zhou.qiang --reason "需要高级工程师分析"
    """
    record(
        app,
        case_id,
        act,
        lambda case, person, at: model.escalate(case, app.cfg, person, at, to, reason),
        lambda e: f"escalated to {e['to']}",
    )
    click.echo(f"{normalize(case_id)} escalated to {to}")


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("rma_id", metavar="[RMA-ID]", required=False)
@click.option("--part", metavar="PN", help="Part number of the spare part.")
@click.option("--qty", type=int, default=1, show_default=True, help="How many.")
@click.option("--serial", metavar="SN", help="Serial number of the failed part.")
@click.option("--owner", metavar="ID", help="Who owns the RMA (default: whoever records it).")
@click.option("--status", type=click.Choice(model.RMA_STATES), help="The RMA's progress.")
@acting
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
    act: Acting,
) -> None:
    """Record an RMA request, or its progress with RMA-ID --status.

    Statuses: requested, shipped, delivered, installed, returned (or cancelled).

    Example: casectl rma 261126-K7Q3M --part HDS-DKC-CTL --serial SN12345

    Example: casectl rma 261126-K7Q3M RMA-7K2Q --status shipped
    """
    if rma_id:
        if not status or part:
            raise click.UsageError("with an RMA-ID give --status, and no --part")
        record(
            app,
            case_id,
            act,
            lambda case, person, at: model.rma_progress(case, person, at, rma_id, status),
            lambda e: f"{e['rma']} {e['status']}",
        )
        click.echo(f"{rma_id.upper()} {status}")
        return
    if not part or status:
        raise click.UsageError("give --part PN for a new RMA, or RMA-ID --status S")
    case = record(
        app,
        case_id,
        act,
        lambda case, person, at: model.rma_request(
            case, app.cfg, person, at, part=part, qty=qty, serial=serial, owner=owner
        ),
        lambda e: f"{e['rma']} requested: {e['qty']} x {e['part']}",
    )
    click.echo([e for e in case.events if e["type"] == "rma"][-1]["rma"])


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--resolution", required=True, help="What was done, as agreed with the customer.")
@click.option("--force", is_flag=True, help="Close although an RMA is still in progress.")
@click.option("--reason", help="Why, with --force.")
@acting
@pass_app
def close(
    app: App,
    case_id: str,
    resolution: str,
    force: bool,
    reason: str | None,
    act: Acting,
) -> None:
    """Close the case after agreeing with the customer.

    An RMA neither installed nor returned blocks closing unless --force --reason.

    Example: casectl close 261126-K7Q3M --resolution "更换控制器后恢复，客户确认关闭"
    """
    if force != bool(reason):
        raise click.UsageError("--force and --reason go together")
    record(
        app,
        case_id,
        act,
        lambda case, person, at: model.close(case, person, at, resolution, reason),
        lambda e: "closed" + (" (forced)" if reason else ""),
    )
    click.echo(f"{normalize(case_id)} closed")


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True, help="Why the case is reopened.")
@acting
@pass_app
def reopen(app: App, case_id: str, reason: str, act: Acting) -> None:
    """Reopen a closed case; its clocks start afresh.

    Example: casectl reopen 261126-K7Q3M --reason "故障复现"
    """
    record(
        app,
        case_id,
        act,
        lambda case, person, at: model.reopen(case, person, at, reason),
        lambda e: "reopened",
    )
    click.echo(f"{normalize(case_id)} reopened")
