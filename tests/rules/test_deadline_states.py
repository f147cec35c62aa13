"""Deadline states: late is late (met late, with how late), and a reopen keeps escalations."""

from __future__ import annotations

import json

from conftest import Repo


def deadlines(repo: Repo, case_id: str, now: str) -> dict[str, dict]:
    return {d["label"]: d for d in repo.show(case_id, now=now)["deadlines"]}


def test_a_callback_made_after_its_due_time_is_met_late(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")  # callback due 14:50, reply 15:05
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:55")
    shown = deadlines(repo, case_id, "2026-11-26 15:00")
    callback = shown["callback by zhang.wei"]
    assert (callback["state"], callback["late_by"]) == ("met late", 300)
    assert (callback["due"], callback["met_at"]) == (
        "2026-11-26T14:50:00+08:00",
        "2026-11-26T14:55:00+08:00",
    )
    reply = shown["first reply"]
    assert (reply["state"], reply["late_by"], reply["met_at"]) == (
        "met",
        None,
        "2026-11-26T14:55:00+08:00",
    )


def test_an_escalation_an_hour_late_is_met_late(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")  # severity 1: senior within 2h, 16:05
    repo.ok("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo", now="2026-11-26 17:05")
    senior = deadlines(repo, case_id, "2026-11-26 17:10")["escalate to senior"]
    assert (senior["state"], senior["late_by"]) == ("met late", 3600)
    text = repo.ok("show", case_id, now="2026-11-26 17:10")
    assert "met late (1h)" in text


def test_every_state_in_show_and_json(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    shown = deadlines(repo, case_id, "2026-11-26 14:10")
    states = {label: (d["state"], d["late_by"]) for label, d in shown.items()}
    assert states["callback by zhang.wei"] == ("met", None)
    assert states["escalate to senior"] == ("pending", None)
    missed = deadlines(repo, case_id, "2026-11-26 16:35")["customer update"]  # due 16:10
    assert (missed["state"], missed["late_by"], missed["met_at"]) == ("missed", 25 * 60, None)
    assert deadlines(repo, case_id, "2026-11-26 15:50")["customer update"]["state"] == "due soon"
    repo.ok("log", case_id, "等日志", "--type", "wait-customer", by="zhang.wei",
            now="2026-11-26 14:20")  # fmt: skip
    paused = deadlines(repo, case_id, "2026-11-26 16:35")["customer update"]
    assert (paused["state"], paused["due"], paused["late_by"]) == ("paused", None, None)
    text = repo.ok("show", case_id, now="2026-11-26 16:35")
    assert "met late" not in text and "paused" in text


def test_list_gives_the_state_show_gives(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:55")
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-26 16:10"))
    shown = deadlines(repo, case_id, "2026-11-26 16:10")
    assert (row["next"], row["state"]) == ("escalate to senior", "missed")
    assert shown["escalate to senior"]["state"] == "missed"
    assert "met late" in repo.ok("show", case_id, now="2026-11-26 16:10")


def test_a_reopened_case_keeps_its_escalations(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo", now="2026-11-26 15:00")
    repo.ok("close", case_id, "--resolution", "ok", by="zhang.wei", now="2026-11-26 15:30")
    repo.ok("reopen", case_id, "--reason", "复发", now="2026-11-27 10:00")
    shown = deadlines(repo, case_id, "2026-11-27 10:01")
    senior = shown["escalate to senior"]
    assert (senior["state"], senior["met_at"]) == ("met", "2026-11-26T15:00:00+08:00")
    manager = shown["escalate to manager"]  # not yet made: restarts from the reopening
    assert (manager["state"], manager["due"]) == ("pending", "2026-11-27T14:00:00+08:00")
    swept = repo.ok("sweep", "--json", now="2026-11-27 12:05", by=None)
    kinds = [(a["kind"], a["deadline"]) for a in json.loads(swept)["actions"]]
    assert ("escalation_due", "escalate to senior") not in kinds
    assert ("reassign", "callback by zhang.wei") in kinds  # the customer is owed a new callback


def test_a_step_is_judged_by_the_severity_in_force_when_it_was_made(repo: Repo) -> None:
    case_id = repo.open_case(severity=4, now="2026-11-26 14:05")  # updates within 16h
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("log", case_id, "进展", "--type", "contact", by="zhang.wei", now="2026-11-26 17:00")
    repo.ok("severity", case_id, "1", "--reason", "全部中断", by="zhang.wei",
            now="2026-11-26 17:10")  # fmt: skip
    updates = [d for d in repo.show(case_id, now="2026-11-26 17:10")["deadlines"]
               if d["kind"] == "update"]  # fmt: skip
    assert [(d["state"], d["due"][:16]) for d in updates] == [
        ("pending", "2026-11-26T19:00"),  # 2 hours at severity 1, from 17:00
        ("met", "2026-11-30T14:10"),  # 16 working hours at severity 4, met at 17:00
    ]
    swept = json.loads(repo.ok("sweep", "--json", now="2026-11-26 17:10", by=None))["actions"]
    assert "met_late" not in [a["kind"] for a in swept]
