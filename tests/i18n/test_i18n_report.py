# ruff: noqa: F811 - the SMTP server is a fixture, imported by name
"""The daily report in Chinese: terminal tables (aligned), HTML headings, chart legends and
the mail's subject and text; JSON and CSV the same bytes in every language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Repo
from notify_servers import SmtpServer, free_port, git_config, smtp, use_email  # noqa: F401
from test_report_day import MORNING, scripted_day
from test_report_mail import parts
from wcwidth import wcswidth

pytestmark = pytest.mark.slow

ZH = {"LANG": "zh_CN.UTF-8"}
C = {"LANG": "C"}


@pytest.fixture
def day(repo: Repo) -> Repo:
    scripted_day(repo)
    return repo


def test_the_report_table_in_chinese_lines_up(day: Repo) -> None:
    shown = day.run("report", by=None, now=MORNING, env=ZH)
    assert shown.exit_code == 0, shown.stderr
    text = shown.stdout
    assert text.startswith("CASE执行情况报告 2026-11-26：2026-11-26 00:00 至 2026-11-27 00:00")
    for words in ("按时限类别统计的按时率", "按故障级别统计的 CASE 量", "期末未结", "客户等待首次回呼",
                  "首次答复", "< 1 天", "升级至高级工程师", "张伟"):  # fmt: skip
        assert words in text, words
    block = text.split("\n\n按故障级别统计的 CASE 量\n")[1].split("\n\n")[0]  # volume by severity
    block = "按故障级别统计的 CASE 量\n" + block
    lines = block.splitlines()
    assert lines[0] == "按故障级别统计的 CASE 量"
    rule = lines[2]
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    for line in (lines[1], lines[3]):  # the header and a row start where the rule's dashes do
        words = [m.start() for m in re.finditer(r"(?<!\S)\S", line)]
        assert [wcswidth(line[:w]) for w in words] == starts, lines
    english = day.ok("report", by=None, now=MORNING, env=C)
    assert english.startswith("Case report 2026-11-26: ") and "open at end" in english


def test_json_and_csv_do_not_change_with_the_language(day: Repo, tmp_path: Path) -> None:
    documents = {day.run("report", "--json", by=None, now=MORNING, env=env).stdout
                 for env in (ZH, C)}  # fmt: skip
    assert len(documents) == 1
    for env, folder in ((ZH, tmp_path / "zh"), (C, tmp_path / "en")):
        day.ok("report", "--csv", str(folder), by=None, now=MORNING, env=env)
    names = sorted(p.name for p in (tmp_path / "en").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "zh").iterdir())
    for name in names:
        assert (tmp_path / "zh" / name).read_bytes() == (tmp_path / "en" / name).read_bytes()


def test_the_html_page_in_chinese(day: Repo, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    said = day.run("report", "--html", str(out), by=None, now=MORNING, env=ZH)
    assert said.stdout.strip() == f"已写入 {out}"
    html = out.read_text(encoding="utf-8")
    for words in ("<h2>按时限类别与故障级别统计的时限达成</h2>", "<h2>未结 CASE 的时长分布</h2>",
                  "<th>期末未结</th>", "逾期完成<span", "已逾期</div>", 'aria-label="未结 CASE 的时长分布"',
                  '<html lang="zh-CN">', ">1级 回呼</text>", "升级至高级工程师", "张伟"):  # fmt: skip
        assert words in html, words
    day.ok("report", "--html", str(out), by=None, now=MORNING, env=C)
    english = out.read_text(encoding="utf-8")
    assert "<h2>Compliance by deadline kind and severity</h2>" in english
    assert '<html lang="en">' in english and ">S1 callback</text>" in english


def test_the_mail_in_chinese(day: Repo, smtp: SmtpServer) -> None:
    use_email(day, smtp)
    said = day.run("report", "--mail", by=None, now=MORNING, env=ZH)
    assert said.exit_code == 0 and said.stdout.startswith(
        "已将 2026-11-26 的报告发送给 wang.jianguo"
    )
    _rcpt, subject, text, html = parts(smtp)
    assert subject == "[casectl] CASE执行情况报告 2026-11-26：新开 4，关闭 2，未结 4，超时 5"
    assert "按工程师统计的时限" in text and "按工程师统计的时限" in html
