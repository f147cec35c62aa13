"""Cron's sweep keeps the repository in shape: steps skip git's auto-maintenance, so a
sweep runs it (and writes the commit-graph) after the commits since its last run, even
when it has nothing to act on, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Repo, git

pytestmark = pytest.mark.slow

QUIET = "2026-11-26 14:06"  # a minute after the case opened: nothing due


def graph_chain(root: Path) -> str:
    return (root / ".git/objects/info/commit-graphs/commit-graph-chain").read_text()


def test_a_quiet_sweep_after_steps_updates_the_commit_graph(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已联系客户", by="zhang.wei", now=QUIET)
    before = graph_chain(repo.root)
    assert repo.ok("sweep", now=QUIET, by=None) == ""  # nothing due, nothing printed
    after = graph_chain(repo.root)
    assert after != before  # a new layer for the steps' commits
    head = git(repo.root, "rev-parse", "HEAD").strip()
    assert git(repo.root, "log", "-1", "--format=%H", "--", "cases").strip() == head
    mark = repo.state / "maintained"
    stamp = mark.stat().st_mtime_ns
    repo.ok("sweep", now=QUIET, by=None)  # no commit since: nothing to do
    assert mark.stat().st_mtime_ns == stamp
    assert graph_chain(repo.root) == after


def test_a_dry_run_or_no_commit_sweep_leaves_git_alone(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已联系客户", by="zhang.wei", now=QUIET)
    before = graph_chain(repo.root)
    repo.ok("sweep", "--dry-run", now=QUIET, by=None)
    repo.ok("sweep", "--no-commit", now=QUIET, by=None)
    assert graph_chain(repo.root) == before
    assert not (repo.state / "maintained").exists()
