# ruff: noqa: F811 - the SMTP server is a fixture, imported by name
"""Crash safety and retries (issue 8, item 6): exit 1 means nothing was written, a step
killed before its commit is committed by the next command under its own author, a
retried step is recorded once, and git's lock files never leave anyone stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Repo, open_args
from notify_servers import smtp  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow

CASECTL = str(Path(sys.executable).with_name("casectl"))
KILL = "CASECTL_TEST_KILL"  # only the subprocesses these tests start set it
FAIL = "CASECTL_TEST_FAIL"
# git's reference-transaction hook runs after the step wrote its file and git wrote
# the commit, while git holds index.lock, next-index-*.lock and the branch's lock:
# killing the process group there is a kill between the write and the commit.
HOOK = f"""#!/bin/sh
[ "$1" = prepared ] || exit 0
[ -n "${KILL}" ] && rm -f "$0" && kill -KILL 0
[ -n "${FAIL}" ] && exit 1
exit 0
"""


def casectl(repo: Repo, *args: str, by: str = "li.na", now: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """The installed `casectl` in a session of its own (a kill takes it and its git)."""
    environ = {**os.environ, "CASECTL_REPO": str(repo.root), "CASECTL_USER": by,
               "CASECTL_NOW": now or repo.now, **(env or {})}  # fmt: skip
    return subprocess.run([CASECTL, *args], env=environ, capture_output=True, text=True,
                          start_new_session=True, timeout=60)  # fmt: skip


def hook(repo: Repo) -> None:
    path = repo.root / ".git" / "hooks" / "reference-transaction"
    path.write_text(HOOK)
    path.chmod(0o755)


def killed(repo: Repo, *args: str, by: str = "li.na") -> subprocess.CompletedProcess[str]:
    """Run a step that is killed after writing its file, before its commit is made."""
    hook(repo)
    result = casectl(repo, *args, by=by, env={KILL: "1"})
    assert result.returncode == -9, result.stderr
    return result


def git(repo: Repo, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo.root, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def locks(repo: Repo) -> list[str]:
    gitdir = repo.root / ".git"
    return sorted(str(p.relative_to(gitdir)) for p in gitdir.rglob("*.lock"))


def leftovers(repo: Repo) -> list[str]:
    """Lock files, temporary files, the pending note and anything git has not committed."""
    temporary = [str(p) for p in (repo.root / "cases").rglob("*.tmp")]
    pending = ["state/pending"] if (repo.state / "pending").exists() else []
    return locks(repo) + temporary + pending + git(repo, "status", "--porcelain").splitlines()


def events(repo: Repo, case_id: str, kind: str) -> list[dict]:
    return [e for e in repo.show(case_id)["events"] if e["type"] == kind]


def authors(repo: Repo) -> list[str]:
    """`author: subject` of every commit, newest first."""
    return git(repo, "log", "--format=%an: %s").splitlines()


def test_a_step_killed_before_its_commit_is_committed_next_under_its_own_author(
    repo: Repo,
) -> None:
    case_id = repo.open_case()
    killed(repo, "log", case_id, "已电话联系客户", "--callback", by="zhang.wei")
    assert len(events(repo, case_id, "callback")) == 1  # written ...
    assert "callback" not in authors(repo)[0]  # ... not committed
    assert "index.lock" in locks(repo)  # and the killed git's locks are left

    other = casectl(repo, *open_args(), by="li.na")  # the next command, by someone else
    assert other.returncode == 0, other.stderr
    notices = other.stderr.splitlines()
    assert "casectl: removed .git/index.lock, left by a git no longer running" in notices
    assert all(line.startswith("casectl: removed .git/") for line in notices)
    assert authors(repo)[:2] == [
        f"李娜: {other.stdout.strip()}: opened, severity 1, a (li.na)",
        f"张伟: {case_id}: callback, committed after the step was interrupted (zhang.wei)",
    ]
    assert leftovers(repo) == []


def test_a_retried_step_is_recorded_once(repo: Repo) -> None:
    case_id = repo.open_case()
    killed(repo, "log", case_id, "收集日志", by="zhang.wei")
    again = casectl(repo, "log", case_id, "收集日志", by="zhang.wei")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{case_id} note recorded\n"
    note = events(repo, case_id, "note")
    assert len(note) == 1
    assert again.stderr.splitlines()[-1] == (
        f"{case_id}: this note was already recorded at 2026-11-26 14:05 "
        f"(event {note[0]['id']}); not recorded again"
    )
    assert authors(repo)[0].startswith("张伟: ")
    assert leftovers(repo) == []


def test_a_retried_open_gives_the_id_it_printed(repo: Repo) -> None:
    first = killed(repo, *open_args(1, "HT-1", "--assign", "zhang.wei"))
    case_id = first.stdout.strip()  # printed before the commit
    assert repo.case_path(case_id).exists()
    again = casectl(repo, *open_args(1, "HT-1", "--assign", "zhang.wei"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == case_id
    assert "this open was already recorded" in again.stderr
    assert [p.name for p in (repo.root / "cases").rglob("*.yaml")] == [f"{case_id}.yaml"]
    assert authors(repo)[0] == (
        f"李娜: {case_id}: open, assign, committed after the step was interrupted (li.na)"
    )
    assert leftovers(repo) == []


def test_the_same_typing_later_or_after_another_step_is_a_new_step(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "无人接听", by="zhang.wei")
    retry = repo.run("log", case_id, "无人接听", by="zhang.wei", now="2026-11-26 14:14")
    assert "already recorded" in retry.stderr
    repo.ok("log", case_id, "无人接听", by="zhang.wei", now="2026-11-26 14:16")  # 11 minutes on
    repo.ok("log", case_id, "x", by="zhang.wei", now="2026-11-26 14:17")
    repo.ok("log", case_id, "无人接听", by="zhang.wei", now="2026-11-26 14:18")  # after another
    assert len([e for e in events(repo, case_id, "note") if e["text"] == "无人接听"]) == 3
    # with --at, the time typed is part of the step: the same --at is the same step
    repo.ok("log", case_id, "上门", "--at", "14:30", by="zhang.wei", now="2026-11-26 14:40")
    later = repo.run(
        "log", case_id, "上门", "--at", "14:30", by="zhang.wei", now="2026-11-26 16:00"
    )
    assert later.exit_code == 0 and "already recorded" in later.stderr
    assert len([e for e in events(repo, case_id, "note") if e["text"] == "上门"]) == 1
    # another person typing the same is another step
    repo.ok("log", case_id, "上门", "--at", "14:30", by="liu.yang", now="2026-11-26 16:00")
    assert len([e for e in events(repo, case_id, "note") if e["text"] == "上门"]) == 2


def test_every_event_carries_the_key_of_its_typing(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "a", by="zhang.wei")
    repo.ok("log", case_id, "b", by="zhang.wei")
    keys = [e.get("key") for e in repo.show(case_id)["events"]]
    assert keys[1] is None  # the assign made by `open --assign` is part of the open
    assert len({keys[0], keys[2], keys[3]}) == 3 and all(len(k) == 16 for k in keys if k)


def test_stale_lock_files_are_removed_with_one_notice_each(repo: Repo) -> None:
    case_id = repo.open_case()
    branch = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    left = ["index.lock", "HEAD.lock", "next-index-4242.lock", f"refs/heads/{branch}.lock"]
    for name in left:
        (repo.root / ".git" / name).write_text("")
    result = repo.run("log", case_id, "x", by="zhang.wei")
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stderr.splitlines()) == sorted(
        f"casectl: removed .git/{name}, left by a git no longer running" for name in left
    )
    assert authors(repo)[0] == f"张伟: {case_id}: note: x (zhang.wei)"
    assert leftovers(repo) == []


@pytest.fixture
def running_git(repo: Repo) -> Iterator[int]:
    """A live git working in the repository (it waits on its input) for the whole test."""
    process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo.root,
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.2)  # exec'd: its name is git
    yield process.pid
    process.kill()
    process.wait()


def test_a_lock_a_running_git_holds_is_waited_for_then_refused(
    repo: Repo, running_git: int
) -> None:
    case_id = repo.open_case()
    lock = repo.root / ".git" / "index.lock"
    lock.write_text("")
    before = repo.fingerprint()
    started = time.monotonic()
    result = repo.run("log", case_id, "x", by="zhang.wei")
    assert time.monotonic() - started >= 3
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: .git/index.lock is held by git (pid {running_git}) running in this "
        "repository; wait for it to finish and run the command again (if no git is running "
        "here, remove .git/index.lock); nothing was written"
    ]
    assert repo.fingerprint() == before

    threading.Timer(0.5, lock.unlink).start()  # the running git lets go meanwhile
    started = time.monotonic()
    result = repo.run("log", case_id, "x", by="zhang.wei")
    assert result.exit_code == 0 and result.stderr == ""
    assert time.monotonic() - started < 3

    lock.write_text("")  # older than any git command takes: no git holds it any more
    os.utime(lock, (time.time() - 120, time.time() - 120))
    result = repo.run("log", case_id, "y", by="zhang.wei")
    assert result.exit_code == 0
    assert result.stderr == "casectl: removed .git/index.lock, left by a git no longer running\n"
    assert leftovers(repo) == []


def test_a_failed_commit_rolls_the_step_back(repo: Repo) -> None:
    case_id = repo.open_case()
    hook(repo)
    path = repo.case_path(case_id)
    before, head = path.read_bytes(), git(repo, "rev-parse", "HEAD")

    result = repo.run("log", case_id, "x", by="zhang.wei", env={FAIL: "1"})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {case_id}: not recorded, git commit failed: fatal: "
        "ref updates aborted by hook; nothing was written"
    ]
    assert path.read_bytes() == before and git(repo, "rev-parse", "HEAD") == head
    assert leftovers(repo) == []

    opened = repo.run(*open_args(), env={FAIL: "1"})
    assert opened.exit_code == 1
    new_id = opened.stdout.strip()  # printed before the commit, then taken back
    assert opened.stderr.startswith(f"Error: {new_id}: not recorded, git commit failed")
    assert not repo.case_path(new_id).exists()
    assert leftovers(repo) == []

    swept = repo.run("sweep", by=None, now="2026-11-26 15:30", env={FAIL: "1"})
    assert swept.exit_code == 1
    assert swept.stderr.startswith(f"Error: {case_id}: not recorded, git commit failed")
    assert path.read_bytes() == before and git(repo, "rev-parse", "HEAD") == head
    assert leftovers(repo) == []

    repo.ok("log", case_id, "x", by="zhang.wei")  # the commit works again: recorded once
    assert len(events(repo, case_id, "note")) == 1


def test_temporary_files_a_killed_write_left_are_removed(repo: Repo) -> None:
    """What a kill in the middle of writing a case file leaves: the pending note and a
    half-written temporary file; the case file itself is as it was."""
    from casectl.store import Store

    case_id = repo.open_case()
    store = Store(str(repo.root))
    path = str(repo.case_path(case_id))
    before = Path(path).read_bytes()
    store._note(path, before)
    tmp = store._write_temp(path, before[:40])
    assert Path(tmp).name.endswith(".tmp") and Path(tmp).exists()

    # the derived index and config cache a killed process was writing (pid 999999999)
    dead = [repo.state / n for n in ("index.999999999.tmp", "config-cache.999999999")]
    for path in dead:
        path.write_bytes(b"half")
    live = repo.state / f"index.{os.getpid()}.tmp"  # a writer at work
    live.write_bytes(b"half")

    repo.ok("log", case_id, "x", by="zhang.wei")
    assert not Path(tmp).exists()
    assert [p for p in dead if p.exists()] == [] and live.exists()
    live.unlink()
    assert leftovers(repo) == []
    assert authors(repo)[0] == f"张伟: {case_id}: note: x (zhang.wei)"


def test_a_failed_sweep_commit_rolls_back_with_notifications_set_up(repo: Repo, smtp) -> None:  # type: ignore[no-untyped-def]
    """The notifier's hook on the store must not hide the sweep's writes from its rollback."""
    from notify_servers import use_email

    use_email(repo, smtp)
    case_id = repo.open_case()
    hook(repo)
    path = repo.case_path(case_id)
    before, head = path.read_bytes(), git(repo, "rev-parse", "HEAD")
    swept = repo.run("sweep", by=None, now="2026-11-26 15:30", env={FAIL: "1"})
    assert swept.exit_code == 1 and "not recorded, git commit failed" in swept.stderr
    assert path.read_bytes() == before and git(repo, "rev-parse", "HEAD") == head
    assert leftovers(repo) == []
