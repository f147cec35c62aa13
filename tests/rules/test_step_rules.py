"""The steps' rules on values and people: empty text, quantities, who may be named, RMA order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Repo, open_args

pytestmark = pytest.mark.slow

Refused = Callable[..., str]


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_empty_reasons_are_refused(repo: Repo, refused: Refused, blank: str) -> None:
    case_id = repo.open_case()
    empty = "the reason is empty"
    assert refused("severity", case_id, "2", "--reason", blank, by="zhang.wei") == empty
    assert refused("escalate", case_id, "--to", "zhou.qiang", "--reason", blank,
                   by="wang.jianguo") == empty  # fmt: skip
    rma_id = repo.ok("rma", case_id, "--part", "HDD", by="zhang.wei")
    assert rma_id.startswith("RMA-")
    assert refused("close", case_id, "--resolution", "r", "--force", "--reason", blank,
                   by="zhang.wei") == empty  # fmt: skip
    repo.ok("close", case_id, "--resolution", "r", "--force", "--reason", "x", by="zhang.wei")
    assert refused("reopen", case_id, "--reason", blank, by="li.na") == empty


@pytest.mark.parametrize("blank", ["", "  "])
def test_empty_part_and_intake_are_refused(repo: Repo, refused: Refused, blank: str) -> None:
    case_id = repo.open_case()
    assert refused("rma", case_id, "--part", blank, by="zhang.wei") == "the part number is empty"
    for field in ("customer", "contact", "description"):
        args = open_args()
        args[args.index(f"--{field}") + 1] = blank
        assert refused(*args) == f"the {field} is empty"


@pytest.mark.parametrize("qty", ["0", "-1", "10001", "99999999999999999999"])
def test_quantity_outside_1_to_10000_is_refused(repo: Repo, refused: Refused, qty: str) -> None:
    case_id = repo.open_case()
    assert refused("rma", case_id, "--part", "HDD", "--qty", qty, by="zhang.wei") == (
        f"the quantity must be from 1 to 10,000, got {qty}"
    )


def test_quantity_at_the_bounds_is_accepted(repo: Repo) -> None:
    case_id = repo.open_case()
    for qty in ("1", "10000"):
        repo.ok("rma", case_id, "--part", "HDD", "--qty", qty, by="zhang.wei")
    assert [r["qty"] for r in repo.show(case_id)["rmas"]] == [1, 10000]


def test_reassigning_the_current_assignee_is_refused(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused("assign", case_id, "zhang.wei") == (
        f"case {case_id} is already assigned to zhang.wei"
    )


# --- who may be named ----------------------------------------------------------------


def test_escalate_names_a_senior_then_the_manager(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    who = (
        "escalate --to names a senior engineer (zhou.qiang, wu.min), or the manager "
        "(wang.jianguo) for the second escalation"
    )
    assert refused("escalate", case_id, "--to", "zhang.wei", by="wang.jianguo") == (
        f"zhang.wei may not be the escalation engineer: {who}"
    )
    assert refused("escalate", case_id, "--to", "wang.jianguo", by="wang.jianguo") == (
        f"case {case_id} is not escalated yet, so the manager may not be named: {who}"
    )
    repo.ok("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo")
    repo.ok("escalate", case_id, "--to", "wang.jianguo", by="wang.jianguo")
    assert repo.show(case_id)["escalation_engineer"] == "wang.jianguo"


def test_assign_names_who_may_take_cases(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case(assign=None)
    for person in ("zheng.hao", "feng.xue", "li.na"):
        assert refused("assign", case_id, person) == (
            f"{person} may not be assigned cases: assign names a first-line engineer "
            "(zhang.wei, liu.yang, zhao.lei, sun.li), a senior engineer (zhou.qiang, wu.min) "
            "or the manager (wang.jianguo)"
        )
    for person in ("zhou.qiang", "wang.jianguo", "liu.yang"):
        repo.ok("assign", case_id, person)


def test_a_callback_by_someone_else_is_a_contact(repo: Repo) -> None:
    case_id = repo.open_case()
    said = repo.ok("log", case_id, "客户来电", "--callback", by="li.na", now="2026-11-26 14:20")
    assert said == (
        f"{case_id} contact recorded: li.na is not the assigned engineer (zhang.wei) or the "
        "escalation engineer (none), so it meets the first reply but not the callback"
    )
    case = repo.show(case_id, now="2026-11-26 14:21")
    assert case["events"][-1]["type"] == "contact"
    states = {d["label"]: d for d in case["deadlines"]}
    assert states["first reply"]["met_at"] == "2026-11-26T14:20:00+08:00"
    assert states["callback by zhang.wei"]["met_at"] is None
    repo.ok("log", case_id, "回电", "--callback", by="zhang.wei", now="2026-11-26 14:25")
    case = repo.show(case_id, now="2026-11-26 14:26")
    callback = next(d for d in case["deadlines"] if d["label"] == "callback by zhang.wei")
    assert callback["met_at"] == "2026-11-26T14:25:00+08:00"


def test_the_escalation_engineers_callback_counts(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo")
    said = repo.ok("log", case_id, "回电", "--callback", by="zhou.qiang")
    assert said == f"{case_id} callback recorded"
    assert repo.show(case_id)["events"][-1]["type"] == "callback"


# --- RMAs ------------------------------------------------------------------------------


def test_rma_progress_moves_forward_only(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    rma_id = repo.ok("rma", case_id, "--part", "HDD", by="zhang.wei")
    repo.ok("rma", case_id, rma_id, "--status", "delivered", by="zhang.wei")
    order = "requested -> shipped -> delivered -> installed, or returned / cancelled"
    for back in ("requested", "shipped"):
        assert refused("rma", case_id, rma_id, "--status", back, by="zhang.wei") == (
            f"{rma_id} is delivered and cannot go back to {back} ({order})"
        )
    repo.ok("rma", case_id, rma_id, "--status", "installed", by="zhang.wei")
    assert refused("rma", case_id, rma_id, "--status", "cancelled", by="zhang.wei") == (
        f"{rma_id} is installed and cannot go back to cancelled ({order})"
    )
    repo.ok("rma", case_id, rma_id, "--status", "returned", by="zhang.wei")  # the defective part
    assert refused("rma", case_id, rma_id, "--status", "installed", by="zhang.wei") == (
        f"{rma_id} is returned and cannot go back to installed ({order})"
    )


def test_a_refused_close_names_every_outstanding_rma(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    first = repo.ok("rma", case_id, "--part", "HDD", by="zhang.wei")
    second = repo.ok("rma", case_id, "--part", "CTL", by="zhang.wei")
    done = repo.ok("rma", case_id, "--part", "FAN", by="zhang.wei")
    repo.ok("rma", case_id, first, "--status", "shipped", by="zhang.wei")
    repo.ok("rma", case_id, done, "--status", "cancelled", by="zhang.wei")
    assert refused("close", case_id, "--resolution", "r", by="zhang.wei") == (
        f"{first} (HDD) is shipped, {second} (CTL) is requested: not installed or returned; "
        "close with --force --reason TEXT"
    )


def test_rma_records_the_replacement_serial(repo: Repo) -> None:
    case_id = repo.open_case()
    rma_id = repo.ok("rma", case_id, "--part", "CTL", "--serial", "SN-OLD", by="zhang.wei")
    repo.ok("rma", case_id, rma_id, "--status", "installed", "--new-serial", "SN-NEW",
            by="zhang.wei")  # fmt: skip
    [rma] = repo.show(case_id)["rmas"]
    assert (rma["serial"], rma["new_serial"], rma["status"]) == ("SN-OLD", "SN-NEW", "installed")
    shown = repo.ok("show", case_id)
    assert "new serial" in shown and "SN-NEW" in shown


# --- suggestions and who may ------------------------------------------------------------


def test_unknown_ids_suggest_the_closest_roster_ids(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused("log", case_id, "x", by="zhang.wie") == (
        "'zhang.wie' is not in roster.yaml; did you mean zhang.wei?"
    )
    assert refused("escalate", case_id, "--to", "zhou.qaing", by="wang.jianguo") == (
        "'zhou.qaing' is not in roster.yaml; did you mean zhou.qiang?"
    )
    assert refused("assign", case_id, "liu.yan").startswith(
        "'liu.yan' is not in roster.yaml; did you mean liu.yang"
    )
    repo.ok("log", case_id, "x", by="ZHANG.WEI")  # ids are matched case-blind
    assert repo.show(case_id)["events"][-1]["by"] == "zhang.wei"


def test_role_refusals_say_who_may(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    rma_id = repo.ok("rma", case_id, "--part", "HDD", "--owner", "zheng.hao", by="zhang.wei")
    assert refused("rma", case_id, rma_id, "--status", "shipped", by="liu.yang") == (
        f"liu.yang may not update {rma_id} of case {case_id}: only the RMA's owner (zheng.hao), "
        "the assigned engineer (zhang.wei), the escalation engineer (none) or the manager may"
    )
    repo.ok("rma", case_id, rma_id, "--status", "shipped", by="zheng.hao")
    repo.ok("close", case_id, "--resolution", "r", "--force", "--reason", "x", by="zhang.wei")
    assert refused("reopen", case_id, "--reason", "r", by="liu.yang") == (
        f"liu.yang may not reopen case {case_id}: only a duty engineer, the manager, or the "
        "case's own engineers (li.na, zhang.wei) may"
    )
