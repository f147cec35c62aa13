"""Inquiries in the daily report (issue 13.4): a price inquiry is counted apart, in
`volume.inquiries`, and in no other figure; no inquiry, price or technical, ever appears
in the engineering compliance figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import Repo
from test_report_day import MORNING, counts, scripted_day, share
from test_report_html import Page

pytestmark = pytest.mark.slow

PRICE = ["open", "--no-contract", "--inquiry", "price", "--customer", "某贸易公司",
         "--contact", "赵女士 13900000000", "--description", "询问扩容报价"]  # fmt: skip
TECHNICAL = ["open", "--no-contract", "--inquiry", "technical", "--approved-by", "feng.xue",
             "--customer", "某研究所", "--contact", "钱工", "--severity", "3",
             "--description", "如何配置复制", "--assign", "zhao.lei"]  # fmt: skip


@pytest.fixture
def day(repo: Repo) -> tuple[Repo, str, str]:
    """The scripted day, plus one price inquiry at 11:00 and, at 17:00, a technical
    inquiry whose callback and first reply are missed before midnight."""
    scripted_day(repo)
    price = repo.ok(*PRICE, by="li.na", now="2026-11-26 11:00")
    technical = repo.ok(*TECHNICAL, by="li.na", now="2026-11-26 17:00")
    return repo, price, technical


def report(repo: Repo) -> dict:
    return json.loads(repo.ok("report", "--json", by=None, now=MORNING))


def test_the_technical_inquiry_had_deadlines_that_fell_due(day: tuple[Repo, str, str]) -> None:
    """What the report leaves out is there to leave out: the case's own deadlines."""
    repo, price, technical = day
    states = {d["kind"]: d["state"] for d in repo.show(technical, now=MORNING)["deadlines"]}
    assert states["callback"] == "missed" and states["reply"] == "missed"
    assert repo.show(price, now=MORNING)["deadlines"] == []


def test_no_inquiry_in_the_compliance_figures(day: tuple[Repo, str, str]) -> None:
    repo, _, _ = day
    compliance = report(repo)["compliance"]
    assert compliance["by_kind"] == [  # exactly the scripted day's (test_report_day)
        {"kind": "callback"} | share(4, 1, 1, 0.6667),
        {"kind": "reply"} | share(4, 1, 0, 0.8),
        {"kind": "update"} | share(0, 0, 2, 0.0),
        {"kind": "escalate_senior"} | share(1, 0, 1, 0.5),
        {"kind": "escalate_manager"} | share(0, 0, 1, 0.0),
    ]
    assert [r for r in compliance["by_severity"] if r["severity"] == 3] == [
        {"severity": 3, "kind": "callback"} | share(1, 0, 0, 1.0),
        {"severity": 3, "kind": "reply"} | share(1, 0, 0, 1.0),
        {"severity": 3, "kind": "update"} | share(0, 0, 1, 0.0),
    ]
    engineers = {r["engineer"] for r in compliance["by_engineer"]}
    assert "feng.xue" not in engineers
    assert [r for r in compliance["by_engineer"] if r["engineer"] == "zhao.lei"] == [
        {"engineer": "zhao.lei", "kind": "callback"} | share(1, 0, 0, 1.0),
        {"engineer": "zhao.lei", "kind": "reply"} | share(1, 0, 0, 1.0),
        {"engineer": "zhao.lei", "kind": "update"} | share(0, 0, 1, 0.0),
    ]
    assert compliance["time_to"][0] == {"kind": "callback", "count": 5, "median_s": 1200,
                                        "p90_s": 4200}  # fmt: skip


def test_a_price_inquiry_is_counted_apart(day: tuple[Repo, str, str]) -> None:
    repo, price, technical = day
    found = report(repo)
    volume = found["volume"]
    assert volume["inquiries"] == [
        {"inquiry": "price"} | counts(1, 0, 0, 1),
        {"inquiry": "technical"} | counts(1, 0, 0, 1),
    ]
    # the technical inquiry runs as a case: counted with them; the price one is not
    assert volume["totals"] == [counts(5, 2, 1, 5)]
    assert [r["severity"] for r in volume["by_severity"]] == [1, 2, 3, 4]  # no severity 0
    assert volume["by_severity"][2] == {"severity": 3} | counts(1, 0, 0, 2)
    assert "feng.xue" not in [r["engineer"] for r in volume["by_engineer"]]
    assert volume["by_contract"][1] == {"contract": "no contract"} | counts(1, 0, 0, 2)
    assert volume["by_source"][-1] == {"source": "phone"} | counts(3, 1, 1, 4)
    assert sum(r["cases"] for r in volume["open_by_age"]) == 5
    assert price not in [r["case"] for r in found["attention"]["open_longest"]]
    assert technical in [r["case"] for r in found["attention"]["open_longest"]]


def test_every_form_shows_the_inquiries(day: tuple[Repo, str, str], tmp_path: Path) -> None:
    repo, _, _ = day
    text = repo.ok("report", by=None, now=MORNING)
    table = text.split("Inquiries from callers without a contract\n")[1].split("\n\n")[0]
    assert [line.split() for line in table.splitlines()][2:] == [
        ["price", "1", "0", "0", "1"],
        ["technical", "1", "0", "0", "1"],
    ]
    repo.ok("report", "--csv", str(tmp_path), by=None, now=MORNING)
    with open(tmp_path / "volume_inquiries.csv", encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [
            ["inquiry", "opened", "closed", "reopened", "open_at_end"],
            ["price", "1", "0", "0", "1"],
            ["technical", "1", "0", "0", "1"],
        ]
    page_file = tmp_path / "page.html"
    repo.ok("report", "--html", str(page_file), by=None, now=MORNING)
    page = Page()
    page.feed(page_file.read_text(encoding="utf-8"))
    at = page.cells.index("price")
    assert page.cells[at : at + 10] == ["price", "1", "0", "0", "1", "technical", "1", "0", "0",
                                        "1"]  # fmt: skip
