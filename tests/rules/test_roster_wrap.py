"""A missed callback goes round the roster: below the current engineer, wrapping to the top,
skipping whoever already missed the case or is off duty; with nobody left, the manager."""

from __future__ import annotations

import json

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow


def moves(repo: Repo, now: str) -> list[tuple[str, str | None, str | None]]:
    result = repo.run("sweep", "--json", now=now, by=None)
    assert result.exit_code == 0, result.stderr
    actions = json.loads(result.stdout)["actions"]
    return [(a["kind"], a["from"], a["to"]) for a in actions if a["kind"] != "check"]


def test_the_last_engineer_wraps_round_to_the_top(repo: Repo) -> None:
    repo.open_case(assign="sun.li", now="2026-11-26 14:05")  # Thursday: sun.li is on duty
    assert moves(repo, "2026-11-26 14:50") == [("reassign", "sun.li", "zhang.wei")]


def test_round_the_roster_then_the_manager_then_reported_once(repo: Repo) -> None:
    case_id = repo.open_case(assign="liu.yang", now="2026-11-26 14:05")
    assert moves(repo, "2026-11-26 14:50") == [("reassign", "liu.yang", "zhao.lei")]
    assert moves(repo, "2026-11-26 15:05")[0] == ("reassign", "zhao.lei", "sun.li")
    assert moves(repo, "2026-11-26 15:20") == [("reassign", "sun.li", "zhang.wei")]
    assert moves(repo, "2026-11-26 15:35") == [("reassign", "zhang.wei", "wang.jianguo")]
    assert moves(repo, "2026-11-26 15:50") == [("callback_overdue", None, None)]
    assert [m for m in moves(repo, "2026-11-26 18:00") if m[0] != "escalation_due"] == []
    assert repo.show(case_id, now="2026-11-26 18:00")["assignee"] == "wang.jianguo"


def test_wrapping_skips_who_is_off_duty(repo: Repo) -> None:
    repo.open_case(assign="zhao.lei", now="2026-11-28 10:00")  # Saturday: sun.li is off
    assert moves(repo, "2026-11-28 10:45") == [("reassign", "zhao.lei", "zhang.wei")]
