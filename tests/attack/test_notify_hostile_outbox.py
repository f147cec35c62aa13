# ruff: noqa: F811 - the servers are fixtures, imported by name
"""Nothing read from the outbox is trusted (issue 19): each file is opened without following
a link, must be a regular file of bounded size, and an item must match its schema and the
MAC of what casectl composed. A bad one is quarantined with one line on stderr, the good
ones are delivered to the real SMTP server; no traceback, no hang (20 s per command)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, open_args
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401

from casectl.store import Store

pytestmark = pytest.mark.slow

ZHANG, ZHAO = "zhang.wei@example.com", "zhao.lei@example.com"
LATER = "2026-11-26 14:07"


def cli(repo: Repo, *args: str, now: str = LATER) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, killed (and the test failed) after 20 s."""
    env = dict(os.environ, CASECTL_NOW=now, CASECTL_USER="li.na")
    return subprocess.run(
        [sys.executable, "-m", "casectl", "--repo", str(repo.root), *args],
        env=env, capture_output=True, text=True, timeout=20,
    )  # fmt: skip


def outbox(repo: Repo) -> Path:
    return Path(Store(str(repo.root)).state_dir) / "outbox"


def two_pending(repo: Repo, smtp: SmtpServer) -> dict[str, Path]:
    """Two cases assigned while the mail server is down: one pending item each, by address."""
    use_email(repo, smtp)
    smtp.stop()
    for engineer in ("zhang.wei", "zhao.lei"):
        result = repo.run(*open_args(1, "HT-1", "--assign", engineer, "--description", engineer))
        assert result.exit_code == 3, result.output
    smtp.start()
    found = {}
    for path in (outbox(repo) / "pending").iterdir():
        item = json.loads(path.read_text(encoding="utf-8"))
        found[f"{item['person']}@example.com"] = path
    assert sorted(found) == [ZHANG, ZHAO]
    return found


def quarantined(repo: Repo) -> list[str]:
    return sorted(p.name for p in (outbox(repo) / "quarantine").iterdir())


def delivered_and_said(repo: Repo, smtp: SmtpServer, expected: list[str]) -> str:
    """`notify flush` ends by itself, with no traceback, and the good items reach the server
    exactly once; the one line about the bad file is returned."""
    result = cli(repo, "notify", "flush")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert sorted(a for rcpt, _ in smtp.box.received for a in rcpt) == expected
    lines = [line for line in result.stderr.splitlines() if "quarantined" in line]
    assert len(lines) == 1, result.stderr
    assert cli(repo, "notify", "flush", now="2026-11-26 14:09").returncode == 0  # nothing again
    assert len(smtp.box.received) == len(expected)
    return lines[0]


def edited(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    item = json.loads(path.read_text(encoding="utf-8"))
    change(item)
    path.write_text(json.dumps(item), encoding="utf-8")


BAD_ITEMS: dict[str, Callable[[dict[str, Any]], None]] = {
    "first_failure: yesterday": lambda i: i.update(first_failure="yesterday"),
    "missing part.title": lambda i: i["part"].pop("title"),
    "part.lines: 5": lambda i: i["part"].update(lines=5),
    "part.case as a list": lambda i: i["part"].update(case=["261126-AAAAA"]),
    "key ../../x": lambda i: i.update(key="../../x"),
    "case ../../x": lambda i: i.update(case="../../x"),
    "attempts as text": lambda i: i.update(attempts="many"),
    "unknown field": lambda i: i.update(command="rm -rf /"),
}


@pytest.mark.parametrize("name", list(BAD_ITEMS))
def test_an_item_off_its_schema_is_quarantined_and_the_rest_delivered(
    repo: Repo, smtp: SmtpServer, name: str
) -> None:
    items = two_pending(repo, smtp)
    edited(items[ZHAO], BAD_ITEMS[name])
    line = delivered_and_said(repo, smtp, [ZHANG])
    assert line.startswith(f"casectl: outbox file {items[ZHAO].name} quarantined: ")
    assert quarantined(repo) == [q for q in quarantined(repo) if q.startswith(items[ZHAO].name)]
    assert len(quarantined(repo)) == 1
    assert not items[ZHAO].exists()


def test_a_fifo_item_is_never_opened(repo: Repo, smtp: SmtpServer) -> None:
    items = two_pending(repo, smtp)
    fifo = items[ZHANG].parent / ("f" * 32 + ".json")
    os.mkfifo(fifo)
    line = delivered_and_said(repo, smtp, [ZHANG, ZHAO])
    assert "quarantined: a FIFO" in line
    assert not fifo.exists() and len(quarantined(repo)) == 1


def test_an_item_linked_to_dev_zero_is_never_read(repo: Repo, smtp: SmtpServer) -> None:
    items = two_pending(repo, smtp)
    (items[ZHANG].parent / ("0" * 32 + ".json")).symlink_to("/dev/zero")
    line = delivered_and_said(repo, smtp, [ZHANG, ZHAO])
    assert "quarantined: a symbolic link" in line


def test_a_huge_item_is_not_read_whole(repo: Repo, smtp: SmtpServer) -> None:
    items = two_pending(repo, smtp)
    (items[ZHANG].parent / ("1" * 32 + ".json")).write_bytes(b" " * (1 << 20))
    line = delivered_and_said(repo, smtp, [ZHANG, ZHAO])
    assert "larger than" in line


def test_text_casectl_did_not_compose_is_never_mailed(repo: Repo, smtp: SmtpServer) -> None:
    """An item in the schema's shape, but its text changed: its MAC no longer matches."""
    items = two_pending(repo, smtp)
    phishing = "URGENT: your VPN password expires, log in at http://evil.example/login"
    edited(items[ZHAO], lambda i: i["part"].update(title=phishing))
    line = delivered_and_said(repo, smtp, [ZHANG])
    assert "not composed by casectl in this clone" in line
    assert all("evil.example" not in str(m) for _, m in smtp.box.received)


def test_a_file_named_as_a_command_is_logged_as_one_escaped_line(
    repo: Repo, smtp: SmtpServer
) -> None:
    items = two_pending(repo, smtp)
    name = "x;echo\nevil|sh;#.json"
    (items[ZHANG].parent / name).write_text("{}", encoding="utf-8")
    line = delivered_and_said(repo, smtp, [ZHANG, ZHAO])
    assert "x;echo\\x0aevil|sh;#.json" in line
    log = (outbox(repo) / "log").read_text(encoding="utf-8").splitlines()
    assert all(entry[:4].isdigit() for entry in log)  # each line an entry, with its time
    assert any("x;echo\\x0aevil" in entry for entry in log)
    assert all(";" not in q for q in quarantined(repo))  # never used as a path as it was


def test_links_where_the_log_and_markers_go_are_never_written_through(
    repo: Repo, smtp: SmtpServer, tmp_path: Path
) -> None:
    items = two_pending(repo, smtp)
    target = tmp_path / "outside"
    target.write_text("mine\n", encoding="utf-8")
    log = outbox(repo) / "log"
    log.unlink()
    log.symlink_to(target)
    key = items[ZHAO].name.removesuffix(".json")
    (outbox(repo) / "sent" / key).symlink_to(target)  # a link does not mark it sent
    result = cli(repo, "notify", "flush")
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert sorted(a for rcpt, _ in smtp.box.received for a in rcpt) == [ZHANG, ZHAO]
    assert not log.is_symlink() and "sent" in log.read_text(encoding="utf-8")


def test_the_outbox_folder_as_a_file_is_moved_aside(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case(assign=None)
    folder = outbox(repo)
    shutil.rmtree(folder)
    folder.write_text("not a folder", encoding="utf-8")
    result = cli(repo, "assign", case_id, "zhao.lei")
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert "not a folder: moved to" in line
    assert folder.is_dir()
    assert [a for rcpt, _ in smtp.box.received for a in rcpt] == [ZHAO]


def test_a_sweep_with_a_fifo_in_the_outbox_reassigns_and_tells(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    repo.open_case(assign="zhang.wei")
    pending = outbox(repo) / "pending"
    os.mkfifo(pending / ("e" * 32 + ".json"))
    result = cli(repo, "sweep", now="2026-11-26 14:50")
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr
    assert "quarantined: a FIFO" in result.stderr
    assert "liu.yang@example.com" in [a for rcpt, _ in smtp.box.received for a in rcpt]


def test_check_names_what_delivery_would_quarantine_and_moves_nothing(
    repo: Repo, smtp: SmtpServer
) -> None:
    items = two_pending(repo, smtp)
    fifo = items[ZHANG].parent / ("f" * 32 + ".json")
    os.mkfifo(fifo)
    edited(items[ZHAO], BAD_ITEMS["part.lines: 5"])
    result = cli(repo, "check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    said = result.stdout + result.stderr
    assert f"{fifo.name}: a FIFO" in said
    assert f"{items[ZHAO].name}: field `part.lines` is not a list" in said
    assert f"{items[ZHANG].name}:" not in said  # the good item is not named
    assert fifo.exists() and items[ZHAO].exists()  # nothing moved
