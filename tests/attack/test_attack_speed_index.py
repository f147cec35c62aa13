"""Attacks on the per-day index (issue 14): `list --limit N` must be the first N of
`--limit 0` under every filter, and a damaged cache must be rebuilt, not crash a command."""

from __future__ import annotations

import marshal

import pytest
from conftest import Repo, open_args


def table(repo: Repo, *args: str, now: str) -> list[str]:
    result = repo.run("list", *args, now=now)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return [" ".join(row.split()) for row in result.stdout.splitlines()[2:]]  # past the heading


@pytest.fixture
def busy(repo: Repo) -> tuple[Repo, str]:
    """Cases over three months: some opened a day before their id's day (--at last
    night), some closed, some closed in one month and reopened in the next."""
    times = ["2026-09-30 23:58", "2026-10-01 00:05", "2026-10-15 09:00", "2026-10-31 23:59",
             "2026-11-01 00:01", "2026-11-20 10:00", "2026-11-26 00:03"]  # fmt: skip
    ids = []
    for n, now in enumerate(times):
        extra = ["--at", "23:55"] if now.endswith(("00:05", "00:01", "00:03")) else []
        severity = 1 + n % 3
        assign = ["zhang.wei", "liu.yang", None][n % 3]
        assigned = ["--assign", assign] if assign else []
        ids.append(repo.ok(*open_args(severity, "HT-1"), *assigned, *extra, now=now)
                   .replace("\n", " ").split()[0])  # fmt: skip
    close = ["--resolution", "fixed, customer agreed"]
    repo.ok("close", ids[0], *close, by="wang.jianguo", now="2026-10-02 10:00")
    repo.ok("reopen", ids[0], "--reason", "again", by="wang.jianguo", now="2026-11-02 10:00")
    repo.ok("close", ids[2], *close, by="wang.jianguo", now="2026-10-31 23:00")
    repo.ok("close", ids[4], *close, by="wang.jianguo", now="2026-11-21 10:00")
    repo.ok("reopen", ids[4], "--reason", "back", by="wang.jianguo", now="2026-11-22 10:00")
    repo.ok("close", ids[4], *close, "--at", "2026-11-22 11:00", by="wang.jianguo",
            now="2026-11-26 12:00")  # fmt: skip
    return repo, "2026-11-26 14:05"


FILTERS = [[], ["--assignee", "zhang.wei"], ["--severity", "2"], ["--overdue"],
           ["--customer", "招商"], ["--due-within", "2h"]]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("status", ["open", "closed", "all"])
def test_a_limit_is_the_head_of_the_whole_list(busy: tuple[Repo, str], status: str) -> None:
    repo, now = busy
    for chosen in FILTERS:
        whole = table(repo, "--status", status, *chosen, "--limit", "0", now=now)
        for limit in range(1, len(whole) + 2):
            head = table(repo, "--status", status, *chosen, "--limit", str(limit), now=now)
            assert head == whole[:limit], (status, chosen, limit)


@pytest.mark.slow
def test_the_list_after_deleting_the_index_is_the_same(busy: tuple[Repo, str]) -> None:
    import shutil

    repo, now = busy
    before = {s: table(repo, "--status", s, "--limit", "0", now=now) for s in ("open", "all")}
    shutil.rmtree(repo.state)
    after = {s: table(repo, "--status", s, "--limit", "0", now=now) for s in ("open", "all")}
    assert before == after


def _touch_cases(repo: Repo) -> None:
    """Someone's step in the day's folder: the index must look at the day again."""
    repo.open_case(now="2026-11-26 14:20")


def test_a_folder_where_a_day_file_belongs_is_rebuilt_not_a_traceback(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("list")
    for day_file in (repo.state / "index-days").iterdir():  # the day's, and its deadlines'
        day_file.unlink()
        day_file.mkdir()
    _touch_cases(repo)
    for args in (["list"], ["sweep"], ["list", "--overdue", "--limit", "1"]):
        result = repo.run(*args, now="2026-11-26 14:21")
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert result.exit_code == 0, args
    assert case_id in repo.ok("list", now="2026-11-26 14:21")


@pytest.mark.parametrize("notes", ["short", "not-a-dict"])
def test_a_garbled_small_index_file_is_rebuilt_not_a_traceback(repo: Repo, notes: str) -> None:
    case_id = repo.open_case()
    repo.ok("list")
    path = repo.state / "index"
    header, dirs, broken, saved, heads = marshal.loads(path.read_bytes())
    garbled = {d: n[:3] for d, n in saved.items()} if notes == "short" else [1, 2]
    path.write_bytes(marshal.dumps((header, dirs, broken, garbled, heads)))
    result = repo.run("list")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert case_id in result.stdout
