"""Hostile pushes: what a person who can push commits must never turn into a traceback,
a write outside the repository, a stuck hotline or a raw control sequence on a screen.

Each test commits the hostile tree in one clone with plain git, pushes it, and drives
the victim's clone through the real CLI after `casectl sync`. What `sync` refuses to
take (a symbolic link anywhere, anything under `.casectl/`) is also pulled by hand with
plain git, as a user might, to show casectl holds even then.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Repo, git

pytestmark = pytest.mark.slow

Team = tuple[Repo, Repo, Repo]


def push_as_stranger(clone: Repo, message: str) -> None:
    git(clone.root, "add", "-A", "-f")
    git(clone.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", message)
    git(clone.root, "push", "-q", "origin", "HEAD")


def pulled(team: Team, hostile: str) -> tuple[Repo, Repo]:
    """The attacker's clone (a) pushes what is in its tree; the victim (b) syncs it."""
    a, b, _ = team
    push_as_stranger(a, hostile)
    b.ok("sync", by=None)
    return a, b


def pulled_by_hand(team: Team, hostile: str, *words: str) -> tuple[Repo, Repo]:
    """The attacker pushes; `casectl sync` in the victim's clone refuses it in one line
    naming `words`, leaving HEAD as it was; then the victim pulls it with plain git."""
    a, b, _ = team
    push_as_stranger(a, hostile)
    head = git(b.root, "rev-parse", "HEAD")
    one_line_refusal(b.run("sync", by=None), "sync refused", *words)
    assert git(b.root, "rev-parse", "HEAD") == head
    assert git(b.root, "status", "--porcelain") == ""
    git(b.root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "HEAD")
    return a, b


def no_traceback(result: Result) -> None:
    """Exit 0 or 1 (2 for usage), and never an exception escaping to the user."""
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def one_line_refusal(result: Result, *words: str) -> str:
    no_traceback(result)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_pushed_old_layout_link_never_deletes_files_outside(team: Team, tmp_path: Path) -> None:
    """`cases/open -> /elsewhere`: migrate (run by sync) walked the link, moved the case
    files it found there into the repository, unlinked them outside and removed empty
    folders outside, then died with NotADirectoryError."""
    a, b, _ = team
    case_id = b.open_case(now="2026-11-26 14:05")
    b.ok("sync", by=None)
    a.ok("sync", by=None)
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    victim = outside / "sub" / f"{case_id}.yaml"
    victim.write_bytes(b.case_path(case_id).read_bytes())
    (a.root / "cases" / "open").symlink_to(outside)
    pulled_by_hand(team, "a link for the old layout", "cases/open", "symbolic link")
    assert victim.exists()  # not unlinked
    assert (outside / "sub").is_dir()  # not removed
    one_line_refusal(b.run("migrate", by=None), "cases/open", "symbolic link")
    assert victim.exists()


def test_a_pushed_lock_link_creates_nothing_outside(team: Team, tmp_path: Path) -> None:
    """`.casectl/lock -> /elsewhere/x`, force-added: opening the lock for append followed
    the link and created the file outside the repository. Now `sync` refuses the push,
    and the clone's lock lives in its git folder, which no pull writes."""
    a, _, _ = team
    target = tmp_path / "created-outside"
    (a.root / ".casectl").mkdir()
    (a.root / ".casectl" / "lock").symlink_to(target)
    _, b = pulled_by_hand(team, "a lock that points away", ".casectl/lock", "symbolic link")
    assert not target.exists()
    b.ok(*_open("d1"), now="2026-11-26 14:06")
    b.ok("sweep", by=None)
    assert not target.exists()


def _open(description: str) -> list[str]:
    return ["open", "--customer", "c", "--contact", "x", "--contract", "H", "--severity", "1",
            "--description", description, "--assign", "zhang.wei"]  # fmt: skip


@pytest.mark.parametrize("command", [["list"], ["sweep"], ["report"], ["open"], ["migrate"]])
def test_a_pushed_casectl_file_changes_nothing(team: Team, command: list[str]) -> None:
    """A regular file named `.casectl` (force-added): every command died in refuse_links
    with NotADirectoryError. Now `sync` refuses it, and casectl no longer keeps anything
    in the working tree: pulled by hand, it is nobody's business."""
    a, _, _ = team
    (a.root / ".casectl").write_text("not a folder\n", encoding="utf-8")
    _, b = pulled_by_hand(team, "a file where the state folder goes", ".casectl", "own state")
    args = _open("d2") if command == ["open"] else command
    result = b.run(*args, now="2026-11-27 10:00")
    no_traceback(result)
    assert result.exit_code == 0, result.output


def test_a_pushed_file_where_a_day_folder_goes_is_one_line(team: Team) -> None:
    """A file named like today's folder: `open` died with NotADirectoryError, and so did
    its roll-back."""
    a, _, _ = team
    (a.root / "cases" / "2026" / "11").mkdir(parents=True)
    (a.root / "cases" / "2026" / "11" / "27").write_text("x\n", encoding="utf-8")
    _, b = pulled(team, "a file where a folder goes")
    before = b.fingerprint()
    one_line_refusal(b.run(*_open("d3"), now="2026-11-27 10:00"), "cases/2026/11/27", "folder")
    for args in (["list"], ["sweep", "--dry-run"], ["check"], ["report"]):
        no_traceback(b.run(*args, now="2026-11-27 10:00", by=None))
    assert b.fingerprint() == before


def test_a_push_replacing_cases_by_a_file_is_refused_by_sync(team: Team) -> None:
    """Held: the cases it would delete make sync refuse the merge."""
    a, b, _ = team
    case_id = b.open_case(now="2026-11-26 14:05")
    b.ok("sync", by=None)
    a.ok("sync", by=None)
    git(a.root, "rm", "-rq", "cases")
    (a.root / "cases").write_text("x\n", encoding="utf-8")
    push_as_stranger(a, "no more cases")
    one_line_refusal(b.run("sync", by=None), "sync refused", case_id)
    assert b.case_path(case_id).is_file()


@pytest.mark.parametrize("where", ["cases", "cases/2026"])
def test_a_file_where_a_folder_goes_is_one_line(repo: Repo, where: str) -> None:
    """The same in a careless user's tree: `show`, `log`, `open`, `list` and `sweep` died
    with NotADirectoryError."""
    case_id = repo.open_case(now="2026-11-26 14:05")
    subprocess.run(["rm", "-rf", str(repo.root / where)], check=True)
    (repo.root / where).write_text("x\n", encoding="utf-8")
    before = repo.fingerprint()
    one_line_refusal(repo.run(*_open("d3"), now="2026-11-27 10:00"), where, "not a folder")
    one_line_refusal(repo.run("show", case_id), where, "not a folder")
    one_line_refusal(repo.run("log", case_id, "记录", by="zhang.wei"), where, "not a folder")
    for args in (["list"], ["sweep", "--dry-run"], ["check"], ["report"], ["history", case_id]):
        no_traceback(repo.run(*args, now="2026-11-27 10:00", by=None))
    assert repo.fingerprint() == before


def test_a_pushed_directory_named_like_a_case_does_not_stop_open(team: Team) -> None:
    """`open` looks for its own retry among today's files and opened a directory named
    like a case: IsADirectoryError, and nobody could open a case that day."""
    a, _, _ = team
    folder = a.root / "cases" / "2026" / "11" / "26" / "261126-AAAAA.yaml"
    folder.mkdir(parents=True)
    (folder / "f").write_text("x", encoding="utf-8")
    _, b = pulled(team, "a folder named like a case")
    result = b.run(*_open("d4"), now="2026-11-26 14:10")
    no_traceback(result)
    assert result.exit_code == 0, result.output


def test_a_pushed_link_to_dev_zero_does_not_exhaust_memory(team: Team) -> None:
    """`cases/<today>/<id>.yaml -> /dev/zero`: open's retry check read the link's target
    whole, until MemoryError (without a limit: until the machine runs out)."""
    a, _, _ = team
    day = a.root / "cases" / "2026" / "11" / "26"
    day.mkdir(parents=True)
    (day / "261126-ZZZZZ.yaml").symlink_to("/dev/zero")
    _, b = pulled_by_hand(team, "an endless case", "261126-ZZZZZ.yaml", "symbolic link")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = dict(os.environ, CASECTL_NOW="2026-11-26 14:10", CASECTL_USER="li.na")
    done = subprocess.run(
        [sys.executable, "-m", "casectl", "--repo", str(b.root), *_open("d5")],
        env=env, capture_output=True, text=True, timeout=60, preexec_fn=limit,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr


def test_pushed_file_names_with_control_characters_are_escaped(team: Team) -> None:
    """`list`, `sweep` and `report` named a misplaced file raw on stderr, so a pushed
    name carrying an OSC or `ESC[2J` ran in the terminal of whoever ran them."""
    a, _, _ = team
    day = a.root / "cases" / "2026" / "11" / "26"
    day.mkdir(parents=True)
    (day / "x\x1b]0;pwned\x07\x1b[2J.yaml").write_text("x", encoding="utf-8")
    _, b = pulled(team, "a name that talks to terminals")
    for args in (["list"], ["sweep"], ["report"], ["check"]):
        result = b.run(*args, by=None, now="2026-11-27 10:00")
        no_traceback(result)
        assert "\x1b" not in result.stderr + result.stdout, (args, result.stderr)
        assert "\\x1b" in result.stderr + result.stdout, (args, result.stderr)


def test_a_pushed_calendar_that_never_works_is_one_line(team: Team) -> None:
    """A business calendar whose every working day is a holiday: deadlines cannot be
    computed and `sweep`, `list` and `show` died with ValueError from calendars.add."""
    a, b, _ = team
    case_id = b.open_case(severity=3, now="2026-11-26 14:05")
    b.ok("sync", by=None)
    a.ok("sync", by=None)
    _no_working_time(a.root / "severity.yaml")
    _, b = pulled(team, "a calendar without working time")
    for args in (["sweep"], ["list"], ["show", case_id]):
        result = b.run(*args, by=None, now="2026-11-27 10:00")
        one_line_refusal(result, "calendar", "business")


def _no_working_time(severity: Path) -> None:
    """Mondays 09:00-09:01 only, and every Monday for six years a holiday."""
    from datetime import date, timedelta

    text = severity.read_text(encoding="utf-8")
    start, end = text.index("    hours:\n"), text.index("    holiday_file:")
    mondays, day = [], date(2026, 11, 23)
    while day.year < 2033:
        mondays.append(day.isoformat())
        day += timedelta(days=7)
    hours = "    hours:\n      mon: ['09:00-09:01']\n"
    text = text[:start] + hours + f"    holidays: [{', '.join(mondays)}]\n" + text[end:]
    text = text.replace("    holiday_file: holidays-cn.yaml\n", "")
    severity.write_text(text, encoding="utf-8")


def test_check_names_a_calendar_that_never_works(repo: Repo) -> None:
    _no_working_time(repo.root / "severity.yaml")
    result = repo.run("check", by=None)
    assert result.exit_code == 1, result.output
    assert "business" in result.stdout


def test_check_names_gitattributes_that_drop_the_driver(team: Team) -> None:
    """A pusher replaces `merge=casectl` by `merge=union` (or drops the line): git merges
    case files as text from then on, and a sync that interleaves two steps is refused as
    losing a case, which names neither the cause nor the cure."""
    a, _, _ = team
    (a.root / ".gitattributes").write_text("cases/**/*.yaml merge=union\n", encoding="utf-8")
    _, b = pulled(team, "merge as text")
    result = b.run("check", by=None)
    assert result.exit_code == 1, result.output
    assert ".gitattributes" in result.stdout


def test_a_roster_without_the_manager_is_refused_in_one_line(team: Team) -> None:
    a, b, _ = team
    b.open_case(now="2026-11-26 14:05")
    b.ok("sync", by=None)
    a.ok("sync", by=None)
    roster = a.root / "roster.yaml"
    text = roster.read_text(encoding="utf-8")
    roster.write_text(
        text[: text.index("- id: wang.jianguo")] + text[text.index("- id: li.na") :],
        encoding="utf-8",
    )
    _, b = pulled(team, "no manager")
    for args in (["sweep"], ["list"], ["report"]):
        one_line_refusal(b.run(*args, by=None, now="2026-11-27 10:00"), "roster.yaml", "manager")
    check = b.run("check", by=None)
    assert check.exit_code == 1 and "manager" in check.stdout, check.output


@pytest.mark.parametrize("name", ["../../etc/x.yaml", "/etc/passwd", "sub/../../x.yaml"])
def test_a_holiday_file_outside_the_repository_is_refused(repo: Repo, name: str) -> None:
    severity = repo.root / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    severity.write_text(text.replace("holiday_file: holidays-cn.yaml", f"holiday_file: {name}"))
    one_line_refusal(repo.run("sweep", by=None), "holiday_file")


def test_a_holiday_file_link_is_refused(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("2026:\n  holidays: []\n", encoding="utf-8")
    (repo.root / "hol.yaml").symlink_to(tmp_path / "x.yaml")
    severity = repo.root / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    severity.write_text(text.replace("holiday_file: holidays-cn.yaml", "holiday_file: hol.yaml"))
    one_line_refusal(repo.run("sweep", by=None), "hol.yaml", "symbolic link")


def test_pushed_odd_names_and_huge_files_are_skipped_by_name(team: Team) -> None:
    a, b, _ = team
    case_id = b.open_case(now="2026-11-26 14:05")
    b.ok("sync", by=None)
    a.ok("sync", by=None)
    day = a.root / "cases" / "2026" / "11" / "27"
    day.mkdir(parents=True)
    (day / "a\nb.yaml").write_text("x", encoding="utf-8")
    (day / "中文.yaml").write_text("x", encoding="utf-8")
    (day / ("a" * 240 + ".yaml")).write_text("x", encoding="utf-8")
    (day / "..yaml").write_text("x", encoding="utf-8")
    deep = "id: 261127-BBBBB\nevents:\n- " + "[" * 50_000 + "]" * 50_000 + "\n"
    (day / "261127-BBBBB.yaml").write_text(deep, encoding="utf-8")
    event = "- {id: E%07d, at: '2026-11-27T10:00:00+08:00', by: li.na, type: note, text: %s}\n"
    huge = "".join(event % (i, "x" * 250) for i in range(16_000))
    (day / "261127-CCCCC.yaml").write_text("id: 261127-CCCCC\nevents:\n" + huge)
    _, b = pulled(team, "odd names and huge files")
    for args in (["list"], ["sweep"], ["report"]):
        result = b.run(*args, by=None, now="2026-11-27 12:00")
        no_traceback(result)
        assert result.exit_code == 1, result.output
        assert "261127-BBBBB" in result.stderr and "261127-CCCCC" in result.stderr
        assert "中文.yaml" in result.stderr  # named (a newline in a name is printed as is)
    assert case_id in b.run("list", now="2026-11-27 12:00").stdout  # the rest still listed
    for args in (["show", "261127-BBBBB"], ["show", "261127-CCCCC"]):
        one_line_refusal(b.run(*args, now="2026-11-27 12:00"), "cannot read case")


def test_a_case_id_collision_between_two_clones_is_refused_by_sync(team: Team) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    other = b.open_case(now="2026-11-26 14:06", assign="liu.yang")
    text = b.case_path(other).read_text(encoding="utf-8").replace(other, case_id)
    b.case_path(other).unlink()
    b.case_path(case_id).write_text(text.replace("招商银行", "工商银行"), encoding="utf-8")
    git(b.root, "add", "-A")
    git(b.root, "commit", "-qm", "the same id opened twice")
    head = git(b.root, "rev-parse", "HEAD")
    result = b.run("sync", by=None)
    line = one_line_refusal(result, case_id, "two different cases")
    assert "招商银行" in line and "工商银行" in line
    assert git(b.root, "rev-parse", "HEAD") == head
    assert git(b.root, "status", "--porcelain") == ""
