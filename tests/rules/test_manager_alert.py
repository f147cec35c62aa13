"""Special situations go to the manager at once: `log --alert-manager` (issue 13.2)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo"


def alerts(repo: Repo, now: str) -> list[dict]:
    actions = json.loads(repo.ok("sweep", "--json", now=now))["actions"]
    return [a for a in actions if a["kind"] == "manager_alert"]


def test_an_alert_is_reported_once_and_never_again(repo: Repo) -> None:
    case_id = repo.open_case()
    said = repo.ok("log", case_id, "机房漏水，阵列有断电风险", "--alert-manager", by="zhang.wei",
                   now="2026-11-26 14:07")  # fmt: skip
    assert said == f"{case_id} note recorded; the manager ({MANAGER}) is told at the next sweep"
    [action] = alerts(repo, "2026-11-26 14:09")
    assert action["case"] == case_id and action["notify"] == [MANAGER]
    assert action["due"] == "2026-11-26T14:07:00+08:00" and action["late_by"] == 120
    assert action["deadline"] == "alert from zhang.wei: 机房漏水，阵列有断电风险"
    for later in ("2026-11-26 14:09", "2026-11-26 14:30", "2026-11-27 09:00"):
        assert alerts(repo, later) == []
    doc = repo.show(case_id)
    [told] = [e for e in doc["events"] if e["type"] == "manager-alert"]
    assert told["notify"] == [MANAGER] and told["at"] == "2026-11-26T14:09:00+08:00"
    assert doc["alerts"][0]["alert"] == "manager" and doc["alerts"][0]["by"] == "zhang.wei"


def test_the_printed_sweep_carries_the_alert_to_the_manager(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "客户威胁投诉", "--alert-manager", by="li.na")
    printed = repo.ok("sweep", now="2026-11-26 14:06")
    block = printed.split("wang.jianguo (王建国", 1)[1].split("\n\n", 1)[0]
    assert f"{case_id}  manager_alert" in block and "alert from li.na: 客户威胁投诉" in block
    assert "the manager is told" not in repo.ok("show", case_id)
    assert "(manager told 2026-11-26 14:06)" in repo.ok("show", case_id)


def test_show_says_an_alert_waits_for_the_sweep(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "特殊情况", "--alert-manager", by="zhang.wei")
    assert "zhang.wei: 特殊情况 (the manager is told at the next sweep)" in repo.ok("show", case_id)


def test_two_alerts_are_two_reports(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "一", "--alert-manager", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("log", case_id, "二", "--alert-manager", by="zhang.wei", now="2026-11-26 14:07")
    assert len(alerts(repo, "2026-11-26 14:08")) == 2
    assert alerts(repo, "2026-11-26 14:09") == []


def test_who_may_alert(repo: Repo, refused: Callable) -> None:
    case_id = repo.open_case()
    assert refused("log", case_id, "x", "--alert-manager", by="liu.yang") == (
        f"liu.yang may not alert the manager about case {case_id}: only people on the case "
        "(li.na, zhang.wei), a duty engineer or the manager may"
    )
    repo.ok("log", case_id, "x", "--alert-manager", by="chen.jing")  # any duty engineer
    repo.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei")
    repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", by=MANAGER)
    repo.ok("log", case_id, "现场情况", "--alert-manager", by="zheng.hao")  # on the case now


def test_an_alert_on_a_closed_case_is_refused(repo: Repo, refused: Callable) -> None:
    case_id = repo.open_case()
    repo.ok("close", case_id, "--resolution", "done", by="zhang.wei")
    assert refused("log", case_id, "x", "--alert-manager", by="zhang.wei") == (
        f"case {case_id} is closed; reopen it first"
    )
