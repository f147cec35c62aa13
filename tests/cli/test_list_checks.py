"""`list` checks its filters, says when nothing matches, names unreadable files, and orphans."""

from __future__ import annotations

import json

import pytest
from conftest import Repo


def usage_error(repo: Repo, *args: str) -> str:
    result = repo.run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return result.stderr.strip().splitlines()[-1]


def test_an_unknown_assignee_is_a_usage_error_with_suggestions(repo: Repo) -> None:
    repo.open_case()
    assert usage_error(repo, "list", "--assignee", "zhang.wie") == (
        "Error: Invalid value for '--assignee': 'zhang.wie' is not in roster.yaml; "
        "did you mean zhang.wei?"
    )


def test_an_unconfigured_severity_and_a_negative_limit_are_usage_errors(repo: Repo) -> None:
    assert usage_error(repo, "list", "--severity", "7") == (
        "Error: Invalid value for '--severity': severity 7 is not configured; "
        "configured: 1, 2, 3, 4"
    )
    assert usage_error(repo, "list", "--limit", "-1") == (
        "Error: Invalid value for '--limit': -1 is not in the range x>=0."
    )


def test_assignee_ids_are_matched_case_blind(repo: Repo) -> None:
    case_id = repo.open_case()
    rows = json.loads(repo.ok("list", "--assignee", "ZHANG.Wei", "--json"))
    assert [r["id"] for r in rows] == [case_id]


@pytest.mark.parametrize("as_json", [False, True])
def test_an_empty_result_says_no_cases_match(repo: Repo, as_json: bool) -> None:
    repo.open_case()
    result = repo.run("list", "--assignee", "liu.yang", *(["--json"] if as_json else []))
    assert result.exit_code == 0
    assert result.stderr == "no cases match\n"
    assert result.stdout == ("[]\n" if as_json else "")


def test_unreadable_case_files_are_named_and_exit_1(repo: Repo) -> None:
    good = repo.open_case()
    bad = repo.open_case()
    path = repo.case_path(bad)
    path.write_text("<<<<<<< HEAD\n" + path.read_text() + "=======\n>>>>>>> theirs\n")
    result = repo.run("list")
    assert result.exit_code == 1
    assert good in result.stdout and bad not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"casectl list: skipped {path}: cannot read case:")
    result = repo.run("list", "--json")  # cached: still named, still exit 1
    assert result.exit_code == 1 and str(path) in result.stderr


def test_a_broken_closed_case_is_named_by_every_listing(repo: Repo) -> None:
    """Unreadable, it is neither open nor closed: every listing names it."""
    case_id = repo.open_case()
    repo.ok("close", case_id, "--resolution", "r", by="zhang.wei")
    path = repo.case_path(case_id)
    path.write_text("events: [\n")
    assert repo.run("list").exit_code == 1
    result = repo.run("list", "--status", "closed")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "no cases match",
        f"casectl list: skipped {path}: cannot read case: while parsing a flow node did not "
        'find expected node content in "<byte string>", line 2, column 1',
    ]


def remove_from_roster(repo: Repo, person: str, next_person: str) -> None:
    roster = repo.root / "roster.yaml"
    text = roster.read_text()
    roster.write_text(
        text[: text.index(f"- id: {person}")] + text[text.index(f"- id: {next_person}") :]
    )


@pytest.mark.slow
def test_cases_of_a_removed_engineer_are_named(repo: Repo) -> None:
    orphan = repo.open_case(assign="zhao.lei")
    kept = repo.open_case(assign="zhang.wei")
    remove_from_roster(repo, "zhao.lei", "sun.li")
    result = repo.run("list")
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        f"warning: 1 open case assigned to engineers no longer in roster.yaml "
        f"(zhao.lei: {orphan}); assign them to someone"
    )
    row = next(line for line in result.stdout.splitlines() if line.startswith(orphan))
    assert "? zhao.lei" in row
    assert "? " not in next(line for line in result.stdout.splitlines() if line.startswith(kept))
    rows = {r["id"]: r for r in json.loads(repo.ok("list", "--json"))}
    assert rows[orphan]["assignee"] == "zhao.lei"  # JSON: the id as it is
    shown = repo.run("show", orphan)
    assert shown.stderr.strip() == (
        f"warning: case {orphan} is assigned to zhao.lei, who is no longer in roster.yaml; "
        "assign it to someone"
    )
    assert repo.run("show", kept).stderr == ""
    assert repo.run("roster").stderr == ""  # no index read, no warning


def test_a_removed_escalation_engineer_is_named_by_show(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("escalate", case_id, "--to", "wu.min", by="wang.jianguo")
    remove_from_roster(repo, "wu.min", "zheng.hao")
    assert repo.run("show", case_id).stderr.strip() == (
        f"warning: case {case_id} is escalated to wu.min, who is no longer in roster.yaml; "
        "escalate it to someone"
    )


def test_sweep_warns_of_cases_of_a_removed_engineer(repo: Repo) -> None:
    orphan = repo.open_case(assign="zhao.lei")
    remove_from_roster(repo, "zhao.lei", "sun.li")
    result = repo.run("sweep", "--dry-run")
    assert result.stderr.strip() == (
        f"warning: 1 open case assigned to engineers no longer in roster.yaml "
        f"(zhao.lei: {orphan}); assign them to someone"
    )
