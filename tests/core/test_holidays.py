"""Holiday data: the generated per-year file, `calendar holidays`, and the gaps it leaves."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Repo
from test_config import edit

from casectl import config, holidays
from casectl.calendars import Calendar

Refused = Callable[..., str]
SHIPPED = Path(holidays.__file__).parent / "example" / "holidays-cn.yaml"
# The State Council's notice for 2026, as severity.yaml listed it before the file existed.
HOLIDAYS_2026 = (
    {
        date(2026, 1, 1) + timedelta(days=n)
        for n in (0, 1, 2, *range(45, 54), 93, 94, 95, *range(120, 125), 169, 170, 171)
    }
    | {date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27)}
    | {date(2026, 10, d) for d in range(1, 8)}
)
WORKDAYS_2026 = {
    date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
    date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10),
}  # fmt: skip
NO_PACKAGE = (
    "calendar holidays needs the chinese_calendar package: pip install chinesecalendar "
    "(the casectl[cn] extra)"
)


def business(repo: Repo) -> Calendar:
    return config.load(str(repo.root)).calendars["business"]


def test_the_shipped_2026_lists_are_those_of_the_notice(repo: Repo) -> None:
    calendar = business(repo)
    assert len(HOLIDAYS_2026) == 33
    assert calendar.holidays == HOLIDAYS_2026
    assert calendar.workdays == WORKDAYS_2026
    assert calendar.holiday_file == "holidays-cn.yaml"
    assert (repo.root / "holidays-cn.yaml").read_bytes() == SHIPPED.read_bytes()


def test_a_holiday_from_the_file_is_no_working_day(repo: Repo) -> None:
    case_id = repo.open_case(severity=4, now="2026-09-30 17:30")  # then 1-7 October
    reply = next(d for d in repo.show(case_id)["deadlines"] if d["kind"] == "reply")
    assert reply["due"] == "2026-10-08T09:30:00+08:00"


cn = pytest.importorskip  # the tests below need the extra: make test installs it


def test_calendar_holidays_2026_reproduces_the_shipped_file(repo: Repo) -> None:
    cn("chinese_calendar", reason="needs casectl[cn]")
    severity = (repo.root / "severity.yaml").read_bytes()
    assert repo.ok("calendar", "holidays", "--year", "2026") == (
        "holidays-cn.yaml: 2026 unchanged (33 holidays, 6 make-up workdays)"
    )
    (repo.root / "holidays-cn.yaml").write_text("", encoding="utf-8")
    assert repo.ok("calendar", "holidays", "--year", "2026", "--calendar", "business") == (
        "holidays-cn.yaml: 2026 written (33 holidays, 6 make-up workdays); "
        "review it with git diff, then commit it"
    )
    assert (repo.root / "holidays-cn.yaml").read_bytes() == SHIPPED.read_bytes()
    assert (repo.root / "severity.yaml").read_bytes() == severity  # its comments untouched


def test_another_year_goes_in_order_and_the_rest_is_kept(repo: Repo) -> None:
    cn("chinese_calendar", reason="needs casectl[cn]")
    path = repo.root / "holidays-cn.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# a note of our own\n", encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    repo.ok("calendar", "holidays", "--year", "2025")
    after = path.read_text(encoding="utf-8")
    assert after.index("2025:") < after.index("2026:")
    assert after[after.index("2026:") :] == before[before.index("2026:") :]
    assert after.startswith(before[: before.index("2026:")])
    calendar = business(repo)
    assert date(2025, 10, 1) in calendar.holidays and date(2026, 10, 1) in calendar.holidays
    assert date(2025, 9, 28) in calendar.workdays  # a Sunday worked for National Day


def test_a_year_the_package_does_not_know_writes_nothing(repo: Repo, refused: Refused) -> None:
    cn("chinese_calendar", reason="needs casectl[cn]")
    message = refused("calendar", "holidays", "--year", "2099")
    assert message.startswith("chinese_calendar ")
    assert "knows no holidays for 2099 (it knows 2004-" in message
    assert message.endswith("pip install -U chinesecalendar")


def test_without_the_extra_one_line_names_it(
    repo: Repo, refused: Refused, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "chinese_calendar", None)  # as if not installed
    assert refused("calendar", "holidays", "--year", "2026") == NO_PACKAGE


def test_which_calendar(repo: Repo, refused: Refused) -> None:
    assert refused("calendar", "holidays", "--year", "2026", "--calendar", "office") == (
        "no calendar 'office' in severity.yaml; calendars with hours: business"
    )
    assert refused("calendar", "holidays", "--year", "2026", "--calendar", "24x7") == (
        "calendar '24x7' is 24x7: it has no holidays"
    )
    edit(repo, "severity.yaml", lambda d: d["calendars"]["business"].pop("holiday_file"))
    assert refused("calendar", "holidays", "--year", "2026") == (
        "severity.yaml: calendars.business: names no holiday_file; add "
        "`holiday_file: holidays-cn.yaml` under it (the file may start empty)"
    )
    assert repo.run("calendar", "holidays", "--year", "1999").exit_code == 2


def named_file(name: object) -> Callable[[dict], None]:
    return lambda d: d["calendars"]["business"].update(holiday_file=name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            named_file("../outside.yaml"),
            "severity.yaml: calendars.business.holiday_file: expected a .yaml file inside the repository, got '../outside.yaml'",
        ),
        (
            named_file("/etc/passwd"),
            "severity.yaml: calendars.business.holiday_file: expected a .yaml file inside the repository, got '/etc/passwd'",
        ),
        (
            named_file("holidays-2027.yaml"),
            "severity.yaml: calendars.business.holiday_file: holidays-2027.yaml does not exist; expected a file of holidays per year (it may start empty: casectl calendar holidays --year YYYY fills it)",
        ),
    ],
)
def test_holiday_file_names_are_checked(repo: Repo, refused: Refused, change, message: str) -> None:  # type: ignore[no-untyped-def]
    edit(repo, "severity.yaml", change)
    assert refused("roster") == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026:\n  holidays: [2027-01-01]\n", "holidays-cn.yaml: 2026.holidays: expected dates in 2026, got 2027-01-01"),
        ("2026:\n  days: []\n", "holidays-cn.yaml: 2026.days: unknown key; expected one of holidays, workdays"),
        ("next:\n  holidays: []\n", "holidays-cn.yaml: next: expected a year from 2000 to 2099"),
        ("2026:\n  holidays: [2026-02-30]\n", "holidays-cn.yaml: not valid YAML: day is out of range for month"),
        ("- 2026-01-01\n", "holidays-cn.yaml: top level: expected a mapping, got list ['2026-01-01']"),
    ],
)  # fmt: skip
def test_holiday_file_content_is_checked(
    repo: Repo, refused: Refused, text: str, message: str
) -> None:
    (repo.root / "holidays-cn.yaml").write_text(text, encoding="utf-8")
    assert refused("roster") == message


def test_an_empty_file_is_no_holidays(repo: Repo) -> None:
    (repo.root / "holidays-cn.yaml").write_text("", encoding="utf-8")
    assert business(repo).holidays == frozenset()


def test_an_edited_holiday_file_is_read_again(repo: Repo) -> None:
    assert date(2026, 10, 7) in business(repo).holidays
    assert (repo.state / "config-cache").exists()
    path = repo.root / "holidays-cn.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  - 2026-10-07", "  - 2026-10-08"))
    assert date(2026, 10, 7) not in business(repo).holidays
    assert date(2026, 10, 8) in business(repo).holidays


# --- has_holiday_data, holiday_gaps --------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_has_holiday_data(repo: Repo) -> None:
    cfg = config.load(str(repo.root))
    assert holidays.has_holiday_data(cfg.calendars["business"], 2026)
    assert not holidays.has_holiday_data(cfg.calendars["business"], 2027)
    assert holidays.has_holiday_data(cfg.calendars["24x7"], 2027)  # keeps none: needs none
    plain = Calendar(name="plain", zone=SHANGHAI, week=(((540, 1080),),) * 5 + ((), ()))
    assert holidays.has_holiday_data(plain, 2027)
    only_workday = plain._replace(workdays=frozenset({date(2027, 2, 7)}))
    assert holidays.has_holiday_data(only_workday, 2027)
    assert not holidays.has_holiday_data(only_workday, 2026)


def test_holiday_gaps_from_december_first(repo: Repo) -> None:
    cfg = config.load(str(repo.root))
    assert holidays.holiday_gaps(cfg, datetime(2026, 11, 30, 23, 59, tzinfo=SHANGHAI)) == []
    expected = [
        "calendar business has holidays for 2026 but none for 2027: "
        "run casectl calendar holidays --year 2027 --calendar business"
    ]
    assert holidays.holiday_gaps(cfg, datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)) == expected
    # the zone of the repository decides the date: 16:00 UTC on Nov 30 is Dec 1 in Shanghai
    utc = datetime.fromisoformat("2026-11-30T16:00+00:00")
    assert holidays.holiday_gaps(cfg, utc) == expected
    assert holidays.holiday_gaps(cfg, datetime(2025, 12, 15, tzinfo=SHANGHAI)) == []  # none in 2025
    assert holidays.holiday_gaps(cfg, datetime(2027, 12, 15, tzinfo=SHANGHAI)) == []  # none in 2027


def test_no_gap_once_next_year_is_filled(repo: Repo) -> None:
    path = repo.root / "holidays-cn.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "2027:\n  holidays: [2027-01-01]\n")
    cfg = config.load(str(repo.root))
    assert holidays.holiday_gaps(cfg, datetime(2026, 12, 1, tzinfo=SHANGHAI)) == []


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("", 2026, holidays.HEADER + "2026:\n"),
        ("# h\n2026:\n  a\n", 2025, "# h\n2025:\n2026:\n  a\n"),
        ("# h\n2025:\n  a\n2027:\n  c\n", 2026, "# h\n2025:\n  a\n2026:\n2027:\n  c\n"),
        (
            "# h\n2025:\n  a\n2026:\n  old\n2027:\n  c\n",
            2026,
            "# h\n2025:\n  a\n2026:\n2027:\n  c\n",
        ),
        ("# h\n2025:\n  a", 2026, "# h\n2025:\n  a\n2026:\n"),
    ],
)
def test_replace_year(text: str, year: int, expected: str) -> None:
    assert holidays.replace_year(text, year, f"{year}:\n") == expected
