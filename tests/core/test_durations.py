"""Durations as written in severity.yaml."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casectl.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("45m", 45), ("1h30m", 90), ("2d", 2880), ("1d2h3m", 1563), ("PT45M", 45), ("P1DT2H", 1560),
     ("pt15m", 15), (" 15m ", 15)],
)  # fmt: skip
def test_accepted_forms(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "text", ["", "45", "m", "1.5h", "PT", "P", "45 m", "-5m", "1h 30m", "soon"]
)
def test_refused_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration such as 45m, 1h30m, 2d or PT45M"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["366d", "8761h", "3000000d", "P400D", "99999999999999999999999d"])
def test_longer_than_a_year_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected a duration of at most one year \(365d\)"):
        parse_duration(text)


def test_a_year_is_accepted() -> None:
    assert parse_duration("365d") == parse_duration("8760h") == timedelta(days=365)
