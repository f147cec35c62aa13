"""`casectl check`: every kind of problem named with file and line, a cache, a pre-commit hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Repo

from casectl.store import relative_path


def check(repo: Repo, *args: str, now: str | None = None) -> tuple[int, list[str], str]:
    result = repo.run("check", *args, by=None, now=now)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout.splitlines(), result.stderr


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_a_sound_repository_passes(repo: Repo) -> None:
    a = repo.open_case()
    repo.ok("log", a, "called", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("close", a, "--resolution", "r", by="zhang.wei", now="2026-11-26 14:20")
    repo.open_case(assign="liu.yang")
    repo.run("sweep", by=None, now="2026-11-26 16:00")
    assert check(repo) == (0, [], "casectl check: 2 case files, no problems\n")


@pytest.mark.slow
def test_every_kind_of_problem_is_named_with_file_and_line(repo: Repo) -> None:
    schema, ghost, closed, dup, markers, orphan, unconfigured = (
        repo.open_case(now=f"2026-11-26 14:0{i}") for i in range(7)
    )
    # a close by someone the rules do not allow (liu.yang is not the case's engineer)
    repo.ok("close", closed, "--resolution", "r", by="zhang.wei", now="2026-11-26 14:30")
    p = {c: repo.case_path(c) for c in (schema, ghost, closed, dup, markers, orphan, unconfigured)}
    text = p[closed].read_text(encoding="utf-8")
    p[closed].write_text(
        text.replace("  by: zhang.wei\n  type: close", "  by: liu.yang\n  type: close")
    )
    close_line = line_of(p[closed], "  type: close") - 3
    p[schema].write_text(p[schema].read_text().replace("  to: zhang.wei\n", ""))
    with p[ghost].open("a") as f:
        f.write(
            "- id: GHOST001\n  at: 2026-11-26T14:40:00+08:00\n  by: ghost\n  type: note\n  text: boo\n"
        )
    ghost_line = line_of(p[ghost], "- id: GHOST001")
    elsewhere = repo.root / "cases/2026/11/27" / f"{dup}.yaml"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(p[dup].read_bytes())
    p[markers].write_text(p[markers].read_text() + "<<<<<<< HEAD\n=======\n>>>>>>> theirs\n")
    marker_line = line_of(p[markers], "<<<<<<< HEAD")
    wrong_name = p[orphan].parent / "261126-AAAAA.yaml"
    wrong_name.write_bytes(p[orphan].read_bytes())
    (repo.root / "cases/notes.txt").write_text("x")
    (repo.root / "cases/open").mkdir()
    (repo.root / "cases/2026/11/link.yaml").symlink_to(p[schema])
    (p[schema].parent / f".{schema}.yaml.999999999.tmp").write_text("half")
    roster = repo.root / "roster.yaml"
    roster.write_text(roster.read_text().replace("- id: zhang.wei\n", "- id: zhang.wei2\n"))
    severity = repo.root / "severity.yaml"  # unconfigured has severity 1, like every case here
    old_lock = repo.root / ".git/index.lock"
    old_lock.write_text("")
    os.utime(old_lock, (time.time() - 600, time.time() - 600))
    (repo.root / ".git/HEAD.lock").write_text("")  # fresh: a git may be running
    code, out, err = check(repo)
    assert code == 1
    day = "cases/2026/11/26"
    expected = {
        ".git/index.lock: a git lock left 10 minutes ago by a git that is no longer running; "
        "remove it if no git command is running",
        f"{day}/{schema}.yaml:14: event 2 (assign): no `to`",
        f"{day}/{ghost}.yaml:{ghost_line}: event 3 (note): 'ghost' is not in roster.yaml",
        f"{day}/{closed}.yaml:{close_line}: event 3 (close): liu.yang may not close case {closed}: "
        "only the assigned engineer (zhang.wei), the escalation engineer (none) or the manager may",
        f"cases/2026/11/27/{dup}.yaml: case {dup} belongs in {relative_path(dup)}",
        f"cases/2026/11/27/{dup}.yaml: case {dup} is also in {relative_path(dup)}: one id, two files",
        f"{day}/{markers}.yaml:{marker_line}: conflict markers: resolve the merge (casectl sync "
        "sets up the merge driver that avoids them)",
        f"{day}/261126-AAAAA.yaml:1: its id '{orphan}' does not match its file name (261126-AAAAA)",
        "cases/notes.txt: outside the layout: case files live at cases/<yyyy>/<mm>/<dd>/<id>.yaml",
        "cases/open/: the layout before fixed paths: casectl migrate (or casectl sync) moves its "
        "cases to cases/<yyyy>/<mm>/<dd>/",
        "cases/2026/11/link.yaml: a symbolic link; casectl never follows links: replace it with "
        "the folder or file itself",
        f"{day}/.{schema}.yaml.999999999.tmp: a temporary file left by casectl process 999999999, "
        "which is gone: remove it",
        f"{day}/{orphan}.yaml:14: case {orphan} is assigned to zhang.wei, who is no longer in "
        "roster.yaml; assign it to someone",
    }
    assert expected <= set(out), "\n".join(sorted(expected - set(out)))
    assert not any("HEAD.lock" in line for line in out)
    assert err == f"casectl check: {len(out)} problems\n"
    # a severity level removed: every open case at that level is named
    severity.write_text(severity.read_text().replace("  1:\n", "  7:\n"))
    out = check(repo)[1]
    assert (
        f"{day}/{unconfigured}.yaml:11: severity 1 is not configured in severity.yaml: the "
        "case's deadlines are not checked" in out
    )
    assert not any(closed in line and "not configured" in line for line in out)


def test_a_config_error_has_its_line_and_the_cases_are_still_checked(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    path.write_text(path.read_text().replace("  to: zhang.wei\n", ""))
    severity = repo.root / "severity.yaml"
    severity.write_text(severity.read_text().replace("    reply: 1h\n", "    reply: 0m\n", 1))
    code, out, _ = check(repo)
    assert code == 1
    assert out == [
        f"{relative_path(case_id)}:14: event 2 (assign): no `to`",
        f"severity.yaml:{line_of(severity, '    reply: 0m')}: levels.1.reply: expected a limit "
        "longer than zero, got '0m'",
    ]


def test_a_calendar_out_of_holiday_data_is_named(repo: Repo) -> None:
    severity = repo.root / "severity.yaml"
    business = line_of(severity, "  business:")
    said = (
        "calendar business has holidays for 2026 but none for 2027: run casectl calendar "
        "holidays --year 2027 --calendar business where chinese_calendar knows 2027 (pip "
        "install -U chinesecalendar), or type the State Council's notice into holidays-cn.yaml by "
        "hand, a block like `2027: {holidays: [2027-01-01, 2027-01-02], workdays: [2027-02-07]}`"
    )
    assert check(repo, now="2026-06-01 10:00")[0] == 0
    code, out, _ = check(repo, now="2027-03-01 10:00")
    assert code == 1 and out == [f"severity.yaml:{business}: {said}"]
    # in December, next year's is a warning: every hand commit under the hook still passes
    assert check(repo, now="2026-12-02 10:00")[:2] == (
        0, [f"severity.yaml:{business}: warning: {said}"])  # fmt: skip


def test_json_gives_file_line_and_problem(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    path.write_text(path.read_text().replace("  severity: 1\n", "  severity: 12\n"))
    result = repo.run("check", "--json", by=None)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "problems": [
            {
                "file": relative_path(case_id),
                "line": 11,
                "problem": "event 1 (open): `severity` expected a severity, 1 to 9, got int 12",
            }
        ],
        "warnings": [],
        "case_files": 1,
    }


def test_only_changed_files_are_read_again_and_edits_in_place_are_seen(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    old = time.time() - 60
    os.utime(path, (old, old))
    assert check(repo)[0] == 0
    cache = repo.state / "check"
    assert cache.exists()
    # the cached result is used: a file that did not change is not read again
    stamp = path.stat()
    data = path.read_bytes()
    with path.open("r+b") as f:  # an edit in place, same size, mtime put back
        f.write(data.replace(b"severity: 1", b"severity: x"))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert check(repo)[0] == 0  # same inode, size and mtime: trusted
    os.utime(path, (old + 1, old + 1))  # any real edit moves the mtime
    code, out, _ = check(repo)
    assert code == 1 and out == [
        f"{relative_path(case_id)}:11: event 1 (open): `severity` expected a severity, 1 to 9, "
        "got str 'x'"
    ]
    path.write_bytes(data)
    assert check(repo)[0] == 0


@pytest.mark.slow
def test_the_pre_commit_hook_refuses_a_broken_case_file(tmp_path: Path) -> None:
    env = os.environ | {"CASECTL_NOW": "2026-11-26 14:05", "CASECTL_USER": "li.na"}
    casectl = [os.path.join(os.path.dirname(sys.executable), "casectl")]
    root = tmp_path / "r"
    made = subprocess.run(
        [*casectl, "init", str(root), "--hook"], capture_output=True, text=True, env=env
    )
    assert made.returncode == 0, made.stderr
    hook = root / ".git/hooks/pre-commit"
    assert made.stdout.splitlines()[-1] == f"pre-commit hook installed: {hook}"
    assert os.access(hook, os.X_OK)
    repo = Repo(root)
    case_id = repo.open_case()  # casectl's own commit skips the hook
    path = repo.case_path(case_id)
    path.write_text(path.read_text().replace("  to: zhang.wei\n", ""))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    done = subprocess.run(
        [*git, "commit", "-qam", "edit"], cwd=root, capture_output=True, text=True, env=env
    )
    assert done.returncode != 0
    assert f"{relative_path(case_id)}:14: event 2 (assign): no `to`" in done.stdout + done.stderr
    path.write_text(path.read_text() + "- id: X\n  at: 2026-11-26T14:06:00+08:00\n  by: li.na\n"
                    "  type: note\n  text: fine\n")  # fmt: skip
    subprocess.run(["git", "checkout", "--", "."], cwd=root, check=True)
    (root / "notes.md").write_text("hello\n")
    subprocess.run(["git", "add", "notes.md"], cwd=root, check=True)
    done = subprocess.run(
        [*git, "commit", "-qm", "notes"], cwd=root, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_setup_git_installs_the_hook_but_never_over_someone_elses(repo: Repo) -> None:
    assert repo.ok("setup-git", "--hook").endswith(
        f"pre-commit hook installed: {repo.root}/.git/hooks/pre-commit"
    )
    assert repo.ok("setup-git", "--hook")  # again: its own hook is rewritten
    hook = repo.root / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\nmake lint\n")
    result = repo.run("setup-git", "--hook")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: .git/hooks/pre-commit exists and is not casectl's: add `casectl check || exit 1` "
        "to it yourself\n"
    )
    assert hook.read_text() == "#!/bin/sh\nmake lint\n"
