"""What the sweep wrote, said at display time in the reader's language (issue 28.2):
`show`, `history` and the sweep's table render each line from the event's fields; the
case file keeps one language-free event whose English `text` the English rendering
matches word for word."""

from __future__ import annotations

import pytest
import yaml
from conftest import Repo

from casectl import i18n, said
from casectl.store import read_case

pytestmark = pytest.mark.slow

ZH = {"LANG": "zh_CN.UTF-8"}
C = {"LANG": "C"}


def _day(repo: Repo) -> str:
    """A case the sweep checks, reassigns, tells of a manager alert and a pending on-site
    request, and then withdraws the reassignment of (the callback was typed late)."""
    case = repo.open_case()
    repo.ok("log", case, "机房漏水", "--alert-manager", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("onsite", case, "--request", "--reason", "换控制器", by="zhang.wei",
            now="2026-11-26 14:07")  # fmt: skip
    repo.ok("sweep", now="2026-11-26 14:56")
    repo.ok("log", case, "已联系", "--callback", "--at", "2026-11-26 14:30", by="zhang.wei",
            now="2026-11-26 14:57")  # fmt: skip
    repo.ok("sweep", now="2026-11-26 14:58")
    return case


def test_the_sweeps_lines_in_chinese_in_show_and_history(repo: Repo) -> None:
    case = _day(repo)
    shown = repo.ok("show", case, env=ZH, now="2026-11-26 15:00")
    for line in (
        "15 分钟检查：zhang.wei 尚未回呼客户（巡检晚了 36 分钟）（已通知 li.na）",
        "zhang.wei 提醒经理：机房漏水",
        "zhang.wei 的现场服务申请 OS-",
        "zhang.wei 回呼超时；改派给 ",
        "无需处理：zhang.wei 已于 2026-11-26 14:30 回呼；撤回改派给 ",
    ):
        assert line in shown, line
    for english in ("has not called", "alert from", "awaits approval", "no action", "sweep 3"):
        assert english not in shown
    history = repo.ok("history", case, env=ZH, now="2026-11-26 15:00")
    assert "无需处理：zhang.wei 已于 2026-11-26 14:30 回呼" in history and "撤回" in history
    # English shows what the file stores, word for word
    assert "check 15m: zhang.wei has not called the customer back yet (sweep 36m late)" in (
        repo.ok("show", case, env=C, now="2026-11-26 15:00")
    )


def test_the_file_keeps_the_english_and_the_english_rendering_matches_it(repo: Repo) -> None:
    case = _day(repo)
    text = repo.case_path(case).read_text(encoding="utf-8")
    assert "尚未" not in text and "无需处理" not in text  # language-free, whoever swept
    events = read_case(str(repo.case_path(case))).events
    swept = [e for e in events if e["by"] == "sweep"]
    assert {e["type"] for e in swept} >= {"check", "reassign", "manager-alert", "withdraw"}
    with i18n.english():
        for event in swept:
            assert said.line(event, events) == event["text"], event
    stored = yaml.safe_load(text)
    assert all("text" in e for e in stored["events"] if e["by"] == "sweep")


def test_the_sweeps_table_says_a_notice_in_chinese(repo: Repo) -> None:
    case = repo.open_case()
    repo.ok("onsite", case, "--request", "--reason", "换控制器", by="zhang.wei")
    repo.ok("log", case, "已联系", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    table = repo.ok("sweep", env=ZH, now="2026-11-26 14:40")
    assert "zhang.wei 的现场服务申请 OS-" in table and "等待批准" in table
    assert "awaits approval" not in table


def test_durations_in_chinese_words_and_english_compact() -> None:
    from datetime import timedelta

    with i18n.english():
        assert said.spoken(timedelta(days=4, hours=23, minutes=55)) == "4d23h55m"
        assert said.check_name("check15@E1") == "check 15m"
    saved = i18n._forced[:]
    i18n._forced[:] = ["zh_CN"]
    try:
        assert said.spoken(timedelta(days=4, hours=23, minutes=55)) == "4 天 23 小时 55 分钟"
        assert said.spoken(timedelta(seconds=20)) == "20 秒"
        assert said.check_name("check15@E1") == "15 分钟检查"
    finally:
        i18n._forced[:] = saved
