"""Each service rule refuses with exit 1, one line on stderr, and no byte changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Repo, open_args

pytestmark = pytest.mark.slow

Refused = Callable[..., str]


def test_actor_not_in_roster(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused("log", case_id, "x", by="nobody") == "'nobody' is not in roster.yaml"
    assert refused("log", case_id, "x", by="") == "who is acting? give --by ID or set CASECTL_USER"


def test_only_duty_or_manager_open(repo: Repo, refused: Refused) -> None:
    message = refused(*open_args(), by="zhang.wei")
    assert message == "zhang.wei may not open a case: only duty or manager may"


def test_non_contract_customer_needs_approval(repo: Repo, refused: Refused) -> None:
    args = open_args(1, None)
    expected = "a customer without a contract needs --approved-by the manager or a sales manager"
    assert refused(*args) == expected
    assert refused(*args, "--approved-by", "zhang.wei") == expected


def test_only_the_manager_escalates(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused("escalate", case_id, "--to", "zhou.qiang", by="zhang.wei") == (
        "zhang.wei may not designate the escalation engineer: only manager may"
    )


def test_only_owners_change_severity_or_close(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    owners = (
        "only the assigned engineer (zhang.wei), the escalation engineer (none) or the manager may"
    )
    assert refused("severity", case_id, "2", "--reason", "r", by="liu.yang") == (
        f"liu.yang may not change the severity of case {case_id}: {owners}"
    )
    assert refused("close", case_id, "--resolution", "r", by="liu.yang") == (
        f"liu.yang may not close case {case_id}: {owners}"
    )


def test_open_rma_blocks_close_unless_forced(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    rma_id = repo.ok("rma", case_id, "--part", "HDD-600G", by="zhang.wei")
    repo.ok("rma", case_id, rma_id, "--status", "shipped", by="zhang.wei")
    assert refused("close", case_id, "--resolution", "r", by="zhang.wei") == (
        f"{rma_id} (HDD-600G) is shipped, not installed or returned; close with --force --reason TEXT"
    )
    repo.ok(
        "close", case_id, "--resolution", "r", "--force", "--reason", "客户自行安装", by="zhang.wei"
    )
    assert repo.show(case_id)["events"][-1]["reason"] == "客户自行安装"


def test_no_step_on_a_closed_case_but_reopen(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    repo.ok("close", case_id, "--resolution", "r", by="zhang.wei")
    closed = f"case {case_id} is closed; reopen it first"
    assert refused("log", case_id, "x", by="zhang.wei") == closed
    assert refused("assign", case_id, "liu.yang") == closed
    assert refused("severity", case_id, "2", "--reason", "r", by="zhang.wei") == closed
    assert refused("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo") == closed
    assert refused("rma", case_id, "--part", "p", by="zhang.wei") == closed
    # the same close typed again is a retry of it (exit 0); another one is refused
    assert refused("close", case_id, "--resolution", "r2", by="zhang.wei") == closed


def test_unconfigured_severity(repo: Repo, refused: Refused) -> None:
    message = refused(*open_args(7))
    assert message == "severity 7 is not configured; configured: 1, 2, 3, 4"
    case_id = repo.open_case()
    assert refused("severity", case_id, "0", "--reason", "r", by="zhang.wei") == (
        "severity 0 is not configured; configured: 1, 2, 3, 4"
    )


def test_unknown_case_suggests_close_ids(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    typo = case_id[:-1] + ("X" if case_id[-1] != "X" else "Y")
    assert refused("log", typo, "x", by="zhang.wei") == f"no case {typo}; did you mean {case_id}?"
    assert refused("show", "261126-ZZZZZ").startswith("no case 261126-ZZZZZ")


@pytest.mark.parametrize("bad", ["../x", "a/b", "../../etc/passwd", "261126-K7Q3", ""])
def test_malformed_ids_are_refused_before_any_file(repo: Repo, refused: Refused, bad: str) -> None:
    assert refused("log", bad, "x", by="zhang.wei") == (
        f"{bad!r} is not a case id (they look like 261126-K7Q3M)"
    )


def test_unknown_engineer_and_rma(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused("assign", case_id, "ghost") == "'ghost' is not in roster.yaml"
    assert refused("rma", case_id, "RMA-0000", "--status", "shipped", by="zhang.wei") == (
        f"case {case_id} has no RMA-0000; its RMAs: none"
    )


def test_usage_errors_exit_2(repo: Repo) -> None:
    result = repo.run("open", "--customer", "a")
    assert result.exit_code == 2
    case_id = repo.open_case()
    assert repo.run("assign", case_id).exit_code == 2
    assert repo.run("close", case_id, "--resolution", "r", "--force").exit_code == 2


def test_bad_at_time(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused("log", case_id, "x", "--at", "yesterday-ish", by="zhang.wei") == (
        "--at: cannot read 'yesterday-ish' as a time (try 2026-11-26 14:05)"
    )


def test_no_repository(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from casectl.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["list"], env={"CASECTL_REPO": ""})
    assert result.exit_code == 1
    assert "no case repository at or above" in result.stderr


def test_steps_before_the_opening_are_refused(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    assert refused("log", case_id, "x", "--at", "13:00", by="zhang.wei") == (
        f"2026-11-26 13:00 is before case {case_id} was opened (2026-11-26 14:05)"
    )
    repo.ok("log", case_id, "x", by="zhang.wei", now="2026-11-26 15:00")
    close = ("close", case_id, "--resolution", "r", "--at", "14:30")
    assert refused(*close, by="zhang.wei", now="2026-11-26 15:10") == (
        "a close at 2026-11-26 14:30 would come before the latest step (2026-11-26 15:00)"
    )
