"""Limits and calendars refused at load: zero or over a year, make-up days without hours."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Repo
from test_config import edit

Refused = Callable[..., str]
AT_MOST = "expected a duration of at most one year (365d), got"


def level(n: int, **values: object) -> Callable[[dict], None]:
    return lambda d: d["levels"][n].update(values)


CASES = [
    (level(1, callback="0m"), "levels.1.callback: expected a limit longer than zero, got '0m'"),
    (level(1, reply="0m"), "levels.1.reply: expected a limit longer than zero, got '0m'"),
    (
        level(2, reassigned_callback="PT0S"),
        "levels.2.reassigned_callback: expected a limit longer than zero, got 'PT0S'",
    ),
    (level(3, update="0h"), "levels.3.update: expected a limit longer than zero, got '0h'"),
    (
        level(4, escalate_senior="0d"),
        "levels.4.escalate_senior: expected a limit longer than zero, got '0d'",
    ),
    (
        level(1, escalate_manager="P0D"),
        "levels.1.escalate_manager: expected a limit longer than zero, got 'P0D'",
    ),
    (
        level(1, checks=["0m", "30m"]),
        "levels.1.checks[0]: expected a limit longer than zero, got '0m'",
    ),
    (level(1, escalate_manager="3000000d"), f"levels.1.escalate_manager: {AT_MOST} '3000000d'"),
    (level(3, update="8761h"), f"levels.3.update: {AT_MOST} '8761h'"),
    (lambda d: d.update(due_soon="400d"), f"due_soon: {AT_MOST} '400d'"),
]


@pytest.mark.parametrize(("change", "message"), CASES, ids=[c[1][:50] for c in CASES])
def test_limits_refused_at_load(repo: Repo, refused: Refused, change, message: str) -> None:  # type: ignore[no-untyped-def]
    edit(repo, "severity.yaml", change)
    assert refused("list") == f"severity.yaml: {message}"


def test_a_limit_of_a_year_is_accepted(repo: Repo) -> None:
    edit(repo, "severity.yaml", level(4, escalate_senior="365d"))
    repo.ok("list")


def test_due_within_over_a_year_is_a_usage_error(repo: Repo) -> None:
    result = repo.run("list", "--due-within", "3000000d")
    assert result.exit_code == 2
    assert f"{AT_MOST} '3000000d'" in result.stderr
    assert "Traceback" not in result.output


def business(**values: object) -> Callable[[dict], None]:
    return lambda d: d["calendars"]["business"].update(values)


def no_monday(d: dict) -> None:
    """The business calendar without Monday hours and without `makeup_hours`."""
    d["calendars"]["business"]["hours"].pop("mon")
    d["calendars"]["business"].pop("makeup_hours")


def test_makeup_workdays_without_monday_hours_are_refused(repo: Repo, refused: Refused) -> None:
    edit(repo, "severity.yaml", no_monday)
    assert refused("list") == (
        "severity.yaml: calendars.business.makeup_hours: expected the working hours of the "
        "make-up workdays; without it they get Monday's hours, and Monday has none"
    )


def test_empty_makeup_hours_with_makeup_workdays_are_refused(repo: Repo, refused: Refused) -> None:
    edit(repo, "severity.yaml", business(makeup_hours=[]))
    assert refused("list") == (
        "severity.yaml: calendars.business.makeup_hours: expected the working hours of the "
        "make-up workdays; it gives none"
    )


def test_makeup_hours_are_used_on_makeup_workdays(repo: Repo) -> None:
    # 2026-10-10, a Saturday, is a make-up workday; with makeup_hours 10:00-11:00 a
    # severity-4 case opened at 09:30 has its first reply (1h) due at 11:00 that day.
    def change(d: dict) -> None:
        no_monday(d)
        business(makeup_hours=["10:00-11:00"])(d)

    edit(repo, "severity.yaml", change)
    case_id = repo.open_case(severity=4, now="2026-10-10 09:30")
    reply = next(
        d for d in repo.show(case_id, now="2026-10-10 09:30")["deadlines"] if d["kind"] == "reply"
    )
    assert reply["due"] == "2026-10-10T11:00:00+08:00"


def test_no_makeup_workdays_need_no_hours(repo: Repo) -> None:
    def change(d: dict) -> None:
        no_monday(d)
        d["calendars"]["business"].pop("holiday_file")  # where the make-up workdays are

    edit(repo, "severity.yaml", change)
    repo.ok("list")
