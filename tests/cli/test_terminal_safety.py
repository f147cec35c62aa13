"""Control characters in case text and the roster are shown escaped in text output, exact in JSON."""

from __future__ import annotations

import json
import re

from conftest import Repo

EVIL = "\x1b[2J\x1b]0;pwned\x07bank\rX\x08\x7f\x9b6n"
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07bank\\x0dX\\x08\\x7f\\x9b6n"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def evil_case(repo: Repo) -> str:
    return repo.ok(
        "open", "--customer", EVIL, "--contact", f"刘先生 {EVIL}", "--contract", "HT-1",
        "--severity", "1", "--description", f"line one\n\tline two {EVIL}", "--assign", "zhang.wei",
    )  # fmt: skip


def assert_escaped(text: str) -> None:
    assert not CONTROL.search(text), repr(text)
    assert SHOWN in text


def test_show_list_history_escape_control_characters(repo: Repo) -> None:
    case_id = evil_case(repo)
    repo.ok("log", case_id, f"note {EVIL}", by="zhang.wei")
    for args in (["show", case_id], ["list"], ["history", case_id]):
        assert_escaped(repo.ok(*args))
    diff = repo.ok("history", case_id, "--diff")  # subjects hold the text, files its YAML form
    assert not CONTROL.search(diff) and "note \\x1b[2J\\x1b]0;pwned\\x07bank" in diff
    assert "line one\n" in repo.ok("show", case_id)  # newlines and tabs are kept
    assert "\tline two" in repo.ok("show", case_id)


def test_json_keeps_the_text_exact(repo: Repo) -> None:
    case_id = evil_case(repo)
    assert repo.show(case_id)["customer"] == EVIL
    assert json.loads(repo.ok("list", "--json"))[0]["customer"] == EVIL
    assert json.loads(repo.ok("history", case_id, "--json"))[0]["customer"] == EVIL


def test_roster_and_sweep_escape_the_roster_too(repo: Repo) -> None:
    roster = repo.root / "roster.yaml"
    roster.write_text(roster.read_text().replace("name: 王建国", 'name: "王建国\\e[2J\\a"'))
    assert "王建国\\x1b[2J\\x07" in repo.ok("roster")
    assert json.loads(repo.ok("roster", "--json"))[0]["name"] == "王建国\x1b[2J\x07"
    evil_case(repo)
    swept = repo.ok("sweep", now="2026-11-26 15:00")
    assert not CONTROL.search(swept)
    assert "王建国\\x1b[2J\\x07" in swept
