"""`casectl check` on repositories that only casectl itself wrote: as the pre-commit hook
and the CI job it must find nothing in what the commands and the sweep record."""

from __future__ import annotations

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow


def test_check_accepts_what_the_sweep_records(repo: Repo) -> None:
    """The sweep records `onsite-pending` and `manager-alert`; check's replay knew only
    check, reassign, overdue and met-late, and called both "only the sweep records...",
    so any repository with on-site service or a manager alert failed its own check."""
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("onsite", case_id, "--request", "--reason", "换控制器", by="zhang.wei")
    repo.ok("log", case_id, "机房断电", "--alert-manager", by="zhang.wei")
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:20")
    swept = repo.ok("sweep", "--json", by=None, now="2026-11-26 15:00")
    assert "onsite_pending" in swept and "manager_alert" in swept
    result = repo.run("check", by=None, now="2026-11-26 15:00")
    assert result.exit_code == 0, result.stdout


def test_check_after_a_long_single_clone_life_is_clean(repo: Repo) -> None:
    """Every step kind once, in one clone, then check."""
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("severity", case_id, "2", "--reason", "降级", by="zhang.wei", now="2026-11-26 14:12")
    repo.ok("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo", now="2026-11-26 14:13")
    rma = repo.ok("rma", case_id, "--part", "DKC-1", by="zhou.qiang", now="2026-11-26 14:14")
    repo.ok("rma", case_id, rma, "--status", "installed", by="zhou.qiang", now="2026-11-26 14:15")
    repo.ok("onsite", case_id, "--request", "--reason", "上门", by="zhou.qiang",
            now="2026-11-26 14:16")  # fmt: skip
    repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", by="wang.jianguo",
            now="2026-11-26 15:30")  # fmt: skip
    repo.ok("sweep", by=None, now="2026-11-26 16:00")
    repo.ok("onsite", case_id, "--arrive", by="zheng.hao", now="2026-11-26 17:00")
    repo.ok("onsite", case_id, "--depart", "--summary", "换了", "--solution", "好了",
            by="zheng.hao", now="2026-11-26 18:00")  # fmt: skip
    repo.ok("close", case_id, "--resolution", "客户同意", by="zhou.qiang", now="2026-11-26 18:10")
    repo.ok("reopen", case_id, "--reason", "复发", by="wang.jianguo", now="2026-11-27 09:00")
    repo.ok("sweep", by=None, now="2026-11-28 09:00")
    result = repo.run("check", by=None, now="2026-11-28 09:00")
    assert result.exit_code == 0, result.stdout


def test_check_after_two_clones_merge_concurrent_steps(team: tuple[Repo, Repo, Repo]) -> None:
    """Held where the steps do not collide: a note and a callback made in two clones."""
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    a.ok("log", case_id, "a 的记录", by="zhang.wei", now="2026-11-26 14:10")
    b.ok("log", case_id, "b 回电", "--callback", by="zhang.wei", now="2026-11-26 14:11")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    result = b.run("check", by=None, now="2026-11-26 14:20")
    assert result.exit_code == 0, result.stdout


def test_check_accepts_a_note_made_while_another_clone_closed(
    team: tuple[Repo, Repo, Repo],
) -> None:
    """Clone A closes the case while clone B, not yet synced, logs a note (both allowed
    where they were made). Replayed in the merged order the note follows the close; it
    is judged on the case as B's commit had it, so check (the pre-commit hook, CI) is
    not red for ever over a file nobody may change."""
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    a.ok("close", case_id, "--resolution", "客户同意", by="wang.jianguo", now="2026-11-26 14:10")
    b.ok("log", case_id, "b 的记录", by="zhang.wei", now="2026-11-26 14:11")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    result = b.run("check", by=None, now="2026-11-26 14:20")
    assert result.exit_code == 0, result.stdout


def test_check_accepts_steps_each_allowed_in_its_own_clone(team: tuple[Repo, Repo, Repo]) -> None:
    """Two clones assign the case to one engineer, and both escalate it: each step was
    allowed where it was made; merged, the second of each repeats the first."""
    a, b, _ = team
    case_id = a.open_case(assign=None, now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    for clone, minute in ((a, 10), (b, 11)):
        clone.ok("assign", case_id, "liu.yang", now=f"2026-11-26 14:{minute}")
        clone.ok("escalate", case_id, "--to", "zhou.qiang", "--reason", f"升级 {minute}",
                 by="wang.jianguo", now=f"2026-11-26 14:{minute + 2}")  # fmt: skip
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    result = b.run("check", by=None, now="2026-11-26 14:30")
    assert result.exit_code == 0, result.stdout


def test_check_still_reports_a_step_refused_where_it_was_made(repo: Repo) -> None:
    """A note added by hand to a closed case, and committed: refused in its own commit."""
    import subprocess

    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("close", case_id, "--resolution", "客户同意", by="wang.jianguo", now="2026-11-26 14:10")
    path = repo.case_path(case_id)
    path.write_text(path.read_text(encoding="utf-8") + (
        "- id: HANDMADE\n  at: 2026-11-26T14:20:00+08:00\n  by: zhang.wei\n"
        "  type: note\n  text: 手工加的记录\n"), encoding="utf-8")  # fmt: skip
    git = ["git", "-C", str(repo.root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "commit", "-qam", "hand edit", "--no-verify"], check=True)
    result = repo.run("check", by=None, now="2026-11-26 14:30")
    assert result.exit_code == 1 and "(note): case" in result.stdout and "closed" in result.stdout


def test_check_while_a_merge_is_concluded_by_hand(team: tuple[Repo, Repo, Repo]) -> None:
    """The pre-commit hook runs when someone concludes a merge by hand: the other side's
    step is judged on its own commit, found through MERGE_HEAD."""
    from conftest import git

    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    b.ok("close", case_id, "--resolution", "客户同意", by="wang.jianguo", now="2026-11-26 14:10")
    a.ok("log", case_id, "a 的记录", by="zhang.wei", now="2026-11-26 14:11")
    a.ok("sync", by=None)
    git(b.root, "fetch", "-q", "origin")
    git(b.root, "merge", "-q", "--no-commit", "--no-ff", "FETCH_HEAD")
    assert (b.root / ".git" / "MERGE_HEAD").exists()
    result = b.run("check", by=None, now="2026-11-26 14:20")
    assert result.exit_code == 0, result.stdout
