"""Customer-requested severity changes and escalations in the daily report (issue 13.3):
marked `customer_request` in the events of every form: table, JSON, CSV and HTML."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import Repo
from test_report_html import Page

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo"
MORNING = "2026-11-27 08:00"


@pytest.fixture
def day(repo: Repo) -> tuple[Repo, str]:
    """The customer calls the manager: severity 3 -> 1 and an escalation at their request;
    then the manager's own second escalation, and an engineer's own severity change."""
    case_id = repo.open_case(severity=3, now="2026-11-26 09:00")
    repo.ok("severity", case_id, "1", "--reason", "客户致电经理：业务中断", "--customer-request",
            by=MANAGER, now="2026-11-26 10:00")  # fmt: skip
    repo.ok("escalate", case_id, "--to", "zhou.qiang", "--reason", "客户要求",
            "--customer-request", by=MANAGER, now="2026-11-26 10:01")  # fmt: skip
    repo.ok("escalate", case_id, "--to", "wu.min", "--reason", "换人", by=MANAGER,
            now="2026-11-26 11:00")  # fmt: skip
    repo.ok("severity", case_id, "2", "--reason", "已恢复业务", by="zhang.wei",
            now="2026-11-26 12:00")  # fmt: skip
    return repo, case_id


def test_the_json_marks_them(day: tuple[Repo, str]) -> None:
    repo, case_id = day
    events = json.loads(repo.ok("report", "--json", by=None, now=MORNING))["events"]
    assert events["severity_changes"] == [
        {"case": case_id, "at": "2026-11-26T10:00:00+08:00", "by": MANAGER, "from": 3, "to": 1,
         "reason": "客户致电经理：业务中断", "customer_request": True},
        {"case": case_id, "at": "2026-11-26T12:00:00+08:00", "by": "zhang.wei", "from": 1,
         "to": 2, "reason": "已恢复业务", "customer_request": False},
    ]  # fmt: skip
    assert events["escalations"] == [
        {"case": case_id, "at": "2026-11-26T10:01:00+08:00", "by": MANAGER, "to": "zhou.qiang",
         "reason": "客户要求", "customer_request": True},
        {"case": case_id, "at": "2026-11-26T11:00:00+08:00", "by": MANAGER, "to": "wu.min",
         "reason": "换人", "customer_request": False},
    ]  # fmt: skip


def test_the_table_marks_them(day: tuple[Repo, str]) -> None:
    repo, case_id = day
    text = repo.ok("report", by=None, now=MORNING)
    escalations = text.split("Escalations\n")[1].split("\n\n")[0].splitlines()
    assert escalations[0].split() == ["case", "at", "by", "to", "reason", "customer", "request"]
    # people by name: 王建国 (wang.jianguo), 周强 (zhou.qiang), 吴敏 (wu.min)
    assert escalations[2].split() == [case_id, "2026-11-26", "10:01", "王建国", "周强",
                                      "客户要求", "yes"]  # fmt: skip
    assert escalations[3].split() == [case_id, "2026-11-26", "11:00", "王建国", "吴敏", "换人"]
    changes = text.split("Severity changes\n")[1].split("\n\n")[0].splitlines()
    assert changes[2].split()[-2:] == ["客户致电经理：业务中断", "yes"]
    assert changes[3].split()[-1] == "已恢复业务"


def test_the_csv_and_html_mark_them(day: tuple[Repo, str], tmp_path: Path) -> None:
    repo, case_id = day
    repo.ok("report", "--csv", str(tmp_path), by=None, now=MORNING)
    with open(tmp_path / "events_escalations.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "customer_request"
    assert [(r[3], r[-1]) for r in rows[1:]] == [("zhou.qiang", "true"), ("wu.min", "false")]
    with open(tmp_path / "events_severity_changes.csv", encoding="utf-8-sig", newline="") as f:
        assert [r[-1] for r in csv.reader(f)] == ["customer_request", "true", "false"]
    page_file = tmp_path / "page.html"
    repo.ok("report", "--html", str(page_file), by=None, now=MORNING)
    html = page_file.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    at = page.cells.index("周强")
    assert page.cells[at : at + 3] == ["周强", "客户要求", "yes"]
    at = page.cells.index("吴敏")
    assert page.cells[at : at + 3] == ["吴敏", "换人", ""]
    assert "<th>customer request</th>" in html
