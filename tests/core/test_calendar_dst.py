"""Working time across daylight-saving changes: real elapsed time, never counted twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from casectl.calendars import Calendar

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def sundays(zone: ZoneInfo, *spans: tuple[int, int]) -> Calendar:
    return Calendar(name="sun", zone=zone, week=((),) * 6 + (tuple(spans),))


# Berlin, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST. "01:30-02:30" ends in the
# skipped hour, which reads as 03:30 CEST, inside the next interval "03:00-04:00".
SPRING = sundays(BERLIN, (90, 150), (180, 240))


def test_add_across_a_period_ending_in_the_skipped_hour_is_real_time() -> None:
    start = datetime.fromisoformat("2026-03-29T01:30+01:00")
    due = SPRING.add(start, timedelta(minutes=90))
    assert due == datetime.fromisoformat("2026-03-29T04:00+02:00")
    assert due - start == timedelta(minutes=90)


def test_between_counts_the_overlap_once() -> None:
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    end = datetime(2026, 3, 29, 5, 0, tzinfo=BERLIN)
    assert SPRING.between(start, end) == timedelta(minutes=90)


def test_periods_of_the_spring_forward_day_are_merged() -> None:
    periods = SPRING.periods(date(2026, 3, 29))
    assert periods == [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    ]


# The rule for an interval's edge at a wall time that is skipped or repeated (docs/rules.md,
# "Deadlines"): a skipped one moves later by the shift, a repeated one is its first occurrence.


def test_an_edge_in_the_skipped_hour_moves_later_by_the_shift() -> None:
    calendar = sundays(BERLIN, (150, 300))  # "02:30-05:00" on 2026-03-29
    assert not calendar.is_working(datetime.fromisoformat("2026-03-29T03:29+02:00"))
    assert calendar.is_working(datetime.fromisoformat("2026-03-29T03:30+02:00"))
    start = datetime.fromisoformat("2026-03-29T00:00+01:00")
    assert calendar.add(start, timedelta(minutes=1)) == datetime.fromisoformat(
        "2026-03-29T03:31+02:00"
    )
    assert calendar.between(start, start + timedelta(hours=8)) == timedelta(minutes=90)


def test_an_interval_in_the_skipped_hour_moves_whole_or_vanishes() -> None:
    # "02:15-02:45" reads as 03:15-03:45 CEST; "02:30-03:15" as 03:30-03:15: empty.
    calendar = sundays(BERLIN, (135, 165), (600, 660))
    assert calendar.periods(date(2026, 3, 29)) == [
        (datetime(2026, 3, 29, 1, 15, tzinfo=UTC), datetime(2026, 3, 29, 1, 45, tzinfo=UTC)),
        (datetime(2026, 3, 29, 8, 0, tzinfo=UTC), datetime(2026, 3, 29, 9, 0, tzinfo=UTC)),
    ]
    assert sundays(BERLIN, (150, 195)).periods(date(2026, 3, 29)) == []


def test_an_edge_in_the_repeated_hour_is_its_first_occurrence() -> None:
    # 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:00-03:00 happens twice.
    ends = sundays(BERLIN, (60, 150))  # "01:00-02:30" ends at 02:30 CEST
    day = datetime.fromisoformat("2026-10-25T00:00+02:00")
    assert ends.between(day, day + timedelta(hours=8)) == timedelta(minutes=90)
    assert not ends.is_working(datetime.fromisoformat("2026-10-25T02:30+02:00"))
    begins = sundays(BERLIN, (150, 240))  # "02:30-04:00" begins at 02:30 CEST
    assert begins.is_working(datetime.fromisoformat("2026-10-25T02:30+02:00"))
    assert begins.between(day, day + timedelta(hours=8)) == timedelta(minutes=150)


# Random calendars in three zones, around their 2026 changes (Lord Howe shifts 30 minutes).
CHANGES = {
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4)),
}
HOWE = ZoneInfo("Australia/Lord_Howe")  # 2026-10-04: 02:00 becomes 02:30
HOWE_SPRING = sundays(HOWE, (60, 135), (150, 240))  # "01:00-02:15" reads as 02:45


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping intervals on a 15-minute grid up to 24:00, their edges
    mostly between 01:45 and 03:30, around the changes."""
    edge = st.one_of(st.integers(7, 14), st.integers(0, 96))
    marks = sorted(set(draw(st.lists(edge, min_size=2, max_size=8))))
    pairs = list(zip(marks[::2], marks[1::2], strict=False))
    return tuple((a * 15, b * 15) for a, b in pairs if a < b)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    zone = ZoneInfo(draw(st.sampled_from(sorted(CHANGES))))
    week = tuple(draw(day_hours()) for _ in range(7))
    if not any(week):
        week = (((0, 1440),),) * 7
    return Calendar(name="random", zone=zone, week=week)


def near_change(calendar: Calendar, which: int, minutes: int) -> datetime:
    """`minutes` after local midnight of the calendar's zone's change `which`."""
    change = CHANGES[calendar.zone.key][which]  # type: ignore[attr-defined]
    midnight = datetime.combine(change, datetime.min.time(), tzinfo=calendar.zone)
    return midnight.astimezone(UTC) + timedelta(minutes=minutes)


which_change = st.integers(0, 1)
minutes_around = st.integers(-1440, 2 * 1440)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@example(SPRING, 0, 90, 180).via("the issue's Berlin night")
@example(HOWE_SPRING, 1, 60, 210).via("Lord Howe's 30-minute shift")
@given(calendars(), which_change, minutes_around, minutes_around)
def test_between_never_exceeds_real_elapsed_time(
    calendar: Calendar, which: int, m1: int, m2: int
) -> None:
    a, b = sorted((near_change(calendar, which, m1), near_change(calendar, which, m2)))
    assert calendar.between(a, b) <= b - a


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@example(SPRING, 0).via("the issue's Berlin night")
@example(HOWE_SPRING, 1).via("Lord Howe's 30-minute shift")
@given(calendars(), which_change)
def test_periods_of_one_day_never_overlap(calendar: Calendar, which: int) -> None:
    periods = calendar.periods(CHANGES[calendar.zone.key][which])  # type: ignore[attr-defined]
    for begin, end in periods:
        assert begin < end
    for (_, end), (begin, _) in zip(periods, periods[1:], strict=False):
        assert end <= begin


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@example(SPRING, 0, 90, 90).via("the issue's Berlin night")
@example(HOWE_SPRING, 1, 60, 120).via("Lord Howe's 30-minute shift")
@given(calendars(), which_change, minutes_around, st.integers(1, 3 * 1440))
def test_add_then_measure_gives_the_duration_back(
    calendar: Calendar, which: int, minutes: int, amount_minutes: int
) -> None:
    start, amount = near_change(calendar, which, minutes), timedelta(minutes=amount_minutes)
    due = calendar.add(start, amount)
    assert calendar.between(start, due) == amount
    assert due - start >= amount
