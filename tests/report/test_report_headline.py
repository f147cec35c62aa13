"""The report leads with what matters (issue 26.1): the headline, the breach and at-risk
lists, the day's cases, manager alerts, on-site visits, reopen reasons, price inquiries
routed to sales; every entry against a ledger of the scripted day written by hand from
the service rules; names for people, kinds in words, empty sections one line."""

from __future__ import annotations

import json

import pytest
from conftest import Repo
from test_report_day import MORNING, scripted_day
from test_report_inquiries import PRICE

pytestmark = pytest.mark.slow

# The scripted day (test_report_day) plus a manager alert, an on-site visit and a price
# inquiry; what was missed or met late, by whom, by how much, in seconds to midnight:
BREACHES = [  # (case, kind, owed by, state, late by, the case's state at the end)
    ("a", "callback", "zhang.wei", "missed", 51300, "waiting on customer"),  # due 09:45
    ("e", "update", "zhao.lei", "missed", 49800, "open"),  # due 10:10, 8 working hours on
    ("b", "callback", "sun.li", "met_late", 1500, "open"),  # due 10:45, called 11:10
    ("b", "reply", "sun.li", "met_late", 600, "open"),  # due 11:00, called 11:10
    ("b", "escalate_senior", "wang.jianguo", "missed", 36000, "open"),  # due 14:00
    ("b", "update", "sun.li", "missed", 31800, "open"),  # due 15:10
    ("b", "escalate_manager", "wang.jianguo", "missed", 21600, "open"),  # due 18:00
]


@pytest.fixture
def day(repo: Repo) -> tuple[Repo, dict[str, str]]:
    ids = scripted_day(repo)
    ids["price"] = repo.ok(*PRICE, by="li.na", now="2026-11-26 11:00")
    b = ids["b"]
    repo.ok("log", b, "客户机房断电", "--alert-manager", by="sun.li", now="2026-11-26 16:30")
    repo.ok("onsite", b, "--request", "--reason", "需要现场更换硬盘", by="sun.li",
            now="2026-11-26 16:40")  # fmt: skip
    repo.ok("onsite", b, "--approve", "--engineer", "zheng.hao", by="wang.jianguo",
            now="2026-11-26 16:50")  # fmt: skip
    repo.ok("onsite", b, "--arrive", by="zheng.hao", now="2026-11-26 18:00")
    return repo, ids


def report(repo: Repo, *args: str) -> dict:
    return json.loads(repo.ok("report", "--json", *args, by=None, now=MORNING))


def test_the_headline(day: tuple[Repo, dict[str, str]]) -> None:
    repo, _ = day
    headline = report(repo)["headline"]
    kinds = {k: [e for e in BREACHES if e[1].startswith(k)] for k in
             ("callback", "reply", "update", "escalate")}  # fmt: skip
    met = {"callback": 4, "reply": 4, "update": 0, "escalate": 1}  # a's senior escalation
    rows = []
    for kind, found in kinds.items():
        late = sum(1 for e in found if e[3] == "met_late")
        missed = sum(1 for e in found if e[3] == "missed")
        total = met[kind] + late + missed
        rows.append({"kind": "escalation" if kind == "escalate" else kind, "met": met[kind],
                     "met_late": late, "missed": missed,
                     "on_time_share": round(met[kind] / total, 4)})  # fmt: skip
    assert headline["on_time"] == rows
    # open at the end: a (1), b (2), e (3), f (4); due within 24 hours of midnight: e's
    # escalation to a senior engineer (16 working hours from 25th 10:00: 27th 10:00);
    # one reassignment (a, at 09:50)
    assert headline["now"] == [{"open_severity_1": 1, "open_severity_2": 1,
                                "due_next_24h": 1, "reassignments": 1}]  # fmt: skip


def test_the_breaches_and_at_risk(day: tuple[Repo, dict[str, str]]) -> None:
    repo, ids = day
    lists = report(repo)["lists"]
    found = [(r["case"], r["kind"], r["owed_by"], r["state"], r["late_s"], r["case_state"])
             for r in lists["breaches"]]  # fmt: skip
    assert found == [(ids[c], *rest) for c, *rest in BREACHES]
    assert [r["customer"] for r in lists["breaches"]][:2] == ["招商银行 数据中心", "某省医保中心"]
    assert lists["at_risk"] == [{"case": ids["e"], "customer": "某省医保中心", "severity": 3,
                                 "kind": "escalate_senior", "owner": "wang.jianguo",
                                 "due": "2026-11-27T10:00:00+08:00", "in_s": 36000}]  # fmt: skip


def test_the_days_cases_alerts_visits_reopens_and_sales(day: tuple[Repo, dict[str, str]]) -> None:
    repo, ids = day
    found = report(repo)
    lists = found["lists"]
    assert [(r["case"], r["assignee"], r["closed_at"], r["resolution"]) for r in
            lists["cases"]] == [
        (ids["a"], "liu.yang", None, None),
        (ids["b"], "sun.li", None, None),
        (ids["c"], "zhao.lei", "2026-11-26T16:00:00+08:00", "客户改用备机"),
        (ids["d"], "liu.yang", "2026-11-26T17:00:00+08:00", "已解答"),
    ]  # fmt: skip
    assert lists["alerts"] == [{"case": ids["b"], "customer": "中国移动 省公司",
                                "at": "2026-11-26T16:30:00+08:00", "by": "sun.li",
                                "text": "客户机房断电"}]  # fmt: skip
    assert [(r["step"], r["by"], r["engineer"], r["text"]) for r in lists["onsite"]] == [
        ("request", "sun.li", None, "需要现场更换硬盘"),
        ("approve", "wang.jianguo", "zheng.hao", None),
        ("arrive", "zheng.hao", None, None),
    ]
    assert lists["reopens"] == [{"case": ids["f"], "customer": "上海证券交易所",
                                 "at": "2026-11-26T09:30:00+08:00", "by": "li.na",
                                 "reason": "问题复现"}]  # fmt: skip
    assert lists["sales"] == [{"case": ids["price"], "customer": "某贸易公司",
                               "at": "2026-11-26T11:00:00+08:00", "to": "feng.xue",
                               "status": "open"}]  # fmt: skip
    assert found["people"]["zhao.lei"] == "赵磊"  # the JSON keeps ids and adds names


def test_people_by_name_and_kinds_in_words(day: tuple[Repo, dict[str, str]]) -> None:
    repo, ids = day
    text = repo.ok("report", by=None, now=MORNING)
    breaches = text.split("Deadlines missed or met late\n")[1].split("\n\n")[0]
    assert "张伟" in breaches and "zhang.wei" not in breaches
    assert "escalation to a senior engineer" in breaches and "escalate_senior" not in text
    sales = text.split("Price inquiries routed to sales\n")[1].split("\n\n")[0]
    assert "冯雪" in sales and "feng.xue" not in sales
    chinese = repo.run("report", by=None, now=MORNING, env={"LANG": "zh_CN.UTF-8"}).stdout
    assert "升级至高级工程师" in chinese and "客户等待首次回呼" in chinese and "赵磊" in chinese
    assert "escalate" not in chinese and "zhao.lei" not in chinese


def test_a_quiet_day_is_short(day: tuple[Repo, dict[str, str]]) -> None:
    """Nothing happened on the 20th: every section one line, no table of zeros."""
    repo, _ = day
    text = repo.ok("report", "--date", "2026-11-20", by=None, now=MORNING)
    lines = text.splitlines()
    assert "Deadlines missed or met late: none" in lines and "Volume: none" in lines
    assert "Volume by severity: none" in lines and "On time, per deadline kind: none" in lines
    assert [line for line in lines if line.startswith("---")] == [
        "-----------------  -----------------  --------------  ---------------"
    ]  # only the headline's: open severity 1 and 2, due in 24 hours, reassignments
    assert len([line for line in lines if line]) < 40  # a line a section, and the heading


def test_the_trend_of_a_week(day: tuple[Repo, dict[str, str]]) -> None:
    repo, _ = day
    trend = report(repo, "--week")["trend"]["by_day"]

    def row(day: str, opened: int | None, closed: int | None, open_: int | None) -> dict:
        return {"day": day, "opened": opened, "closed": closed, "open_at_end": open_}

    assert trend == [
        row("2026-11-23", 0, 0, 0),
        row("2026-11-24", 0, 0, 0),
        row("2026-11-25", 2, 1, 1),  # e and f opened, f closed
        row("2026-11-26", 4, 2, 4),  # a, b, c, d opened; c, d closed; f reopened
        row("2026-11-27", 0, 0, 4),  # at 08:00, when the report is made
        row("2026-11-28", None, None, None),
        row("2026-11-29", None, None, None),
    ]
    assert report(repo)["trend"] == {"by_day": []}  # one day: no trend


def test_at_risk_reaches_the_next_working_day(repo: Repo) -> None:
    """Friday's report: a severity-3 update due Monday 17:10 (8 working hours from Friday
    17:10) is at risk, though not due within 24 hours of Friday's midnight."""
    case = repo.ok("open", "--customer", "国家电网 信息中心", "--contact", "王工", "--contract",
                   "HT-1", "--severity", "3", "--description", "阵列告警", "--assign",
                   "zhao.lei", by="li.na", now="2026-11-27 17:00")  # fmt: skip
    repo.ok("log", case, "已回电", "--callback", by="zhao.lei", now="2026-11-27 17:10")
    found = json.loads(repo.ok("report", "--json", "--date", "2026-11-27", by=None,
                               now="2026-11-28 09:00"))  # fmt: skip
    assert found["lists"]["at_risk"] == [
        {"case": case, "customer": "国家电网 信息中心", "severity": 3, "kind": "update",
         "owner": "zhao.lei", "due": "2026-11-30T17:10:00+08:00", "in_s": 2 * 86400 + 61800}
    ]  # fmt: skip
    assert found["headline"]["now"][0]["due_next_24h"] == 0


def test_a_list_longer_than_rows_is_cut_and_says_so(day: tuple[Repo, dict[str, str]]) -> None:
    """An alarm storm leaves thousands of cases late: each list shows its first --rows
    (the same rows, in the same order) and says how many it has; --rows 0 lists all."""
    repo, _ = day
    whole = report(repo, "--rows", "0")
    assert whole["cut"] == {} and report(repo)["cut"] == {}  # 100 by default
    cut = report(repo, "--rows", "2")
    assert cut["lists"]["breaches"] == whole["lists"]["breaches"][:2]
    assert cut["cut"] == {"lists.breaches": len(BREACHES), "lists.cases": 4, "lists.onsite": 3}
    assert cut["headline"] == whole["headline"] and cut["volume"] == whole["volume"]
    text = repo.ok("report", "--rows", "2", by=None, now=MORNING)
    breaches = text.split("Deadlines missed or met late\n")[1].split("\n\n")[0]
    assert breaches.endswith(f"(2 of {len(BREACHES)} rows listed; --rows 0 lists all)")
    chinese = repo.run("report", "--rows", "2", by=None, now=MORNING,
                       env={"LANG": "zh_CN.UTF-8"}).stdout  # fmt: skip
    assert f"共 {len(BREACHES)} 行" in chinese
    page = repo.root / "day.html"
    repo.ok("report", "--rows", "2", "--html", str(page), by=None, now=MORNING)
    assert f"(2 of {len(BREACHES)} rows listed" in page.read_text(encoding="utf-8")
    repo.ok("report", "--rows", "2", "--csv", str(repo.root / "csv"), by=None, now=MORNING)
    assert (repo.root / "csv" / "cut.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "table,rows", f"lists.breaches,{len(BREACHES)}", "lists.cases,4", "lists.onsite,3"]  # fmt: skip
    repo.ok("report", "--rows", "0", "--csv", str(repo.root / "csv"), by=None, now=MORNING)
    assert (repo.root / "csv" / "cut.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "table,rows"]  # fmt: skip
    refused = repo.run("report", "--rows", "-1", by=None, now=MORNING)
    assert refused.exit_code == 2 and "--rows" in refused.output
