"""Cron's sweep packs the loose objects the steps since the last one wrote, past 256 KB of
them (issue 29): each step writes a whole new tree of its day's folder, which holds every
case of that day; packed together, the versions of that tree are deltas of each other.
The tests lower that mark (gitrepo.REPACK_PAST) where their day is smaller."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import Repo, git

pytestmark = pytest.mark.slow  # repositories of hundreds of cases, and waits on git

QUIET = "2026-11-26 14:06"  # a minute after the case opened: nothing due
FILLERS = 400  # other cases of the same day: its folder's tree is ~18 KB


def loose(root: Path) -> list[Path]:
    objects = root / ".git" / "objects"
    return [p for d in objects.iterdir() if len(d.name) == 2 for p in d.iterdir()]


def packs(root: Path) -> set[str]:
    return {p.name for p in (root / ".git" / "objects" / "pack").glob("*.pack")}


def settled(repo: Repo) -> None:
    """Wait for the housekeeping a sweep left running (this process is its parent)."""
    from casectl import gitrepo
    from casectl.store import Store

    mark = Path(Store(str(repo.root)).shared_state_dir) / "repacking"
    for _ in range(300):
        if not gitrepo._repacking(str(repo.root)):
            break
        time.sleep(0.05)
    if mark.exists():
        with contextlib.suppress(ChildProcessError):
            os.waitpid(int(mark.read_text()), 0)


@pytest.fixture
def low_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    from casectl import gitrepo

    monkeypatch.setattr(gitrepo, "REPACK_PAST", 0)  # whatever the quarter it counts holds


def a_busy_day(repo: Repo) -> str:
    """A case, and FILLERS others of its day (copies under their own ids), committed."""
    case_id = repo.open_case(now="2026-11-26 14:05")
    path = repo.case_path(case_id)
    text = path.read_text(encoding="utf-8")
    for n in range(FILLERS):
        other = f"{case_id[:7]}ZZ{n:03d}"
        if other == case_id:
            continue
        path.with_name(f"{other}.yaml").write_text(text.replace(case_id, other), "utf-8")
    git(repo.root, "add", "cases")
    git(repo.root, "commit", "-q", "-m", "the day's other cases")
    git(repo.root, "gc", "-q")  # as a clone is: one pack, nothing loose
    return case_id


def test_the_sweep_after_steps_packs_their_loose_trees_as_deltas(
    repo: Repo, low_mark: None
) -> None:
    case_id = a_busy_day(repo)
    assert loose(repo.root) == []
    before = packs(repo.root)
    for n in range(5):
        repo.ok("log", case_id, f"已联系客户 {n}", by="zhang.wei", now=QUIET)
    written = sum(p.stat().st_size for p in loose(repo.root))
    assert written > 5 * 10_000  # five trees of the day's folder, each whole
    assert packs(repo.root) == before  # a step packs nothing: the sweep does
    repo.ok("sweep", now=QUIET, by=None)
    settled(repo)
    assert loose(repo.root) == []
    [new] = packs(repo.root) - before
    packed = (repo.root / ".git" / "objects" / "pack" / new).stat().st_size
    assert packed < written / 3  # one tree whole, the other four as deltas of it
    assert git(repo.root, "fsck", "--no-progress", "--connectivity-only") == ""
    assert git(repo.root, "status", "--porcelain") == ""
    assert "已联系客户 4" in repo.ok("show", case_id, now=QUIET)


def test_a_quiet_sweep_leaves_the_objects_alone(repo: Repo, low_mark: None) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已联系客户", by="zhang.wei", now=QUIET)
    repo.ok("sweep", now=QUIET, by=None)
    settled(repo)
    assert loose(repo.root) == []
    (repo.root / "notes.txt").write_text("私人笔记", encoding="utf-8")
    git(repo.root, "add", "notes.txt")  # a loose blob, and no commit: nothing moved
    repo.ok("sweep", now=QUIET, by=None)
    assert len(loose(repo.root)) == 1


def test_a_small_centers_few_loose_objects_are_left_to_gits_gc(repo: Repo) -> None:
    """Under 256 KB of them (a few hundred steps in a small center): git's own gc --auto
    packs them, once there are about 6,700."""
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已联系客户", by="zhang.wei", now=QUIET)
    written = loose(repo.root)
    repo.ok("sweep", now=QUIET, by=None)
    settled(repo)
    assert set(written) <= set(loose(repo.root))


def test_the_loose_bytes_are_told_from_a_quarter_of_them(repo: Repo) -> None:
    from casectl import gitrepo

    objects = repo.root / ".git" / "objects"
    git(repo.root, "gc", "-q")
    assert gitrepo._loose_bytes(str(objects), 1 << 30) == 0
    for _ in range(200):  # about 2 KB each, compressed: random bytes do not compress
        data = os.urandom(2048)
        subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.root, input=data,
                       check=True, capture_output=True)  # fmt: skip
    written = sum(p.stat().st_size for p in loose(repo.root))
    assert 0.6 * written < gitrepo._loose_bytes(str(objects), 1 << 30) < 1.4 * written
    assert gitrepo._loose_bytes(str(objects), 10_000) < 10_000 + 4 * 2100  # stops there


def test_a_sweep_leaves_git_alone_while_the_last_housekeeping_runs(
    repo: Repo, low_mark: None
) -> None:
    """A repack of a whole large repository outlasts the sweep that started it; the
    next sweep starts no second one beside it."""
    from casectl.store import Store

    case_id = repo.open_case(now="2026-11-26 14:05")
    # a process standing for the housekeeping still at work: its command line is its
    standing = ["sh", "-c", "sleep 30 # git repack -d -l -q --geometric=2"]
    process = subprocess.Popen(standing)
    try:
        (Path(Store(str(repo.root)).shared_state_dir) / "repacking").write_text(str(process.pid))
        repo.ok("log", case_id, "已联系客户", by="zhang.wei", now=QUIET)
        written = loose(repo.root)
        repo.ok("sweep", now=QUIET, by=None)
        assert set(written) <= set(loose(repo.root))  # packed by none
    finally:
        process.kill()
        process.wait()
    repo.ok("log", case_id, "又联系客户", by="zhang.wei", now=QUIET)
    repo.ok("sweep", now=QUIET, by=None)  # it ended: this sweep packs them
    settled(repo)
    assert loose(repo.root) == []


def test_the_sweep_does_not_wait_for_the_housekeeping(
    repo: Repo, low_mark: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sweep after steps is timed (issue 29): the repack runs after it."""
    from casectl import gitrepo

    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已联系客户", by="zhang.wei", now=QUIET)
    slow = 'sleep 1; cd "$1" && git repack -d -l -q --geometric=2'
    monkeypatch.setattr(gitrepo, "HOUSEKEEPING", slow)
    start = time.monotonic()
    repo.ok("sweep", now=QUIET, by=None)
    assert time.monotonic() - start < 0.9  # the sweep did not wait for it
    assert gitrepo._repacking(str(repo.root))
    assert loose(repo.root) != []
    settled(repo)
    assert loose(repo.root) == []
