"""A step's commit in a large repository (issue 14, target 2): built by git fast-import,
the index read once, HEAD moved by compare-and-swap. Each test sets BIG_INDEX below any
index (or commits more than 100 paths), drives real git, and checks a guarantee of
`git commit -- PATHS` that this path must keep."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, git

from casectl import gitrepo


@pytest.fixture
def large(repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Repo:
    """The repository, committed to as a large one is; each commit's message recorded.
    The host's own git configuration is set aside (one that signs commits or includes
    files sends every commit to `git commit`)."""
    monkeypatch.setattr(gitrepo, "BIG_INDEX", -1)
    plain = tmp_path / "gitconfig"
    plain.write_text("[user]\n\tname = Test\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(plain))
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", os.devnull)
    messages: list[str] = []
    commit = gitrepo.commit

    def recording(root: str, paths: list[str], author: Any, message: str, *rest: Any) -> None:
        messages.append(message)
        commit(root, paths, author, message, *rest)

    monkeypatch.setattr(gitrepo, "commit", recording)
    repo.messages = messages  # type: ignore[attr-defined]
    return repo


def relative(repo: Repo, case_id: str) -> str:
    return str(repo.case_path(case_id).relative_to(repo.root))


def committed(repo: Repo, rev: str = "HEAD") -> list[str]:
    """The files commit `rev` changed."""
    return git(repo.root, "diff-tree", "-r", "--name-only", "--no-commit-id", rev).split()


def on_git(monkeypatch: pytest.MonkeyPatch, command: str, before: Callable[[str], object]) -> None:
    """Call `before(root)` just before casectl first starts `git COMMAND` (real git)."""
    done: list[bool] = []
    for starter in ("run", "_start"):
        start = getattr(gitrepo, starter)

        def first(root: str, *args: str, start: Any = start, **kw: Any) -> Any:
            if command in args and not done:
                done.append(True)
                before(root)
            return start(root, *args, **kw)

        monkeypatch.setattr(gitrepo, starter, first)


def test_a_new_case_is_committed_as_git_commit_would(large: Repo) -> None:
    hooks = large.root / ".git" / "hooks"
    for name in ("pre-commit", "commit-msg", "post-commit"):  # casectl runs no hook
        (hooks / name).write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
        (hooks / name).chmod(0o755)
    case_id = large.open_case()
    path = relative(large, case_id)
    assert committed(large) == [path]
    assert git(large.root, "show", f"HEAD:{path}").encode() == large.case_path(case_id).read_bytes()
    assert git(large.root, "status", "--porcelain") == ""
    who = git(large.root, "log", "-1", "--format=%an|%ae|%cn|%ce")
    # the author is the person acting; the committer the clone's own git identity
    assert who == "李娜|li.na@example.com|Test|test@example.com\n"
    # the message byte for byte, after the commit's header
    raw = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=large.root,
                         capture_output=True, check=True).stdout  # fmt: skip
    assert raw.split(b"\n\n", 1)[1] == large.messages[-1].encode()  # type: ignore[attr-defined]
    subject = large.messages[-1].splitlines()[0]  # type: ignore[attr-defined]
    assert git(large.root, "reflog", "-1", "--format=%gs", "HEAD") == f"commit: {subject}\n"
    branch = git(large.root, "symbolic-ref", "HEAD").strip()
    assert git(large.root, "reflog", "-1", "--format=%gs", branch) == f"commit: {subject}\n"
    assert "casectl" not in git(large.root, "for-each-ref", "--format=%(refname)")


def test_a_step_writes_loose_objects_and_no_pack(large: Repo) -> None:
    """Git's gc counts loose objects (about 6,700) and packs (50): a pack per step would
    make it repack the whole repository every 50 steps."""
    case_id = large.open_case()
    packs = sorted((large.root / ".git" / "objects" / "pack").glob("*"))
    large.ok("log", case_id, "已联系客户", by="zhang.wei")
    assert sorted((large.root / ".git" / "objects" / "pack").glob("*")) == packs
    blob = git(large.root, "rev-parse", f"HEAD:{relative(large, case_id)}").strip()
    assert (large.root / ".git" / "objects" / blob[:2] / blob[2:]).is_file()


def test_others_staged_changes_stay_staged_and_out_of_the_commit(large: Repo) -> None:
    case_id = large.open_case()
    with open(large.root / ".gitignore", "a", encoding="utf-8") as f:
        f.write("*.bak\n")
    (large.root / "notes.txt").write_text("私人笔记", encoding="utf-8")
    git(large.root, "add", ".gitignore", "notes.txt")
    (large.root / "draft.txt").write_text("未暂存", encoding="utf-8")
    large.ok("log", case_id, "已联系客户", by="zhang.wei")
    assert committed(large) == [relative(large, case_id)]
    assert git(large.root, "status", "--porcelain").splitlines() == [
        "M  .gitignore",
        "A  notes.txt",
        "?? draft.txt",
    ]
    assert git(large.root, "show", ":notes.txt") == "私人笔记"


def test_someone_elses_staged_version_of_the_case_file_gives_way(large: Repo) -> None:
    """As `git commit -- PATH`: the file as the step left it is committed and staged."""
    case_id = large.open_case()
    path = large.case_path(case_id)
    original = path.read_bytes()
    path.write_bytes(original + b"# a hand edit\n")
    git(large.root, "add", relative(large, case_id))
    path.write_bytes(original)
    large.ok("log", case_id, "已联系客户", by="zhang.wei")
    assert git(large.root, "status", "--porcelain") == ""
    assert git(large.root, "show", f"HEAD:{relative(large, case_id)}").encode() == path.read_bytes()


def test_a_branch_moved_underneath_is_refused_and_nothing_is_lost(
    large: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = large.open_case()
    before = large.case_path(case_id).read_bytes()

    def someone_commits(root: str) -> None:  # between casectl's reading HEAD and moving it
        (Path(root) / "handover.txt").write_text("交接", encoding="utf-8")
        git(Path(root), "add", "handover.txt")
        identity = ["-c", "user.name=王芳", "-c", "user.email=wang.fang@example.com"]
        git(Path(root), *identity, "commit", "-q", "-m", "handover", "--", "handover.txt")

    on_git(monkeypatch, "update-ref", someone_commits)
    result = large.run("log", case_id, "已联系客户", by="zhang.wei")
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "not recorded" in line and "update-ref" in line and "nothing was written" in line
    assert git(large.root, "log", "-1", "--format=%an %s") == "王芳 handover\n"
    assert large.case_path(case_id).read_bytes() == before
    assert git(large.root, "status", "--porcelain") == ""
    large.ok("log", case_id, "再次联系客户", by="zhang.wei")  # the next step goes on top
    assert git(large.root, "log", "-2", "--format=%an").split() == ["张伟", "王芳"]


def test_a_detached_head_moves_and_the_branch_stays(large: Repo) -> None:
    case_id = large.open_case()
    branch = git(large.root, "symbolic-ref", "HEAD").strip()
    tip = git(large.root, "rev-parse", branch)
    git(large.root, "checkout", "-q", "--detach")
    large.ok("log", case_id, "已联系客户", by="zhang.wei")
    assert git(large.root, "rev-parse", branch) == tip
    assert git(large.root, "rev-parse", "HEAD~1") == tip
    assert committed(large) == [relative(large, case_id)]
    assert git(large.root, "reflog", "-1", "--format=%gs").startswith(f"commit: {case_id}: note")
    assert git(large.root, "status", "--porcelain") == ""
    assert subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=large.root).returncode == 1


@pytest.mark.slow
@pytest.mark.parametrize("lock", ["index.lock", "HEAD.lock", "branch"])
def test_a_lock_a_killed_git_left_mid_commit_is_settled_and_committed_once(
    large: Repo, monkeypatch: pytest.MonkeyPatch, lock: str
) -> None:
    """The lock appears after the step settled the locks, in the way of update-index
    (index.lock) or of update-ref, after the index was written (HEAD's, the branch's)."""
    case_id = large.open_case()
    tip = git(large.root, "rev-parse", "HEAD")
    if lock == "branch":
        lock = git(large.root, "symbolic-ref", "HEAD").strip() + ".lock"

    def killed_git_left(root: str) -> None:
        path = Path(gitrepo.git_dir(root)) / lock
        path.write_text("")
        os.utime(path, (time.time() - 600, time.time() - 600))

    on_git(monkeypatch, "update-index" if lock == "index.lock" else "update-ref", killed_git_left)
    result = large.run("log", case_id, "已联系客户", by="zhang.wei")
    assert result.exit_code == 0, result.stderr
    assert f"removed .git/{lock}" in result.stderr
    assert git(large.root, "rev-parse", "HEAD~1") == tip
    assert committed(large) == [relative(large, case_id)]
    assert git(large.root, "status", "--porcelain") == ""
    assert not list((large.root / ".git").rglob("*.lock"))


@pytest.mark.slow
def test_thousands_of_paths_and_a_removal_in_one_commit(repo: Repo) -> None:
    """More than 100 paths take this path in any repository: paths and files go on
    git's standard input, whatever their number."""
    gone = repo.case_path(repo.open_case())
    folder = repo.root / "cases" / "2026" / "11" / "27"
    folder.mkdir(parents=True)
    paths = [str(folder / f"261127-{n:05d}.yaml") for n in range(3000)]
    for n, path in enumerate(paths):
        Path(path).write_text(f"id: {n}\n", encoding="utf-8")
    gone.unlink()
    message = gitrepo.message("3001 cases: sweep (sweep)", "", [])
    gitrepo.commit(str(repo.root), [*paths, str(gone)], ("casectl", "bot@casectl"), message, print)
    assert len(committed(repo)) == 3001
    assert git(repo.root, "show", "HEAD:cases/2026/11/27/261127-02999.yaml") == "id: 2999\n"
    assert str(gone.relative_to(repo.root)) not in git(repo.root, "ls-files", "cases")
    assert git(repo.root, "status", "--porcelain") == ""
    raw = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=repo.root,
                         capture_output=True, check=True).stdout  # fmt: skip
    assert raw.split(b"\n\n", 1)[1] == message.encode()


def test_a_repository_without_a_commit_falls_back_to_git_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gitrepo, "BIG_INDEX", -1)
    git(tmp_path, "init", "-q")
    (tmp_path / "first.yaml").write_text("id: 1\n", encoding="utf-8")
    message = gitrepo.message("first", "", [])
    gitrepo.commit(
        str(tmp_path), [str(tmp_path / "first.yaml")], ("李娜", "li.na@x"), message, print, True
    )
    assert git(tmp_path, "log", "--format=%an %s") == "李娜 first\n"
    assert git(tmp_path, "status", "--porcelain") == ""


def test_an_identity_git_would_trim_falls_back_to_git_commit(large: Repo) -> None:
    case_id = large.open_case()
    path = large.case_path(case_id)
    path.write_bytes(path.read_bytes() + b"# note\n")
    message = gitrepo.message(f"{case_id}: note (x)", "", [case_id])
    gitrepo.commit(str(large.root), [str(path)], (" Zhang Wei.", "zw@x"), message, print)
    assert git(large.root, "log", "-1", "--format=%an|%s") == f"Zhang Wei|{case_id}: note (x)\n"
    assert git(large.root, "status", "--porcelain") == ""


@pytest.mark.slow
def test_cron_splits_an_index_whose_own_part_holds_every_entry(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When git refreshes every entry's stat data (a chmod -R, a copy of the repository),
    it keeps them all in the split index's own part, which each step then rewrites."""
    monkeypatch.setattr(gitrepo, "BIG_INDEX", 0)
    for _ in range(3):
        repo.open_case()
    index = repo.root / ".git" / "index"
    time.sleep(1.1)  # no entry as new as the index: git would keep it in the own part
    git(repo.root, "update-index", "--split-index")
    small = index.stat().st_size
    tracked = git(repo.root, "ls-files").split()
    for name in tracked:
        os.chmod(repo.root / name, 0o644)  # a new ctime
    git(repo.root, "status", "--porcelain")
    grown = index.stat().st_size
    shared = max(p.stat().st_size for p in (repo.root / ".git").glob("sharedindex.*"))
    assert grown > small and grown * 4 > shared
    repo.ok("sweep", by=None)
    assert index.stat().st_size * 4 < shared
    assert git(repo.root, "status", "--porcelain") == ""


def test_a_repository_that_signs_commits_still_gets_signed_commits(
    large: Repo, tmp_path: Path
) -> None:
    """fast-import cannot sign: where commit.gpgSign is set, git commit makes the commit."""
    signer = tmp_path / "fake-gpg"
    signer.write_text(
        "#!/bin/sh\ncat >/dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 0 X' >&2\n"
        "printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nfake\\n-----END PGP SIGNATURE-----\\n'\n"
    )
    signer.chmod(0o755)
    git(large.root, "config", "gpg.program", str(signer))
    git(large.root, "config", "commit.gpgSign", "true")
    case_id = large.open_case()
    large.ok("log", case_id, "已联系客户", by="zhang.wei", now="2026-11-26 14:20")
    assert "gpgsig -----BEGIN PGP SIGNATURE-----" in git(large.root, "cat-file", "commit", "HEAD")
    assert git(large.root, "status", "--porcelain") == ""
