"""The period a report covers, and how the report reads cases through the month index:
closed cases of other months are never parsed, and quiet months never even loaded."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import Repo
from hypothesis import given
from hypothesis import strategies as st

from casectl import config
from casectl.index import Index
from casectl.report import facts
from casectl.report.period import choose
from casectl.store import Store

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=SHANGHAI)


def test_the_default_is_yesterday_in_the_repository_timezone() -> None:
    late_utc = datetime(2026, 11, 26, 17, 0, tzinfo=ZoneInfo("UTC"))  # 01:00 on the 27th there
    p = choose(late_utc, SHANGHAI)
    assert (p.label, p.start.isoformat(), p.end.isoformat()) == (
        "2026-11-26", "2026-11-26T00:00:00+08:00", "2026-11-27T00:00:00+08:00"
    )  # fmt: skip


def test_a_week_a_month_and_a_run_of_days() -> None:
    week = choose(NOW, SHANGHAI, week=True)
    assert (week.label, week.start.date(), week.end.date()) == (
        "2026-W48", date(2026, 11, 23), date(2026, 11, 30)
    )  # fmt: skip
    month = choose(NOW, SHANGHAI, day=date(2026, 2, 10), month=True)
    assert (month.label, month.start.date(), month.end.date()) == (
        "2026-02", date(2026, 2, 1), date(2026, 3, 1)
    )  # fmt: skip
    days = choose(NOW, SHANGHAI, first=date(2026, 11, 20), last=date(2026, 11, 22))
    assert (days.label, days.end.timestamp() - days.start.timestamp()) == (
        "2026-11-20..2026-11-22", 3 * 86400
    )  # fmt: skip


def test_a_daylight_saving_day_is_23_hours() -> None:
    p = choose(NOW, BERLIN, day=date(2026, 3, 29))
    assert p.end.timestamp() - p.start.timestamp() == 23 * 3600
    assert p.end.isoformat() == "2026-03-30T00:00:00+02:00"


@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_days_tile_time(day: date) -> None:
    """Each day ends where the next begins, and lasts 23 to 25 hours."""
    for zone in (BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")):
        this, following = choose(NOW, zone, day=day), choose(NOW, zone, day=day + timedelta(1))
        assert this.end == following.start
        assert 23 * 3600 <= this.end.timestamp() - this.start.timestamp() <= 25 * 3600


def test_usage_errors(repo: Repo) -> None:
    for args, message in (
        (["--from", "2026-11-20"], "give --from and --to together"),
        (["--from", "2026-11-22", "--to", "2026-11-20"], "--to 2026-11-20 is before --from"),
        (["--week", "--month"], "give --week or --month, not both"),
        (
            ["--date", "2026-11-20", "--from", "2026-11-20", "--to", "2026-11-21"],
            "cannot be combined",
        ),
        (["--json", "--csv", "x"], "give one of --json, --html FILE, --csv DIR"),
        (["--date", "26/11/2026"], "'26/11/2026' does not match the format"),
    ):
        result = repo.run("report", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr
        assert result.stdout == ""


def test_closed_cases_of_other_months_are_never_parsed(repo: Repo) -> None:
    """An October case closed in October is corrupted in place (same size, inode, mtime):
    a report of November 26 still runs, and counts the October case closed on the 26th."""
    quiet = repo.open_case(now="2026-10-05 10:00")
    repo.ok("log", quiet, "已回电", "--callback", by="zhang.wei", now="2026-10-05 10:10")
    repo.ok("close", quiet, "--resolution", "已解决", by="zhang.wei", now="2026-10-06 10:00")
    long_running = repo.open_case(now="2026-10-20 10:00")
    repo.ok("log", long_running, "已回电", "--callback", by="zhang.wei", now="2026-10-20 10:10")
    repo.ok("close", long_running, "--resolution", "已解决", by="zhang.wei", now="2026-11-26 10:00")
    before = repo.ok("report", "--json", by=None, now="2026-11-27 08:00")
    assert json.loads(before)["volume"]["totals"] == [
        {"opened": 0, "closed": 1, "reopened": 0, "open_at_end": 0}
    ]
    path = repo.case_path(quiet)
    st_before = os.stat(path)
    with open(path, "r+b") as f:  # in place: the index's signature of the file is unchanged
        f.write(b"!" * st_before.st_size)
    os.utime(path, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    assert repo.ok("report", "--json", by=None, now="2026-11-27 08:00") == before
    # the control: a report of October reads the corrupted file and names it
    result = repo.run("report", "--json", "--date", "2026-10-06", now="2026-11-27 08:00")
    assert result.exit_code == 1 and quiet in result.stderr


def test_quiet_days_are_not_loaded(repo: Repo) -> None:
    quiet = repo.open_case(now="2026-09-05 10:00")
    repo.ok("close", quiet, "--resolution", "已解决", by="zhang.wei", now="2026-09-06 10:00")
    repo.open_case(now="2026-11-26 10:00")
    cfg = config.load(str(repo.root))
    store = Store(str(repo.root))
    key = facts.rules_key(str(repo.root))
    past = datetime(2026, 1, 1).timestamp()  # folders changed just now are never trusted
    for folder, _, _ in os.walk(repo.root / "cases"):
        os.utime(folder, (past, past))
    Index(store, cfg).closed()  # builds every day's file, and notes the folders as they are

    def make(case: object) -> object:
        return facts.of(case, cfg)  # type: ignore[arg-type]

    index = Index(store, cfg)
    since = datetime(2026, 11, 26, tzinfo=SHANGHAI).timestamp()
    found = index.facts(since, make, key)
    assert [f[1] for f in found] == [i for i in sorted(index.summaries())]
    assert "2026/09/05" not in index.files.loaded  # its head said it went quiet on Sept 6
    older = Index(store, cfg).facts(datetime(2026, 9, 1, tzinfo=SHANGHAI).timestamp(), make, key)
    assert quiet in [f[1] for f in older]


def test_the_report_page_lists_every_table_and_key() -> None:
    from pathlib import Path

    from casectl.report.numbers import COLUMNS

    readme = (Path(__file__).parents[2] / "docs" / "report.md").read_text(encoding="utf-8")
    for table, keys in COLUMNS.items():
        assert f"| `{table}` | {', '.join(keys)} |" in readme
