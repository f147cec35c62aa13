"""The sweep, on the service rules' own timeline and the ways peers got it wrong."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from conftest import Repo

pytestmark = pytest.mark.slow


def sweep(repo: Repo, now: str, *args: str) -> list[dict]:
    result = repo.run("sweep", "--json", *args, now=now, by=None)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["actions"]


def kinds(actions: list[dict]) -> list[tuple[str, str]]:
    return [(a["kind"], a["due"][11:16]) for a in actions]


def test_the_service_rules_timeline(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    assert sweep(repo, "2026-11-26 14:19") == []
    assert kinds(sweep(repo, "2026-11-26 14:20")) == [("check", "14:20")]
    assert sweep(repo, "2026-11-26 14:20") == []
    assert kinds(sweep(repo, "2026-11-26 14:35")) == [("check", "14:35")]
    [moved] = sweep(repo, "2026-11-26 14:50")
    assert (moved["kind"], moved["from"], moved["to"]) == ("reassign", "zhang.wei", "liu.yang")
    assert "wang.jianguo" in moved["notify"]
    assert sweep(repo, "2026-11-26 15:04") == []
    actions = sweep(repo, "2026-11-26 15:05")
    assert kinds(actions) == [("reassign", "15:05"), ("reply_overdue", "15:05")]
    assert (actions[0]["from"], actions[0]["to"]) == ("liu.yang", "zhao.lei")
    repo.ok("log", case_id, "已回电", "--callback", by="zhao.lei", now="2026-11-26 15:10")
    assert [a["kind"] for a in sweep(repo, "2026-11-26 15:30")] == []
    case = repo.show(case_id, now="2026-11-26 15:30")
    assert case["assignee"] == "zhao.lei"
    callback = next(d for d in case["deadlines"] if d["kind"] == "callback")
    assert callback["state"] == "met"


def test_sweep_prints_nothing_when_nothing_is_due(repo: Repo) -> None:
    repo.open_case(now="2026-11-26 14:05")
    result = repo.run("sweep", now="2026-11-26 14:10", by=None)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    out = repo.ok("sweep", now="2026-11-26 14:20", by=None)
    assert out.startswith("li.na (李娜, +86 138 0101 0002):") and "check 15m" in out


def test_dry_run_records_nothing(repo: Repo) -> None:
    repo.open_case(now="2026-11-26 14:05")
    before = repo.fingerprint()
    assert kinds(sweep(repo, "2026-11-26 14:50", "--dry-run")) == [
        ("check", "14:20"),
        ("check", "14:35"),
        ("reassign", "14:50"),
    ]
    assert repo.fingerprint() == before
    assert len(sweep(repo, "2026-11-26 14:50")) == 3


def test_business_hours_across_a_weekend_and_a_holiday(repo: Repo) -> None:
    friday = repo.open_case(severity=3, now="2026-11-27 17:30")
    assert kinds(sweep(repo, "2026-11-27 18:00")) == [("check", "17:45"), ("check", "18:00")]
    assert sweep(repo, "2026-11-30 09:14") == []  # Saturday and Sunday do not count
    assert kinds(sweep(repo, "2026-11-30 09:15")) == [("reassign", "09:15")]
    eve = repo.open_case(severity=3, now="2026-09-30 17:30")  # 1-7 October: National Day
    actions = [a for a in sweep(repo, "2026-10-08 09:15") if a["case"] == eve]
    assert kinds(actions)[-1] == ("reassign", "09:15") and actions[-1]["due"][:10] == "2026-10-08"
    assert friday != eve


def test_berlin_calendar_across_the_october_clock_change(repo: Repo) -> None:
    path = repo.root / "severity.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules["timezone"] = "Europe/Berlin"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    repo.open_case(now="2026-10-25T02:30:00+02:00")  # the first 02:30 of the night
    assert kinds(sweep(repo, "2026-10-25T02:45:00+02:00")) == [("check", "02:45")]
    assert sweep(repo, "2026-10-25T02:59:00+02:00") == []
    [check] = sweep(repo, "2026-10-25T02:00:00+01:00")  # wall clock went back an hour
    assert check["due"] == "2026-10-25T02:00:00+01:00"
    assert sweep(repo, "2026-10-25T02:14:00+01:00") == []
    [moved] = sweep(repo, "2026-10-25T02:15:00+01:00")  # 45 real minutes after 02:30 CEST
    assert moved["kind"] == "reassign"


def test_catch_up_after_six_hours_reassigns_once(repo: Repo) -> None:
    """After cron was down, each deadline is acted on once, in time order, at the sweep's
    time; the engineer the case goes to gets 15 minutes from then, not from 14:50."""
    case_id = repo.open_case(now="2026-11-26 14:05")
    actions = sweep(repo, "2026-11-26 20:05")
    assert kinds(actions) == [
        ("check", "14:20"),
        ("check", "14:35"),
        ("reassign", "14:50"),
        ("reply_overdue", "15:05"),
        ("escalation_due", "16:05"),
        ("escalation_due", "18:05"),
    ]
    chain = [(a["from"], a["to"]) for a in actions if a["kind"] == "reassign"]
    assert chain == [("zhang.wei", "liu.yang")]
    assert repo.show(case_id, now="2026-11-26 20:05")["assignee"] == "liu.yang"
    assert sweep(repo, "2026-11-26 20:05") == []
    assert kinds(sweep(repo, "2026-11-26 20:20")) == [("reassign", "20:20")]


def test_reassignment_skips_whoever_is_off_duty(repo: Repo) -> None:
    repo.open_case(assign="zhao.lei", now="2026-11-28 10:00")  # Saturday: sun.li is off
    actions = [a for a in sweep(repo, "2026-11-28 10:45") if a["kind"] == "reassign"]
    assert (actions[0]["from"], actions[0]["to"]) == ("zhao.lei", "zhang.wei")


def test_two_sweeps_at_once_act_once(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    env = {"CASECTL_NOW": "2026-11-26 16:00", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "casectl", "--repo", str(repo.root), "sweep", "--json"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(2)]
    outputs = [json.loads(p.communicate(timeout=60)[0])["actions"] for p in procs]
    assert sorted(len(o) for o in outputs) == [0, 4]  # 2 checks, 1 reassignment, 1 reply
    keys = [
        e["id"] for e in repo.show(case_id, now="2026-11-26 16:00")["events"] if e["by"] == "sweep"
    ]
    assert len(keys) == len(set(keys)) == 4


def test_a_broken_file_is_named_and_skipped(repo: Repo) -> None:
    good = repo.open_case(now="2026-11-26 14:05")
    broken = repo.case_path(good).parent / "261126-BAD00.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    result = repo.run("sweep", "--json", now="2026-11-26 14:20", by=None)
    assert result.exit_code == 1
    assert [a["case"] for a in json.loads(result.stdout)["actions"]] == [good]
    assert "261126-BAD00.yaml" in result.stderr


def test_severity_change_leaves_no_stale_overdue(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    overdue = json.loads(repo.ok("list", "--overdue", "--json", now="2026-11-26 16:10"))
    assert [r["id"] for r in overdue] == [case_id]  # severity 1: senior within 2h
    repo.ok(
        "severity", case_id, "4", "--reason", "影响较小", by="zhang.wei", now="2026-11-26 16:10"
    )
    assert json.loads(repo.ok("list", "--overdue", "--json", now="2026-11-26 16:10")) == []
    assert sweep(repo, "2026-11-26 16:10") == []
    repo.ok(
        "severity", case_id, "1", "--reason", "再次中断", by="zhang.wei", now="2026-11-26 16:20"
    )
    assert [a["kind"] for a in sweep(repo, "2026-11-26 16:20")] == [
        "escalation_due",
        "update_overdue",
    ]


def test_reopen_starts_fresh_clocks(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("close", case_id, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:15")
    repo.ok("reopen", case_id, "--reason", "复发", now="2026-11-27 10:00")
    assert sweep(repo, "2026-11-27 10:01") == []
    assert kinds(sweep(repo, "2026-11-27 10:45")) == [
        ("check", "10:15"),
        ("check", "10:30"),
        ("reassign", "10:45"),
    ]


def test_waiting_on_the_customer_pauses_update_and_escalation(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:20")
    repo.ok(
        "log",
        case_id,
        "等客户提供日志",
        "--type",
        "wait-customer",
        by="zhang.wei",
        now="2026-11-26 15:00",
    )
    paused = repo.show(case_id, now="2026-11-26 17:00")["deadlines"]
    assert {d["kind"]: d["state"] for d in paused}["update"] == "paused"
    assert sweep(repo, "2026-11-26 17:00") == []
    repo.ok(
        "log", case_id, "日志已收到", "--type", "resume", by="zhang.wei", now="2026-11-26 17:00"
    )
    deadlines = {d["kind"]: d for d in repo.show(case_id, now="2026-11-26 17:00")["deadlines"]}
    assert deadlines["update"]["due"] == "2026-11-26T18:20:00+08:00"  # 40m used, 1h20m left
    shown = repo.show(case_id, now="2026-11-26 17:00")["deadlines"]
    escalation = next(d for d in shown if d["label"] == "escalate to senior")
    assert escalation["due"] == "2026-11-26T18:05:00+08:00"  # 55m used, 1h05m left
    assert kinds(sweep(repo, "2026-11-26 18:20")) == [
        ("escalation_due", "18:05"),
        ("update_overdue", "18:20"),
    ]


def test_list_due_within_and_who_owes_the_next_step(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    rows = json.loads(repo.ok("list", "--due-within", "10m", "--json", now="2026-11-26 14:12"))
    assert [(r["id"], r["next"], r["owner"]) for r in rows] == [(case_id, "check 15m", "li.na")]
    sweep(repo, "2026-11-26 14:40")  # the duty engineer's checks are made
    rows = json.loads(repo.ok("list", "--due-within", "10m", "--json", now="2026-11-26 14:40"))
    assert [(r["next"], r["owner"]) for r in rows] == [("callback by zhang.wei", "zhang.wei")]
    assert (
        json.loads(repo.ok("list", "--due-within", "10m", "--json", now="2026-11-26 14:05")) == []
    )
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:41")
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-26 14:42"))
    assert (row["next"], row["owner"], row["state"]) == (
        "escalate to senior",
        "wang.jianguo",
        "pending",
    )


def test_show_deadline_states(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    states = {
        d["label"]: d["state"] for d in repo.show(case_id, now="2026-11-26 14:30")["deadlines"]
    }
    assert states["check 15m"] == "missed" and states["check 30m"] == "due soon"
    assert (
        states["callback by zhang.wei"] == "due soon" and states["escalate to manager"] == "pending"
    )
    assert repo.show(case_id, now="2026-11-26 14:30")["next_step"]["owner"] == "li.na"


def test_every_way_of_opening_starts_the_clocks(repo: Repo) -> None:
    """Znuny #514: some ways of creating a case never started its clocks."""
    by_assign = repo.open_case(now="2026-11-26 14:05")
    later = repo.open_case(assign=None, now="2026-11-26 14:05")
    repo.ok("assign", later, "--next", now="2026-11-26 14:05")
    auto = repo.ok("open", "--customer", "c", "--contact", "d", "--no-contract", "--approved-by",
                   "wang.jianguo", "--severity", "2", "--description", "e", "--source", "alarm",
                   "--auto-assign", now="2026-11-26 14:05")  # fmt: skip
    unassigned = repo.open_case(assign=None, now="2026-11-26 14:05")
    reopened = repo.open_case(now="2026-11-26 13:00")
    repo.ok("log", reopened, "回电", "--callback", by="zhang.wei", now="2026-11-26 13:10")
    repo.ok("close", reopened, "--resolution", "ok", by="zhang.wei", now="2026-11-26 13:20")
    repo.ok("reopen", reopened, "--reason", "复发", now="2026-11-26 14:05")
    actions = sweep(repo, "2026-11-26 14:20")
    checked = {a["case"] for a in actions if a["kind"] == "check"}
    assert checked == {by_assign, later, auto, reopened}
    assert [a["kind"] for a in sweep(repo, "2026-11-26 15:05") if a["case"] == unassigned] == [
        "reply_overdue"
    ]


def test_a_step_recorded_while_the_sweep_runs_is_never_lost(repo: Repo) -> None:
    cases = [repo.open_case(now="2026-11-26 14:05") for _ in range(6)]
    env = {"CASECTL_NOW": "2026-11-26 15:00", "PATH": "/usr/bin:/bin", "CASECTL_USER": "zhang.wei"}
    base = [sys.executable, "-m", "casectl", "--repo", str(repo.root)]
    procs = [subprocess.Popen([*base, "sweep"], env=env, stdout=subprocess.DEVNULL)]
    procs += [subprocess.Popen([*base, "log", c, "同时记录"], env=env) for c in cases]
    for p in procs:
        assert p.wait(timeout=60) in (0,)
    for case_id in cases:
        events = repo.show(case_id, now="2026-11-26 15:00")["events"]
        assert [e["text"] for e in events if e["type"] == "note"] == ["同时记录"]
        assert any(e["type"] == "reassign" for e in events)
