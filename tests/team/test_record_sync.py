"""What `sync` leaves in `git log`, and a fresh clone's first sync (issue 20.18)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import Repo, git

pytestmark = pytest.mark.slow


def test_a_sync_merge_is_titled_with_its_steps_and_cases(
    team: tuple[Repo, Repo, Repo],
) -> None:
    a, b, _cron = team
    first = a.open_case(now="2026-11-26 14:05")
    a.ok("log", first, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    second = a.open_case(now="2026-11-26 14:20")
    a.ok("log", first, "收集日志", by="zhang.wei", now="2026-11-26 14:21")
    a.ok("sync", by=None)
    b.ok("log", first, "客户来电", by="li.na", now="2026-11-26 14:22")  # b diverges
    b.ok("sync", by=None)
    subject = git(b.root, "log", "-1", "--merges", "--format=%s").strip()
    cases = ", ".join(sorted([first, second]))
    assert subject == f"sync: 2 steps from origin (cases {cases})"
    assert "Merge commit" not in git(b.root, "log", "--format=%s")


def test_the_first_sync_of_a_fresh_clone_does_not_warn(repo: Repo, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo.root, "remote", "add", "origin", str(remote))
    repo.ok("sync", by=None)
    fresh = tmp_path / "fresh"
    subprocess.run(["git", "clone", "-q", str(remote), str(fresh)], check=True)
    result = Repo(fresh).run("sync", by=None)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("synced with origin/")
    # a clone nobody synced still warns on any other command
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True)
    assert "no casectl merge driver" in Repo(other).run("list", by=None).stderr
