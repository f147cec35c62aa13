"""Who typed it: a clone bound to a person (`whoami`) takes steps only as that person, or
records `--for ID` what someone else did; the commit's author is the person acting, its
committer the clone's own git identity."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import Repo, case_file, git

from casectl.cli import cli

pytestmark = pytest.mark.slow

NO_IDENTITY = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def laptop(repo: Repo, person: str = "li.na") -> None:
    """The clone as a laptop: its own git identity, bound to `person`."""
    git(repo.root, "config", "user.name", "Duty Laptop 3")
    git(repo.root, "config", "user.email", "laptop3@center.example")
    repo.ok("whoami", person, by=None)


def events(repo: Repo, case_id: str) -> list[dict]:
    return yaml.safe_load(case_file(repo, case_id).read_bytes())["events"]


def test_a_bound_clone_refuses_a_step_by_someone_else(
    repo: Repo, refused: Callable[..., str]
) -> None:
    laptop(repo)
    case_id = repo.open_case(by=None)  # no --by: the bound person
    said = refused("log", case_id, "已回电", "--callback", "--by", "zhang.wei")
    assert said == (
        "this clone is bound to li.na, not zhang.wei: take the step as li.na, or record "
        "what zhang.wei did with --for zhang.wei"
    )
    # CASECTL_USER naming someone else is refused alike
    assert "bound to li.na, not zhang.wei" in refused("log", case_id, "x", by="zhang.wei")
    assert len(events(repo, case_id)) == 2  # the opening and its assignment


def test_for_records_what_someone_else_did_with_both_people(repo: Repo) -> None:
    laptop(repo)
    case_id = repo.open_case(by=None)
    repo.ok("log", case_id, "张伟电话告知已回电", "--callback", "--for", "zhang.wei",
            now="2026-11-26 14:30")  # fmt: skip
    callback = events(repo, case_id)[-1]
    assert (callback["type"], callback["by"], callback["entered_by"]) == (
        "callback", "zhang.wei", "li.na")  # fmt: skip
    # the callback is zhang.wei's: it meets his deadline
    deadlines = {d["kind"]: d["state"] for d in repo.show(case_id)["deadlines"]}
    assert deadlines["callback"] == "met"
    # author: the person acting; committer: the clone's own identity
    log = git(repo.root, "log", "-3", "--format=%an|%ae|%cn|%ce").splitlines()
    assert log == [
        "张伟|zhang.wei@example.com|Duty Laptop 3|laptop3@center.example",
        "李娜|li.na@example.com|Duty Laptop 3|laptop3@center.example",
        "casectl|casectl@localhost|casectl|casectl@localhost",
    ]
    # show and history say both
    assert "(recorded by li.na for zhang.wei)" in repo.ok("show", case_id)
    assert "recorded by li.na for zhang.wei" in repo.ok("history", case_id)
    diff = repo.ok("history", case_id, "--diff")
    assert "Author: 张伟 <zhang.wei@example.com>\nCommit: Duty Laptop 3 <laptop3" in diff
    commits = json.loads(repo.ok("history", case_id, "--diff", "--json"))
    assert (commits[0]["committer"], commits[0]["committer_email"]) == (
        "Duty Laptop 3", "laptop3@center.example")  # fmt: skip
    # --by naming the bound person or the one recorded for is fine with --for
    repo.ok("log", case_id, "补充", "--for", "zhang.wei", "--by", "li.na")
    refused = repo.run("log", case_id, "x", "--for", "zhang.wei", "--by", "liu.yang")
    assert refused.exit_code == 1 and "bound to li.na, not liu.yang" in refused.stderr


def test_the_person_acted_for_must_hold_the_role(repo: Repo) -> None:
    laptop(repo, "zhang.wei")  # a first-line engineer's laptop
    result = repo.run("open", "--customer", "c", "--contact", "p", "--contract", "HT-1",
                      "--severity", "2", "--description", "d", by=None)  # fmt: skip
    assert result.exit_code == 1 and "zhang.wei may not open a case" in result.stderr
    opened = repo.ok("open", "--customer", "c", "--contact", "p", "--contract", "HT-1",
                     "--severity", "2", "--description", "d", "--for", "li.na", by=None)  # fmt: skip
    opening = events(repo, opened)[0]
    assert (opening["by"], opening["entered_by"]) == ("li.na", "zhang.wei")


def test_an_unbound_clone_acts_as_today(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", env=NO_IDENTITY)
    callback = events(repo, case_id)[-1]
    assert callback["by"] == "zhang.wei" and "entered_by" not in callback
    # no git identity configured: the committer is the author, as before
    assert git(repo.root, "log", "-1", "--format=%an|%cn") == "张伟|张伟\n"
    assert repo.run("whoami", by=None).stdout == ""
    assert json.loads(repo.ok("whoami", "--json", by=None))["id"] is None


def test_whoami_binds_shows_and_unbinds(repo: Repo) -> None:
    assert repo.run("whoami", by=None).stderr.startswith("this clone is bound to nobody")
    assert repo.run("whoami", "nobody.here", by=None).exit_code == 1
    repo.ok("whoami", "ZHANG.WEI", by=None)  # matched case-blind, stored as the roster has it
    assert git(repo.root, "config", "casectl.user") == "zhang.wei\n"
    assert repo.ok("whoami", by=None) == "zhang.wei (张伟)"
    said = json.loads(repo.ok("whoami", "--json", by=None))
    assert (said["id"], said["name"], said["in_roster"]) == ("zhang.wei", "张伟", True)
    assert not (repo.root / ".gitignore").read_text().count("zhang.wei")  # nothing tracked
    assert git(repo.root, "status", "--porcelain") == ""
    repo.ok("whoami", "--unbind", by=None)
    assert repo.run("whoami", by=None).stdout == ""


def test_a_clone_bound_to_someone_gone_from_the_roster_refuses_steps(
    repo: Repo, refused: Callable[..., str]
) -> None:
    case_id = repo.open_case()
    git(repo.root, "config", "casectl.user", "left.company")
    said = refused("log", case_id, "x", by=None)
    assert said.startswith("this clone is bound to left.company, who is not in roster.yaml")


def test_init_and_setup_git_bind_with_whoami(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["init", str(tmp_path / "r"), "--whoami", "chen.jing"])
    assert done.exit_code == 0, done.output
    assert git(tmp_path / "r", "config", "casectl.user") == "chen.jing\n"
    done = runner.invoke(cli, ["--repo", str(tmp_path / "r"), "setup-git", "--whoami", "li.na"])
    assert done.exit_code == 0, done.output
    assert git(tmp_path / "r", "config", "casectl.user") == "li.na\n"
    refused = runner.invoke(cli, ["init", str(tmp_path / "s"), "--whoami", "no.one"])
    assert refused.exit_code == 1 and "'no.one' is not in roster.yaml" in refused.output


def test_the_binding_never_crosses_the_remote(team: tuple[Repo, Repo, Repo]) -> None:
    a, b, _ = team
    a.ok("whoami", "li.na", by=None)
    case_id = a.open_case(by=None)
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    assert b.run("whoami", by=None).stdout == ""
    b.ok("log", case_id, "b 记录", by="zhang.wei")  # b is unbound: --by as ever


def test_init_asks_who_uses_the_clone_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal (stdin and stdout), init asks; the answer binds the clone."""
    import os
    import pty
    import subprocess
    import sys
    import time

    main, child = pty.openpty()
    env = os.environ | {"LANG": "C"}
    process = subprocess.Popen([sys.executable, "-m", "casectl", "init", str(tmp_path / "r")],
                               stdin=child, stdout=child, stderr=child, env=env)  # fmt: skip
    os.close(child)
    said = b""
    deadline = time.monotonic() + 30
    while b"Who uses this clone?" not in said and time.monotonic() < deadline:
        said += os.read(main, 1024)
    os.write(main, b"zhang.wei\n")
    assert process.wait(timeout=30) == 0
    os.close(main)
    assert git(tmp_path / "r", "config", "casectl.user") == "zhang.wei\n"


def test_entered_by_survives_merges_over_a_real_remote(
    served_team: tuple[Repo, Repo, Repo],
) -> None:
    """Over git daemon: the duty laptop records a callback for zhang.wei while zhang.wei's
    own clone logs a note; both sync; every clone has both people on the callback."""
    duty, engineer, cron = served_team
    laptop(duty)
    case_id = duty.open_case(by=None)
    duty.ok("sync", by=None)
    engineer.ok("sync", by=None)
    duty.ok("log", case_id, "张伟电话告知已回电", "--callback", "--for", "zhang.wei", by=None,
            now="2026-11-26 14:20")  # fmt: skip
    engineer.ok("log", case_id, "收集日志", by="zhang.wei", now="2026-11-26 14:25")
    engineer.ok("sync", by=None)
    duty.ok("sync", by=None)
    cron.ok("sync", by=None)
    callback = next(e for e in events(cron, case_id) if e["type"] == "callback")
    assert (callback["by"], callback["entered_by"]) == ("zhang.wei", "li.na")
    assert [e["type"] for e in events(cron, case_id)] == ["open", "assign", "callback", "note"]
    authors = git(cron.root, "log", "--no-merges", "-3", "--format=%an|%cn").splitlines()
    assert "张伟|Duty Laptop 3" in authors  # the callback: zhang.wei's, committed by the laptop


def test_for_without_anyone_recording_in_an_unbound_clone_is_refused(
    repo: Repo, refused: Callable[..., str]
) -> None:
    case_id = repo.open_case()
    said = refused("log", case_id, "x", "--for", "zhang.wei", by=None)
    assert said.startswith("who records this for zhang.wei?")
    repo.ok("log", case_id, "电话告知", "--callback", "--for", "zhang.wei", by="li.na")
    callback = events(repo, case_id)[-1]
    assert (callback["by"], callback["entered_by"]) == ("zhang.wei", "li.na")


def test_the_committer_is_read_as_git_reads_its_config(repo: Repo, tmp_path: Path) -> None:
    """casectl reads the identity from git's files without starting git: quotes, escapes,
    comments, continued lines, a section spelt in capitals, and an included file all
    give the committer git itself would use."""
    case_id = repo.open_case()
    config = repo.root / ".git" / "config"
    plain = config.read_text(encoding="utf-8")
    included = tmp_path / "identity.cfg"
    included.write_text("[user]\n\tname = Included Name\n\temail = inc@example.com\n")
    cases = [
        '[User]\n\tName = "Ops \\"Desk\\" #3"  # the hotline desk\n\temail = ops@example.com ; x\n',
        "[user]\n\tname = Night \\\n  Shift\n\temail = night@example.com\n",
        '[user]\n\tname = "  padded "\n\temail = pad@example.com\n',
        f"[include]\n\tpath = {included}\n",
    ]
    for n, extra in enumerate(cases):
        config.write_text(plain + extra, encoding="utf-8")
        expected = subprocess_ident(repo.root)
        repo.ok("log", case_id, f"第 {n} 条", by="zhang.wei", now=f"2026-11-26 14:{10 + n}")
        assert git(repo.root, "log", "-1", "--format=%cn <%ce>").strip() == expected, extra
        assert git(repo.root, "log", "-1", "--format=%an").strip() == "张伟"


def subprocess_ident(root: Path) -> str:
    """The committer git would use here: `git var GIT_COMMITTER_IDENT` without its date."""
    said = git(root, "var", "GIT_COMMITTER_IDENT")
    return said.rsplit(" ", 2)[0]


def test_for_and_whoami_complete_roster_ids(repo: Repo) -> None:
    from test_completion import complete

    case_id = repo.open_case()
    assert complete(f"casectl --repo {repo.root} log {case_id} x --for zhang") == ["zhang.wei"]
    assert complete(f"casectl --repo {repo.root} whoami li") == ["li.na", "liu.yang"]
