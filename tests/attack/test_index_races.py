"""The index under real processes at once: lists, sweeps and steps racing each other's saves
of the small index file, the day files and the month files, some killed mid-run. Whatever
they leave, the next run shows what a rebuild from the case files shows."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

CASECTL = str(Path(sys.executable).with_name("casectl"))
NOW = "2026-11-26 16:00"


def start(repo: Repo, *args: str, by: str = "zhang.wei") -> subprocess.Popen[bytes]:
    env = dict(os.environ, CASECTL_REPO=str(repo.root), CASECTL_USER=by, CASECTL_NOW=NOW)
    return subprocess.Popen([CASECTL, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip


def shown(repo: Repo, *args: str) -> list[dict]:
    return json.loads(repo.ok("list", "--json", "--limit", "0", *args, now=NOW))


def test_racing_runs_leave_an_index_that_agrees_with_a_rebuild(repo: Repo) -> None:
    rng = random.Random(7)
    cases = [repo.open_case(now=f"2026-11-{day} 10:0{n}") for day in (22, 24, 26) for n in range(3)]
    for case_id in cases[::4]:
        repo.ok("close", case_id, "--resolution", "客户同意关闭", by="zhang.wei", now=NOW)
    steps = [
        lambda i: ("list",),
        lambda i: ("list", "--status", "all", "--limit", "3"),
        lambda i: ("sweep", "--no-commit"),
        lambda i: ("log", rng.choice(cases), f"并发记录 {i}", "--no-commit"),
        lambda i: (
            "assign",
            rng.choice(cases),
            rng.choice(["liu.yang", "zhao.lei"]),
            "--no-commit",
        ),
    ]
    for round_ in range(12):
        running = [start(repo, *rng.choice(steps)(f"{round_}.{n}")) for n in range(6)]
        time.sleep(rng.uniform(0.05, 0.4))
        for process in running[:2]:  # two of each round killed, wherever they are
            process.send_signal(signal.SIGKILL)
        for process in running:
            _, err = process.communicate(timeout=120)
            assert b"Traceback" not in err, err.decode()
        if round_ % 2:  # folders an hour old: the next runs trust their stamps
            past = time.time() - 3600
            for folder, _, _ in os.walk(repo.root / "cases"):
                os.utime(folder, (past, past))
    for status in ("open", "closed", "all"):
        warm = shown(repo, "--status", status)
        newest = json.loads(repo.ok("list", "--json", "--status", status, "--limit", "2", now=NOW))
        shutil.rmtree(repo.state)
        rebuilt = shown(repo, "--status", status)
        assert warm == rebuilt and newest == rebuilt[:2]
    assert len(shown(repo, "--status", "all")) == len(cases)
