"""`list` with one filter and a --limit reads the newest days only, counting the matches
from the days' notes: it must show exactly what a full read shows, with the same total."""

from __future__ import annotations

import json
import os
import random
import re

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

PEOPLE = ["zhang.wei", "liu.yang", "zhao.lei"]


@pytest.fixture
def mixed(repo: Repo) -> Repo:
    """Cases over five days: engineers, severities, callbacks made or not, one closed,
    one reassigned, an inquiry without a contract."""
    rng = random.Random(29)
    made = []
    for day in (20, 21, 23, 25, 26):
        for hour in rng.sample(range(8, 18), 3):
            made.append(
                repo.open_case(
                    rng.randint(1, 4), rng.choice(PEOPLE), now=f"2026-11-{day} {hour}:00"
                )
            )
    for case_id in rng.sample(made, 5):  # called back: their first deadline moves on
        by = repo.show(case_id)["assignee"]
        repo.ok("log", case_id, "已回呼", "--callback", by=by, now="2026-11-26 17:50")
    by = repo.show(made[0])["assignee"]
    repo.ok("close", made[0], "--resolution", "客户同意关闭", by=by, now="2026-11-26 17:55")
    repo.ok("assign", made[1], "sun.li", now="2026-11-26 17:56")
    repo.ok(
        "open", "--customer", "某医院", "--contact", "王工", "--no-contract", "--inquiry",
        "technical", "--approved-by", "wang.jianguo", "--severity", "3",
        "--description", "咨询", "--assign", "liu.yang", now="2026-11-26 17:58",
    )  # fmt: skip
    return repo


FILTERS = [
    ["--assignee", "zhang.wei"],
    ["--assignee", "sun.li"],
    ["--severity", "2"],
    ["--overdue"],
    ["--inquiries"],
    ["--mine", "--by", "liu.yang"],
    ["--customer", "招商"],
    ["--due-within", "2h"],
    ["--due-within", "18h"],
    ["--assignee", "liu.yang", "--severity", "3"],
]


@pytest.mark.parametrize("when", ["2026-11-26 18:00", "2026-11-27 09:00"])
@pytest.mark.parametrize("wanted", FILTERS, ids=" ".join)
def test_the_newest_n_matching_are_the_first_n_of_all(
    mixed: Repo, wanted: list[str], when: str
) -> None:
    every = [
        r["id"] for r in json.loads(mixed.ok("list", "--json", "--limit", "0", *wanted, now=when))
    ]
    assert every or wanted in (["--assignee", "sun.li"], ["--inquiries"]) or "--severity" in wanted
    for n in (1, 2, 5):
        result = mixed.run("list", "--json", "--limit", str(n), *wanted, now=when)
        assert [r["id"] for r in json.loads(result.stdout)] == every[:n], (wanted, n)
        told = re.search(r"\((\d+) of (\d+) cases shown", result.stderr)
        assert (int(told[2]) if told else len(every[:n])) == len(every), (wanted, n, result.stderr)


def test_the_counts_follow_a_step_made_since(mixed: Repo) -> None:
    before = json.loads(mixed.ok("list", "--json", "--limit", "0", "--assignee", "zhao.lei"))
    moved = before[0]["id"]
    mixed.ok("assign", moved, "zhang.wei", now="2026-11-26 18:00")
    result = mixed.run(
        "list", "--json", "--limit", "1", "--assignee", "zhao.lei", now="2026-11-26 18:01"
    )
    assert moved not in result.stdout
    shown = f"(1 of {len(before) - 1} cases shown" if len(before) > 2 else ""
    assert shown in result.stderr


def test_mine_counts_what_someone_owes_on_a_case_they_do_not_hold(mixed: Repo) -> None:
    rows = json.loads(mixed.ok("list", "--json", "--limit", "0", now="2026-11-26 18:00"))
    owed = [r for r in rows if r["owner"] and r["owner"] != r["assignee"]]
    assert owed, "the fixture has a case whose next step someone else owes"
    owner = owed[0]["owner"]
    every = json.loads(mixed.ok("list", "--json", "--limit", "0", "--mine", "--by", owner,
                                now="2026-11-26 18:00"))  # fmt: skip
    result = mixed.run(
        "list", "--json", "--limit", "1", "--mine", "--by", owner, now="2026-11-26 18:00"
    )
    assert owed[0]["id"] in [r["id"] for r in every]
    assert f"(1 of {len(every)} cases shown" in result.stderr or len(every) == 1


@pytest.mark.parametrize("wanted", [["--overdue"], ["--due-within", "2h"]], ids=" ".join)
def test_a_day_without_its_deadlines_file_has_it_made_again(mixed: Repo, wanted: list[str]) -> None:
    from casectl.store import Store

    when = "2026-11-27 09:00"
    every = json.loads(mixed.ok("list", "--json", "--limit", "0", *wanted, now=when))
    days = os.path.join(Store(str(mixed.root)).state_dir, "index-days")
    side = sorted(n for n in os.listdir(days) if n.endswith(".deadlines"))
    assert side
    os.unlink(os.path.join(days, side[0]))
    with open(os.path.join(days, side[-1]), "wb") as f:
        f.write(b"garbled")
    result = mixed.run("list", "--json", "--limit", "1", *wanted, now=when)
    assert json.loads(result.stdout) == every[:1]
    assert f"(1 of {len(every)} cases shown" in result.stderr or len(every) <= 1
    assert sorted(n for n in os.listdir(days) if n.endswith(".deadlines")) == side
    assert os.path.getsize(os.path.join(days, side[-1])) > len(b"garbled")


def test_due_within_counts_a_case_by_any_deadline_in_the_window(mixed: Repo) -> None:
    """A case whose first deadline is past but whose next falls in the window is kept,
    counted once however many of its deadlines fall in it."""
    when = "2026-11-26 18:00"
    rows = json.loads(mixed.ok("list", "--json", "--limit", "0", now=when))
    window = json.loads(mixed.ok("list", "--json", "--limit", "0", "--due-within", "20h", now=when))
    overdue = {r["id"] for r in json.loads(
        mixed.ok("list", "--json", "--limit", "0", "--overdue", now=when))}  # fmt: skip
    assert overdue & {r["id"] for r in window}, "an overdue case with a deadline still ahead"
    assert len({r["id"] for r in window}) == len(window) <= len(rows)
    result = mixed.run("list", "--json", "--limit", "1", "--due-within", "20h", now=when)
    assert f"(1 of {len(window)} cases shown" in result.stderr


def test_a_day_of_more_customers_than_its_note_counts_is_read(
    mixed: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casectl.index import opendays

    when = "2026-11-26 18:00"
    every = json.loads(mixed.ok("list", "--json", "--limit", "0", "--customer", "招商", now=when))
    monkeypatch.setattr(opendays, "CUSTOMERS", 0)  # every day past the count: none counted
    mixed.ok("log", every[0]["id"], "x", by=every[0]["assignee"], now=when)  # the day noted anew
    result = mixed.run("list", "--json", "--limit", "1", "--customer", "招商", now=when)
    assert json.loads(result.stdout) == json.loads(
        mixed.ok("list", "--json", "--limit", "0", "--customer", "招商", now=when))[:1]  # fmt: skip
    assert f"(1 of {len(every)} cases shown" in result.stderr


def test_overdue_reads_no_day_whose_overdue_cases_are_kept_whole(
    mixed: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casectl.index import Index, opendays

    when = "2026-11-27 09:00"
    every = json.loads(mixed.ok("list", "--json", "--limit", "0", "--overdue", now=when))
    assert len(every) > 2
    read: list[str] = []
    real = Index._read_day
    monkeypatch.setattr(Index, "_read_day", lambda self, day: read.append(day) or real(self, day))
    result = mixed.run("list", "--json", "--limit", "2", "--overdue", now=when)
    assert json.loads(result.stdout) == every[:2] and read == []
    assert f"(2 of {len(every)} cases shown" in result.stderr
    monkeypatch.setattr(opendays, "EARLIEST", 0)  # no case kept whole: every day is read
    for case in every:  # their days' files written again, with nothing kept whole
        mixed.ok("log", case["id"], "跟进", by=case["assignee"], now="2026-11-26 18:30")
    read.clear()
    result = mixed.run("list", "--json", "--limit", "2", "--overdue", now=when)
    assert json.loads(result.stdout)[:2] == json.loads(
        mixed.ok("list", "--json", "--limit", "0", "--overdue", now=when))[:2]  # fmt: skip
    assert read


def test_a_side_file_of_its_older_name_goes_when_the_day_is_written(mixed: Repo) -> None:
    """An index made by an earlier casectl kept `<day>.firsts`: the day's next save
    writes `<day>.deadlines` and removes it."""
    from casectl.store import Store

    days = os.path.join(Store(str(mixed.root)).state_dir, "index-days")
    case = json.loads(mixed.ok("list", "--json", "--limit", "1", now="2026-11-26 18:00"))[0]
    old = os.path.join(days, f"20{case['id'][:2]}-{case['id'][2:4]}-{case['id'][4:6]}.firsts")
    with open(old, "wb") as f:
        f.write(b"an earlier casectl's")
    mixed.ok("log", case["id"], "跟进", by=case["assignee"], now="2026-11-26 18:10")
    mixed.ok("list", now="2026-11-26 18:11")
    assert not os.path.exists(old) and os.path.exists(old.replace(".firsts", ".deadlines"))
