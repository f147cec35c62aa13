"""`casectl onsite`: on-site service, asked of the manager, approved or denied, then the visit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from casectl.cli.app import Acting, App, acting, as_json, first_line, pass_app, show_json
from casectl.cli.steps import taken
from casectl.config import Config, Person
from casectl.i18n import N_, _
from casectl.model import Case
from casectl.onsite import (
    approve_onsite,
    arrive_onsite,
    cancel_onsite,
    deny_onsite,
    depart_onsite,
    request_onsite,
    work_onsite,
)
from casectl.records import Record

STEPS = ("request", "approve", "deny", "cancel", "arrive", "work", "depart")


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--request", is_flag=True, help="Ask the manager to go on site (with --reason).")
@click.option("--approve", is_flag=True, help="The manager approves the pending request.")
@click.option("--deny", is_flag=True, help="The manager denies the request (with --reason).")
@click.option(
    "--cancel", is_flag=True, help="Call off the request or approved visit (with --reason)."
)
@click.option("--arrive", is_flag=True, help="The approved engineer arrived on site.")
@click.option("--work", metavar="TEXT", help="What was done on site.")
@click.option("--depart", is_flag=True, help="Leaving site (needs --summary and --solution).")
@click.option("--reason", help="Why on-site service is needed; why it is denied or cancelled.")
@click.option("--when", metavar="TIME", help="When the visit is planned (may be ahead).")
@click.option("--engineer", metavar="ID", help="With --approve: who goes (default: the requester).")
@click.option("--part", "parts", metavar="PN", multiple=True,
              help="With --work: a part used (an RMA of the case, or a spare).")  # fmt: skip
@click.option("--summary", help="With --depart: what was solved.")
@click.option("--solution", help="With --depart: how it was solved.")
@click.option("--unresolved", help="With --depart: what is still open.")
@acting
@as_json
@pass_app
def onsite(
    app: App,
    case_id: str,
    request: bool,
    approve: bool,
    deny: bool,
    cancel: bool,
    arrive: bool,
    work: str | None,
    depart: bool,
    reason: str | None,
    when: str | None,
    engineer: str | None,
    parts: tuple[str, ...],
    summary: str | None,
    solution: str | None,
    unresolved: str | None,
    act: Acting,
    json_out: bool,
) -> None:
    """On-site service: the case's engineer asks, the manager decides, the visit is recorded.

    --request --reason TEXT [--when TIME] by the assigned or escalation engineer;
    --approve [--engineer ID] [--when TIME] or --deny --reason TEXT by the manager;
    --cancel --reason TEXT, before anyone arrived, by the manager, the requester or
    the engineer approved (the case may then ask again);
    then, by the engineer approved: --arrive, --work TEXT [--part PN ...] (an RMA of
    the case, by id or part number, else a spare from stock), and --depart --summary
    TEXT --solution TEXT [--unresolved TEXT]. A request still waiting for the manager
    at its severity's onsite_approval limit is reported by the sweep, once.

    Example: casectl onsite 261126-K7Q3M --request --reason "需要现场更换控制器"

    Example: casectl onsite 261126-K7Q3M --approve --engineer zheng.hao --when "17:00"
    """
    flags = (request, approve, deny, cancel, arrive, work is not None, depart)
    chosen = [n for n, on in zip(STEPS, flags, strict=True) if on]
    if len(chosen) != 1:
        raise click.UsageError(
            _("give one of --request, --approve, --deny, --cancel, --arrive, --work TEXT, "
              "--depart")
        )  # fmt: skip
    what = chosen[0]
    _check_options(what, reason, when, engineer, parts, summary, solution, unresolved)
    given = _Given(reason, _planned(app, when), engineer, work, parts, summary, solution,
                   unresolved)  # fmt: skip
    from casectl.cli.notify import Notices  # the manager asked, the engineer sent: told now

    told = Notices(app) if what in ("request", "approve") else None

    def step(case: Case, person: Person, at: datetime) -> dict[str, Any]:
        event = _recorded(case, app.cfg, person, at, what, given)
        if told is not None:
            told.tell(case, [event])
        return event

    case, event = taken(app, case_id, act, step, _said)
    click.echo(show_json(app, case) if json_out else f"{case.id} {_said(event, _)}")
    if told is not None:
        told.finish()


class _Given(Record):
    """The options a step reads, --when already parsed."""

    reason: str | None
    planned: datetime | None
    engineer: str | None
    work: str | None
    parts: tuple[str, ...]
    summary: str | None
    solution: str | None
    unresolved: str | None


def _recorded(
    case: Case, cfg: Config, person: Person, at: datetime, what: str, o: _Given
) -> dict[str, Any]:
    """The event --{what} appends to the case."""
    if what == "request":
        return request_onsite(case, person, at, o.reason or "", o.planned)
    if what == "approve":
        return approve_onsite(case, cfg, person, at, o.engineer, o.planned, o.reason)
    if what == "deny":
        return deny_onsite(case, person, at, o.reason or "")
    if what == "cancel":
        return cancel_onsite(case, cfg, person, at, o.reason or "")
    if what == "arrive":
        return arrive_onsite(case, person, at)
    if what == "work":
        return work_onsite(case, person, at, o.work or "", list(o.parts))
    return depart_onsite(case, person, at, o.summary or "", o.solution or "", o.unresolved)


def _check_options(
    what: str,
    reason: str | None,
    when: str | None,
    engineer: str | None,
    parts: tuple[str, ...],
    summary: str | None,
    solution: str | None,
    unresolved: str | None,
) -> None:
    """Usage errors: each option only with the steps it belongs to."""
    belongs = {
        "--reason": (reason, ("request", "approve", "deny", "cancel")),
        "--when": (when, ("request", "approve")),
        "--engineer": (engineer, ("approve",)),
        "--part": (parts or None, ("work",)),
        "--summary": (summary, ("depart",)),
        "--solution": (solution, ("depart",)),
        "--unresolved": (unresolved, ("depart",)),
    }
    for option, (value, steps) in belongs.items():
        if value is not None and what not in steps:
            raise click.UsageError(
                _("{option} goes with {steps}, not --{what}").format(
                    option=option, steps=_(" or ").join(f"--{s}" for s in steps), what=what
                )
            )
    needed = {"request": ("--reason", reason), "deny": ("--reason", reason),
              "cancel": ("--reason", reason), "depart": ("--summary", summary)}  # fmt: skip
    if what in needed and needed[what][1] is None:
        raise click.UsageError(
            _("--{what} needs {option} TEXT").format(what=what, option=needed[what][0])
        )
    if what == "depart" and solution is None:
        raise click.UsageError(_("--depart needs --solution TEXT"))


def _planned(app: App, when: str | None) -> datetime | None:
    """--when: any time, ahead included (a visit is planned); a bare `17:00` is today."""
    from casectl import clock

    return clock.parse_time(when, app.cfg.zone, app.now, what="--when") if when else None


def _said(e: dict[str, Any], say: Callable[[str], str] = N_) -> str:
    """What the step did: in English for the commit's subject, in the language chosen
    (`say=_`) for stdout."""
    visit, kind = e["onsite"], e["type"].removeprefix("onsite-")
    when = f"{e['when']:%Y-%m-%d %H:%M}" if e.get("when") else ""
    planned = say(N_(" for {when}")).format(when=when) if when else ""
    if kind == "request":
        return say(N_("on-site service requested ({visit}){planned}")).format(
            visit=visit, planned=planned
        )
    if kind == "approve":
        return say(N_("on-site {visit} approved: {engineer}{planned}")).format(
            visit=visit, engineer=e["engineer"], planned=planned
        )
    if kind == "deny":
        return say(N_("on-site {visit} denied: {reason}")).format(
            visit=visit, reason=first_line(e["text"])
        )
    if kind == "cancel":
        return say(N_("on-site {visit} cancelled: {reason}")).format(
            visit=visit, reason=first_line(e["text"])
        )
    if kind == "work":
        used = ", ".join(p["part"] for p in e.get("parts", []))
        parts = say(N_(", parts {parts}")).format(parts=used) if used else ""
        return say(N_("on-site {visit} work recorded")).format(visit=visit) + parts
    if kind == "arrive":
        return say(N_("on-site {visit}: arrived")).format(visit=visit)
    return say(N_("on-site {visit}: departed")).format(visit=visit)
