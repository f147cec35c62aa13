"""A shared repository as an attacker and a careless team would use it: nothing a pusher
commits runs code, reaches outside the repository, forges history or loses a case."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import Repo, case_file, git

from casectl import yamlio

pytestmark = pytest.mark.slow

Team = tuple[Repo, Repo, Repo]


def push_as_stranger(clone: Repo, message: str) -> None:
    git(clone.root, "add", "-A")
    git(clone.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", message)
    git(clone.root, "push", "-q", "origin", "HEAD")


def test_a_pushed_casectl_package_never_runs(team: Team, tmp_path: Path) -> None:
    a, b, cron = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    marker = tmp_path / "pwned"
    fake = b.root / "casectl"
    fake.mkdir()
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__main__.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(0)\n", encoding="utf-8"
    )
    b.ok("log", case_id, "b 的记录", by="zhang.wei", now="2026-11-26 14:10")
    push_as_stranger(b, "a helpful package")
    a.ok("log", case_id, "a 的记录", by="zhang.wei", now="2026-11-26 14:11")
    a.ok("sync", by=None)  # merges the case file through the driver, in a tree with casectl/
    assert (a.root / "casectl" / "__main__.py").exists()
    assert not marker.exists()
    notes = [e["text"] for e in a.show(case_id)["events"] if e["type"] == "note"]
    assert notes == ["b 的记录", "a 的记录"]  # the real driver merged both sides
    # the control: the registration casectl used to write runs the pushed package
    driver = git(a.root, "config", "merge.casectl.driver").strip()
    assert " -I -m casectl merge-file " in driver
    files = [tmp_path / n for n in "OAB"]
    for f in files:
        f.write_bytes(case_file(a, case_id).read_bytes())
    old = driver.replace(" -I ", " ").replace("%O %A %B %P", " ".join(map(str, files)) + " x")
    subprocess.run(old, shell=True, cwd=a.root, check=False)
    assert marker.exists()


def test_a_close_and_a_reopen_elsewhere_lose_nothing(team: Team) -> None:
    """Git's directory-rename detection once moved a closed case into nowhere."""
    a, b, _ = team
    closing = a.open_case(now="2026-11-26 14:05")
    reopening = a.open_case(now="2026-11-26 14:06")
    a.ok("close", reopening, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:20")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    a.ok("close", closing, "--resolution", "ok", by="zhang.wei", now="2026-11-26 15:00")
    b.ok("reopen", reopening, "--reason", "复发", by="li.na", now="2026-11-26 15:01")
    b.ok("log", closing, "备注", by="zhang.wei", now="2026-11-26 14:59")
    for clone in (a, b, a, b):
        clone.ok("sync", by=None)
    for clone in (a, b):
        assert clone.show(closing)["status"] == "closed"
        assert clone.show(reopening)["status"] == "open"
        assert [e["type"] for e in clone.show(closing)["events"]][-2:] == ["note", "close"]
    assert case_file(a, closing).read_bytes() == case_file(b, closing).read_bytes()


def test_an_id_inside_a_file_is_never_a_path(repo: Repo, refused) -> None:  # type: ignore[no-untyped-def]
    victim = repo.open_case(now="2026-11-26 14:05")
    other = repo.open_case(now="2026-11-26 14:06")
    path = repo.case_path(victim)
    for forged in ("../../../x", other, None):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        document["id"] = forged
        if forged is None:
            del document["id"]
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        message = refused("log", victim, "x", by="zhang.wei")
        assert message == (f"{path}: its id {forged!r} does not match its file name ({victim})")
    assert not (repo.root.parent / "x.yaml").exists()
    assert repo.show(other)["id"] == other
    result = repo.run("sweep", by=None)
    assert result.exit_code == 1 and f"{victim}.yaml: its id None" in result.stderr


def test_a_pushed_symlink_folder_is_refused_by_name(team: Team, tmp_path: Path) -> None:
    a, b, _ = team
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (b.root / "cases" / "2026").mkdir(parents=True, exist_ok=True)
    (b.root / "cases" / "2026" / "12").symlink_to(elsewhere)
    push_as_stranger(b, "a link")
    refused = a.run("sync", by=None)
    assert refused.exit_code == 1
    assert "adds cases/2026/12 (commit" in refused.stderr and "symbolic link" in refused.stderr
    assert not (a.root / "cases" / "2026" / "12").exists()
    git(a.root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "HEAD")  # by hand, anyway
    assert (a.root / "cases" / "2026" / "12").is_symlink()
    before = git(a.root, "rev-parse", "HEAD")
    result = a.run(
        "open", "--customer", "c", "--contact", "d", "--contract", "HT-1", "--severity", "1",
        "--description", "x", now="2026-12-01 09:00",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: cases/2026/12 is a symbolic link; casectl never follows links inside the "
        "repository: replace it with a folder or file"
    ]
    assert list(elsewhere.iterdir()) == []
    assert git(a.root, "rev-parse", "HEAD") == before


def test_a_symlinked_case_file_is_not_read_or_written(repo: Repo, tmp_path: Path) -> None:
    case_id = repo.open_case()
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(repo.case_path(case_id).read_bytes())
    repo.case_path(case_id).unlink()
    repo.case_path(case_id).symlink_to(outside)
    before = outside.read_bytes()
    result = repo.run("log", case_id, "x", by="zhang.wei")
    assert result.exit_code == 1
    assert f"cases/2026/11/26/{case_id}.yaml is a symbolic link" in result.stderr
    assert outside.read_bytes() == before


def test_text_cannot_forge_a_trailer(repo: Repo) -> None:
    other = repo.open_case()
    forged = f"招商银行\n\nCase: {other}\nCo-authored-by: x <x@x>"
    case_id = repo.ok(
        "open", "--customer", forged, "--contact", "d", "--contract", "HT-1", "--severity", "1",
        "--description", f"x\nCase: {other}",
    )  # fmt: skip
    repo.ok("log", case_id, f"note\n\nCase: {other}", by="li.na")
    found = git(repo.root, "log", "--format=%H", f"--grep=^Case: {other}$").split()
    assert len(found) == 1  # only the opening of `other` itself
    for commit in git(repo.root, "log", "--format=%H", "-2").split():
        trailers = git(repo.root, "log", "-1", "--format=%(trailers:valueonly)", commit)
        assert trailers.split() == [case_id]
        subject = git(repo.root, "log", "-1", "--format=%s", commit)
        assert "\n" not in subject.strip()


def test_sync_refuses_a_merge_that_loses_a_case(team: Team) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    git(b.root, "rm", "-q", str(case_file(b, case_id).relative_to(b.root)))
    push_as_stranger(b, "tidy up")
    head = git(a.root, "rev-parse", "HEAD")
    result = a.run("sync", by=None)
    assert result.exit_code == 1
    path = case_file(a, case_id).relative_to(a.root)
    assert result.stderr.strip() == (
        f"Error: sync refused: merging origin/master would lose case {case_id} ({path}); "
        "nothing was changed"
    )
    assert git(a.root, "rev-parse", "HEAD") == head
    assert git(a.root, "status", "--porcelain") == ""


def test_sync_refuses_a_merge_that_loses_events(team: Team) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("log", case_id, "记录", by="zhang.wei", now="2026-11-26 14:10")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    path = case_file(b, case_id)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["events"] = document["events"][:-1]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    push_as_stranger(b, "rewrite history")
    head = git(a.root, "rev-parse", "HEAD")
    result = a.run("sync", by=None)
    assert result.exit_code == 1
    assert f"would lose 1 event(s) of case {case_id}; nothing was changed" in result.stderr
    assert git(a.root, "rev-parse", "HEAD") == head


def old_layout(repo: Repo, case_id: str, closed: bool) -> None:
    """Move a case to where casectl before fixed paths kept it, and commit that."""
    old = repo.root / "cases" / ("closed/2026/11" if closed else "open") / f"{case_id}.yaml"
    old.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(repo.case_path(case_id), old)
    git(repo.root, "add", "-A", "cases")
    git(repo.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "old layout")


def test_migrate_converts_the_old_layout(repo: Repo) -> None:
    kept = repo.open_case()
    done = repo.open_case()
    repo.ok("close", done, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:30")
    before = {c: repo.case_path(c).read_bytes() for c in (kept, done)}
    old_layout(repo, kept, closed=False)
    old_layout(repo, done, closed=True)
    result = repo.run("sweep", "--dry-run", by=None)
    assert result.exit_code == 1
    assert "cases/open/ is the layout before fixed paths" in result.stderr
    assert repo.ok("migrate", by=None) == "2 case files moved to their fixed paths"
    assert {c: repo.case_path(c).read_bytes() for c in (kept, done)} == before
    assert not (repo.root / "cases" / "open").exists()
    assert not (repo.root / "cases" / "closed").exists()
    assert git(repo.root, "status", "--porcelain") == ""
    assert git(repo.root, "log", "-1", "--format=%s").startswith("migrate: moved to fixed paths")
    assert [r["id"] for r in json.loads(repo.ok("list", "--json"))] == [kept]
    assert repo.run("sweep", "--dry-run", by=None).exit_code == 0


def test_sync_converts_a_clone_that_stepped_on_the_old_layout(team: Team) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    old_layout(a, case_id, closed=False)
    a.ok("migrate", by=None)  # stands for an old casectl that never migrated:
    git(a.root, "reset", "-q", "--hard", "HEAD~1")  # the remote still has the old layout
    git(a.root, "push", "-q", "origin", "HEAD")
    b.ok("sync", by=None)  # converts and pushes
    # a has not pulled yet: an older casectl appends to the old path
    old = a.root / "cases" / "open" / f"{case_id}.yaml"
    document = yaml.safe_load(old.read_text(encoding="utf-8"))
    at = document["events"][-1]["at"]
    document["events"].append(
        {"id": "OLDSTEP1", "at": at, "by": "zhang.wei", "type": "note", "text": "旧路径上的记录"}
    )
    old.write_bytes(yamlio.dump(document))
    git(a.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "old step")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    for clone in (a, b):
        assert not (clone.root / "cases" / "open").exists()
        ids = [e["id"] for e in clone.show(case_id)["events"]]
        assert "OLDSTEP1" in ids and len(ids) == len(set(ids))
    assert a.case_path(case_id).read_bytes() == b.case_path(case_id).read_bytes()


def test_no_progress_bar_without_a_terminal(repo: Repo) -> None:
    for _ in range(3):
        repo.open_case(assign=None, now="2026-11-26 14:05")
    shutil.rmtree(repo.state)
    result = repo.run("list")
    assert result.exit_code == 0 and result.stderr == ""


def test_progress_is_shown_while_many_files_are_indexed(repo: Repo) -> None:
    from casectl.config import load
    from casectl.index import Index
    from casectl.store import Store

    case_id = repo.open_case(assign=None)
    data = repo.case_path(case_id).read_text(encoding="utf-8")
    folder = repo.case_path(case_id).parent
    for n in range(250):
        other = f"261126-{n:05d}".replace("0", "A")
        (folder / f"{other}.yaml").write_text(data.replace(case_id, other), encoding="utf-8")
    seen: list[tuple[int, int]] = []
    summaries = Index(Store(str(repo.root)), load(str(repo.root)), lambda *p: seen.append(p))
    assert len(summaries.summaries()) == 251
    assert seen[0] == (0, 251) and seen[-1] == (251, 251)


def test_driver_is_isolated_even_when_run_from_the_tree(team: Team) -> None:
    a, _, _ = team
    driver = git(a.root, "config", "merge.casectl.driver").strip()
    assert driver.startswith(sys.executable) or driver.startswith(f"'{sys.executable}'")


def test_a_pushed_symlink_for_the_rules_is_refused(repo: Repo, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n", encoding="utf-8")
    (repo.root / "roster.yaml").unlink()
    (repo.root / "roster.yaml").symlink_to(secret)
    result = repo.run("list")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: roster.yaml: is a symbolic link; casectl never follows links inside the repository"
    )
    assert "hunter2" not in result.output
