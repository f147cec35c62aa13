"""A step notes the file it wrote (index-changes): the next run reads that file alone, not
every file of its day, and anything else that changed the day still has it read whole."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import Repo


def settle(repo: Repo) -> None:
    """Age every folder under cases/ as if its last change were an hour ago."""
    past = time.time() - 3600
    for folder, _, _ in os.walk(repo.root / "cases"):
        os.utime(folder, (past, past))


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Each listing of a day's files by the index in this process: (day, only those names)."""
    from casectl.index import folders

    seen: list[tuple[str, object]] = []
    real = folders.files

    def spy(folder: str, only=None):  # type: ignore[no-untyped-def]
        seen.append((folder.rsplit("cases/", 1)[-1], None if only is None else sorted(only)))
        return real(folder, only)

    monkeypatch.setattr("casectl.index.files", spy)
    return seen


@pytest.fixture
def day(repo: Repo) -> tuple[Repo, list[str]]:
    made = [repo.open_case(now=f"2026-11-26 1{i}:00") for i in range(4)]
    settle(repo)
    repo.ok("list", now="2026-11-26 14:30")
    repo.ok("list", now="2026-11-26 14:30")
    return repo, made


def test_after_a_step_only_its_file_is_read(day: tuple[Repo, list[str]], stats: list) -> None:
    repo, made = day
    repo.ok("log", made[1], "已联系客户", by="zhang.wei", now="2026-11-26 14:31")
    stats.clear()
    rows = json.loads(repo.ok("list", "--json", now="2026-11-26 14:32"))
    assert stats == [("2026/11/26", [f"{made[1]}.yaml"])]  # not every file of the day
    assert len(rows) == 4
    assert repo.show(made[1])["events"][-1]["text"] == "已联系客户"
    stats.clear()
    repo.ok("list", now="2026-11-26 14:33")
    assert stats == []  # the day is known again


def test_a_change_beside_a_step_has_the_day_read_whole(
    day: tuple[Repo, list[str]], stats: list
) -> None:
    """Someone else's write into the day (a pull, an editor) after a step: the lines do
    not lead to the folder's stamp, so every file of the day is looked at."""
    repo, made = day
    repo.ok("log", made[1], "已联系客户", by="zhang.wei", now="2026-11-26 14:31")
    path = repo.case_path(made[2])
    text = path.read_text(encoding="utf-8").replace("招商银行", "中国银行")
    tmp = path.with_name(".edit.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # as git and editors write: a new inode, renamed into place
    stats.clear()
    rows = {r["id"]: r for r in json.loads(repo.ok("list", "--json", now="2026-11-26 14:32"))}
    assert stats == [("2026/11/26", None)]
    assert rows[made[2]]["customer"] == "中国银行"


def test_a_changes_file_that_lies_cannot_hide_a_write(
    day: tuple[Repo, list[str]], stats: list
) -> None:
    """Lines naming a file that was not written, or a stamp the folder never had, and a
    replaced file the lines do not name: the names and inodes still show the write."""
    repo, made = day
    from casectl.store import Store

    state = Store(str(repo.root)).state_dir
    path = repo.case_path(made[3])
    before = os.lstat(path.parent)
    text = path.read_text(encoding="utf-8").replace("招商银行", "中国银行")
    tmp = path.with_name(".edit.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    after = os.lstat(path.parent)
    with open(os.path.join(state, "index-changes"), "a", encoding="utf-8") as f:
        f.write(f"cases/2026/11/26 {before.st_ino} {before.st_mtime_ns} "
                f"{after.st_ino} {after.st_mtime_ns} {made[0]}.yaml\n")  # fmt: skip
        f.write("garbage line\n")
    rows = {r["id"]: r for r in json.loads(repo.ok("list", "--json", now="2026-11-26 14:32"))}
    assert rows[made[3]]["customer"] == "中国银行"
    assert ("2026/11/26", None) in stats


def test_the_changes_file_is_started_again_once_large(repo: Repo) -> None:
    from casectl.store import Store

    case_id = repo.open_case()
    path = os.path.join(Store(str(repo.root)).state_dir, "index-changes")
    with open(path, "a", encoding="utf-8") as f:
        f.write("cases/2026/11/26 1 2 3 4 x.yaml\n" * 3000)  # 96 KB: no run read it
    repo.ok("log", case_id, "x", by="zhang.wei", now="2026-11-26 14:31")
    repo.ok("list", now="2026-11-26 14:32")
    assert not os.path.exists(path)
