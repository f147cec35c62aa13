"""casectl in Chinese, what people read of a broken setup or case file, and of `show`'s
RMAs, on-site visits and source: Chinese with LANG=zh_CN, the same English as before
with LANG=C, and --json (check's, sweep's, show's) the same in both."""

from __future__ import annotations

import json

import pytest
from conftest import Repo

ZH = {"LANG": "zh_CN.UTF-8"}
C = {"LANG": "C"}


def test_a_roster_mistake_in_chinese_keeps_the_file_and_key(repo: Repo) -> None:
    roster = repo.root / "roster.yaml"
    roster.write_text(roster.read_text().replace("roles: [duty]", "roles: [boss]", 1))
    said = repo.run("list", env=ZH)
    assert said.exit_code == 1
    assert said.stderr.strip().endswith(
        "roster.yaml: engineers[1] (li.na).roles: 未知的角色 'boss'；应为 manager, duty, "
        "first-line, senior, field, sales, sales-manager"
    )
    said = repo.run("list", env=C)
    assert said.exit_code == 1
    assert said.stderr.strip().endswith(
        "roster.yaml: engineers[1] (li.na).roles: unknown role 'boss'; expected manager, duty, "
        "first-line, senior, field, sales, sales-manager"
    )


def test_a_severity_mistake_in_chinese(repo: Repo) -> None:
    severity = repo.root / "severity.yaml"
    severity.write_text(severity.read_text() + "  commit: maybe\n")  # under `git:`, last
    assert "severity.yaml: git.commit: 应为 true 或 false" in repo.run("list", env=ZH).stderr
    assert "severity.yaml: git.commit: expected true or false" in repo.run("list", env=C).stderr


def _break(repo: Repo, case_id: str) -> None:
    """The opening's severity becomes 12: a schema problem of event 1."""
    path = repo.case_path(case_id)
    text = path.read_text(encoding="utf-8")
    assert "severity: 1\n" in text
    path.write_text(text.replace("severity: 1\n", "severity: 12\n", 1), encoding="utf-8")


@pytest.mark.slow
def test_a_broken_case_file_in_chinese_and_checks_json_in_english(repo: Repo) -> None:
    case_id = repo.open_case()
    _break(repo, case_id)
    english = "event 1 (open): `severity` expected a severity, 1 to 9, got int 12"
    chinese = "第 1 个事件（open）：`severity` 应为故障级别，1 到 9，实际为 int 12"
    shown = repo.run("show", case_id, env=ZH)
    assert shown.exit_code == 1 and chinese in shown.stderr
    shown = repo.run("show", case_id, env=C)
    assert shown.exit_code == 1 and english in shown.stderr and "第" not in shown.stderr
    checked = repo.run("check", env=ZH)
    assert checked.exit_code == 1 and chinese in checked.stdout
    assert english in repo.run("check", env=C).stdout
    documents = {repo.run("check", "--json", env=env).stdout for env in (ZH, C, ZH)}
    assert len(documents) == 1 and english in documents.pop()
    # the index keeps the reason: sweep --json says it in English whatever ran first
    swept = {repo.run("sweep", "--dry-run", "--json", env=env).stdout for env in (ZH, C)}
    assert len(swept) == 1
    assert [english in b for b in json.loads(swept.pop())["broken"]] == [True]
    assert english in repo.run("sweep", "--dry-run", env=C).stderr


def test_show_says_rma_status_visit_stage_and_source_in_chinese(repo: Repo) -> None:
    case_id = repo.open_case()
    rma = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    repo.ok("rma", case_id, rma, "--status", "shipped", by="zhang.wei")
    repo.ok("onsite", case_id, "--request", "--reason", "换控制器", by="zhang.wei")
    shown = repo.ok("show", case_id, env=ZH)
    rma_row = next(line for line in shown.splitlines() if line.startswith(rma))
    assert rma_row.split()[-1] == "已发货"
    visit_row = next(line for line in shown.splitlines() if line.startswith("OS-"))
    assert visit_row.split()[1] == "待批准"
    assert "阵列控制器离线 [电话]" in shown
    english = repo.ok("show", case_id, env=C)
    assert next(line for line in english.splitlines() if line.startswith(rma)).split()[-1] == (
        "shipped"
    )
    assert next(line for line in english.splitlines() if line.startswith("OS-")).split()[1] == (
        "pending"
    )
    assert "阵列控制器离线 [phone]" in english
    assert "已发货" not in english and "待批准" not in english
    in_json = {repo.run("show", case_id, "--json", env=env).stdout for env in (ZH, C)}
    assert len(in_json) == 1
    document = json.loads(in_json.pop())
    assert document["rmas"][0]["status"] == "shipped" and document["source"] == "phone"
    assert document["onsite"][0]["stage"] == "pending"


def test_a_duration_and_an_interval_mistake_in_chinese(repo: Repo) -> None:
    severity = repo.root / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    severity.write_text(text.replace("callback: 45m", "callback: 45", 1), encoding="utf-8")
    assert "应为时长，如 45m、1h30m、2d 或 PT45M，实际为 '45'" in repo.run("list", env=ZH).stderr
    assert "expected a duration such as 45m, 1h30m, 2d or PT45M, got '45'" in (
        repo.run("list", env=C).stderr
    )
    severity.write_text(
        text.replace('mon: ["09:00-12:00"', 'mon: ["12:00-09:00"'), encoding="utf-8"
    )
    assert "时段 '12:00-09:00' 的结束早于开始" in repo.run("list", env=ZH).stderr
    assert "interval '12:00-09:00' ends before it starts" in repo.run("list", env=C).stderr
