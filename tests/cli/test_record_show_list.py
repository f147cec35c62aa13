"""A closed case's outcome in `show`, a waiting case in `list` (issue 20.10, 20.11)."""

from __future__ import annotations

import json

import pytest
from conftest import Repo


@pytest.mark.slow
def test_show_of_a_closed_case_gives_its_resolution_and_deadlines(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")  # callback 14:50, reply 15:05
    repo.run("sweep", by=None, now="2026-11-26 14:50")  # zhang.wei missed: liu.yang
    repo.ok("log", case_id, "已回电", "--callback", by="liu.yang", now="2026-11-26 15:10")
    repo.ok("close", case_id, "--resolution", "更换控制器后恢复", by="liu.yang",
            now="2026-11-26 15:30")  # fmt: skip
    doc = repo.show(case_id, now="2026-11-28 09:00")
    assert doc["resolution"] == "更换控制器后恢复" and doc["next_step"] is None
    got = [(d["label"], d["due"][11:16], d["state"], d["owner"]) for d in doc["deadlines"]]
    assert got == [
        ("callback by zhang.wei", "14:50", "missed", "zhang.wei"),  # the sweep reassigned it
        ("callback by liu.yang", "15:05", "met late", "liu.yang"),
        ("first reply", "15:05", "met late", "liu.yang"),
    ]
    out = repo.ok("show", case_id, now="2026-11-28 09:00")
    assert "Resolution:          更换控制器后恢复" in out
    assert "Deadlines:" in out and "met late (5m)" in out and "Next step" not in out


def test_show_of_a_closed_case_says_which_deadline_was_missed(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    # no update within 2h, no escalation within 2h: both missed when it closes at 16:30
    repo.ok("close", case_id, "--resolution", "r", by="zhang.wei", now="2026-11-26 16:30")
    states = {d["label"]: d["state"] for d in repo.show(case_id, now="2026-12-01 09:00")[
        "deadlines"]}  # fmt: skip
    assert states == {"check 15m": "met", "check 30m": "met",  # needless: called at 14:10
                      "callback by zhang.wei": "met", "first reply": "met",
                      "customer update": "missed", "escalate to senior": "missed"}  # fmt: skip
    # escalate to manager (4h) was not due at the close: owed no more, not listed


def test_list_shows_paused_for_a_case_waiting_on_the_customer(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("log", case_id, "等客户提供日志", "--type", "wait-customer", by="zhang.wei",
            now="2026-11-26 14:15")  # fmt: skip
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-26 14:20"))
    assert (row["next"], row["due"], row["state"], row["owner"]) == (
        "customer update", None, "paused", "zhang.wei")  # fmt: skip
    line = repo.ok("list", now="2026-11-26 14:20").splitlines()[2]
    assert "customer update" in line and line.split()[-2:] == ["paused", "zhang.wei"]
