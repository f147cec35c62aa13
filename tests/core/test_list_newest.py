"""`list` reads only the days and months that hold the newest cases, and shows exactly what
a full read would: the same cases, the same order, the same total."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow


def settle(repo: Repo) -> None:
    """Age every folder under cases/ as if its last change were an hour ago."""
    past = time.time() - 3600
    for folder, _, _ in os.walk(repo.root / "cases"):
        os.utime(folder, (past, past))


@pytest.fixture
def spread(repo: Repo) -> Repo:
    """Eight cases over four days, three of them closed."""
    made = []
    for day in ("20", "22", "24", "26"):
        for hour in ("09:00", "11:00"):
            made.append(repo.open_case(now=f"2026-11-{day} {hour}"))
    for case_id in (made[0], made[3], made[6]):
        repo.ok("close", case_id, "--resolution", "客户同意关闭", by="zhang.wei")
    settle(repo)
    repo.ok("list")
    return repo


def ids(repo: Repo, *args: str) -> list[str]:
    return [row["id"] for row in json.loads(repo.ok("list", "--json", *args))]


@pytest.mark.parametrize("status", ["open", "closed", "all"])
def test_the_newest_n_are_the_first_n_of_all(spread: Repo, status: str) -> None:
    every = ids(spread, "--status", status, "--limit", "0")
    assert len(every) == {"open": 5, "closed": 3, "all": 8}[status]
    for n in range(1, len(every) + 2):
        assert ids(spread, "--status", status, "--limit", str(n)) == every[:n]
        result = spread.run("list", "--status", status, "--limit", str(n))
        shown = f"({n} of {len(every)} cases shown" if n < len(every) else ""
        assert shown in result.stderr and ("shown" in result.stderr) == bool(shown)


def test_list_reads_only_the_newest_days(spread: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from casectl.index import Index

    read: list[str] = []
    real = Index._read_day
    monkeypatch.setattr(Index, "_read_day", lambda self, day: read.append(day) or real(self, day))
    [newest] = ids(spread, "--limit", "1")
    assert read == ["2026/11/26"]
    read.clear()
    assert len(ids(spread, "--limit", "3")) == 3
    assert read == ["2026/11/26", "2026/11/24"]  # 11/26 has one open case, 11/24 two
    read.clear()
    filtered = ids(spread, "--assignee", "zhang.wei")
    assert sorted(read) == [f"2026/11/{d}" for d in (20, 22, 24, 26)]  # all fit the limit
    assert filtered == ids(spread, "--limit", "0")
    read.clear()
    assert ids(spread, "--assignee", "zhang.wei", "--limit", "1") == [newest]
    assert read == ["2026/11/26"]  # the notes count each engineer's cases per day
    read.clear()
    assert ids(spread, "--customer", "招商", "--limit", "1") == [newest]
    assert read == ["2026/11/26"]  # and each customer's
    read.clear()
    window = ids(spread, "--due-within", "1h", "--limit", "0")
    read.clear()
    assert ids(spread, "--due-within", "1h", "--limit", "1") == window[:1]
    assert len(read) == (1 if window else 0)  # each day's deadlines file counts the window


def test_a_case_opened_later_than_its_folder_says_is_still_ordered_by_opening(
    spread: Repo,
) -> None:
    """A hand-made (or pushed) case whose opening is later than its id's day: the day's
    note keeps its newest opening, so it is found and shown first."""
    old = spread.open_case(now="2026-11-18 09:00")
    path = spread.case_path(old)
    path.write_text(path.read_text(encoding="utf-8").replace("2026-11-18T09:", "2026-11-26T13:"))
    settle(spread)
    assert ids(spread, "--limit", "1") == [old]
    assert ids(spread, "--limit", "2") == ids(spread, "--limit", "0")[:2]


def test_a_count_from_the_notes_follows_steps_and_closes(spread: Repo) -> None:
    newest = ids(spread, "--limit", "1")[0]
    spread.ok("close", newest, "--resolution", "客户同意关闭", by="zhang.wei")
    assert newest not in ids(spread, "--limit", "1")
    assert ids(spread, "--status", "closed", "--limit", "1") == [newest]
    result = spread.run("list", "--limit", "1")
    assert "(1 of 4 cases shown" in result.stderr
    spread.ok("reopen", newest, "--reason", "客户说又坏了", by="zhang.wei")
    assert ids(spread, "--limit", "1") == [newest]
    assert "(1 of 5 cases shown" in spread.run("list", "--limit", "1").stderr
