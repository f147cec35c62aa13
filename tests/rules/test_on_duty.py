"""Who takes the hotline: `roster --on-duty [--at TIME]`, and who may open a case (issue 13.5)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import Repo, open_args


def on_duty(repo: Repo, *args: str) -> list[str]:
    return [p["id"] for p in json.loads(repo.ok("roster", "--on-duty", "--json", *args))]


def test_the_duty_engineers_on_duty_at_a_time(repo: Repo) -> None:
    assert on_duty(repo, "--at", "2026-11-26 10:00") == ["li.na", "chen.jing"]  # a Thursday
    assert on_duty(repo, "--at", "2026-11-28 20:00") == ["li.na"]  # chen.jing: business hours
    assert on_duty(repo) == ["li.na", "chen.jing"]  # now: Thursday 14:05
    assert on_duty(repo, "--at", "2026-11-26 12:30") == ["li.na"]  # the lunch break
    text = repo.ok("roster", "--on-duty", "--at", "2026-11-28 20:00")
    assert "li.na" in text and "chen.jing" not in text and "zhang.wei" not in text


def test_nobody_on_duty_means_the_manager(repo: Repo) -> None:
    roster = repo.root / "roster.yaml"
    roster.write_text(roster.read_text().replace(
        '  email: li.na@example.com\n', '  email: li.na@example.com\n  duty_hours: business\n'
    ))  # fmt: skip
    result = repo.run("roster", "--on-duty", "--at", "2026-11-28 20:00", "--json")
    assert result.exit_code == 0
    assert [p["id"] for p in json.loads(result.stdout)] == ["wang.jianguo"]
    assert result.stderr.strip() == (
        "no duty engineer is on duty at 2026-11-28 20:00; the manager takes the hotline"
    )


def test_roster_at_a_time_gives_everyone_with_on_duty_then(repo: Repo) -> None:
    people = json.loads(repo.ok("roster", "--json", "--at", "2026-11-28 20:00"))
    assert {p["id"]: p["on_duty"] for p in people}["chen.jing"] is False
    assert len(people) == 11


def test_a_bad_time_is_refused(repo: Repo, refused: Callable) -> None:
    assert refused("roster", "--on-duty", "--at", "someday").startswith("--at: cannot read")


@pytest.mark.slow
def test_open_records_the_duty_engineer_and_refuses_others(repo: Repo, refused: Callable) -> None:
    case_id = repo.ok(*open_args(), by="chen.jing")
    assert repo.show(case_id)["duty"] == "chen.jing"
    assert repo.show(repo.ok(*open_args(), by="wang.jianguo"))["duty"] == "wang.jianguo"
    for person in ("zhang.wei", "zheng.hao", "feng.xue"):
        assert refused(*open_args(), by=person) == (
            f"{person} may not open a case: only duty or manager may"
        )
