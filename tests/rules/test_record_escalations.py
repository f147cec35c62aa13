"""Escalations kept in steps, and the end of the callback chain (issue 20.4, 20.5)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow


def sweep(repo: Repo, now: str) -> list[dict]:
    result = repo.run("sweep", "--json", now=now, by=None)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["actions"]


def escalated_twice(repo: Repo) -> str:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("escalate", case_id, "--to", "zhou.qiang", "--reason", "控制器故障",
            by="wang.jianguo", now="2026-11-26 14:30")  # fmt: skip
    repo.ok("escalate", case_id, "--to", "wang.jianguo", "--reason", "客户要求经理介入",
            by="wang.jianguo", now="2026-11-26 15:00")  # fmt: skip
    return case_id


def test_a_second_escalation_keeps_the_first(repo: Repo) -> None:
    case_id = escalated_twice(repo)
    doc = repo.show(case_id, now="2026-11-26 15:05")
    assert doc["escalation_engineers"] == ["zhou.qiang", "wang.jianguo"]
    assert [(e["to"], e["at"][11:16], e["by"], e["reason"]) for e in doc["escalations"]] == [
        ("zhou.qiang", "14:30", "wang.jianguo", "控制器故障"),
        ("wang.jianguo", "15:00", "wang.jianguo", "客户要求经理介入"),
    ]
    out = repo.ok("show", case_id, now="2026-11-26 15:05")
    assert "Escalation engineer: zhou.qiang (周强), wang.jianguo (王建国)" in out
    assert "2026-11-26 14:30 to zhou.qiang by wang.jianguo: 控制器故障" in out
    assert "2026-11-26 15:00 to wang.jianguo by wang.jianguo: 客户要求经理介入" in out


def test_the_senior_still_acts_after_the_manager_joins(repo: Repo, refused: Callable) -> None:
    case_id = escalated_twice(repo)
    at = {"by": "zhou.qiang", "now": "2026-11-26 15:10"}
    repo.ok("severity", case_id, "2", "--reason", "已恢复部分业务", **at)
    repo.ok("onsite", case_id, "--request", "--reason", "更换控制器", **at)
    repo.ok("log", case_id, "已回电", "--callback", **at)
    assert repo.show(case_id, now="2026-11-26 15:10")["events"][-1]["type"] == "callback"
    said = refused("severity", case_id, "3", "--reason", "x", by="liu.yang",
                   now="2026-11-26 15:11")  # fmt: skip
    assert said.endswith("only the assigned engineer (zhang.wei), the escalation engineer "
                         "(zhou.qiang, wang.jianguo) or the manager may")  # fmt: skip
    repo.ok("onsite", case_id, "--cancel", "--reason", "客户自行恢复", **at)
    repo.ok("close", case_id, "--resolution", "已更换", **at)
    assert repo.show(case_id, now="2026-11-26 15:10")["status"] == "closed"
    assert repo.ok("check", by=None, now="2026-11-26 15:20") == ""


def test_overdue_update_reminders_reach_every_escalation_engineer(repo: Repo) -> None:
    severity = repo.root / "severity.yaml"
    severity.write_text(severity.read_text().replace(
        "update: [assignee, manager], escalation: [manager]}",
        "update: [assignee, escalation], escalation: [manager]}", 1))  # fmt: skip
    case_id = escalated_twice(repo)
    actions = [a for a in sweep(repo, "2026-11-26 16:20") if a["case"] == case_id]
    [update] = [a for a in actions if a["kind"] == "update_overdue"]
    assert update["notify"] == ["zhang.wei", "zhou.qiang", "wang.jianguo"]


def test_a_case_the_manager_took_last_is_not_passed_on_by_a_later_sweep(repo: Repo) -> None:
    """Friday 19:00: the roster runs out at 20:15 and the manager takes the case; he misses
    the callback too. The sweep reports it once, whether cron ran at 20:30 or on Monday,
    when sun.li (business hours) is on duty again."""
    outcomes = []
    for last in ("2026-11-27 20:30", "2026-11-30 10:00"):
        case_id = repo.open_case(assign="zhang.wei", now="2026-11-27 19:00")
        chain = []
        for now in ("2026-11-27 19:45", "2026-11-27 20:00", "2026-11-27 20:15"):
            chain += [(a["from"], a["to"]) for a in sweep(repo, now)
                      if a["case"] == case_id and a["kind"] == "reassign"]  # fmt: skip
        assert chain == [("zhang.wei", "liu.yang"), ("liu.yang", "zhao.lei"),
                         ("zhao.lei", "wang.jianguo")]  # fmt: skip
        actions = [a for a in sweep(repo, last) if a["case"] == case_id]
        outcomes.append([(a["kind"], a["due"][:16], a["to"]) for a in actions if "callback" in
                         a["deadline"]])  # fmt: skip
        assert repo.show(case_id, now=last)["assignee"] == "wang.jianguo"
        repo.ok("close", case_id, "--resolution", "r", by="wang.jianguo", now=last)
    assert outcomes[0] == outcomes[1] == [("callback_overdue", "2026-11-27T20:30", None)]
