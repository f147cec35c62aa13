"""The working-time engine: peer vectors, conventions, daylight saving, properties."""

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casectl.calendars import Calendar, parse_hours

VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "business_time_vectors.json").read_text()
)
# The conventions casectl chose (docs/rules.md, "Deadlines"); vectors tagged otherwise are skipped.
CHOSEN = {"any", "end_of_period", "reversed_interval_is_zero", "dst_gap_interval_is_empty"}
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def calendar_of(name: str) -> Calendar:
    spec = VECTORS["calendars"][name]
    return Calendar(
        name=name,
        zone=ZoneInfo(spec["timezone"]),
        week=tuple(parse_hours(spec["hours"].get(d, [])) for d in DAYS),
        holidays=frozenset(date.fromisoformat(d) for d in spec.get("holidays", [])),
    )


def chosen(kind: str) -> list[dict]:
    return [v for v in VECTORS[kind] if v["convention"] in CHOSEN]


@pytest.mark.parametrize("v", chosen("due") + chosen("due_subminute"), ids=lambda v: v["id"])
def test_due_vectors(v: dict) -> None:
    amount = timedelta(minutes=v["minutes"]) if "minutes" in v else timedelta(seconds=v["seconds"])
    due = calendar_of(v["calendar"]).add(datetime.fromisoformat(v["start"]), amount)
    assert due == datetime.fromisoformat(v["expected"])


@pytest.mark.parametrize(
    "v", chosen("between") + chosen("between_subminute"), ids=lambda v: v["id"]
)
def test_between_vectors(v: dict) -> None:
    expected = v.get("expected_minutes", 0) * 60 + v.get("expected_seconds", 0)
    span = calendar_of(v["calendar"]).between(
        datetime.fromisoformat(v["start"]), datetime.fromisoformat(v["end"])
    )
    assert span == timedelta(seconds=expected)


def test_every_any_vector_is_run() -> None:
    counted = sum(len(chosen(k)) for k in ("due", "between", "due_subminute", "between_subminute"))
    assert counted >= 125 + 5 + 2 + 1


SHANGHAI = ZoneInfo("Asia/Shanghai")
BUSINESS = Calendar(
    name="business",
    zone=SHANGHAI,
    week=(((540, 720), (780, 1080)),) * 5 + ((), ()),
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
    workdays=frozenset({date(2026, 9, 27)}),
    makeup_hours=((540, 720), (780, 1080)),
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_start_outside_hours_counts_from_next_working_moment() -> None:
    assert BUSINESS.add(at("2026-11-27 19:00"), timedelta(minutes=45)) == at("2026-11-30 09:45")


def test_lunch_break_is_skipped() -> None:
    assert BUSINESS.add(at("2026-11-26 11:30"), timedelta(hours=1)) == at("2026-11-26 13:30")


def test_holiday_and_makeup_workday() -> None:
    # Sunday 27 September 2026 is a make-up workday; 1-2 October are holidays.
    assert BUSINESS.add(at("2026-09-27 17:30"), timedelta(hours=1)) == at("2026-09-28 09:30")
    assert BUSINESS.add(at("2026-09-30 17:30"), timedelta(hours=1)) == at("2026-10-05 09:30")


def test_berlin_autumn_change_is_wall_clock_hours_and_real_durations() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    always = Calendar(name="24x7", zone=berlin, always=True)
    start = datetime(2026, 10, 25, 1, 0, tzinfo=berlin)
    assert always.add(start, timedelta(hours=3)) == datetime(2026, 10, 25, 3, 0, tzinfo=berlin)
    days = Calendar(name="days", zone=berlin, week=(((0, 1440),),) * 7)
    assert days.between(start, datetime(2026, 10, 26, 1, 0, tzinfo=berlin)) == timedelta(hours=25)


def test_exact_fit_ends_at_period_end() -> None:
    assert BUSINESS.add(at("2026-11-26 17:00"), timedelta(hours=1)) == at("2026-11-26 18:00")


def test_zero_and_reversed() -> None:
    sunday = at("2026-11-29 10:00")
    assert BUSINESS.add(sunday, timedelta(0)) == sunday
    assert BUSINESS.between(at("2026-11-26 12:00"), at("2026-11-26 10:00")) == timedelta(0)


def test_is_working() -> None:
    assert BUSINESS.is_working(at("2026-11-26 09:00"))
    assert not BUSINESS.is_working(at("2026-11-26 12:00"))
    assert not BUSINESS.is_working(at("2026-10-01 10:00"))
    assert BUSINESS.is_working(at("2026-09-27 10:00"))


def test_parse_hours_refuses_nonsense() -> None:
    for bad in (["18:00-09:00"], ["25:00-26:00"], [["09:00", "12:00"], ["11:00", "13:00"]], ["9"]):
        with pytest.raises(ValueError):
            parse_hours(bad)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(SHANGHAI)
)
amounts = st.integers(min_value=1, max_value=60 * 24 * 20).map(lambda m: timedelta(minutes=m))


@pytest.mark.slow
@given(instants, amounts)
def test_add_then_measure_gives_the_duration_back(start: datetime, amount: timedelta) -> None:
    assert BUSINESS.between(start, BUSINESS.add(start, amount)) == amount


@given(instants, amounts, amounts)
def test_add_is_monotonic_in_duration(start: datetime, a: timedelta, b: timedelta) -> None:
    a, b = sorted((a, b))
    assert BUSINESS.add(start, a) <= BUSINESS.add(start, b)


@given(instants, instants, amounts)
def test_add_is_monotonic_in_start(s1: datetime, s2: datetime, amount: timedelta) -> None:
    s1, s2 = sorted((s1, s2))
    assert BUSINESS.add(s1, amount) <= BUSINESS.add(s2, amount)
