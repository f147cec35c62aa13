"""On-site requests in one minute, closing with a visit under way, RMA progress after the
close (issue 20.6-20.8)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo"
T = "2026-11-26 14:10"


def test_a_request_made_in_the_minute_another_was_cancelled_is_the_latest(repo: Repo) -> None:
    case_id = repo.open_case()
    for args in (["--request", "--reason", "需要现场"], ["--cancel", "--reason", "不需要了"],
                 ["--request", "--reason", "故障复现"]):  # fmt: skip
        repo.ok("onsite", case_id, *args, "--at", T, by="zhang.wei", now="2026-11-26 14:30")
    repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", by=MANAGER,
            now="2026-11-26 14:31")  # fmt: skip
    visits = repo.show(case_id, now="2026-11-26 14:32")["onsite"]
    assert [(v["stage"], v["reason"]) for v in visits] == [
        ("cancelled", "需要现场"), ("approved", "故障复现")]  # fmt: skip
    repo.ok("onsite", case_id, "--cancel", "--reason", "客户自行恢复", by="zheng.hao",
            now="2026-11-26 14:40")  # fmt: skip
    visits = repo.show(case_id, now="2026-11-26 14:41")["onsite"]
    assert [v["stage"] for v in visits] == ["cancelled", "cancelled"]
    swept = json.loads(repo.ok("sweep", "--json", by=None, now="2026-11-27 14:00"))
    assert "onsite_pending" not in [a["kind"] for a in swept["actions"]]


def test_close_refuses_while_a_request_is_pending_and_names_it(
    repo: Repo, refused: Callable
) -> None:
    case_id = repo.open_case()
    repo.ok("onsite", case_id, "--request", "--reason", "需要现场", by="zhang.wei", now=T)
    [visit] = repo.show(case_id, now=T)["onsite"]
    said = refused("close", case_id, "--resolution", "已解决", by="zhang.wei",
                   now="2026-11-26 14:20")  # fmt: skip
    assert said == (
        f"case {case_id} has on-site request {visit['id']}, pending: cancel it first "
        f"(casectl onsite {case_id} --cancel --reason TEXT), then close"
    )
    repo.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 14:20")
    assert "approved: cancel it first" in refused(
        "close", case_id, "--resolution", "已解决", by="zhang.wei", now="2026-11-26 14:21"
    )
    repo.ok("onsite", case_id, "--arrive", by="zhang.wei", now="2026-11-26 15:00")
    assert refused(
        "close", case_id, "--resolution", "已解决", by="zhang.wei", now="2026-11-26 15:10"
    ) == (  # fmt: skip
        f"zhang.wei is on site for {visit['id']} of case {case_id}: record the departure "
        f"first (casectl onsite {case_id} --depart), then close"
    )
    repo.ok("onsite", case_id, "--depart", "--summary", "换好", "--solution", "更换控制器",
            by="zhang.wei", now="2026-11-26 16:00")  # fmt: skip
    repo.ok("close", case_id, "--resolution", "已解决", by="zhang.wei", now="2026-11-26 16:05")


def test_the_defective_parts_return_is_recorded_after_the_close(
    repo: Repo, refused: Callable
) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now=T)
    rma = repo.ok("rma", case_id, "--part", "HDS-DKC-CTL", by="zhang.wei", now=T)
    repo.ok("rma", case_id, rma, "--status", "installed", by="zhang.wei", now="2026-11-26 15:00")
    repo.ok("close", case_id, "--resolution", "已更换", by="zhang.wei", now="2026-11-26 15:10")
    said = repo.ok("rma", case_id, rma, "--status", "returned", by="zhang.wei",
                   now="2026-11-30 10:00")  # fmt: skip
    assert said == f"{rma} returned"
    doc = repo.show(case_id, now="2026-11-30 10:01")
    assert doc["status"] == "closed" and doc["closed_at"] == "2026-11-26T15:10:00+08:00"
    assert [r["status"] for r in doc["rmas"]] == ["returned"]
    assert [d for d in doc["deadlines"] if d["state"] in ("pending", "missed", "due soon")] == []
    swept = json.loads(repo.ok("sweep", "--json", by=None, now="2026-11-30 11:00"))
    assert swept["actions"] == []
    assert repo.ok("list", "--json", now="2026-11-30 10:01") == "[]"
    assert "cannot go back" in refused("rma", case_id, rma, "--status", "shipped",
                                       by="zhang.wei", now="2026-11-30 10:02")  # fmt: skip
    assert "may not update" in refused("rma", case_id, rma, "--status", "cancelled",
                                       by="liu.yang", now="2026-11-30 10:02")  # fmt: skip
    assert repo.run("check", by=None, now="2026-11-30 10:03").exit_code == 0


def test_a_close_made_before_this_rule_over_a_pending_request_is_history(repo: Repo) -> None:
    """Such a close is in repositories already: check (and so the pre-commit hook) must not
    turn red over it."""
    case_id = repo.open_case()
    repo.ok("onsite", case_id, "--request", "--reason", "需要现场", by="zhang.wei", now=T)
    path = repo.case_path(case_id)
    path.write_text(path.read_text(encoding="utf-8") + (
        "- id: LEGACY01\n  at: 2026-11-26T14:30:00+08:00\n  by: zhang.wei\n  type: close\n"
        "  text: 已解决\n"), encoding="utf-8")  # fmt: skip
    result = repo.run("check", by=None, now="2026-11-26 15:00")
    assert result.exit_code == 0, result.stdout
