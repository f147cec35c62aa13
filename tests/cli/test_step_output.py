"""What the steps print: who got the case, and the case's document with --json."""

from __future__ import annotations

import json

import pytest
from conftest import Repo, open_args

pytestmark = pytest.mark.slow

ZHANG = "zhang.wei 张伟 +86 138 0101 0004"


def test_assign_says_who_got_the_case_with_name_and_phone(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    assert repo.ok("assign", case_id, "zhang.wei") == f"{case_id} assigned to {ZHANG}"
    said = repo.ok("assign", case_id, "--next")  # least loaded: liu.yang
    assert said == f"{case_id} assigned to liu.yang 刘洋 +86 138 0101 0005"


def test_open_with_an_assignment_tells_the_duty_engineer_who(repo: Repo) -> None:
    liu = "liu.yang 刘洋 +86 138 0101 0005"  # the least loaded once zhang.wei has a case
    for how, who in ((["--assign", "zhang.wei"], ZHANG), (["--auto-assign"], liu)):
        result = repo.run(*open_args(1, "HT-1", *how))
        assert result.exit_code == 0, result.stderr
        case_id = result.stdout.strip()  # stdout stays the id alone, for scripts
        assert len(case_id) == 12
        assert result.stderr.strip() == f"{case_id} assigned to {who}"
    result = repo.run(*open_args())
    assert result.stderr == ""


def step_documents(repo: Repo) -> list[tuple[str, dict]]:
    case_id = repo.open_case(assign=None)
    runs = [
        ("assign", ["assign", case_id, "zhang.wei"], "li.na"),
        ("log", ["log", case_id, "回电", "--callback"], "zhang.wei"),
        ("severity", ["severity", case_id, "2", "--reason", "r"], "zhang.wei"),
        ("escalate", ["escalate", case_id, "--to", "zhou.qiang"], "wang.jianguo"),
        ("rma", ["rma", case_id, "--part", "HDD"], "zhang.wei"),
    ]
    found = []
    for name, args, by in runs:
        found.append((name, json.loads(repo.ok(*args, "--json", by=by))))
    rma_id = found[-1][1]["rmas"][0]["id"]
    later = [
        ("rma --status", ["rma", case_id, rma_id, "--status", "installed"], "zhang.wei"),
        ("close", ["close", case_id, "--resolution", "ok"], "zhang.wei"),
        ("reopen", ["reopen", case_id, "--reason", "again"], "li.na"),
    ]
    for name, args, by in later:
        found.append((name, json.loads(repo.ok(*args, "--json", by=by))))
    return found


def test_every_step_prints_the_case_document_with_json(repo: Repo) -> None:
    found = step_documents(repo)
    kinds = ["assign", "callback", "severity", "escalate", "rma", "rma-status", "close", "reopen"]
    for (name, document), kind in zip(found, kinds, strict=True):
        assert document["events"][-1]["type"] == kind, name
        assert set(document) >= {"id", "status", "assignee", "deadlines", "events"}, name
    assert found[-1][1] == repo.show(found[-1][1]["id"])
    assert found[0][1]["assignee"] == "zhang.wei"
    assert found[-2][1]["status"] == "closed"


def test_assign_json_keeps_stdout_a_document(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    result = repo.run("assign", case_id, "zhang.wei", "--json")
    assert json.loads(result.stdout)["assignee"] == "zhang.wei"
    assert result.stderr.strip() == f"{case_id} assigned to {ZHANG}"


def test_assign_next_warns_of_cases_left_by_a_removed_engineer(repo: Repo) -> None:
    orphan = repo.open_case(assign="zhao.lei")
    roster = repo.root / "roster.yaml"
    text = roster.read_text()
    start = text.index("- id: zhao.lei")
    roster.write_text(text[:start] + text[text.index("- id: sun.li") :])
    case_id = repo.open_case(assign=None)
    result = repo.run("assign", case_id, "--next")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == (
        f"warning: 1 open case assigned to engineers no longer in roster.yaml "
        f"(zhao.lei: {orphan}); assign them to someone"
    )
    assert repo.run("log", case_id, "x", by="liu.yang").stderr == ""  # no index read: no warning
