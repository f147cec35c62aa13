"""SIGKILL `open`, `assign`, `log`, `close` and `sweep` at random moments (issue 8, item 9).

A support day is played out by the installed `casectl` (real subprocesses, each in
a session of its own so that a kill takes its git too). Most runs are killed at a
random moment of their life; a killed step is typed again, often only after the
next step on another case (by someone else) ran first. Then: every case file
parses, `git fsck` is clean, every step is in its case exactly once and was
committed under its own author, every run that was not killed exited 0 without a
hand-made repair, and no temporary or lock file is left after it.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

pytestmark = [pytest.mark.crash, pytest.mark.slow]

CASECTL = str(Path(sys.executable).with_name("casectl"))
SEED = 20261126
KILLS = 200  # kills to make; the day goes on (3 cases a batch) until it has made them
KILLED = 0.6  # the share of runs killed; a step is run to its end after 3 kills
BATCH = ("a", "b", "c")


@dataclass
class Step:
    args: list[str]
    by: str
    now: str
    case: str = ""  # the letter of the case in its batch; "" for the sweep
    expect: tuple[str, str] | None = None  # (event type, text) found exactly once


@dataclass
class Day:
    repo: Repo
    rng: random.Random
    ids: dict[str, str] = field(default_factory=dict)  # "3a" -> case id
    kills: int = 0
    seen: Counter[str] = field(default_factory=Counter)  # what kills left behind
    took: dict[str, list[float]] = field(default_factory=dict)  # seconds a full run takes
    done: list[tuple[str, str, str]] = field(default_factory=list)  # (case id, type, text)

    def env(self, step: Step) -> dict[str, str]:
        return {**os.environ, "CASECTL_REPO": str(self.repo.root), "CASECTL_USER": step.by,
                "CASECTL_NOW": step.now}  # fmt: skip

    def attempt(self, step: Step, batch: int, kill: bool) -> bool:
        """Run the step once; False when it was killed."""
        args = [a.format(**{k: self.ids.get(f"{batch}{k}", "") for k in BATCH}) for a in step.args]
        name = args[0]
        usual = statistics.median(self.took.get(name) or [0.15])
        process = subprocess.Popen([CASECTL, *args], env=self.env(step), start_new_session=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        started = time.monotonic()
        try:
            # a random moment of the run: start-up, the case read, the write, the commit
            out, err = process.communicate(timeout=self.rng.uniform(0.0, usual) if kill else 60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
        if process.returncode == -signal.SIGKILL:
            self.kills += 1
            self.note_leftovers(out, name, batch, step)
            return False
        assert process.returncode == 0, f"{args}: {err}"
        self.took.setdefault(name, []).append(time.monotonic() - started)
        if name == "open":
            case_id = out.strip()
            assert self.ids.setdefault(f"{batch}{step.case}", case_id) == case_id, err
        assert leftovers(self.repo) == [], f"after {args}"
        if step.expect:
            self.done.append((self.ids[f"{batch}{step.case}"], *step.expect))
        return True

    def note_leftovers(self, out: str, name: str, batch: int, step: Step) -> None:
        """Count what the kill left; an open's printed id is the id its retry must give."""
        found = leftovers(self.repo)
        self.seen["kills that left something to repair"] += bool(found)
        self.seen["left a git lock"] += any(f.endswith(".lock") for f in found)
        self.seen["left a temporary file"] += any(f.endswith(".tmp") for f in found)
        self.seen["left its pending note (killed between its first write and its commit)"] += (
            "state/pending" in found
        )
        self.seen["left a case file changed, not committed"] += any(
            f.endswith(".yaml") and not f.endswith(".tmp") for f in found
        )
        self.seen["left a git temporary object"] += any("tmp_" in f for f in found)
        self.seen["left a temporary file in the state folder"] += any(
            str(self.repo.state) in f for f in found
        )
        if name == "open" and out.strip():
            self.seen["an open killed after printing its id"] += 1
            self.ids[f"{batch}{step.case}"] = out.strip()


def leftovers(repo: Repo) -> list[str]:
    """Git's lock files, temporary files, casectl's pending note, uncommitted changes
    (once the repack a sweep may leave running in the background has ended)."""
    from casectl import gitrepo, repair

    for _ in range(200):
        if not gitrepo._repacking(str(repo.root)) and not repair.gits_running(str(repo.root)):
            break
        time.sleep(0.05)
    found = [str(p) for p in (repo.root / ".git").rglob("*.lock")]
    found += [str(p) for p in (repo.root / "cases").rglob("*.tmp")]
    found += [str(p) for p in (repo.state).rglob("*.tmp")]
    found += [str(p) for p in (repo.state).glob("config-cache.*")]
    found += [str(p) for p in (repo.root / ".git" / "objects").rglob("tmp_*")]
    if (repo.state / "pending").exists():
        found.append("state/pending")
    status = subprocess.run(["git", "status", "--porcelain", "--", "cases"], cwd=repo.root,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return found + status.stdout.splitlines()


def batch_steps(day: int) -> list[list[Step]]:
    """One batch's rounds: the steps of a round are on different cases at one time."""
    at = f"2026-12-{day:02d}"
    intake = ["--contact", "刘先生 13800000000", "--contract", "HT-1", "--severity", "1"]

    def log(case: str, text: str, time: str, *extra: str) -> Step:
        kind = "callback" if "--callback" in extra else "note"
        return Step(["log", f"{{{case}}}", text, *extra], "zhang.wei", f"{at} {time}", case,
                    (kind, text))  # fmt: skip

    def opening(case: str) -> Step:
        text = f"控制器离线 {day}{case}"
        assign = ["--assign", "zhang.wei"] if case != "c" else []
        return Step(["open", "--customer", f"银行 {case}", *intake, "--description", text,
                     *assign], "li.na", f"{at} 09:00", case, ("open", text))  # fmt: skip

    return [
        [opening(case) for case in BATCH],
        [Step(["assign", "{c}", "zhang.wei"], "li.na", f"{at} 09:01", "c", ("assign", "")),
         log("a", f"收集日志 {day}a", "09:02"), log("b", f"收集日志 {day}b", "09:02")],
        [Step(["sweep"], "", f"{at} 09:20")],
        [log("a", f"已联系 {day}a", "09:21", "--callback"),
         log("c", f"已联系 {day}c", "09:21", "--callback")],
        [Step(["sweep"], "", f"{at} 09:50")],  # b's callback is missed: reassigned
        [Step(["close", "{a}", "--resolution", f"已恢复 {day}a"], "zhang.wei", f"{at} 10:00", "a",
              ("close", f"已恢复 {day}a")),
         Step(["close", "{b}", "--resolution", f"已恢复 {day}b"], "wang.jianguo", f"{at} 10:00",
              "b", ("close", f"已恢复 {day}b")),
         Step(["close", "{c}", "--resolution", f"已恢复 {day}c"], "zhang.wei", f"{at} 10:00", "c",
              ("close", f"已恢复 {day}c"))],
    ]  # fmt: skip


def play_round(day: Day, steps: list[Step], batch: int) -> None:
    """Run each step until it is done; a killed one is typed again after the next
    step of the round (on another case, often by someone else) when there is one."""
    queue = [(step, 0) for step in steps]
    while queue:
        step, kills = queue.pop(0)
        if day.attempt(step, batch, kill=kills < 3 and day.rng.random() < KILLED):
            continue
        queue.insert(min(1, len(queue)), (step, kills + 1))


def test_killed_at_random_moments_nothing_is_lost_doubled_or_left(repo: Repo) -> None:
    day = Day(repo, random.Random(SEED))
    started = time.monotonic()
    batch = 1
    while day.kills < KILLS:
        for steps in batch_steps(batch):
            play_round(day, steps, batch)
        batch += 1
    elapsed = time.monotonic() - started
    print(f"\n{day.kills} kills in {batch - 1} batches, {elapsed:.0f} s; {dict(day.seen)}")

    check_every_case_parses(repo)
    check_git(repo)
    check_each_step_once(repo, day)
    check_authors(repo)
    assert day.seen["left a case file changed, not committed"] >= 10  # kills hit the window


def check_every_case_parses(repo: Repo) -> None:
    from casectl.store import read_case

    for path in (repo.root / "cases").rglob("*"):
        if path.is_file():
            read_case(str(path))


def check_git(repo: Repo) -> None:
    fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo.root, capture_output=True,
                          text=True)  # fmt: skip
    assert fsck.returncode == 0 and fsck.stdout == "", fsck.stdout + fsck.stderr
    assert leftovers(repo) == []


def check_each_step_once(repo: Repo, day: Day) -> None:
    found: Counter[tuple[str, str, str]] = Counter()
    deadlines: Counter[tuple[str, Any]] = Counter()
    for case_id in set(day.ids.values()):
        for event in repo.show(case_id)["events"]:
            found[(case_id, event["type"], event.get("text", ""))] += 1
            if "deadline" in event:
                deadlines[(case_id, event["deadline"])] += 1
    for step in day.done:
        assert found[step] == 1, step
    assert all(n == 1 for n in deadlines.values()), deadlines.most_common(3)
    assert sum(1 for k in deadlines if "callback" in str(k[1])) >= 1  # the sweeps acted
    every = list((repo.root / "cases").rglob("*.yaml"))
    assert len(every) == len(set(day.ids.values()))  # no case opened twice


def check_authors(repo: Repo) -> None:
    """Every commit's author is the `by` of every event it added (the bot's for the sweep)."""
    from casectl import config

    cfg = config.load(str(repo.root))
    names = {p.id: p.name for p in cfg.people} | {"sweep": cfg.bot_name}
    log = subprocess.run(["git", "log", "-p", "--format=\x01%an", "--", "cases"], cwd=repo.root,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    for commit in log.split("\x01")[1:]:
        author, _, diff = commit.partition("\n")
        added = {line.split(": ", 1)[1] for line in diff.splitlines() if line.startswith("+  by: ")}
        assert {names[by] for by in added} <= {author}, commit[:300]
