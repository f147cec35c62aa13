"""The case index: trusted while the folders under cases/ are unchanged, never stale after a step."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import Repo, open_args


def settle(repo: Repo) -> None:
    """Age every folder under cases/ as if its last change were an hour ago."""
    past = time.time() - 3600
    for folder, _, _ in os.walk(repo.root / "cases"):
        os.utime(folder, (past, past))


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The case files the index parses, in this process (CliRunner runs in it)."""
    from casectl import index

    seen: list[str] = []
    real = index.read_case

    def spy(path: str):  # type: ignore[no-untyped-def]
        seen.append(os.path.basename(path)[:-5])
        return real(path)

    monkeypatch.setattr(index, "read_case", spy)
    return seen


def test_a_step_is_seen_after_the_folder_was_trusted(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    settle(repo)
    repo.ok("list")  # saves the folders' stamps
    repo.ok("list")  # trusts them
    repo.ok("assign", case_id, "liu.yang")
    [row] = json.loads(repo.ok("list", "--json"))
    assert row["assignee"] == "liu.yang"


@pytest.mark.slow
def test_a_warm_run_parses_only_what_changed(repo: Repo, parsed: list[str]) -> None:
    first = repo.open_case(now="2026-11-25 10:00")
    second = repo.open_case()
    closed = repo.open_case()
    repo.ok("close", closed, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:30")
    settle(repo)
    repo.ok("list")
    assert sorted(parsed) == sorted([first, second, closed])
    parsed.clear()
    repo.ok("list")
    repo.ok("sweep", "--dry-run", by=None)
    assert parsed == []
    repo.ok("log", second, "x", by="zhang.wei", now="2026-11-26 14:40")
    repo.ok("list")
    assert parsed == [second]  # its day's other files are stat-ed, not parsed


def test_new_rules_parse_open_cases_again_but_never_closed_ones(
    repo: Repo, parsed: list[str]
) -> None:
    kept = repo.open_case()
    closed = repo.open_case()
    repo.ok("close", closed, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:30")
    settle(repo)
    repo.ok("list")
    parsed.clear()
    with open(repo.root / "severity.yaml", "a", encoding="utf-8") as f:
        f.write("# a comment changes the file's stamp\n")
    repo.ok("list")
    assert parsed == [kept]
    [row] = json.loads(repo.ok("list", "--status", "closed", "--json"))
    assert row["id"] == closed


def test_a_broken_file_is_reported_on_every_run(repo: Repo) -> None:
    case_id = repo.open_case()
    (repo.case_path(case_id).parent / "261126-BAD00.yaml").write_text(
        "events: 1\n", encoding="utf-8"
    )
    settle(repo)
    for _ in range(3):
        result = repo.run("sweep", now="2026-11-26 14:06", by=None)
        assert result.exit_code == 1
        assert "261126-BAD00.yaml" in result.stderr


def test_a_file_in_the_wrong_folder_is_broken_not_moved(repo: Repo) -> None:
    case_id = repo.open_case()
    wrong = repo.root / "cases" / "2026" / "11" / "27" / f"{case_id}.yaml"
    wrong.parent.mkdir(parents=True)
    wrong.write_bytes(repo.case_path(case_id).read_bytes())
    result = repo.run("list")
    assert result.exit_code == 1 and "belongs in cases/2026/11/26/" in result.stderr
    sweep = repo.run("sweep", by=None)
    assert sweep.exit_code == 1
    assert f"cases/2026/11/27/{case_id}.yaml: case {case_id} belongs in cases/2026/11/26/" in (
        sweep.stderr
    )
    assert wrong.exists() and repo.case_path(case_id).exists()


@pytest.mark.slow
def test_a_symlinked_folder_is_reported_and_never_followed(repo: Repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    case_id = repo.open_case()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "261201-AAAAA.yaml").write_bytes(repo.case_path(case_id).read_bytes())
    (repo.root / "cases" / "2026" / "12").symlink_to(elsewhere)
    for _ in range(2):
        sweep = repo.run("sweep", by=None)
        assert sweep.exit_code == 1
        assert "cases/2026/12 is a symbolic link; casectl does not follow it" in sweep.stderr
    listed = repo.run("list", "--json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [case_id]
    assert listed.exit_code == 1 and "cases/2026/12 is a symbolic link" in listed.stderr
    (repo.root / "cases" / "2026" / "12").unlink()
    assert repo.run("sweep", by=None).exit_code == 0


def test_a_new_severity_yaml_rebuilds_the_index(repo: Repo) -> None:
    repo.open_case(assign=None)
    settle(repo)
    assert json.loads(repo.ok("list", "--json", "--overdue", now="2026-11-26 15:30"))  # reply: 1h
    path = repo.root / "severity.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("reply: 1h", "reply: 2h"), encoding="utf-8"
    )
    assert json.loads(repo.ok("list", "--json", "--overdue", now="2026-11-26 15:30")) == []
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-26 15:30"))
    assert (row["next"], row["due"]) == ("first reply", "2026-11-26T16:05:00+08:00")


@pytest.mark.slow
def test_closed_listing_follows_a_reopen_in_a_trusted_folder(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("close", case_id, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:30")
    settle(repo)
    for _ in range(2):  # saves the folders' stamps, then trusts them
        [row] = json.loads(repo.ok("list", "--status", "closed", "--json"))
        assert row["id"] == case_id
    repo.ok("reopen", case_id, "--reason", "复发", now="2026-11-27 09:00")
    assert json.loads(repo.ok("list", "--status", "closed", "--json")) == []
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-27 09:00"))
    assert (row["id"], row["status"]) == (case_id, "open")


def test_a_deleted_index_is_rebuilt(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("list")
    import shutil

    shutil.rmtree(repo.state)
    [row] = json.loads(repo.ok("list", "--json"))
    assert row["id"] == case_id


def test_a_sweep_with_nothing_due_reads_no_summaries(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from casectl.index import Index

    reads: list[int] = []
    real = Index._read_day
    monkeypatch.setattr(Index, "_read_day", lambda self, day: reads.append(1) or real(self, day))
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    settle(repo)
    repo.ok("list", now="2026-11-26 14:11")
    reads.clear()
    assert repo.ok("sweep", by=None, now="2026-11-26 14:12") == ""
    assert reads == []  # the small index said when the sweep must next look
    assert repo.run("sweep", "--json", by=None, now="2026-11-27 14:12").exit_code == 0
    assert reads  # something fell due: the summaries are read


@pytest.mark.slow
def test_two_runs_saving_at_once_cannot_leave_a_stale_summary(repo: Repo) -> None:
    """The small index names each day file by a token: a day file saved by another run is
    not trusted, its day is read again."""
    case_id = repo.open_case(assign=None)
    settle(repo)
    repo.ok("list")
    day_file = repo.state / "index-days" / "2026-11-26"
    stale = day_file.read_bytes()
    repo.ok("assign", case_id, "liu.yang")
    settle(repo)
    repo.ok("list")
    day_file.write_bytes(stale)  # another run's older save
    [row] = json.loads(repo.ok("list", "--json"))
    assert row["assignee"] == "liu.yang"
    day_file.write_bytes(b"not marshal")  # a run killed while writing it
    [row] = json.loads(repo.ok("list", "--json"))
    assert row["assignee"] == "liu.yang"


@pytest.mark.slow
def test_open_chooses_by_load_from_the_small_index_alone(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from casectl.index import Index

    reads: list[str] = []
    real = Index._read_day
    monkeypatch.setattr(Index, "_read_day", lambda self, day: reads.append(day) or real(self, day))
    for person in ("zhang.wei", "zhang.wei", "liu.yang"):
        repo.open_case(assign=person)
    settle(repo)
    repo.ok("list")
    reads.clear()
    case_id = repo.ok(*open_args(1, "HT-1", "--auto-assign"), now="2026-11-26 14:20")
    assert reads == []  # open cases per engineer are in the day notes
    assert repo.show(case_id)["assignee"] not in ("zhang.wei", "liu.yang")  # the least loaded


def test_what_a_sweep_wrote_is_not_parsed_again(repo: Repo, parsed: list[str]) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    settle(repo)
    repo.ok("list")
    assert repo.ok("sweep", by=None, now="2026-11-26 15:00")  # the callback was missed
    parsed.clear()
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-26 15:01"))
    assert row["id"] == case_id and parsed == []  # the sweep recorded its summary and signature
