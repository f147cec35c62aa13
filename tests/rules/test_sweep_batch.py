"""A sweep of thousands of actions: written as one batch, committed as one commit, each
file as casectl would write it whole (or whole, when appending would not be that)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import Repo, git

from casectl import yamlio
from casectl.ids import random_code
from casectl.store import dump_case, read_case, relative_path

pytestmark = pytest.mark.slow

LATER = "2026-11-26 20:05"  # six actions on a case opened and assigned at 14:05


def copies(repo: Repo, case_id: str, count: int) -> list[str]:
    """`count` cases like `case_id` (opened the same day), written and committed."""
    document = yamlio.load(repo.case_path(case_id).read_bytes())
    made = {case_id}
    while len(made) < count:
        made.add(f"{case_id[:7]}{random_code(5)}")
    for new_id in made - {case_id}:
        path = repo.root / relative_path(new_id)
        path.write_bytes(yamlio.dump({**document, "id": new_id}))
    git(repo.root, "add", "cases")
    git(repo.root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copies")
    return sorted(made)


def test_a_sweep_of_thousands_of_actions_is_one_commit(repo: Repo) -> None:
    cases = copies(repo, repo.open_case(now="2026-11-26 14:05"), 600)
    head = git(repo.root, "rev-parse", "HEAD").strip()
    result = repo.run("sweep", "--json", now=LATER, by=None)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["actions"]) == 6 * 600
    message = git(repo.root, "log", "-1", "--format=%B")
    assert len(message.encode()) > 128 * 1024  # over the kernel's limit for one argument
    assert message.startswith("sweep: 3600 actions on 600 cases (sweep)\n")
    trailers = [line[6:] for line in message.splitlines() if line.startswith("Case: ")]
    assert trailers == cases
    assert git(repo.root, "rev-parse", "HEAD~1").strip() == head  # one commit
    changed = git(repo.root, "diff", "--name-only", "HEAD~1").split()
    assert sorted(changed) == sorted(relative_path(c) for c in cases)
    assert git(repo.root, "status", "--porcelain", "--", "cases") == ""
    for case_id in cases[::50]:  # as casectl writes a whole case, byte for byte
        path = str(repo.case_path(case_id))
        assert Path(path).read_bytes() == dump_case(read_case(path))
    assert repo.run("sweep", "--json", now=LATER, by=None).stdout.count('"case"') == 0


def test_a_file_with_a_key_after_its_events_is_written_whole(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    path = repo.case_path(case_id)
    path.write_bytes(path.read_bytes() + b"note: kept by hand\n")
    repo.ok("sweep", now=LATER, by=None)
    written = path.read_bytes()
    document = yamlio.load(written)
    assert document["note"] == "kept by hand"
    assert [e["type"] for e in document["events"]][-6:] == ["check"] * 2 + ["reassign"] + [
        "overdue"
    ] * 3
    assert written == dump_case(read_case(str(path)))


def test_a_file_ending_in_a_comment_is_written_whole(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    path = repo.case_path(case_id)
    path.write_bytes(path.read_bytes() + b"# checked by wang.jianguo\n")
    repo.ok("sweep", now=LATER, by=None)
    assert path.read_bytes() == dump_case(read_case(str(path)))
    assert len(repo.show(case_id, now=LATER)["events"]) == 2 + 6


def test_a_file_in_its_own_spelling_keeps_it_and_gains_the_events(repo: Repo) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    path = repo.case_path(case_id)
    own = path.read_bytes().replace(b"\nevents:\n", b"\n# the record\nevents:\n")
    path.write_bytes(own)
    repo.ok("sweep", now=LATER, by=None)
    written = path.read_bytes()
    assert written.startswith(own)  # appended: a hand's comment before the events stays
    assert len(repo.show(case_id, now=LATER)["events"]) == 2 + 6


def test_the_sweep_commits_from_plumbing_past_a_hundred_paths(repo: Repo) -> None:
    """Over a hundred files, the commit touches only its paths; a file someone staged
    by hand meanwhile stays staged and out of the sweep's commit."""
    copies(repo, repo.open_case(now="2026-11-26 14:05"), 120)
    (repo.root / "notes.txt").write_text("mine\n")
    git(repo.root, "add", "notes.txt")
    repo.ok("sweep", now=LATER, by=None)
    assert "notes.txt" not in git(repo.root, "show", "--name-only", "--format=", "HEAD")
    staged = subprocess.run(["git", "-C", str(repo.root), "diff", "--cached", "--name-only"],
                            capture_output=True, text=True).stdout  # fmt: skip
    assert staged.split() == ["notes.txt"]
