"""Git: a commit per step, clean merges between clones through a real bare remote."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import Repo, case_file, git, open_args

from casectl.cli import cli


@pytest.mark.slow
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_concurrent_steps_merge_in_every_order(team: tuple[Repo, Repo, Repo], order) -> None:  # type: ignore[no-untyped-def]
    a, b, cron = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    cron.ok("sync", by=None)
    # at once, on three machines: a note, the close, and cron's reassignment
    b.ok("log", case_id, "收集日志中", by="zhang.wei", now="2026-11-26 14:30")
    a.ok(
        "close", case_id, "--resolution", "客户确认恢复", by="wang.jianguo", now="2026-11-26 14:40"
    )
    assert [
        x["kind"]
        for x in yaml.safe_load(cron.ok("sweep", "--json", now="2026-11-26 14:50", by=None))[
            "actions"
        ]
    ] == ["check", "check", "reassign"]
    clones = [a, b, cron]
    for _ in range(2):
        for i in order:
            clones[i].ok("sync", by=None)
    texts = [case_file(c, case_id).read_bytes() for c in clones]
    assert texts[0] == texts[1] == texts[2]
    assert b"<<<<<<<" not in texts[0]
    for c in clones:
        assert case_file(c, case_id) == c.case_path(case_id)
        case = c.show(case_id, now="2026-11-26 15:00")
        ids = [e["id"] for e in case["events"]]
        assert len(ids) == len(set(ids)) == 7
        assert [e["type"] for e in case["events"]] == [  # the sweep's events at its 14:50
            "open",
            "assign",
            "note",
            "close",
            "check",
            "check",
            "reassign",
        ]
        assert (case["status"], case["assignee"]) == ("closed", "liu.yang")
    log = git(a.root, "log", "--no-merges", "--format=%an <%ae>|%s")
    authors = {
        line.split("|")[1].split(": ", 1)[1]: line.split("|")[0]
        for line in log.splitlines()
        if ": " in line
    }
    assert (
        authors["opened, severity 1, 招商银行, assigned to zhang.wei (li.na)"]
        == "李娜 <li.na@example.com>"
    )
    assert authors["note: 收集日志中 (zhang.wei)"] == "张伟 <zhang.wei@example.com>"
    assert authors["closed (wang.jianguo)"] == "王建国 <wang.jianguo@example.com>"
    assert authors["3 actions on 1 case (sweep)"] == "casectl sweep <casectl@localhost>"


def test_commit_message_and_trailer(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    repo.ok("assign", case_id, "zhang.wei")
    message = git(repo.root, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == f"{case_id}: assigned to zhang.wei (li.na)"
    assert "type: assign" in message and message.strip().endswith(f"Case: {case_id}")
    found = git(repo.root, "log", "--format=%s", f"--grep=Case: {case_id}")
    assert len(found.splitlines()) == 2


def test_unrelated_edits_are_never_committed(repo: Repo) -> None:
    case_id = repo.open_case()
    (repo.root / "notes.txt").write_text("私人笔记", encoding="utf-8")
    with open(repo.root / "roster.yaml", "a", encoding="utf-8") as f:
        f.write("# half-finished edit\n")
    repo.ok("log", case_id, "x", by="zhang.wei")
    assert git(repo.root, "show", "--name-only", "--format=", "HEAD").split() == [
        str(repo.case_path(case_id).relative_to(repo.root))
    ]
    status = git(repo.root, "status", "--porcelain")
    assert " M roster.yaml" in status and "?? notes.txt" in status


def test_close_changes_the_file_in_place(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("close", case_id, "--resolution", "ok", by="zhang.wei")
    changed = git(repo.root, "show", "--name-status", "--format=", "HEAD")
    assert changed.split() == ["M", str(repo.case_path(case_id).relative_to(repo.root))]
    assert git(repo.root, "status", "--porcelain") == ""
    full = git(
        repo.root, "log", "--format=%s", "--", str(repo.case_path(case_id).relative_to(repo.root))
    )
    assert len(full.splitlines()) == 2  # its whole history, without --follow


def test_no_commit_flag_and_setting(repo: Repo) -> None:
    case_id = repo.open_case()
    head = git(repo.root, "rev-parse", "HEAD")
    repo.ok("log", case_id, "x", "--no-commit", by="zhang.wei")
    assert git(repo.root, "rev-parse", "HEAD") == head
    path = repo.root / "severity.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("commit: true", "commit: false"), encoding="utf-8"
    )
    repo.ok("log", case_id, "y", by="zhang.wei")
    assert git(repo.root, "rev-parse", "HEAD") == head


def test_a_folder_that_is_not_a_git_repository_works(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    for name in ("roster.yaml", "severity.yaml", "holidays-cn.yaml"):
        (root / name).write_bytes(
            (Path(__file__).parents[2] / "casectl" / "example" / name).read_bytes()
        )
    plain = Repo(root)
    case_id = plain.open_case()
    plain.ok("close", case_id, "--resolution", "ok", by="zhang.wei")
    assert plain.show(case_id)["status"] == "closed"
    assert not (root / ".git").exists()


@pytest.mark.slow
def test_a_clone_without_the_driver_is_warned(
    team: tuple[Repo, Repo, Repo], tmp_path: Path
) -> None:
    subprocess.run(
        ["git", "clone", "-q", str(tmp_path / "remote.git"), str(tmp_path / "bare-clone")],
        check=True,
    )
    fresh = Repo(tmp_path / "bare-clone")
    result = fresh.run("list")
    assert result.exit_code == 0
    assert result.stderr.count("no casectl merge driver") == 1
    fresh.ok("setup-git", by=None)
    assert "merge driver" not in fresh.run("list").stderr


@pytest.mark.slow
def test_two_different_cases_under_one_id_is_a_reported_conflict(
    team: tuple[Repo, Repo, Repo],
) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    path = case_file(a, case_id)
    twin = yaml.safe_load(path.read_text(encoding="utf-8"))
    twin["events"][0]["customer"] = "另一家客户"
    twin["events"][0]["id"] = "ZZZZZZZZ"
    (b.root / path.relative_to(a.root)).parent.mkdir(parents=True, exist_ok=True)
    (b.root / path.relative_to(a.root)).write_text(
        yaml.safe_dump(twin, allow_unicode=True), encoding="utf-8"
    )
    git(b.root, "add", "-A")
    git(b.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "twin")
    a.ok("sync", by=None)
    head = git(b.root, "rev-parse", "HEAD")
    result = b.run("sync", by=None)
    assert result.exit_code == 1
    assert "pull from origin failed, nothing was changed" in result.stderr
    assert (
        f"two different cases were opened as {case_id} (另一家客户 and 招商银行)" in result.stderr
    )
    assert git(b.root, "rev-parse", "HEAD") == head
    assert git(b.root, "status", "--porcelain") == ""


def test_sync_refuses_conflict_markers(repo: Repo, tmp_path: Path) -> None:
    case_id = repo.open_case()
    remote = tmp_path / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo.root, "remote", "add", "origin", str(remote))
    with open(case_file(repo, case_id), "a", encoding="utf-8") as f:
        f.write("<<<<<<< ours\n")
    result = repo.run("sync", by=None)
    assert result.exit_code == 1
    assert (
        f"conflict markers in {case_file(repo, case_id).relative_to(repo.root)}; resolve them first"
        in result.stderr
    )


def test_merge_file_driver_directly(tmp_path: Path) -> None:
    base = "id: 261126-K7Q3M\nevents:\n- id: A\n  at: 2026-11-26T14:05:00+08:00\n  by: li.na\n  type: open\n  customer: c\n  contact: d\n  severity: 1\n"
    ours = (
        base
        + "- id: B\n  at: 2026-11-26T14:10:00+08:00\n  by: zhang.wei\n  type: note\n  text: ours\n"
    )
    theirs = (
        base
        + "- id: C\n  at: 2026-11-26T14:07:00+08:00\n  by: zhang.wei\n  type: note\n  text: theirs\n"
    )
    files = {}
    for name, text in (("O", base), ("A", ours), ("B", theirs)):
        files[name] = tmp_path / name
        files[name].write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["merge-file", *(str(files[n]) for n in "OAB"), "cases/2026/11/26/261126-K7Q3M.yaml"]
    )
    assert result.exit_code == 0, result.output
    merged = yaml.safe_load(files["A"].read_text(encoding="utf-8"))
    assert [e["id"] for e in merged["events"]] == ["A", "C", "B"]


def test_history_and_its_diff(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:20")
    lines = repo.ok("history", case_id).splitlines()
    assert lines[0].split() == ["when", "who", "step", "what"]
    assert "callback" in lines[-1] and "已回电" in lines[-1]
    diff = repo.ok("history", case_id, "--diff")
    assert f"{case_id}: callback: 已回电 (zhang.wei)" in diff and "+  text: 已回电" in diff


def test_a_step_after_a_no_commit_step_commits_the_file(repo: Repo) -> None:
    case_id = repo.ok(*open_args(2, "HT-1", "--no-commit"))
    repo.ok("assign", case_id, "zhang.wei")
    assert git(repo.root, "show", "--name-only", "--format=%s", "HEAD").split() == [
        case_id + ":",
        "assigned",
        "to",
        "zhang.wei",
        "(li.na)",
        str(repo.case_path(case_id).relative_to(repo.root)),
    ]
    assert git(repo.root, "status", "--porcelain") == ""


def test_large_repositories_commit_through_plumbing(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from casectl import gitrepo

    monkeypatch.setattr(gitrepo, "BIG_INDEX", -1)
    (repo.root / "notes.txt").write_text("私人笔记", encoding="utf-8")
    case_id = repo.open_case()
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei")
    repo.ok("close", case_id, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:30")
    log = git(repo.root, "log", "--format=%an|%s", "-3").splitlines()
    assert log == [
        f"张伟|{case_id}: closed (zhang.wei)",
        f"张伟|{case_id}: callback: 回电 (zhang.wei)",
        f"李娜|{case_id}: opened, severity 1, 招商银行, assigned to zhang.wei (li.na)",
    ]
    assert git(repo.root, "ls-files", "cases").split() == [
        str(repo.case_path(case_id).relative_to(repo.root))
    ]
    assert git(repo.root, "status", "--porcelain") == "?? notes.txt\n"
    assert "reflog" not in git(repo.root, "reflog", "-1", "--format=%gs") and "closed" in git(
        repo.root, "reflog", "-1", "--format=%gs"
    )


def test_a_sweep_commit_names_each_case_in_a_trailer(repo: Repo) -> None:
    first = repo.open_case(now="2026-11-26 14:05")
    second = repo.open_case(now="2026-11-26 14:06")
    repo.ok("sweep", now="2026-11-26 14:21", by=None)
    message = git(repo.root, "log", "-1", "--format=%an|%B")
    assert message.startswith("casectl sweep|sweep: 2 actions on 2 cases (sweep)\n")
    trailers = [line for line in message.splitlines() if line.startswith("Case: ")]
    assert trailers == [f"Case: {c}" for c in sorted([first, second])]


@pytest.mark.slow
def test_sync_pulls_again_when_someone_pushed_first(team: tuple[Repo, Repo, Repo]) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    a.ok("log", case_id, "a 的记录", by="zhang.wei", now="2026-11-26 14:10")
    b.ok("log", case_id, "b 的记录", by="zhang.wei", now="2026-11-26 14:11")
    # b's first push finds that a pushed in between (after b pulled): a real race, staged
    hook = b.root / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f'[ -e "{b.root}/.git/raced" ] && exit 0\n'
        f'touch "{b.root}/.git/raced"\n'
        f'git -C "{a.root}" push -q origin HEAD >/dev/null 2>&1\n',
        encoding="utf-8",
    )
    hook.chmod(0o755)
    b.ok("sync", by=None)
    assert (b.root / ".git" / "raced").exists()
    a.ok("sync", by=None)
    for clone in (a, b):
        notes = [e["text"] for e in clone.show(case_id)["events"] if e["type"] == "note"]
        assert notes == ["a 的记录", "b 的记录"]
    assert git(a.root, "rev-parse", "HEAD") == git(b.root, "rev-parse", "HEAD")


def test_init_keeps_what_is_there(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    root.mkdir()
    (root / ".gitignore").write_text("*.log", encoding="utf-8")
    (root / "roster.yaml").write_text(
        "engineers:\n- {id: boss, name: 老板, roles: [manager], phone: '1'}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["init", str(root)])
    assert result.exit_code == 0, result.output
    assert (
        (root / ".gitignore").read_text(encoding="utf-8").startswith("*.log\n# derived by casectl")
    )
    assert "boss" in (root / "roster.yaml").read_text(encoding="utf-8")
    assert "merge=casectl" in (root / ".gitattributes").read_text(encoding="utf-8")
    again = CliRunner().invoke(cli, ["init", str(root)])
    assert again.exit_code == 1 and "is a case repository already" in again.stderr


def test_the_repository_is_found_from_a_subfolder(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case_id = repo.open_case()
    monkeypatch.chdir(repo.case_path(case_id).parent)
    result = CliRunner().invoke(cli, ["show", case_id, "--json"], env={"CASECTL_REPO": ""})
    assert result.exit_code == 0 and case_id in result.stdout
    result = CliRunner().invoke(cli, ["show", case_id], env={"CASECTL_REPO": str(repo.root)})
    assert result.exit_code == 0


def test_the_merge_driver_keeps_keys_it_does_not_know(tmp_path: Path) -> None:
    base = "id: 261126-K7Q3M\nevents:\n- id: A\n  at: 2026-11-26T14:05:00+08:00\n  by: li.na\n  type: open\n  customer: c\n  contact: d\n  severity: 1\n  text: x\n"
    ours = (
        base
        + "- id: B\n  at: 2026-11-26T14:10:00+08:00\n  by: zhang.wei\n  type: note\n  text: ours\n  mood: calm\n"
    )
    theirs = base + "tags:\n- vip\n"
    files = {}
    for name, text in (("O", base), ("A", ours), ("B", theirs)):
        files[name] = tmp_path / name
        files[name].write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["merge-file", *(str(files[n]) for n in "OAB"), "cases/2026/11/26/261126-K7Q3M.yaml"]
    )
    assert result.exit_code == 0, result.output
    merged = yaml.safe_load(files["A"].read_text(encoding="utf-8"))
    assert merged["tags"] == ["vip"] and merged["events"][-1]["mood"] == "calm"
