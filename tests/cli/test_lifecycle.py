"""Every lifecycle command, as a support engineer would run it."""

from __future__ import annotations

import json
import re

import pytest
from conftest import Repo, open_args


def test_open_prints_a_phone_friendly_id_and_records_the_intake(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    assert re.fullmatch(r"261126-[0-9A-HJKMNP-TV-Z]{5}", case_id)
    case = repo.show(case_id)
    assert case["status"] == "open"
    assert case["severity"] == 1
    assert case["customer"] == "招商银行"
    assert case["contract"] == "HT-2026-031"
    assert case["duty"] == "li.na"
    assert case["assignee"] is None
    assert case["opened_at"] == "2026-11-26T14:05:00+08:00"
    assert [e["type"] for e in case["events"]] == ["open"]
    assert repo.case_path(case_id).is_file()


@pytest.mark.slow
def test_assign_log_severity_escalate_rma_close_reopen(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    repo.ok("assign", case_id, "zhang.wei")
    repo.ok("log", case_id, "已电话联系客户", "--callback", by="zhang.wei", now="2026-11-26 14:20")
    repo.ok("log", case_id, "收集日志", by="zhang.wei", now="2026-11-26 14:30")
    repo.ok("severity", case_id, "2", "--reason", "业务恢复", by="zhang.wei")
    repo.ok("escalate", case_id, "--to", "zhou.qiang", "--reason", "需要分析", by="wang.jianguo")
    rma_id = repo.ok("rma", case_id, "--part", "DKC-CTL", "--serial", "SN1", by="zhou.qiang")
    assert re.fullmatch(r"RMA-[0-9A-HJKMNP-TV-Z]{4}", rma_id)
    for status in ("shipped", "delivered", "installed"):
        repo.ok("rma", case_id, rma_id, "--status", status, by="zhou.qiang")
    repo.ok(
        "close",
        case_id,
        "--resolution",
        "更换控制器，客户同意关闭",
        by="zhou.qiang",
        now="2026-11-26 14:40",
    )
    case = repo.show(case_id)
    assert case["status"] == "closed"
    assert case["severity"] == 2
    assert case["assignee"] == "zhang.wei"
    assert case["escalation_engineer"] == "zhou.qiang"
    assert case["rmas"][0]["status"] == "installed"
    assert case["closed_at"] == "2026-11-26T14:40:00+08:00"
    assert {d["state"] for d in case["deadlines"]} == {"met"}  # as the close left them
    assert case["resolution"] == "更换控制器，客户同意关闭" and case["next_step"] is None
    types = [e["type"] for e in case["events"]]
    assert types == [
        "open",
        "assign",
        "severity",
        "escalate",
        "rma",
        "rma-status",
        "rma-status",
        "rma-status",
        "callback",
        "note",
        "close",
    ]
    assert repo.case_path(case_id).is_file()  # a close never moves the file

    repo.ok("reopen", case_id, "--reason", "故障复现", by="li.na", now="2026-11-27 09:00")
    case = repo.show(case_id, now="2026-11-27 09:00")
    assert case["status"] == "open" and case["closed_at"] is None
    assert repo.case_path(case_id).is_file()


def test_events_are_kept_in_time_order_with_at(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "later", by="zhang.wei", now="2026-11-26 15:00")
    repo.ok("log", case_id, "earlier", "--at", "14:30", by="zhang.wei", now="2026-11-26 15:10")
    texts = [e.get("text") for e in repo.show(case_id)["events"]]
    assert texts[-2:] == ["earlier", "later"]
    assert repo.show(case_id)["events"][-2]["at"] == "2026-11-26T14:30:00+08:00"


def test_at_accepts_dateutil_forms_and_other_zones(repo: Repo) -> None:
    case_id = repo.open_case()
    later = "2026-11-26 17:00"  # a step's --at is never in the future
    repo.ok("log", case_id, "a", "--at", "Nov 26 2026 3:10pm", by="zhang.wei", now=later)
    repo.ok("log", case_id, "b", "--at", "2026-11-26T08:00:00Z", by="zhang.wei", now=later)
    ats = {e.get("text"): e["at"] for e in repo.show(case_id)["events"]}
    assert ats["a"] == "2026-11-26T15:10:00+08:00"
    assert ats["b"] == "2026-11-26T16:00:00+08:00"


def test_no_contract_customer_approved_by_sales_manager(repo: Repo) -> None:
    case_id = repo.ok(*open_args(4, None, "--approved-by", "feng.xue", "--source", "email"))
    case = repo.show(case_id)
    assert case["contract"] is None and case["approved_by"] == "feng.xue"


@pytest.mark.slow
def test_auto_assign_and_next_pick_the_least_loaded_on_duty(repo: Repo) -> None:
    first = repo.open_case(assign=None, now="2026-11-28 10:00")  # a Saturday: sun.li off duty
    repo.ok("assign", first, "--next", now="2026-11-28 10:00")
    assert repo.show(first)["assignee"] == "zhang.wei"
    second = repo.ok(*open_args(2, "HT-1", "--auto-assign"), now="2026-11-28 10:01")
    assert repo.show(second)["assignee"] == "liu.yang"
    for _ in range(2):
        case_id = repo.open_case(assign=None, now="2026-11-28 10:02")
        repo.ok("assign", case_id, "--next", now="2026-11-28 10:02")
    assert repo.show(case_id)["assignee"] == "zhang.wei"  # zhao.lei took one, then a tie


def test_multiline_and_special_text_survive(repo: Repo) -> None:
    case_id = repo.open_case()
    text = "第一行\n  second: line #1\n- no\nnull"
    repo.ok("log", case_id, text, by="zhang.wei")
    assert repo.show(case_id)["events"][-1]["text"] == text
    raw = repo.case_path(case_id).read_text(encoding="utf-8")
    assert "text: |" in raw and "第一行" in raw and "&id" not in raw


def test_show_prints_the_record_in_the_order_of_the_rules(repo: Repo) -> None:
    case_id = repo.open_case()
    out = repo.ok("show", case_id)
    labels = [line.split(":")[0] for line in out.splitlines()[:13]]
    assert labels == [
        "Case",
        "Severity",
        "Duty engineer",
        "Assigned engineer",
        "Opened",
        "Closed",
        "Fault description",
        "Severity changes",
        "Escalation engineer",
        "Escalated",
        "Contract",
        "Customer",
        "Contact",
    ]
    assert "Process record:" in out and "Deadlines:" in out


@pytest.mark.slow
def test_list_filters_and_newest_first(repo: Repo) -> None:
    a = repo.open_case(severity=1, now="2026-11-26 09:00")
    b = repo.open_case(severity=3, assign="liu.yang", now="2026-11-26 10:00")
    c = repo.open_case(severity=3, now="2026-11-26 11:00")
    repo.ok("close", c, "--resolution", "ok", by="zhang.wei")
    ids = [r["id"] for r in json.loads(repo.ok("list", "--json"))]
    assert ids == [b, a]
    assert [r["id"] for r in json.loads(repo.ok("list", "--json", "--severity", "3"))] == [b]
    assert [r["id"] for r in json.loads(repo.ok("list", "--json", "--assignee", "zhang.wei"))] == [
        a
    ]
    assert [r["id"] for r in json.loads(repo.ok("list", "--json", "--customer", "招商"))] == [b, a]
    assert [r["id"] for r in json.loads(repo.ok("list", "--json", "--status", "all"))] == [c, b, a]
    assert [r["id"] for r in json.loads(repo.ok("list", "--json", "--status", "closed"))] == [c]
    table = repo.ok("list")
    assert table.splitlines()[0].split()[:3] == ["case", "status", "sev"]
    assert b in table.splitlines()[2]


def test_roster_json_in_roster_order_with_duty(repo: Repo) -> None:
    people = json.loads(repo.ok("roster", "--json", now="2026-11-28 10:00"))
    assert [p["id"] for p in people][:3] == ["wang.jianguo", "li.na", "chen.jing"]
    assert set(people[0]) >= {"id", "name", "roles", "phone", "email", "on_duty"}
    on = {p["id"]: p["on_duty"] for p in people}
    assert on["chen.jing"] is False and on["li.na"] is True  # Saturday: business hours off
    assert "王建国" in repo.ok("roster")


@pytest.mark.slow
def test_case_ids_are_accepted_as_read_out(repo: Repo) -> None:
    case_id = repo.open_case()
    spoken = case_id.lower().replace("0", "o").replace("1", "l")
    assert repo.show(spoken)["id"] == case_id


def test_every_command_has_help() -> None:
    import click
    from click.testing import CliRunner

    from casectl.cli import COMMANDS, HIDDEN, cli

    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name, name
        assert command.help and len(command.help) > 20, name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name
    overview = CliRunner().invoke(cli, ["--help"]).output
    assert all((name in overview) != (name in HIDDEN) for name in COMMANDS)
