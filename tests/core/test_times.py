"""Times typed on the command line: never in the future, within 2000-2100, existing once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import Repo, open_args

from casectl import clock
from casectl.errors import CasectlError

Refused = Callable[..., str]
SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")


def event_times(repo: Repo, case_id: str, now: str) -> dict[str, str]:
    return {e.get("text"): e["at"] for e in repo.show(case_id, now=now)["events"]}


# --- a step in the future (issue 9, item 8) --------------------------------------------


def test_a_step_in_the_future_is_refused(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    assert refused(
        "log", case_id, "x", "--callback", "--at", "2026-12-31 10:00", by="zhang.wei"
    ) == (
        "--at: 2026-12-31 10:00 is in the future (now is 2026-11-26 14:05); a step is "
        "recorded when it happened, give or take 2 minutes of clock skew"
    )
    assert refused("log", case_id, "x", "--at", "2026-11-26 14:08", by="zhang.wei").startswith(
        "--at: 2026-11-26 14:08 is in the future"
    )
    assert refused(*open_args(), "--at", "2026-11-27 09:00").startswith("--at: 2026-11-27 09:00")


def test_two_minutes_of_clock_skew_are_allowed(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "ahead", "--at", "2026-11-26 14:07", by="zhang.wei")
    assert event_times(repo, case_id, "2026-11-26 14:10")["ahead"] == "2026-11-26T14:07:00+08:00"


# --- a time without a date (issue 9, item 9) --------------------------------------------


def test_a_time_of_day_is_its_most_recent_past_occurrence(repo: Repo) -> None:
    case_id = repo.open_case()  # 2026-11-26 14:05
    repo.ok("log", case_id, "late", "--at", "23:50", by="zhang.wei", now="2026-11-27 00:10")
    repo.ok("log", case_id, "soon", "--at", "00:05", by="zhang.wei", now="2026-11-27 00:10")
    times = event_times(repo, case_id, "2026-11-27 00:10")
    assert times["late"] == "2026-11-26T23:50:00+08:00"  # last night, not tonight
    assert times["soon"] == "2026-11-27T00:05:00+08:00"


def test_step_time_unit() -> None:
    now = datetime.fromisoformat("2026-11-27T00:10+08:00")
    assert clock.step_time("23:50", SHANGHAI, now).isoformat() == "2026-11-26T23:50:00+08:00"
    assert clock.step_time("00:12", SHANGHAI, now).isoformat() == "2026-11-27T00:12:00+08:00"
    assert clock.step_time("00:13", SHANGHAI, now).isoformat() == "2026-11-26T00:13:00+08:00"
    with pytest.raises(CasectlError, match="in the future"):
        clock.step_time("2026-11-27 00:13", SHANGHAI, now)


# --- times at the edges (issue 8, item 3) ------------------------------------------------

OUTSIDE = "is outside the times casectl accepts (2000-01-01 to 2100-01-01)"


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("0001-01-01T00:00+08:00", f"--at: '0001-01-01T00:00+08:00' {OUTSIDE}"),
        ("9999-12-31T23:59-10:00", f"--at: '9999-12-31T23:59-10:00' {OUTSIDE}"),
        ("1999-12-31 23:59", f"--at: '1999-12-31 23:59' {OUTSIDE}"),
        ("2100-01-01T00:00+08:00", f"--at: '2100-01-01T00:00+08:00' {OUTSIDE}"),
        (
            "2026-11-26T10:00+25:00",
            "--at: '2026-11-26T10:00+25:00' has a UTC offset no timezone uses; expected -12:00 to +14:00",
        ),
        (
            "2026-11-26 10:00 +25:00",
            "--at: '2026-11-26 10:00 +25:00' has a UTC offset no timezone uses; expected -12:00 to +14:00",
        ),
    ],
    ids=["year-1", "year-9999", "1999", "2100", "offset-iso", "offset-dateutil"],
)
def test_at_outside_the_window_is_refused(
    repo: Repo, refused: Refused, at: str, message: str
) -> None:
    case_id = repo.open_case()
    assert refused("log", case_id, "x", "--at", at, by="zhang.wei") == message


def test_casectl_now_outside_the_window_is_refused(repo: Repo, refused: Refused) -> None:
    case_id = repo.open_case()
    for command in (["list"], ["sweep"], ["show", case_id], ["log", case_id, "x"]):
        assert refused(*command, now="0001-01-01T00:00+14:00") == (
            f"CASECTL_NOW: '0001-01-01T00:00+14:00' {OUTSIDE}"
        )


def berlin(repo: Repo) -> None:
    path = repo.root / "severity.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "timezone: Asia/Shanghai", "timezone: Europe/Berlin"
    )
    path.write_text(text, encoding="utf-8")
    assert yaml.safe_load(text)["timezone"] == "Europe/Berlin"


def test_a_wall_time_the_clocks_skip_is_refused(repo: Repo, refused: Refused) -> None:
    berlin(repo)
    case_id = repo.open_case(now="2026-03-29 01:00")
    assert refused(
        "log", case_id, "x", "--at", "2026-03-29 02:30", by="zhang.wei", now="2026-03-29 12:00"
    ) == (
        "--at: 2026-03-29 02:30 does not exist in Europe/Berlin: the clocks skip from 02:00 to 03:00 on 2026-03-29"
    )
    assert refused("list", now="2026-03-29 02:00") == (
        "CASECTL_NOW: 2026-03-29 02:00 does not exist in Europe/Berlin: the clocks skip from 02:00 to 03:00 on 2026-03-29"
    )


def test_a_repeated_wall_time_needs_its_offset(repo: Repo, refused: Refused) -> None:
    berlin(repo)
    case_id = repo.open_case(now="2026-10-25 01:00")
    later = "2026-10-25 12:00"
    assert refused("log", case_id, "x", "--at", "2026-10-25 02:30", by="zhang.wei", now=later) == (
        "--at: 2026-10-25 02:30 happens twice in Europe/Berlin; give its offset: "
        "2026-10-25T02:30+02:00 (the first) or 2026-10-25T02:30+01:00 (the second)"
    )
    repo.ok("log", case_id, "second", "--at", "2026-10-25T02:30+01:00", by="zhang.wei", now=later)
    assert event_times(repo, case_id, later)["second"] == "2026-10-25T02:30:00+01:00"


def test_lord_howe_half_hour_gap_is_named() -> None:
    howe = ZoneInfo("Australia/Lord_Howe")
    with pytest.raises(CasectlError, match="the clocks skip from 02:00 to 02:30 on 2026-10-04"):
        clock.parse_time("2026-10-04 02:15", howe, None)
    with pytest.raises(
        CasectlError, match=r"2026-04-05T01:45\+11:00 \(the first\) or 2026-04-05T01:45\+10:30"
    ):
        clock.parse_time("2026-04-05 01:45", howe, None)


def test_times_next_to_the_changes_are_accepted() -> None:
    assert (
        clock.parse_time("2026-03-29 01:59", BERLIN, None).isoformat()
        == "2026-03-29T01:59:00+01:00"
    )
    assert (
        clock.parse_time("2026-03-29 03:00", BERLIN, None).isoformat()
        == "2026-03-29T03:00:00+02:00"
    )
    assert clock.parse_time("2026-10-25 03:00", BERLIN, None) - clock.parse_time(
        "2026-10-25 01:59", BERLIN, None
    ) == timedelta(hours=2, minutes=1)
