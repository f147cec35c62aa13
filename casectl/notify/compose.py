"""What a person reads: one part per recorded event, and one message (or digest) per person.

A part is composed when the event is recorded, from the case as it was then: the
case, the customer, the severity, what is due or missed and since when, and the
next step with the command to run. An engineer who gets a case also gets the
customer's contact, to call back at once. Text from case files and the roster is
other people's input: titles are one line, and control characters are escaped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl import said
from casectl.config import Config
from casectl.deadlines import span
from casectl.i18n import _
from casectl.model import Case, State, replay
from casectl.terminal import safe

Part = dict[str, Any]  # {"case": id, "title": one line, "lines": [...]}


def told(event: dict[str, Any], cfg: Config) -> list[str]:
    """Who an event tells: the sweep's `notify`; an assignment's new engineer; the
    engineer an escalation names; the manager, of a request for on-site service; the
    engineer a visit's approval sends. Never the person who took the step."""
    kind = event["type"]
    if kind == "assign":
        return [event["to"]]
    named = {
        "escalate": event.get("to"),
        "onsite-request": cfg.manager.id,
        "onsite-approve": event.get("engineer"),
    }
    if kind in named:
        return [str(named[kind])] if named[kind] and named[kind] != event.get("by") else []
    return [str(p) for p in event.get("notify") or []]


def parts(case: Case, event: dict[str, Any], cfg: Config) -> dict[str, Part]:
    """Each person the event tells, and the part of a message they get."""
    return {person: _part(case, event, cfg, person) for person in told(event, cfg)}


def _then(case: Case, event: dict[str, Any]) -> State:
    """The case's state just after the event (a later event of the same sweep may change it)."""
    index = next((i for i, e in enumerate(case.events) if e is event), len(case.events) - 1)
    return replay(case.events[: index + 1])


def _part(case: Case, event: dict[str, Any], cfg: Config, person: str) -> Part:
    if event["type"] in ("assign", "reassign") and event.get("to") == person:
        return _assigned(case, event, cfg)
    if event["type"] in ("escalate", "onsite-request", "onsite-approve"):
        return _named(case, event, cfg, person)
    s = _then(case, event)
    what = said.line(event, case.events) or str(event.get("text") or event["type"])
    lines = [_case_line(case.id, s, cfg), _("事件 what: {what}").format(what=what)]
    if event.get("due") is not None:
        lines.append(_("到期 due: {due}, 已晚 late by {late}").format(
            due=_clock(event["due"]), late=_late(event)))  # fmt: skip
    lines.append(_("下一步 next: {step}").format(step=_next_step(case.id, s, event, cfg, person)))
    return _made(case, f"{case.id} {s.customer}: {what}", lines)


def _assigned(case: Case, event: dict[str, Any], cfg: Config) -> Part:
    s = _then(case, event)
    lines = [
        _case_line(case.id, s, cfg),
        _("联系人 contact: {contact}").format(contact=s.contact),
        _("合同 contract: {contract}").format(contract=s.contract or _("无 none")),
        _("故障 fault: {fault}").format(fault=s.description),
    ]
    if event["type"] == "reassign":
        lines.append(_("原工程师 from: {engineer} 未按时回电 missed the callback").format(
            engineer=event.get("from")))  # fmt: skip
    due = _callback_due(case, cfg)
    if due is not None:
        lines.append(
            _("请在 {due} 前回电客户 call the customer back by then").format(due=_clock(due))
        )
    step = f'casectl log {case.id} "已电话联系客户" --callback --by {event["to"]}'
    lines.append(_("下一步 next: {step}").format(step=step))
    title = _("{case} 分配给你 assigned to you: {customer}").format(
        case=case.id, customer=s.customer
    )
    return _made(case, title, lines)


TITLE_MAX = 200  # characters of a title (a mail subject)
LINE_MAX = 2000  # characters of one line (the customer's text); then "…" and where the rest is


def _named(case: Case, event: dict[str, Any], cfg: Config, person: str) -> Part:
    """A step that names someone to act: the escalation engineer (who takes over and
    contacts the customer), the manager asked for on-site service, the engineer sent."""
    s = _then(case, event)
    kind, by, reason = event["type"], event.get("by"), str(event.get("text") or "")
    lines = [
        _case_line(case.id, s, cfg),
        _("联系人 contact: {contact}").format(contact=s.contact),
        _("故障 fault: {fault}").format(fault=s.description),
    ]
    if kind == "escalate":
        title = _("{case} 升级给你 escalated to you: {customer}")
        lines.append(_("升级人 by: {person}  原因 reason: {reason}").format(
            person=by, reason=reason or _("无 none")))  # fmt: skip
        step = _("接手 CASE 并联系客户 take over and contact the customer; casectl show {case}")
    elif kind == "onsite-request":
        title = _("{case} 申请现场服务 on-site service requested: {customer}")
        when = _clock(event["when"]) if event.get("when") else _("未定 not set")
        lines.append(_("申请人 by: {person}  计划 planned: {when}  原因 reason: {reason}").format(
            person=by, when=when, reason=reason))  # fmt: skip
        step = f"casectl onsite {case.id} --approve --engineer ID --when HH:MM"
    else:
        title = _("{case} 现场服务已批准 on-site visit approved for you: {customer}")
        when = _clock(event["when"]) if event.get("when") else _("未定 not set")
        lines.append(_("批准人 by: {person}  时间 when: {when}").format(person=by, when=when))
        step = f"casectl onsite {case.id} --arrive --by {person}"
    lines.append(_("下一步 next: {step}").format(step=step.format(case=case.id)))
    return _made(case, title.format(case=case.id, customer=s.customer), lines)


def _made(case: Case, title: str, lines: list[str]) -> Part:
    """Titles one line of at most TITLE_MAX characters, each line at most LINE_MAX: other
    people's text is bounded in a message, and the message says where to read it all."""
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    return {
        "case": case.id,
        "title": safe(title),
        "lines": [safe(_bounded(line, case.id)) for line in lines],
    }


def notice(title: str, lines: list[str]) -> Part:
    """A part about the repository, of no case (holiday data running out)."""
    title = " ".join(title.split())
    title = title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"
    return {"case": None, "title": safe(title), "lines": [safe(line[:LINE_MAX]) for line in lines]}


def _bounded(line: str, case_id: str) -> str:
    if len(line) <= LINE_MAX:
        return line
    more = _("…（全文 full text: casectl show {case}）").format(case=case_id)
    return line[: LINE_MAX - len(more)] + more


def _case_line(case_id: str, s: State, cfg: Config) -> str:
    level = cfg.levels.get(s.severity)
    name = f" {level.name}" if level else ""
    return _("CASE编号 case: {case}  客户 customer: {customer}  故障级别 severity: {severity}"
             ).format(case=case_id, customer=s.customer, severity=s.severity) + name  # fmt: skip


def _next_step(case_id: str, s: State, event: dict[str, Any], cfg: Config, person: str) -> str:
    kind = str(event.get("deadline", "")).split("@")[0].split("/")[0]
    if event["type"] == "check":
        engineer = cfg.person(s.assignee or "")
        phone = f" ({engineer.phone or engineer.email})" if engineer else ""
        return _("提醒 remind {engineer} 回电客户; casectl show {case}").format(
            engineer=f"{s.assignee}{phone}", case=case_id)  # fmt: skip
    if event["type"] == "reassign":
        return _("{engineer} 须在 15 分钟内回电 must call back; casectl show {case}").format(
            engineer=event.get("to"), case=case_id)  # fmt: skip
    if event["type"] == "overdue" and kind in ("reply", "update"):
        return f'casectl log {case_id} "..." --type contact --by {person}'
    if event["type"] == "overdue" and kind.startswith("escalation"):
        return f"casectl escalate {case_id} --to ID --reason ..."
    if event["type"] == "overdue" and kind == "callback":
        return f"casectl assign {case_id} ID"
    return f"casectl show {case_id}"


def _callback_due(case: Case, cfg: Config) -> datetime | None:
    from casectl import deadlines

    found = deadlines.compute(case, cfg)
    return next((d.due for d in found if d.kind == "callback" and d.met is None), None)


def _clock(at: Any) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if isinstance(at, datetime) else str(at)


def _late(event: dict[str, Any]) -> str:
    at, due = event.get("at"), event.get("due")
    if isinstance(at, datetime) and isinstance(due, datetime):
        return span(at - due)
    return "?"


# --- a message for one person: one part, or a digest of several ----------------------


def subject(parts: list[Part]) -> str:
    if len(parts) == 1:
        return f"[casectl] {parts[0]['title']}"
    cases = sorted({p["case"] for p in parts if p.get("case")})
    return "[casectl] " + _("{count} 条通知 notices: {cases}").format(
        count=len(parts), cases=", ".join(cases))  # fmt: skip


def text(name: str, parts: list[Part]) -> str:
    """The body: a greeting, then each part's title and lines, in the order they came."""
    blocks = [f"{p['title']}\n" + "\n".join(f"  {line}" for line in p["lines"]) for p in parts]
    head = f"{name}：" if len(parts) == 1 else f"{name}：" + _("{count} 条通知 notices").format(
        count=len(parts))  # fmt: skip
    return head + "\n\n" + "\n\n".join(blocks) + "\n"
