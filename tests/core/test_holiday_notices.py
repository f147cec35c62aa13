# ruff: noqa: F811 - the SMTP server is a fixture, imported by name
"""Holiday data that runs out: the manager is told once from December 1, `show` flags it."""

from __future__ import annotations

import json

from conftest import Repo
from notify_servers import smtp  # noqa: F401 - a fixture


def holiday_actions(repo: Repo, now: str, *args: str) -> list[dict]:
    result = repo.run("sweep", "--json", *args, by=None, now=now)
    assert result.exit_code == 0, result.output
    return [a for a in json.loads(result.stdout)["actions"] if a["kind"] == "holidays_missing"]


def test_the_manager_is_told_once_from_december_first(repo: Repo) -> None:
    assert holiday_actions(repo, "2026-11-30 23:55") == []
    assert len(holiday_actions(repo, "2026-12-01 00:05", "--dry-run")) == 1  # not recorded
    [told] = holiday_actions(repo, "2026-12-01 00:10")
    assert told["notify"] == ["wang.jianguo"] and told["case"] == ""
    assert told["deadline"] == (
        "calendar business has holidays for 2026 but none for 2027: "
        "run casectl calendar holidays --year 2027 --calendar business"
    )
    assert told["due"] == "2026-12-01T00:00:00+08:00"
    assert holiday_actions(repo, "2026-12-01 00:15") == []
    text = repo.run("sweep", by=None, now="2026-12-02 09:00")
    assert "holidays_missing" not in text.stdout


def test_the_notice_is_a_row_for_the_manager_and_no_commit_trailer(repo: Repo) -> None:
    from conftest import git

    case_id = repo.open_case(now="2026-12-01 08:00")
    out = repo.ok("sweep", by=None, now="2026-12-01 09:00")
    rows = [line.split() for line in out.splitlines()]
    assert ["-", "holidays_missing", "2026-12-01", "00:00"] in [r[:4] for r in rows]
    message = git(repo.root, "log", "-1", "--format=%B")
    assert [line for line in message.splitlines() if line.startswith("Case:")] == [
        f"Case: {case_id}"
    ]


def test_show_flags_a_deadline_in_a_year_without_holiday_data(repo: Repo) -> None:
    late = repo.open_case(severity=3, now="2026-12-31 17:30")  # business hours: due in 2027
    document = repo.show(late, now="2026-12-31 17:40")
    flags = {d["due"][:4]: d["holiday_data"] for d in document["deadlines"]}
    assert flags == {"2026": True, "2027": False}  # the checks fall before 18:00
    text = repo.ok("show", late, now="2026-12-31 17:40")
    assert "(no holiday data for 2027: not checked for holidays)" in text
    around = repo.open_case(severity=1, now="2026-12-31 17:31")  # 24x7 keeps no holidays
    assert all(d["holiday_data"] for d in repo.show(around, now="2026-12-31 17:40")["deadlines"])


def test_with_mail_set_up_the_notice_is_still_printed_for_cron(repo: Repo, smtp) -> None:  # type: ignore[no-untyped-def]
    from notify_servers import use_email

    use_email(repo, smtp)
    repo.open_case(now="2026-12-01 08:00")
    out = repo.ok("sweep", by=None, now="2026-12-01 09:00")
    assert "holidays_missing" in out  # no case, no event to mail: cron's mail carries it
    assert "check" not in out.split()  # the case's own actions went by mail
