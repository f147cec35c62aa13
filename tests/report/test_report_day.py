"""`casectl report`: a scripted day through the command line, with exact numbers in the
table, the JSON and the CSV; the same JSON twice and on another clone after a sync."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

DAY = "2026-11-26"  # a Thursday
MORNING = "2026-11-27 08:00"  # when the manager reads yesterday's report


def at(time: str, day: str = DAY) -> str:
    return f"{day} {time}"


def opened(repo: Repo, when: str, severity: int, assign: str, customer: str, *extra: str,
           by: str = "li.na") -> str:  # fmt: skip
    args = ["open", "--customer", customer, "--contact", "刘先生 13800000000",
            "--severity", str(severity), "--description", "阵列告警", "--assign", assign]  # fmt: skip
    if "--no-contract" not in extra:
        args += ["--contract", "HT-2026-031"]
    return repo.ok(*args, *extra, by=by, now=when).split()[0]


def scripted_day(repo: Repo) -> dict[str, str]:
    """Six cases, two of them from the day before: a missed callback and its reassignment,
    a late first reply, an escalation, an RMA delivered but not installed, a severity
    change, a forced close, a case waiting on the customer, a reopening, late sweeps."""
    day_before = "2026-11-25"
    e = opened(repo, at("10:00", day_before), 3, "zhao.lei", "某省医保中心",
               "--no-contract", "--approved-by", "feng.xue")  # fmt: skip
    repo.ok("log", e, "已回电", "--callback", by="zhao.lei", now=at("10:10", day_before))
    rma = repo.ok("rma", e, "--part", "HDD-4T", "--owner", "zheng.hao", by="zhao.lei",
                  now=at("10:30", day_before))  # fmt: skip
    repo.ok("rma", e, rma, "--status", "delivered", by="zheng.hao", now=at("11:00", day_before))
    f = opened(repo, at("14:00", day_before), 4, "sun.li", "上海证券交易所")
    repo.ok("log", f, "已回电", "--callback", by="sun.li", now=at("14:10", day_before))
    repo.ok("close", f, "--resolution", "已解答", by="sun.li", now=at("15:00", day_before))

    a = opened(repo, at("09:00"), 1, "zhang.wei", "招商银行 数据中心")
    repo.ok("reopen", f, "--reason", "问题复现", by="li.na", now=at("09:30"))
    repo.ok("log", f, "已回电", "--callback", by="sun.li", now=at("09:40"))
    repo.ok("sweep", by=None, now=at("09:50"))  # cron was down: checks 35 and 20 minutes late
    repo.ok("log", a, "已电话联系", "--callback", by="liu.yang", now=at("10:00"))
    b = opened(repo, at("10:00"), 2, "sun.li", "中国移动 省公司", "--source", "email")
    repo.ok("sweep", by=None, now=at("10:15"))
    repo.ok("escalate", a, "--to", "zhou.qiang", "--reason", "硬件故障", by="wang.jianguo",
            now=at("10:30"))  # fmt: skip
    repo.ok("log", b, "已回电", "--callback", by="sun.li", now=at("11:10"))
    repo.ok("sweep", by=None, now=at("11:15"))
    repo.ok("log", a, "等待客户确认维护窗口", "--type", "wait-customer", by="liu.yang",
            now=at("11:30"))  # fmt: skip
    c = opened(repo, at("13:00"), 3, "zhao.lei", "国家电网 信息中心", "--source", "alarm",
               by="chen.jing")  # fmt: skip
    repo.ok("log", c, "已回电", "--callback", by="zhao.lei", now=at("13:20"))
    repo.ok("severity", c, "2", "--reason", "业务影响扩大", by="zhao.lei", now=at("14:00"))
    repo.ok("rma", c, "--part", "DKC-CTL-F", "--owner", "zheng.hao", by="zhao.lei", now=at("14:30"))
    repo.ok("close", c, "--resolution", "客户改用备机", "--force", "--reason", "备件缺货",
            by="zhao.lei", now=at("16:00"))  # fmt: skip
    d = opened(repo, at("15:00"), 4, "liu.yang", "某客户")
    repo.ok("log", d, "已回电", "--callback", by="liu.yang", now=at("15:30"))
    repo.ok("close", d, "--resolution", "已解答", by="liu.yang", now=at("17:00"))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "rma_e": rma}


@pytest.fixture
def day(repo: Repo) -> tuple[Repo, dict[str, str]]:
    return repo, scripted_day(repo)


def report(repo: Repo, *args: str) -> dict:
    return json.loads(repo.ok("report", "--json", *args, by=None, now=MORNING))


def counts(*values: int) -> dict[str, int]:
    return dict(zip(("opened", "closed", "reopened", "open_at_end"), values, strict=True))


def share(met: int, late: int, missed: int, on_time: float | None) -> dict:
    return {"met": met, "met_late": late, "missed": missed, "on_time_share": on_time}


def test_the_volume(day: tuple[Repo, dict[str, str]]) -> None:
    repo, _ = day
    volume = report(repo)["volume"]
    assert volume["totals"] == [counts(4, 2, 1, 4)]
    assert volume["by_severity"] == [
        {"severity": 1} | counts(1, 0, 0, 1),
        {"severity": 2} | counts(2, 1, 0, 1),  # the case changed to 2 counts there
        {"severity": 3} | counts(0, 0, 0, 1),
        {"severity": 4} | counts(1, 1, 1, 1),
    ]
    assert volume["by_engineer"] == [
        {"engineer": "liu.yang"} | counts(2, 1, 0, 1),  # took over the missed callback
        {"engineer": "sun.li"} | counts(1, 0, 1, 2),
        {"engineer": "zhao.lei"} | counts(1, 1, 0, 1),
    ]
    assert volume["by_source"] == [
        {"source": "alarm"} | counts(1, 1, 0, 0),
        {"source": "email"} | counts(1, 0, 0, 1),
        {"source": "phone"} | counts(2, 1, 1, 3),
    ]
    assert volume["by_contract"] == [
        {"contract": "contract"} | counts(4, 2, 1, 3),
        {"contract": "no contract"} | counts(0, 0, 0, 1),
    ]
    assert volume["open_by_age"] == [
        {"age": "< 1 day", "cases": 2}, {"age": "1-3 days", "cases": 2},
        {"age": "3-7 days", "cases": 0}, {"age": "7-30 days", "cases": 0},
        {"age": "> 30 days", "cases": 0},
    ]  # fmt: skip


def test_the_compliance(day: tuple[Repo, dict[str, str]]) -> None:
    repo, _ = day
    compliance = report(repo)["compliance"]
    assert compliance["by_kind"] == [
        {"kind": "callback"} | share(4, 1, 1, 0.6667),  # zhang.wei's missed, sun.li's late
        {"kind": "reply"} | share(4, 1, 0, 0.8),
        {"kind": "update"} | share(0, 0, 2, 0.0),
        {"kind": "escalate_senior"} | share(1, 0, 1, 0.5),
        {"kind": "escalate_manager"} | share(0, 0, 1, 0.0),
    ]
    assert compliance["by_severity"] == [
        {"severity": 1, "kind": "callback"} | share(1, 0, 1, 0.5),
        {"severity": 1, "kind": "reply"} | share(1, 0, 0, 1.0),
        {"severity": 1, "kind": "escalate_senior"} | share(1, 0, 0, 1.0),
        {"severity": 2, "kind": "callback"} | share(0, 1, 0, 0.0),
        {"severity": 2, "kind": "reply"} | share(0, 1, 0, 0.0),
        {"severity": 2, "kind": "update"} | share(0, 0, 1, 0.0),
        {"severity": 2, "kind": "escalate_senior"} | share(0, 0, 1, 0.0),
        {"severity": 2, "kind": "escalate_manager"} | share(0, 0, 1, 0.0),
        {"severity": 3, "kind": "callback"} | share(1, 0, 0, 1.0),  # met at severity 3
        {"severity": 3, "kind": "reply"} | share(1, 0, 0, 1.0),
        {"severity": 3, "kind": "update"} | share(0, 0, 1, 0.0),
        {"severity": 4, "kind": "callback"} | share(2, 0, 0, 1.0),
        {"severity": 4, "kind": "reply"} | share(2, 0, 0, 1.0),
    ]
    assert compliance["by_engineer"] == [
        {"engineer": "liu.yang", "kind": "callback"} | share(2, 0, 0, 1.0),
        {"engineer": "liu.yang", "kind": "reply"} | share(2, 0, 0, 1.0),
        {"engineer": "sun.li", "kind": "callback"} | share(1, 1, 0, 0.5),
        {"engineer": "sun.li", "kind": "reply"} | share(1, 1, 0, 0.5),
        {"engineer": "sun.li", "kind": "update"} | share(0, 0, 1, 0.0),
        {"engineer": "wang.jianguo", "kind": "escalate_senior"} | share(1, 0, 1, 0.5),
        {"engineer": "wang.jianguo", "kind": "escalate_manager"} | share(0, 0, 1, 0.0),
        {"engineer": "zhang.wei", "kind": "callback"} | share(0, 0, 1, 0.0),
        {"engineer": "zhao.lei", "kind": "callback"} | share(1, 0, 0, 1.0),
        {"engineer": "zhao.lei", "kind": "reply"} | share(1, 0, 0, 1.0),
        {"engineer": "zhao.lei", "kind": "update"} | share(0, 0, 1, 0.0),
    ]
    # callbacks 10, 10, 20, 30, 70 minutes from each callback clock's start; the customers'
    # waits from the first assignment 10 (f reopened), 20, 30, 60 (a), 70 (b); replies 10,
    # 20, 30, 60, 70 (nearest rank)
    assert compliance["time_to"] == [
        {"kind": "callback", "count": 5, "median_s": 1200, "p90_s": 4200},
        {"kind": "customer_wait", "count": 5, "median_s": 1800, "p90_s": 4200},
        {"kind": "reply", "count": 5, "median_s": 1800, "p90_s": 4200},
    ]


def test_the_events_rmas_attention_and_checker(day: tuple[Repo, dict[str, str]]) -> None:
    repo, ids = day
    a, b, c, e, f = (ids[k] for k in "abcef")
    found = report(repo)
    assert found["events"] == {
        "reassignments": [{"case": a, "at": "2026-11-26T09:50:00+08:00",
                           "due": "2026-11-26T09:45:00+08:00", "from": "zhang.wei",
                           "to": "liu.yang", "sweep_late_s": 300}],
        "escalations": [{"case": a, "at": "2026-11-26T10:30:00+08:00", "by": "wang.jianguo",
                         "to": "zhou.qiang", "reason": "硬件故障", "customer_request": False}],
        "severity_changes": [{"case": c, "at": "2026-11-26T14:00:00+08:00", "by": "zhao.lei",
                              "from": 3, "to": 2, "reason": "业务影响扩大",
                              "customer_request": False}],
        "forced_closes": [{"case": c, "at": "2026-11-26T16:00:00+08:00", "by": "zhao.lei",
                           "reason": "备件缺货", "resolution": "客户改用备机"}],
    }  # fmt: skip
    [rma_c] = [r["rma"] for r in found["rmas"]["outstanding"] if r["case"] == c]
    assert found["rmas"] == {
        "outstanding": [
            {"case": e, "rma": ids["rma_e"], "part": "HDD-4T", "qty": 1, "status": "delivered",
             "owner": "zheng.hao", "requested_at": "2026-11-25T10:30:00+08:00", "age_s": 135000},
            {"case": c, "rma": rma_c, "part": "DKC-CTL-F", "qty": 1, "status": "requested",
             "owner": "zheng.hao", "requested_at": "2026-11-26T14:30:00+08:00", "age_s": 34200},
        ],
        "delivered_not_installed": [
            {"case": e, "rma": ids["rma_e"], "part": "HDD-4T", "owner": "zheng.hao",
             "delivered_at": "2026-11-25T11:00:00+08:00", "waiting_s": 133200},
        ],
    }  # fmt: skip
    attention = found["attention"]
    assert [(r["case"], r["age_s"]) for r in attention["open_longest"]] == [
        (e, 136800),
        (f, 122400),
        (a, 54000),
        (b, 50400),
    ]
    assert attention["waiting"] == [{"case": a, "customer": "招商银行 数据中心", "on": "customer",
                                     "since": "2026-11-26T11:30:00+08:00", "for_s": 45000}]  # fmt: skip
    assert attention["no_update"] == [
        {"case": e, "customer": "某省医保中心", "assignee": "zhao.lei",
         "due": "2026-11-26T10:10:00+08:00", "late_s": 49800},
        {"case": b, "customer": "中国移动 省公司", "assignee": "sun.li",
         "due": "2026-11-26T15:10:00+08:00", "late_s": 31800},
    ]  # fmt: skip
    assert found["checker"] == {
        "late_sweeps": [{"at": "2026-11-26T09:50:00+08:00", "late_by_s": 2100, "actions": 3}],
        "withdrawn": [],  # no step came late to undo a sweep's action
    }
    assert found["period"] == {
        "label": DAY, "from": "2026-11-26T00:00:00+08:00", "to": "2026-11-27T00:00:00+08:00",
        "as_of": "2026-11-27T00:00:00+08:00", "timezone": "Asia/Shanghai",
    }  # fmt: skip


def test_the_table(day: tuple[Repo, dict[str, str]]) -> None:
    repo, ids = day
    text = repo.ok("report", by=None, now=MORNING)
    assert text.startswith(
        "Case report 2026-11-26: 2026-11-26 00:00 to 2026-11-27 00:00 (Asia/Shanghai), "
        "as of 2026-11-27 00:00\n\nOn time, per deadline kind\n"  # the headline first
    )
    volume = text.split("\n\nVolume\n")[1].splitlines()
    assert volume[0].split() == ["opened", "closed", "reopened", "open", "at", "end"]
    assert volume[2].split() == ["4", "2", "1", "4"]
    rows = [line.split() for line in text.splitlines()]
    assert ["callback", "4", "1", "1", "67%"] in rows
    assert ["first", "reply", "4", "1", "0", "80%"] in rows  # deadline kinds in words
    assert ["callback", "5", "20m", "1h10m"] in rows  # time to callback: median, p90
    assert ["customer's", "wait", "for", "the", "first", "callback", "5", "30m", "1h10m"] in rows
    # people by name: zhang.wei is 张伟, liu.yang 刘洋
    assert [ids["a"], "2026-11-26", "09:50", "2026-11-26", "09:45", "张伟", "刘洋",
            "5m"] in rows  # fmt: skip
    assert ["2026-11-26", "09:50", "35m", "3"] in rows  # the late sweep
    assert "Escalations\n" in text and "Forced closes\n" in text
    # Chinese columns stay aligned: the column after the customer starts where its rule does
    header, rule, row = text.split("Waiting on the customer or on parts\n")[1].splitlines()[:3]
    from wcwidth import wcswidth

    assert "招商银行 数据中心" in row
    third = rule.index(" -", rule.index(" -") + 1) + 1
    assert wcswidth(row[: row.index("customer  ")]) == third == header.index("on ")


def test_the_csv(day: tuple[Repo, dict[str, str]], tmp_path: Path) -> None:
    repo, ids = day
    out = tmp_path / "csv"
    assert repo.ok("report", "--csv", str(out), by=None, now=MORNING) == f"wrote {out}"
    names = sorted(p.name for p in out.iterdir())
    assert (
        len(names) == 34  # period.csv, cut.csv and one per table
        and "volume_totals.csv" in names
        and "lists_breaches.csv" in names
        and "period.csv" in names
    )

    def rows(name: str) -> list[list[str]]:
        with open(out / name, encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))

    assert rows("volume_totals.csv") == [["opened", "closed", "reopened", "open_at_end"],
                                         ["4", "2", "1", "4"]]  # fmt: skip
    assert rows("compliance_by_kind.csv")[1:3] == [
        ["callback", "4", "1", "1", "0.6667"],
        ["reply", "4", "1", "0", "0.8"],
    ]
    assert rows("events_reassignments.csv") == [
        ["case", "at", "due", "from", "to", "sweep_late_s"],
        [ids["a"], "2026-11-26T09:50:00+08:00", "2026-11-26T09:45:00+08:00", "zhang.wei",
         "liu.yang", "300"],
    ]  # fmt: skip
    assert rows("attention_waiting.csv")[1][1] == "招商银行 数据中心"
    assert rows("checker_late_sweeps.csv") == [["at", "late_by_s", "actions"],
                                               ["2026-11-26T09:50:00+08:00", "2100", "3"]]  # fmt: skip
    assert (out / "volume_totals.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # for Excel


def test_the_same_json_twice_and_on_another_clone(team: tuple[Repo, Repo, Repo]) -> None:  # noqa: F811
    a, b, _ = team
    scripted_day(a)
    first = a.ok("report", "--json", by=None, now=MORNING)
    assert a.ok("report", "--json", by=None, now=MORNING) == first  # warm: from the index
    assert a.ok("report", "--json", "--date", DAY, by=None, now="2026-12-20 10:00") == first
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    assert b.ok("report", "--json", "--date", DAY, by=None, now="2027-01-02 09:00") == first


def test_a_later_step_does_not_change_a_past_report(day: tuple[Repo, dict[str, str]]) -> None:
    """Judged as of the period's end: yesterday's missed update stays missed when it is
    made this morning, and this morning's severity change moves nothing of yesterday."""
    repo, ids = day
    before = repo.ok("report", "--json", by=None, now=MORNING)
    repo.ok("log", ids["b"], "进展更新", "--type", "contact", by="sun.li", now="2026-11-27 08:10")
    repo.ok("severity", ids["e"], "1", "--reason", "升级", by="zhao.lei", now="2026-11-27 08:20")
    repo.ok("close", ids["a"], "--resolution", "完成", by="liu.yang", now="2026-11-27 08:30")
    assert repo.ok("report", "--json", by=None, now="2026-11-27 09:00") == before
