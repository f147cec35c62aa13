"""`list` at a glance: fitted to a real terminal's width, coloured by state; unchanged into a
pipe and as JSON; `list --mine` for the person the clone is bound to."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import Repo, git
from pty_terminal import AMBER, CASECTL, DIM, RED, environment, plain, run, width

from casectl import terminal
from casectl.identity import local as local_config

NOW = "2026-11-26 14:40"
LONG = "国家电网 信息中心 华东分中心 数据中心机房 二号楼"  # 48 columns wide


def open_at(repo: Repo, when: str, customer: str, assign: str = "zhang.wei") -> str:
    return repo.ok("open", "--customer", customer, "--contact", "刘先生", "--contract", "HT-1",
                   "--severity", "2", "--description", f"故障 {when}", "--assign", assign,
                   now=when)  # fmt: skip


@pytest.fixture
def three(repo: Repo) -> dict[str, str]:
    """At 14:40: one case missed (its 14:15 check), one due soon, one pending."""
    cases = {
        "missed": open_at(repo, "2026-11-26 14:00", LONG),
        "soon": open_at(repo, "2026-11-26 14:30", "招商银行", assign="liu.yang"),
        "pending": open_at(repo, "2026-11-26 14:35", "中国移动"),
    }
    repo.ok("log", cases["pending"], "已回电", "--callback", by="zhang.wei", now=NOW)
    states = {r["id"]: r["state"] for r in json.loads(repo.ok("list", "--json", now=NOW))}
    assert [states[cases[k]] for k in ("missed", "soon", "pending")] == [
        "missed", "due soon", "pending"]  # fmt: skip
    return cases


def row_of(lines: list[str], case_id: str) -> str:
    [line] = [line for line in lines if case_id in line]
    return line


@pytest.mark.slow
def test_rows_are_coloured_by_state_and_fit_80_columns(repo: Repo, three: dict[str, str]) -> None:
    text = run(["list"], environment(repo.root, NOW), 80, 24)
    lines = text.rstrip("\n").split("\n")
    assert all(width(plain(line)) <= 80 for line in lines), text
    assert row_of(lines, three["missed"]).startswith(RED)
    assert row_of(lines, three["soon"]).startswith(AMBER)
    assert "\x1b[" not in row_of(lines, three["pending"])
    assert plain(row_of(lines, three["missed"])).split()[2] == "国家电网"
    assert "…" in row_of(lines, three["missed"]) and LONG not in text  # cut by display width
    header = plain(lines[0]).split()
    assert header[:3] == ["case", "sev", "customer"] and header[-3:] == ["due", "state", "owes"]
    assert "missed" in plain(row_of(lines, three["missed"]))  # the state in words too


@pytest.mark.slow
def test_a_wide_terminal_shows_every_column_and_wide_shows_them_anywhere(
    repo: Repo, three: dict[str, str]
) -> None:
    text = plain(run(["list"], environment(repo.root, NOW), 200, 50))
    assert LONG in text and "next deadline" in text and "assignee" in text and "opened" in text
    assert "liu.yang" in row_of(text.split("\n"), three["soon"])  # the assignee
    wide = plain(run(["list", "--wide"], environment(repo.root, NOW), 80, 24))
    assert LONG in wide and max(width(line) for line in wide.split("\n")) > 80
    assert wide == text  # every column, whole: as on the wide terminal


@pytest.mark.slow
def test_no_color_turns_colour_off(repo: Repo, three: dict[str, str]) -> None:
    coloured = run(["list"], environment(repo.root, NOW), 80, 24)
    bare = run(["list"], environment(repo.root, NOW, NO_COLOR="1"), 80, 24)
    assert "\x1b[" not in bare and bare == plain(coloured) and RED in coloured


@pytest.mark.slow
def test_into_a_pipe_and_as_json_list_is_unchanged(repo: Repo, three: dict[str, str]) -> None:
    env = environment(repo.root, NOW)
    piped = subprocess.run([CASECTL, "list"], env=env, capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    assert "\x1b" not in piped and LONG in piped  # the whole table, for scripts
    assert piped.splitlines()[0].split() == [
        "case",
        "status",
        "sev",
        "customer",
        "assignee",
        "opened",
        "next",
        "deadline",
        "owes",
    ]
    rows = json.loads(repo.ok("list", "--json", now=NOW))
    assert set(rows[0]) == {"id", "status", "severity", "customer", "assignee", "opened_at",
                            "next", "due", "state", "owner", "inquiry"}  # fmt: skip
    assert repo.ok("list", now=NOW) == piped.strip()


def test_mine_is_the_person_the_clone_is_bound_to(repo: Repo, three: dict[str, str]) -> None:
    def mine(**kw: object) -> list[str]:
        return [r["id"] for r in json.loads(repo.ok("list", "--mine", "--json", now=NOW, **kw))]

    assert mine(by="liu.yang") == [three["soon"]]  # CASECTL_USER
    assert sorted(mine(by="zhang.wei")) == sorted([three["missed"], three["pending"]])
    # the duty engineer owes the staged checks of the two not yet called back
    assert sorted(mine(by="li.na")) == sorted([three["missed"], three["soon"]])
    git(repo.root, "config", "casectl.user", "liu.yang")  # `casectl whoami liu.yang`
    assert mine(by="zhang.wei") == [three["soon"]]  # the clone's person wins
    assert repo.ok("list", "--mine", now=NOW).splitlines()[2].startswith(three["soon"])


def test_mine_without_anyone_known_is_one_line(repo: Repo) -> None:
    result = repo.run("list", "--mine", by=None)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: list --mine: nobody is known here: bind this clone with `casectl whoami ID`, "
        "or give --by ID (or set CASECTL_USER)"
    ]
    result = repo.run("list", "--mine", by="zhang.wie")
    assert result.exit_code == 1 and result.stderr.splitlines() == [
        "Error: list --mine: 'zhang.wie' is not in roster.yaml; did you mean zhang.wei?"
    ]


def test_cut_counts_a_chinese_character_as_two_columns() -> None:
    assert terminal.cut("招商银行数据中心", 7) == "招商银…"
    assert terminal.cut("招商银行数据中心", 8) == "招商银…"  # never half a character
    assert terminal.cut("招商银行", 8) == "招商银行"
    assert terminal.columns(terminal.cut("abc招商银行", 6)) <= 6
    assert terminal.paint("x", "paused").startswith(DIM)
    assert terminal.paint("x", "pending") == "x"


def test_the_clone_setting_is_read_from_git_config_without_git(repo: Repo) -> None:
    root = str(repo.root)
    assert local_config(root, "casectl.user") is None
    git(repo.root, "config", "casectl.user", "zhao.lei")
    git(repo.root, "config", "casectl.board-html", '/srv/www/a "b" #c.html')
    assert local_config(root, "casectl.user") == "zhao.lei"
    assert local_config(root, "casectl.board-html") == '/srv/www/a "b" #c.html'
    assert local_config(root, "Casectl.User") == "zhao.lei"  # names are case-blind
    included = repo.root.parent / "more.config"
    included.write_text("[casectl]\n\tuser = liu.yang\n")
    git(repo.root, "config", "include.path", str(included))  # left to git itself
    assert local_config(root, "casectl.user") == "liu.yang"


@pytest.mark.slow
def test_control_characters_stay_escaped_on_a_terminal(repo: Repo) -> None:
    """Colour is the only escape sequence list and board write: a customer's are shown."""
    from test_terminal_safety import SHOWN, evil_case

    evil_case(repo)
    env = environment(repo.root, "2026-11-26 14:30")
    for args, columns in ((["list"], 200), (["board", "--once"], 200), (["list"], 60)):
        text = run(args, env, columns, 24)
        assert "\x1b[2J" not in text and "\x07" not in text and "\x9b" not in text
        assert not re.search("\x1b(?!\\[[0-9;]*m)", text), repr(text)  # colour only
        if columns == 200:
            assert SHOWN in plain(text)
