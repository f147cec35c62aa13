"""Callers without a contract: price questions go to sales, technical ones need approval
(issue 13.4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import Repo

PRICE = [
    "open",
    "--no-contract",
    "--inquiry",
    "price",
    "--customer",
    "某公司",
    "--contact",
    "赵女士",
]
TECHNICAL = ["open", "--no-contract", "--inquiry", "technical", "--customer", "某研究所",
             "--contact", "钱工", "--severity", "3", "--description", "如何配置复制"]  # fmt: skip


def add_sales(repo: Repo, person_id: str) -> None:
    roster = repo.root / "roster.yaml"
    roster.write_text(roster.read_text() + (
        f"- id: {person_id}\n  name: 销售\n  roles: [sales]\n  phone: \"+86 1\"\n"
    ))  # fmt: skip


def test_a_price_inquiry_starts_no_clock_and_goes_to_sales(repo: Repo) -> None:
    result = repo.run(*PRICE)
    assert result.exit_code == 0, result.stderr
    case_id = result.stdout.strip()
    assert result.stderr.strip() == (
        f"{case_id} price inquiry routed to sales: feng.xue 冯雪 +86 138 0101 0011"
    )
    doc = repo.show(case_id, now="2026-11-27 18:00")
    assert doc["inquiry"] == "price" and doc["assignee"] == "feng.xue"
    assert doc["deadlines"] == [] and doc["next_step"] is None and doc["severity"] == 0
    sweep = json.loads(repo.ok("sweep", "--json", now="2026-11-28 18:00"))
    assert sweep["actions"] == [] and sweep["unconfigured"] == []
    assert "Severity:            none (a price inquiry, for sales)" in repo.ok("show", case_id)


def test_price_inquiries_go_to_the_least_loaded_sales_person(repo: Repo) -> None:
    add_sales(repo, "sun.hong")
    first, second, third = (repo.ok(*PRICE) for _ in range(3))
    owners = [repo.show(c)["assignee"] for c in (first, second, third)]
    assert owners == ["feng.xue", "sun.hong", "feng.xue"]  # ties go to roster order
    repo.ok("close", first, "--resolution", "已报价", by="feng.xue")
    assert repo.show(repo.ok(*PRICE))["assignee"] == "feng.xue"


def test_the_sales_person_closes_it_and_engineers_cannot_take_it(
    repo: Repo, refused: Callable
) -> None:
    case_id = repo.ok(*PRICE)
    message = (
        f"case {case_id} is a price inquiry for sales and cannot be {{}}; a caller with a "
        "technical question needs open --inquiry technical --approved-by ID"
    )
    assert refused("assign", case_id, "zhang.wei") == message.format("assigned to an engineer")
    assert refused("severity", case_id, "2", "--reason", "r", by="wang.jianguo") == message.format(
        "given a severity"
    )
    assert refused("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo") == (
        message.format("escalated")
    )
    assert refused("close", case_id, "--resolution", "x", by="zhang.wei").startswith(
        "zhang.wei may not close"
    )
    repo.ok("close", case_id, "--resolution", "已报价，客户考虑中", by="feng.xue")
    assert repo.show(case_id)["status"] == "closed"


def test_a_technical_inquiry_needs_approval_then_runs_as_a_case(
    repo: Repo, refused: Callable
) -> None:
    assert refused(*TECHNICAL) == (
        "a customer without a contract needs --approved-by the manager or a sales manager"
    )
    assert refused(*TECHNICAL, "--approved-by", "zhang.wei").startswith("a customer without")
    case_id = repo.ok(*TECHNICAL, "--approved-by", "feng.xue", "--assign", "zhang.wei")
    doc = repo.show(case_id)
    assert (doc["inquiry"], doc["approved_by"], doc["assignee"]) == ("technical", "feng.xue",
                                                                     "zhang.wei")  # fmt: skip
    assert "callback" in [d["kind"] for d in doc["deadlines"]]
    assert f"{case_id} (open, technical inquiry)" in repo.ok("show", case_id)


def test_list_inquiries_shows_only_them_with_a_marker(repo: Repo) -> None:
    case_id = repo.open_case()
    price = repo.ok(*PRICE)
    technical = repo.ok(*TECHNICAL, "--approved-by", "wang.jianguo")
    found = json.loads(repo.ok("list", "--inquiries", "--json"))
    assert {r["id"]: r["inquiry"] for r in found} == {price: "price", technical: "technical"}
    text = repo.ok("list")
    assert f"{price} [price inquiry]" in text and f"{technical} [technical inquiry]" in text
    row = next(line for line in text.splitlines() if line.startswith(case_id))
    assert "inquiry" not in row


def test_usage_errors(repo: Repo) -> None:
    before = repo.fingerprint()
    for args in (
        ["open", "--contract", "HT-1", "--inquiry", "price", "--customer", "a", "--contact", "b"],
        [*PRICE, "--severity", "2"],
        [*PRICE, "--assign", "zhang.wei"],
        ["open", "--contract", "HT-1", "--customer", "a", "--contact", "b", "--description", "d"],
        ["open", "--contract", "HT-1", "--customer", "a", "--contact", "b", "--severity", "1"],
    ):
        result = repo.run(*args)
        assert result.exit_code == 2, (args, result.output)
    assert repo.fingerprint() == before


def test_no_sales_person_is_refused(repo: Repo, refused: Callable) -> None:
    roster: Path = repo.root / "roster.yaml"
    roster.write_text(roster.read_text().replace("roles: [sales, sales-manager]",
                                                 "roles: [sales-manager]"))  # fmt: skip
    assert refused(*PRICE) == ("nobody in roster.yaml has the role sales, who take price inquiries")


def test_only_duty_or_the_manager_take_the_call(repo: Repo, refused: Callable) -> None:
    assert refused(*PRICE, by="zhang.wei") == (
        "zhang.wei may not take a call: only duty or manager may"
    )
