# ruff: noqa: F811 - the servers are fixtures, imported by name
"""The outbox's promises, with real processes: two sweeps at once send once; a SIGKILL
between sending and recording sends again (at least once, at most twice, never zero);
a message failing for 24 hours is reported to the manager and dropped."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import Repo
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401

pytestmark = pytest.mark.slow


def casectl(repo: Repo, *args: str, now: str) -> subprocess.Popen[str]:
    env = dict(os.environ, CASECTL_NOW=now, CASECTL_USER="li.na")
    return subprocess.Popen(
        [sys.executable, "-m", "casectl", "--repo", str(repo.root), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def received(server: SmtpServer) -> list[tuple[str, str]]:
    """(recipient, Message-ID) of every message, sorted."""
    return sorted((rcpt[0], str(msg["Message-ID"])) for rcpt, msg in server.box.received)


def test_two_sweeps_at_once_send_once(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp)
    for _ in range(3):
        repo.open_case(now="2026-11-26 14:05")
    before = len(smtp.box.received)
    sweeps = [casectl(repo, "sweep", now="2026-11-26 14:50") for _ in range(2)]
    for sweep in sweeps:
        out, err = sweep.communicate(timeout=60)
        assert sweep.returncode == 0, err
    new = sorted(address for (rcpt, _) in smtp.box.received[before:] for address in rcpt)
    assert new == [  # one digest each: old and new engineer, duty engineer, manager
        "li.na@example.com", "liu.yang@example.com", "wang.jianguo@example.com",
        "zhang.wei@example.com",
    ]  # fmt: skip


def test_a_kill_between_sending_and_recording_sends_again_once(
    repo: Repo, smtp: SmtpServer
) -> None:
    """The server has the message when the sweep dies, before it can mark it sent: the
    next run sends it again, with the same Message-ID (mail systems may fold the two)."""
    use_email(repo, smtp)
    case_id = repo.open_case(now="2026-11-26 14:05")
    sweep = casectl(repo, "sweep", now="2026-11-26 14:20")
    smtp.box.kill = sweep.pid  # killed on receiving its first message, before the 250
    sweep.communicate(timeout=60)
    assert sweep.returncode == -9
    assert [e["type"] for e in repo.show(case_id)["events"]][-1] == "check"  # recorded first
    assert [a for a, _ in received(smtp)].count("li.na@example.com") == 1
    repo.ok("notify", "flush", now="2026-11-26 14:21")
    repo.ok("notify", "flush", now="2026-11-26 14:30")
    repo.ok("sweep", now="2026-11-26 14:31")
    duty = [m for a, m in received(smtp) if a == "li.na@example.com"]
    assert len(duty) == 2 and duty[0] == duty[1]  # twice, never zero, never three times


def test_a_kill_before_the_case_is_written_sends_nothing(repo: Repo, smtp: SmtpServer) -> None:
    """A message queued for a step that never reached the case file is dropped, not sent."""
    use_email(repo, smtp)
    case_id = repo.open_case(assign=None)
    path = repo.case_path(case_id)
    before = path.read_bytes()
    smtp.stop()
    assert repo.run("assign", case_id, "zhao.lei").exit_code == 3  # queued, written, not sent
    path.write_bytes(before)  # as if the step had died before its write (or was rolled back)
    smtp.start()
    result = repo.run("notify", "flush", now="2026-11-26 14:06")
    assert result.exit_code == 0
    assert "dropped 1 messages: event" in result.stderr
    assert "the step was never recorded" in result.stderr
    assert smtp.box.received == []
    log = (repo.state / "outbox" / "log").read_text(encoding="utf-8")
    assert "dropped" in log


def test_a_message_failing_for_24_hours_is_reported_to_the_manager(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    smtp.stop()
    case_id = repo.open_case(assign=None)
    assert repo.run("assign", case_id, "zhao.lei", now="2026-11-26 14:05").exit_code == 3
    assert repo.run("notify", "flush", now="2026-11-27 14:04").exit_code == 3  # 23h59m: retried
    smtp.start()
    smtp.box.refuse.add("zhao.lei@example.com")
    result = repo.run("notify", "flush", now="2026-11-27 14:06")
    assert "gave up on 1 messages undelivered too long" in result.stderr
    (report,) = smtp.box.to("wang.jianguo@example.com")
    assert "未送达 not delivered for 1d" in str(report["Subject"])
    assert "zhao.lei by email" in str(report["Subject"])
    assert f"{case_id} 分配给你" in smtp.box.body(report)
    assert smtp.box.to("zhao.lei@example.com") == []
    log = (repo.state / "outbox" / "log").read_text(encoding="utf-8")
    assert "expired" in log and "zhao.lei" in log
    assert repo.ok("notify", "status", now="2026-11-27 14:07").startswith(
        "channels: email (email)\npending: 0"
    )


def test_notify_test_sends_at_once(repo: Repo, smtp: SmtpServer) -> None:
    no_channel = repo.run("notify", "test", "--to", "zhang.wei")
    assert no_channel.exit_code == 1
    assert "no notification channel is configured in this clone" in no_channel.stderr
    use_email(repo, smtp)
    assert repo.ok("notify", "test", "--to", "zhang.wei") == "sent to zhang.wei by email"
    (msg,) = smtp.box.to("zhang.wei@example.com")
    assert "测试消息" in str(msg["Subject"])
    result = repo.run("notify", "test", "--to", "zhang.wei", "--channel", "wecom")
    assert result.exit_code == 1 and "configured: email" in result.stderr
    smtp.stop()
    result = repo.run("notify", "test", "--to", "zhang.wei")
    assert (
        result.exit_code == 1 and "test message not delivered: email: 127.0.0.1:" in result.stderr
    )
