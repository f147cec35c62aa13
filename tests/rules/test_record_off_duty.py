"""A duty engineer off duty opening a case: warned (or refused, per severity.yaml), and the
case's checks go to whoever is on duty when each falls due (issue 20.9)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import Repo

SATURDAY = "2026-11-28 10:00"  # chen.jing's duty_hours are business hours


@pytest.mark.slow
def test_an_off_duty_duty_engineer_is_warned_and_the_checks_go_to_who_is_on_duty(
    repo: Repo,
) -> None:
    result = repo.run("open", "--customer", "招商银行", "--contact", "刘先生", "--contract",
                      "HT-1", "--severity", "1", "--description", "控制器离线", "--assign",
                      "zhang.wei", by="chen.jing", now=SATURDAY)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    case_id = result.stdout.strip()
    assert result.stderr.splitlines()[-1] == (
        "warning: chen.jing is off duty at 2026-11-28 10:00; the case's checks go to the duty "
        "engineer on duty when each falls due (li.na now)"
    )
    doc = repo.show(case_id, now="2026-11-28 10:01")
    assert doc["duty"] == "chen.jing"
    checks = [(d["label"], d["owner"]) for d in doc["deadlines"] if d["kind"] == "check"]
    assert checks == [("check 15m", "li.na"), ("check 30m", "li.na")]
    actions = json.loads(repo.ok("sweep", "--json", by=None, now="2026-11-28 10:15"))["actions"]
    assert [(a["kind"], a["notify"]) for a in actions] == [("check", ["li.na"])]


def test_checks_follow_the_duty_hours_of_when_each_falls_due(repo: Repo) -> None:
    """Opened at 17:40 on a Thursday by chen.jing, on duty; her 17:55 check is hers, and
    the 18:10 one, after her hours, is li.na's."""
    result = repo.run("open", "--customer", "c", "--contact", "d", "--contract", "HT-1",
                      "--severity", "1", "--description", "x", "--assign", "zhang.wei",
                      by="chen.jing", now="2026-11-26 17:40")  # fmt: skip
    assert result.exit_code == 0 and "warning" not in result.stderr
    actions = json.loads(repo.ok("sweep", "--json", by=None, now="2026-11-26 18:15"))["actions"]
    assert [(a["kind"], a["due"][11:16], a["notify"]) for a in actions] == [
        ("check", "17:55", ["chen.jing"]), ("check", "18:10", ["li.na"])]  # fmt: skip


def test_severity_yaml_may_refuse_an_off_duty_opening(repo: Repo, refused: Callable) -> None:
    severity = repo.root / "severity.yaml"
    severity.write_text(severity.read_text() + "off_duty_open: refuse\n")
    said = refused("open", "--no-contract", "--inquiry", "price", "--customer", "c",
                   "--contact", "d", by="chen.jing", now=SATURDAY)  # fmt: skip
    assert said == (
        "chen.jing is off duty at 2026-11-28 10:00 and severity.yaml says off_duty_open: "
        "refuse; a duty engineer on duty (li.na) opens the case"
    )
    repo.open_case(now=SATURDAY)  # li.na, always on duty
    severity.write_text(severity.read_text().replace("off_duty_open: refuse", "off_duty_open: x"))
    result = repo.run("list", now=SATURDAY)
    assert result.exit_code == 1 and "off_duty_open: expected warn or refuse" in result.stderr
