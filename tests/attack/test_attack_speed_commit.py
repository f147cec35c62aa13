"""Attacks on a large repository's commit (issue 14): `git fast-import` + `update-index`
+ `update-ref` must commit what `git commit -- PATHS` would, or fall back to it. Each
test forces that path (BIG_INDEX = -1) and compares with what git itself makes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import Repo, git

from casectl import gitrepo


@pytest.fixture
def large(repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Repo:
    monkeypatch.setattr(gitrepo, "BIG_INDEX", -1)
    plain = tmp_path / "gitconfig"
    plain.write_text("[user]\n\tname = Test\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(plain))
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", os.devnull)
    return repo


def relative(repo: Repo, case_id: str) -> str:
    return str(repo.case_path(case_id).relative_to(repo.root))


def blob_git_commit_stores(repo: Repo, case_id: str) -> str:
    """The blob `git add`/`git commit` makes of the file: clean filters, eol, ident applied."""
    path = relative(repo, case_id)
    return git(repo.root, "hash-object", "--path", path, path).strip()


def test_a_clean_filter_on_case_files_is_applied(large: Repo) -> None:
    """git-crypt, git-lfs and the like are clean filters: the committed blob is the
    filter's output, never the plain text of a customer's case."""
    git(large.root, "config", "filter.shout.clean", "tr a-z A-Z")
    git(large.root, "config", "filter.shout.smudge", "cat")
    with open(large.root / ".gitattributes", "a", encoding="utf-8") as f:
        f.write("cases/** filter=shout\n")
    git(large.root, "commit", "-qam", "encrypt case files")
    case_id = large.open_case()
    path = relative(large, case_id)
    assert git(large.root, "rev-parse", f"HEAD:{path}").strip() == blob_git_commit_stores(
        large, case_id
    )
    assert "customer" not in git(large.root, "show", f"HEAD:{path}")


def test_ident_and_crlf_attributes_are_applied(large: Repo) -> None:
    with open(large.root / ".gitattributes", "a", encoding="utf-8") as f:
        f.write("cases/** ident\n")
    git(large.root, "commit", "-qam", "ident")
    case_id = large.open_case()
    large.ok("log", case_id, "$Id: deadbeef $ in the text")
    path = relative(large, case_id)
    assert git(large.root, "rev-parse", f"HEAD:{path}").strip() == blob_git_commit_stores(
        large, case_id
    )


def test_the_message_is_cleaned_up_as_git_commit_cleans_it(large: Repo) -> None:
    """`git commit -F -` collapses blank lines and strips trailing space (cleanup
    `whitespace`): the same step's message is the same message on either path."""
    case_id = large.open_case()
    large.ok("log", case_id, "first\n\n\n\nsecond   \n\n\n")
    raw = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=large.root,
                         capture_output=True, check=True).stdout  # fmt: skip
    message = raw.split(b"\n\n", 1)[1]
    cleaned = subprocess.run(["git", "stripspace"], input=message, capture_output=True,
                             check=True).stdout  # fmt: skip
    assert message == cleaned


def test_a_failing_reference_transaction_hook_leaves_the_index_as_it_was(large: Repo) -> None:
    """git commit refuses and changes nothing, index included: so must this path."""
    case_id = large.open_case()
    status_before = git(large.root, "status", "--porcelain")
    head_before = git(large.root, "rev-parse", "HEAD")
    hook = large.root / ".git" / "hooks" / "reference-transaction"
    # fast-import's own transaction is empty: refuse the one that moves a ref
    hook.write_text('#!/bin/sh\n[ "$1" = prepared ] && grep -q . && exit 1\nexit 0\n',
                    encoding="utf-8")  # fmt: skip
    hook.chmod(0o755)
    result = large.run("log", case_id, "refused by the hook")
    assert result.exit_code == 1, result.output
    hook.unlink()
    assert git(large.root, "rev-parse", "HEAD") == head_before
    assert git(large.root, "status", "--porcelain") == status_before
    assert git(large.root, "diff", "--cached", "--name-only") == ""


def test_a_linked_worktree_commits_on_its_own_branch(large: Repo, tmp_path: Path) -> None:
    case_id = large.open_case()
    main_head = git(large.root, "rev-parse", "HEAD").strip()
    other = tmp_path / "other"
    git(large.root, "worktree", "add", "-q", "-b", "desk-b", str(other))
    desk = Repo(other)
    desk.ok("log", case_id, "from the linked worktree")
    assert git(large.root, "rev-parse", "HEAD").strip() == main_head
    assert git(other, "rev-parse", "desk-b~1").strip() == main_head
    assert committed(desk) == [relative(large, case_id)]
    assert git(other, "status", "--porcelain") == ""
    assert git(large.root, "status", "--porcelain") == ""


def committed(repo: Repo) -> list[str]:
    return git(repo.root, "diff-tree", "-r", "--name-only", "--no-commit-id", "HEAD").split()
