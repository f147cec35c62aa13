# ruff: noqa: F811 - the servers are fixtures, imported by name
"""Notifications by e-mail, against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import Repo
from notify_servers import SmtpServer, git_config, smtp, tracked_files, use_email  # noqa: F401

pytestmark = pytest.mark.slow

MANAGER, DUTY = "wang.jianguo@example.com", "li.na@example.com"
ZHANG, LIU = "zhang.wei@example.com", "liu.yang@example.com"


def counts(server: SmtpServer) -> dict[str, int]:
    found: dict[str, int] = {}
    for rcpt, _ in server.box.received:
        for address in rcpt:
            found[address] = found.get(address, 0) + 1
    return found


def test_the_service_rules_timeline_tells_each_person_once(repo: Repo, smtp: SmtpServer) -> None:
    """Open and assign (the engineer), checks at 15 and 30 (the duty engineer), the
    reassignment at 45 (new engineer, old one, duty engineer, manager): each once."""
    use_email(repo, smtp)
    case_id = repo.open_case(now="2026-11-26 14:05")
    assert counts(smtp) == {ZHANG: 1}
    (assigned,) = smtp.box.to(ZHANG)
    assert assigned["Subject"] == f"[casectl] {case_id} 分配给你 assigned to you: 招商银行"
    body = smtp.box.body(assigned)
    assert "联系人 contact: 刘先生 13800000000" in body
    assert "请在 2026-11-26 14:50 前回电客户" in body
    assert f'casectl log {case_id} "已电话联系客户" --callback --by zhang.wei' in body

    assert repo.ok("sweep", now="2026-11-26 14:20") == ""  # told directly: cron mails nothing
    assert counts(smtp) == {ZHANG: 1, DUTY: 1}
    assert "zhang.wei has not called the customer back yet" in smtp.box.body(smtp.box.to(DUTY)[0])
    repo.ok("sweep", now="2026-11-26 14:35")
    assert counts(smtp) == {ZHANG: 1, DUTY: 2}
    repo.ok("sweep", now="2026-11-26 14:50")
    assert counts(smtp) == {ZHANG: 2, DUTY: 3, LIU: 1, MANAGER: 1}
    (new_engineer,) = smtp.box.to(LIU)
    assert "分配给你" in new_engineer["Subject"]
    assert "刘先生 13800000000" in smtp.box.body(new_engineer)
    assert "reassigned to liu.yang" in smtp.box.body(smtp.box.to(MANAGER)[0])

    repo.ok("sweep", now="2026-11-26 14:50")
    repo.ok("sweep", now="2026-11-26 14:52")
    repo.ok("notify", "flush", now="2026-11-26 14:53")
    assert counts(smtp) == {ZHANG: 2, DUTY: 3, LIU: 1, MANAGER: 1}
    assert json.loads(repo.ok("notify", "status", "--json"))["pending"] == []


def test_mail_is_utf8_dated_and_threaded_per_case(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("sweep", now="2026-11-26 14:50")
    first, second = smtp.box.to(ZHANG)
    for msg in (first, second):
        assert msg["Date"]
        assert re.fullmatch(r"<[0-9a-f]{32}@support\.example\.com>", msg["Message-ID"])
        assert msg["In-Reply-To"] == f"<{case_id}.case@support.example.com>"
        assert msg["References"] == f"<{case_id}.case@support.example.com>"
        assert str(msg["To"]) == "张伟 <zhang.wei@example.com>"
        assert msg.get_content_charset() == "utf-8"
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Date"] == "Thu, 26 Nov 2026 14:05:00 +0800"
    assert "招商银行" in first["Subject"]  # decoded back from RFC 2047
    assert "阵列控制器离线" in smtp.box.body(first)


def test_assign_tells_the_new_engineer_with_the_contact(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case(assign=None)
    assert smtp.box.received == []  # nobody to tell yet
    repo.ok("assign", case_id, "zhao.lei")
    (msg,) = smtp.box.to("zhao.lei@example.com")
    assert f"casectl log {case_id}" in smtp.box.body(msg)
    assert "刘先生 13800000000" in smtp.box.body(msg)


def test_server_down_records_exits_3_and_the_next_sweep_delivers_once(
    repo: Repo,
    smtp: SmtpServer,
) -> None:
    use_email(repo, smtp)
    smtp.stop()
    result = repo.run("open", "--customer", "招商银行", "--contact", "刘先生 13800000000", "--contract", "HT-1",
                      "--severity", "1", "--description", "阵列控制器离线", "--assign", "zhang.wei")  # fmt: skip
    assert result.exit_code == 3, result.output
    case_id = result.stdout.strip()
    assert repo.show(case_id)["assignee"] == "zhang.wei"  # recorded all the same
    lines = [line for line in result.stderr.splitlines() if line.startswith("casectl:")]
    assert len(lines) == 1
    assert "recorded, but 1 of 1 messages not delivered" in lines[0]
    assert "do not repeat the step" in lines[0]
    result = repo.run("sweep", now="2026-11-26 14:20")  # still down: the check is recorded too
    assert result.exit_code == 3
    assert "2 of 2 messages not delivered" in result.stderr
    assert repo.show(case_id)["deadlines"][0]["state"] == "met"  # check 15m made
    status = json.loads(repo.ok("notify", "status", "--json", now="2026-11-26 14:21"))
    assert [(p["person"], p["attempts"]) for p in status["pending"]] == [
        ("zhang.wei", 2),
        ("li.na", 1),
    ]
    assert "Connection refused" in status["pending"][0]["last_error"]
    smtp.start()
    assert repo.run("sweep", now="2026-11-26 14:25").exit_code == 0
    assert counts(smtp) == {ZHANG: 1, DUTY: 1}
    repo.ok("sweep", now="2026-11-26 14:30")
    assert counts(smtp) == {ZHANG: 1, DUTY: 1}


def test_a_refused_recipient_does_not_hold_back_the_others(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp)
    smtp.box.refuse.add(DUTY)
    repo.open_case(now="2026-11-26 14:05")
    result = repo.run("sweep", now="2026-11-26 14:50")
    assert result.exit_code == 3
    assert "li.na@example.com refused: 550" in result.stderr
    assert counts(smtp) == {ZHANG: 2, LIU: 1, MANAGER: 1}


def test_a_backlog_goes_out_as_one_digest_per_person(repo: Repo, smtp: SmtpServer) -> None:
    """Four hours with the server down: every sweep's news waits; then one message each."""
    use_email(repo, smtp)
    smtp.stop()
    cases = [repo.run(*_open(f"阵列控制器离线 {n}"), now="2026-11-26 14:05") for n in range(3)]
    assert all(r.exit_code == 3 for r in cases)
    for minute in range(10, 240, 5):
        hour, rest = divmod(14 * 60 + 5 + minute, 60)
        repo.run("sweep", now=f"2026-11-26 {hour:02d}:{rest:02d}")
    pending = json.loads(repo.ok("notify", "status", "--json", now="2026-11-26 18:05"))["pending"]
    assert len(pending) > 20
    smtp.start()
    repo.ok("notify", "flush", now="2026-11-26 18:06")
    people = counts(smtp)
    assert people and set(people.values()) == {1}
    assert len(smtp.box.received) == len({p["person"] for p in pending})
    digest = smtp.box.to(DUTY)[0]
    assert "条通知 notices" in digest["Subject"]
    refs = digest["References"].split()
    assert len(refs) == 3  # one thread root per case


def _open(description: str = "阵列控制器离线") -> list[str]:
    """An intake; the same one typed again within minutes is a retry of one case."""
    return ["open", "--customer", "招商银行", "--contact", "刘先生 13800000000", "--contract", "HT-1",
            "--severity", "1", "--description", description, "--assign", "zhang.wei"]  # fmt: skip


def test_the_interval_holds_back_a_second_message_until_it_passes(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp, interval="10m")
    case_id = repo.open_case(now="2026-11-26 14:05")
    repo.ok("assign", case_id, "zhao.lei", now="2026-11-26 14:06")
    repo.ok("assign", case_id, "zhang.wei", now="2026-11-26 14:07")
    assert counts(smtp) == {ZHANG: 1, "zhao.lei@example.com": 1}
    repo.ok("notify", "flush", now="2026-11-26 14:10")
    assert counts(smtp)[ZHANG] == 1
    repo.ok("notify", "flush", now="2026-11-26 14:15")
    assert counts(smtp)[ZHANG] == 2


def test_no_secret_lands_in_a_tracked_file(repo: Repo, smtp: SmtpServer) -> None:
    """With a login whose password comes from the environment, after a day's run."""
    password = "s3cret-Pa55word-4711"
    use_email(repo, smtp)
    git_config(
        repo,
        ("casectl.email.user", "casectl"),
        ("casectl.email.password-env", "CASECTL_SMTP_PASSWORD"),
    )
    env = {"CASECTL_SMTP_PASSWORD": password}
    result = repo.run(*_open(), env=env)  # aiosmtpd offers no AUTH without TLS: refused
    assert result.exit_code == 3
    repo.run("sweep", now="2026-11-26 14:50", env=env)
    subprocess.run(["git", "-C", str(repo.root), "add", "-A"], check=True)
    for path in tracked_files(repo.root):
        assert password.encode() not in path.read_bytes(), path
    for path in (repo.state).rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    assert ".casectl" not in " ".join(str(p) for p in tracked_files(repo.root))


def test_a_command_without_channels_imports_nothing_of_notify(repo: Repo) -> None:
    code = (
        "import sys; from casectl.cli import cli\n"
        "try: cli(['--repo', sys.argv[1], 'assign', sys.argv[2], 'zhao.lei'])\n"
        "except SystemExit: pass\n"
        "heavy = {'smtplib', 'email', 'hmac', 'urllib', 'http.client', 'ssl'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy"
        " or (m.startswith('casectl.notify.'))))\n"
    )
    case_id = repo.open_case(assign=None)
    env = {"CASECTL_NOW": "2026-11-26 14:05", "CASECTL_USER": "li.na", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code, str(repo.root), case_id], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    said, imported = done.stdout.strip().splitlines()
    assert "assigned to zhao.lei" in said
    assert imported == "[]"


def test_a_mailbox_refused_for_good_is_not_retried_and_the_manager_is_told(
    repo: Repo, smtp: SmtpServer
) -> None:
    """550 no such user: the engineer's message is not retried by every sweep for a day;
    the step says so at once, and the manager is told to reach them another way."""
    use_email(repo, smtp)
    smtp.box.refuse.add(ZHANG)
    result = repo.run(*_open("阵列控制器离线 refused"), now="2026-11-26 14:05")
    assert result.exit_code == 3
    assert "refused for good (email: zhang.wei@example.com refused: 550" in result.stderr
    assert "the manager is told" in result.stderr
    status = json.loads(repo.ok("notify", "status", "--json", now="2026-11-26 14:06"))
    assert not [i for i in status["pending"] if i["person"] == "zhang.wei"]
    repo.ok("notify", "flush", now="2026-11-26 14:07")
    (told,) = smtp.box.to(MANAGER)
    assert "未送达 not delivered, refused: zhang.wei by email" in told["Subject"] + smtp.box.body(
        told
    )
    assert "550" in smtp.box.body(told)
    smtp.box.refuse.clear()
    repo.ok("notify", "flush", now="2026-11-26 14:30")
    assert ZHANG not in counts(smtp)  # never sent again
    log = (repo.state / "outbox" / "log").read_text(encoding="utf-8")
    assert "refused " in log and "zhang.wei email" in log


def test_every_subject_decodes_to_the_text_composed(repo: Repo, smtp: SmtpServer) -> None:
    """Issue 20.16: "assigned toyou". The subject is folded as encoded words; no space may
    sit at a fold, wherever the customer's name moves the folds to."""
    use_email(repo, smtp)
    expected = []
    for k in range(14):
        customer = "招商银行" * (k // 2) + " Bank of A" * (k % 3) + f" 分行 {k}"
        case_id = repo.ok(
            "open", "--customer", customer, "--contact", "刘先生", "--contract", "H",
            "--severity", "1", "--description", f"d{k}", "--assign", "zhang.wei",
            now=f"2026-11-26 14:{10 + 2 * k}",
        )  # fmt: skip
        expected.append(
            f"[casectl] {case_id} 分配给你 assigned to you: {' '.join(customer.split())}"
        )
    raw = [m.as_bytes() for m in smtp.box.to(ZHANG)]
    assert [str(m["Subject"]) for m in smtp.box.to(ZHANG)] == expected
    assert any(b"\n =?utf-8?" in r.split(b"\n\n")[0] for r in raw)  # folds were there
    for r in raw:
        head = r.split(b"\n\n")[0].split(b"\n")
        assert all(len(line.rstrip(b"\r")) <= 78 for line in head)
