"""What the sweep records: acted at its own `now`, due when the deadline fell due, and
nothing that depends on when cron happened to run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import Repo

pytestmark = pytest.mark.slow


def swept(repo: Repo, now: str, *args: str) -> list[dict]:
    result = repo.run("sweep", "--json", *args, now=now, by=None)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["actions"]


def sweep_events(repo: Repo, case_id: str, now: str) -> list[dict]:
    return [e for e in repo.show(case_id, now=now)["events"] if e["by"] == "sweep"]


def test_a_catch_up_acts_at_its_own_time_and_reassigns_once(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    actions = swept(repo, "2026-11-26 20:05")
    assert [(a["kind"], a["due"][11:16], a["late_by"]) for a in actions] == [
        ("check", "14:20", 5 * 3600 + 45 * 60),
        ("check", "14:35", 5 * 3600 + 30 * 60),
        ("reassign", "14:50", 5 * 3600 + 15 * 60),
        ("reply_overdue", "15:05", 5 * 3600),
        ("escalation_due", "16:05", 4 * 3600),
        ("escalation_due", "18:05", 2 * 3600),
    ]
    [moved] = [a for a in actions if a["kind"] == "reassign"]
    assert (moved["from"], moved["to"]) == ("zhang.wei", "liu.yang")
    events = sweep_events(repo, case_id, "2026-11-26 20:05")
    assert {e["at"] for e in events} == {"2026-11-26T20:05:00+08:00"}
    assert [e["due"][11:16] for e in events] == [
        "14:20",
        "14:35",
        "14:50",
        "15:05",
        "16:05",
        "18:05",
    ]
    reassign = next(e for e in events if e["type"] == "reassign")
    assert "5h15m late" in reassign["text"]
    case = repo.show(case_id, now="2026-11-26 20:05")
    assert case["assignee"] == "liu.yang"
    callback = next(d for d in case["deadlines"] if d["kind"] == "callback")
    assert (callback["due"], callback["state"]) == ("2026-11-26T20:20:00+08:00", "due soon")
    assert swept(repo, "2026-11-26 20:19") == []
    [next_move] = swept(repo, "2026-11-26 20:20")
    assert (next_move["from"], next_move["to"], next_move["late_by"]) == ("liu.yang", "zhao.lei", 0)


def test_the_text_output_says_how_late_the_sweep_was(repo: Repo) -> None:
    repo.open_case(now="2026-11-26 14:05")
    out = repo.ok("sweep", now="2026-11-26 15:00", by=None)
    assert "10m late" in out


def test_met_late_before_any_sweep_is_reported_once(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")  # callback due 14:50; cron was down
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 15:05")
    [late] = swept(repo, "2026-11-26 15:10")
    assert (late["kind"], late["deadline"], late["late_by"]) == (
        "met_late",
        "callback by zhang.wei",
        900,
    )
    assert (late["due"], late["notify"], late["to"]) == (
        "2026-11-26T14:50:00+08:00",
        ["wang.jianguo"],
        None,
    )
    case = repo.show(case_id, now="2026-11-26 15:10")
    assert case["assignee"] == "zhang.wei"
    states = {d["kind"]: d["state"] for d in case["deadlines"]}
    assert (states["callback"], states["reply"]) == ("met late", "met")
    [event] = sweep_events(repo, case_id, "2026-11-26 15:10")
    assert (event["type"], event["at"], event["due"]) == (
        "met-late",
        "2026-11-26T15:10:00+08:00",
        "2026-11-26T14:50:00+08:00",
    )
    assert swept(repo, "2026-11-26 15:15") == []


def test_a_late_reply_goes_to_whom_the_level_names(repo: Repo) -> None:
    case_id = repo.open_case(assign=None, now="2026-11-26 14:05")  # reply due 15:05
    repo.ok("log", case_id, "邮件回复", "--type", "contact", by="zhang.wei", now="2026-11-26 15:20")
    [late] = swept(repo, "2026-11-26 15:30")
    assert (late["kind"], late["deadline"], late["late_by"]) == ("met_late", "first reply", 900)
    assert late["notify"] == ["wang.jianguo"]  # level 1: reply -> assignee (none here), manager


def test_a_reassignment_tells_who_lost_the_case_and_the_duty_engineer(repo: Repo) -> None:
    repo.open_case(now="2026-11-26 14:05")
    actions = swept(repo, "2026-11-26 14:50")
    [moved] = [a for a in actions if a["kind"] == "reassign"]
    assert set(moved["notify"]) == {"wang.jianguo", "liu.yang", "zhang.wei", "li.na"}
    out = repo.ok("sweep", "--dry-run", now="2026-11-26 15:05", by=None)
    assert "zhang.wei (张伟" not in out  # nothing new for zhang.wei at 15:05
    text = repo.ok("sweep", now="2026-11-26 15:05", by=None)
    assert "liu.yang (刘洋" in text and "li.na (李娜" in text


def test_a_check_row_names_who_has_not_called_back(repo: Repo) -> None:
    repo.open_case(now="2026-11-26 14:05")
    out = repo.ok("sweep", now="2026-11-26 14:20", by=None)
    assert "zhang.wei has not called back" in out


def test_text_rows_are_in_time_order(repo: Repo) -> None:
    for minute in ("05", "06", "07"):
        repo.open_case(now=f"2026-11-26 14:{minute}")
    out = repo.ok("sweep", now="2026-11-26 14:40", by=None)
    block = out.split("\n\n")[0]
    assert block.startswith("li.na")
    dues = [line.split()[3] for line in block.splitlines()[3:]]
    assert dues == ["14:20", "14:21", "14:22", "14:35", "14:36", "14:37"]


def test_a_case_whose_severity_is_not_configured_is_named(repo: Repo) -> None:
    low = repo.open_case(severity=4, now="2026-11-26 14:05")
    high = repo.open_case(severity=1, now="2026-11-26 14:05")
    path = repo.root / "severity.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    del rules["levels"][4]
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = repo.run("sweep", "--json", now="2026-11-26 14:20", by=None)
    assert result.exit_code == 1
    assert [a["case"] for a in json.loads(result.stdout)["actions"]] == [high]
    [line] = result.stderr.strip().splitlines()
    assert low in line and "severity 4" in line and "not configured" in line


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def test_two_clones_sweeping_at_different_times_keep_the_earlier_event(
    repo: Repo, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo.root, "remote", "add", "origin", str(remote))
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("sync", by=None)
    subprocess.run(["git", "clone", "-q", str(remote), str(tmp_path / "other")], check=True)
    other = Repo(tmp_path / "other")
    other.ok("sync", by=None)
    [early] = [a for a in swept(repo, "2026-11-26 14:50") if a["kind"] == "reassign"]
    [late] = [a for a in swept(other, "2026-11-26 15:00") if a["kind"] == "reassign"]
    assert (early["to"], late["to"]) == ("liu.yang", "liu.yang")
    other.ok("sync", by=None)
    repo.ok("sync", by=None)
    other.ok("sync", by=None)
    for clone in (repo, other):
        events = sweep_events(clone, case_id, "2026-11-26 15:00")
        assert [(e["type"], e["at"][11:16]) for e in events] == [
            ("check", "14:50"),
            ("check", "14:50"),
            ("reassign", "14:50"),
        ]
    assert swept(other, "2026-11-26 15:05")[0]["kind"] == "reassign"  # liu.yang's 15m from 14:50
