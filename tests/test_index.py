"""The open-case index: trusted while cases/open/ is unchanged, never stale after a step."""

from __future__ import annotations

import json
import os
import time

from conftest import Repo


def settle(repo: Repo) -> None:
    """Age cases/open/ as if its last change were an hour ago."""
    folder = repo.root / "cases" / "open"
    past = time.time() - 3600
    os.utime(folder, (past, past))


def test_a_step_is_seen_after_the_folder_was_trusted(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    settle(repo)
    repo.ok("list")  # saves the folder's stamp
    repo.ok("list")  # trusts it
    repo.ok("assign", case_id, "liu.yang")
    [row] = json.loads(repo.ok("list", "--json"))
    assert row["assignee"] == "liu.yang"


def test_a_broken_file_is_reported_on_every_run(repo: Repo) -> None:
    repo.open_case()
    (repo.root / "cases" / "open" / "261126-BAD00.yaml").write_text("events: 1\n", encoding="utf-8")
    settle(repo)
    for _ in range(3):
        result = repo.run("sweep", now="2026-11-26 14:06", by=None)
        assert result.exit_code == 1
        assert "261126-BAD00.yaml" in result.stderr


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


def test_closed_listing_follows_a_reopen_out_of_a_trusted_folder(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("close", case_id, "--resolution", "ok", by="zhang.wei", now="2026-11-26 14:30")
    month = repo.root / "cases" / "closed" / "2026" / "11"
    past = time.time() - 3600
    os.utime(month, (past, past))
    for _ in range(2):  # saves the folder's stamp, then trusts it
        [row] = json.loads(repo.ok("list", "--status", "closed", "--json"))
        assert row["id"] == case_id
    repo.ok("reopen", case_id, "--reason", "复发", now="2026-11-27 09:00")
    assert json.loads(repo.ok("list", "--status", "closed", "--json")) == []
    [row] = json.loads(repo.ok("list", "--json", now="2026-11-27 09:00"))
    assert (row["id"], row["status"]) == (case_id, "open")
