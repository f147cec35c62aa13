# ruff: noqa: F811 - the servers are fixtures, imported by name
"""Real processes at once: engineers logging on one case while two sweeps run and the
duty engineer reassigns; `notify flush` racing sweeps. Every step that exited 0 is in
the case exactly once, the sweep acted once per deadline, git is clean and consistent,
and every person was told each notice once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import Repo, git
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401

pytestmark = pytest.mark.slow

CASECTL = str(Path(sys.executable).with_name("casectl"))


def start(repo: Repo, *args: str, by: str = "li.na", now: str) -> subprocess.Popen[str]:
    env = dict(os.environ, CASECTL_REPO=str(repo.root), CASECTL_USER=by, CASECTL_NOW=now)
    return subprocess.Popen([CASECTL, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def finish(runs: list[tuple[list[str], subprocess.Popen[str]]]) -> list[list[str]]:
    """Wait for all; the arguments of those that exited 0. None may trace back."""
    done = []
    for args, process in runs:
        out, err = process.communicate(timeout=120)
        assert "Traceback" not in err, (args, err)
        assert process.returncode in (0, 1), (args, process.returncode, err)
        if process.returncode == 0:
            done.append(args)
    return done


def events(repo: Repo, case_id: str) -> list[dict]:
    return yaml.safe_load(repo.case_path(case_id).read_text(encoding="utf-8"))["events"]


def test_many_writers_and_two_sweeps_on_one_case(repo: Repo) -> None:
    cases = [repo.open_case(now="2026-11-26 14:05") for _ in range(3)]
    commits = int(git(repo.root, "rev-list", "--count", "HEAD"))
    target = cases[0]
    runs = []
    for i in range(6):
        args = ["log", target, f"并发记录 {i}"]
        runs.append((args, start(repo, *args, by="zhang.wei", now="2026-11-26 14:50")))
    for _ in range(2):
        runs.append((["sweep"], start(repo, "sweep", by="", now="2026-11-26 14:50")))
    args = ["assign", cases[1], "zhao.lei"]
    runs.append((args, start(repo, *args, now="2026-11-26 14:50")))
    done = finish(runs)
    notes = [e["text"] for e in events(repo, target) if e["type"] == "note"]
    logged = sorted(args[2] for args in done if args[0] == "log")
    assert sorted(notes) == logged == [f"并发记录 {i}" for i in range(6)]
    for case_id in cases:
        sweep_ids = [e["id"] for e in events(repo, case_id) if e["by"] == "sweep"]
        assert len(sweep_ids) == len(set(sweep_ids))  # each deadline acted on once
    for case_id in (cases[0], cases[2]):  # missed their callback: reassigned once
        reassigns = [e for e in events(repo, case_id) if e["type"] == "reassign"]
        assert len(reassigns) == 1, events(repo, case_id)
    assert git(repo.root, "status", "--porcelain") == ""
    git(repo.root, "fsck", "--no-progress")
    new_commits = int(git(repo.root, "rev-list", "--count", "HEAD")) - commits
    sweeps = sum(1 for args in done if args == ["sweep"])
    assert len(done) - sweeps + 1 <= new_commits <= len(done)  # the second sweep: nothing new
    assert repo.run("check", by=None, now="2026-11-26 14:50").exit_code == 0
    assert not list((repo.root / "cases").rglob(".*.tmp"))
    assert not (repo.state / "pending").exists()


def test_notify_flush_racing_sweeps_sends_each_message_once(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp, interval="0m")
    for _ in range(3):
        repo.open_case(now="2026-11-26 14:05")
    before = len(smtp.box.received)
    runs = []
    for _ in range(2):
        runs.append((["sweep"], start(repo, "sweep", by="", now="2026-11-26 14:50")))
        runs.append((["notify", "flush"], start(repo, "notify", "flush", now="2026-11-26 14:50")))
    runs.append((["notify", "flush"], start(repo, "notify", "flush", now="2026-11-26 14:51")))
    finish(runs)
    done = finish([(["notify", "flush"], start(repo, "notify", "flush", now="2026-11-26 14:52"))])
    assert done == [["notify", "flush"]]
    ids = [str(msg["Message-ID"]) for _, msg in smtp.box.received[before:]]
    assert len(ids) == len(set(ids))  # nothing sent twice
    items = [  # (recipient, one notice): a digest's unindented lines after its greeting
        (address, line)
        for rcpt, msg in smtp.box.received[before:]
        for address in rcpt
        for line in smtp.box.body(msg).splitlines()[1:]
        if line and not line.startswith(" ")
    ]
    assert len(items) == len(set(items)), sorted(items)  # no notice told twice
    manager = [line for address, line in items if address == "wang.jianguo@example.com"]
    assert len(manager) == 3 and all("reassigned to liu.yang" in line for line in manager)
    # (a flush racing the sweep may send a sweep's notices in two messages, not one)
