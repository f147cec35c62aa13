# ruff: noqa: F811 - the SMTP server is a fixture, imported by name
"""`casectl report --mail [--to ID ...]`: the report mailed to the manager and the people
named, against a real SMTP server (aiosmtpd on 127.0.0.1): one message, an HTML part
and a plain-text alternative holding the same numbers, a UTF-8 subject."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo
from notify_servers import SmtpServer, free_port, git_config, smtp, use_email  # noqa: F401
from test_report_day import MORNING, scripted_day
from test_report_html import Page, holds

pytestmark = pytest.mark.slow

MANAGER, SENIOR = "wang.jianguo@example.com", "zhou.qiang@example.com"
SUBJECT = (
    "[casectl] CASE执行情况报告 report 2026-11-26: "
    "新开 4 opened, 关闭 2 closed, 未结 4 open, 超时 5 deadlines missed"
)


@pytest.fixture
def day(repo: Repo) -> Repo:
    scripted_day(repo)
    return repo


def parts(server: SmtpServer) -> tuple[list[str], str, str, str]:
    """The one message received: its recipients, subject, text part and HTML part."""
    [(rcpt, msg)] = server.box.received
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    contents = [str(p.get_content()).replace("\r\n", "\n") for p in (text, html)]  # type: ignore[attr-defined]
    return rcpt, str(msg["Subject"]), contents[0], contents[1]


def test_one_message_to_the_manager_and_those_named(day: Repo, smtp: SmtpServer) -> None:
    use_email(day, smtp)
    out = day.ok("report", "--mail", "--to", "Zhou.Qiang", "--to", "wang.jianguo", by=None,
                 now=MORNING)  # fmt: skip
    assert out == (
        f"mailed the report of 2026-11-26 to wang.jianguo <{MANAGER}>, zhou.qiang <{SENIOR}>"
    )
    rcpt, subject, _, _ = parts(smtp)
    assert rcpt == [MANAGER, SENIOR]  # the manager once, though named again
    [(_, msg)] = smtp.box.received
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
    assert subject == SUBJECT  # decoded back from RFC 2047
    raw = msg.as_bytes()
    assert b"=?utf-8?" in raw.split(b"\n\n")[0].lower()  # the header itself is encoded
    assert msg["Date"] == "Fri, 27 Nov 2026 08:00:00 +0800"  # CASECTL_NOW


def test_both_parts_hold_the_reports_numbers(day: Repo, smtp: SmtpServer, tmp_path: Path) -> None:
    use_email(day, smtp)
    day.ok("report", "--mail", by=None, now=MORNING)
    _, _, text, html = parts(smtp)
    # the text part is the terminal summary, the HTML part the --html page: no other numbers
    assert text.rstrip("\n") == day.ok("report", by=None, now=MORNING)
    page_file = tmp_path / "page.html"
    day.ok("report", "--html", str(page_file), by=None, now=MORNING)
    assert html.rstrip("\n") == page_file.read_text(encoding="utf-8").rstrip("\n")
    # and the numbers themselves, in both
    rows = [line.split() for line in text.splitlines()]
    assert ["4", "2", "1", "4"] in rows  # opened, closed, reopened, open at end
    assert ["callback", "4", "1", "1", "67%"] in rows
    assert ["first", "reply", "4", "1", "0", "80%"] in rows
    page = Page()
    page.feed(html)
    assert holds(page.cells, ["4", "2", "1", "4"])
    assert holds(page.cells, ["callback", "4", "1", "1", "67%"])
    assert holds(page.cells, ["first reply", "4", "1", "0", "80%"])


def test_a_period_and_a_recipient_share_to(day: Repo, smtp: SmtpServer) -> None:
    """`--to` ends the period when it is a day, and names a recipient otherwise."""
    use_email(day, smtp)
    out = day.ok("report", "--from", "2026-11-25", "--to", "2026-11-26", "--mail", "--to",
                 "zhou.qiang", by=None, now=MORNING)  # fmt: skip
    assert out.startswith("mailed the report of 2026-11-25..2026-11-26 to wang.jianguo")
    _, subject, text, _ = parts(smtp)
    assert "report 2026-11-25..2026-11-26: 新开 6 opened" in subject
    assert text.startswith("Case report 2026-11-25..2026-11-26:")


def test_json_stays_one_document_with_mail(day: Repo, smtp: SmtpServer) -> None:
    use_email(day, smtp)
    result = day.run("report", "--json", "--mail", by=None, now=MORNING)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["volume"]["totals"][0]["opened"] == 4
    assert result.stderr.startswith("mailed the report of 2026-11-26 to wang.jianguo")
    assert len(smtp.box.received) == 1


def test_without_an_email_channel(day: Repo, refused: Callable) -> None:
    message = refused("report", "--mail", by=None, now=MORNING)
    assert message == (
        "no e-mail channel is configured in this clone, so the report cannot be mailed: "
        "git config casectl.email.host HOST and casectl.email.from ADDRESS "
        "(see docs/running-a-center.md, Notifications)"
    )
    git_config(day, ("casectl.wecom.kind", "wecom"), ("casectl.wecom.url-env", "ROBOT_URL"))
    env = {"ROBOT_URL": "https://127.0.0.1:9/wecom/send"}
    assert refused("report", "--mail", by=None, now=MORNING, env=env) == message


def test_unknown_recipients_and_addresses(day: Repo, smtp: SmtpServer, refused: Callable) -> None:
    use_email(day, smtp)
    assert refused("report", "--mail", "--to", "zhou.qaing", by=None, now=MORNING) == (
        "'zhou.qaing' is not in roster.yaml; did you mean zhou.qiang?"
    )
    roster = day.root / "roster.yaml"
    roster.write_text(roster.read_text().replace("  email: zhou.qiang@example.com\n", ""))
    assert refused("report", "--mail", "--to", "zhou.qiang", by=None, now=MORNING) == (
        "no e-mail address in roster.yaml for zhou.qiang: the report cannot reach them"
    )
    assert smtp.box.received == []


def test_a_server_that_is_down_writes_nothing(day: Repo, tmp_path: Path) -> None:
    git_config(day, ("casectl.email.host", "127.0.0.1"), ("casectl.email.port", str(free_port())),
               ("casectl.email.security", "none"), ("casectl.email.from", "c@example.com"))  # fmt: skip
    page = tmp_path / "page.html"
    result = day.run("report", "--mail", "--html", str(page), by=None, now=MORNING)
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: report not mailed: email: 127.0.0.1:")
    assert not page.exists()


def test_usage_errors(day: Repo) -> None:
    for args, expected in (
        (["--to", "zhou.qiang"], "'zhou.qiang' is not a day (YYYY-MM-DD)"),
        (["--from", "2026-11-20", "--to", "2026-11-21", "--to", "2026-11-22"], "one day ends"),
        (["--from", "2026-11-20", "--to", "2026-11-31"], "'2026-11-31' is not a day"),
    ):
        result = day.run("report", *args, by=None, now=MORNING)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr, result.stderr
