# ruff: noqa: F811 - the SMTP server is a fixture, imported by name
"""The people the service rules name are told, each exactly once (issue 21, item 5 and 6):
the escalation engineer (with the customer's contact), the manager on a request for
on-site service, the engineer a visit's approval sends, the manager on an alert at the
step itself, and the manager of holiday data running out."""

from __future__ import annotations

import pytest
from conftest import Repo
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo@example.com"


def subjects(smtp: SmtpServer, address: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.box.to(address)]


def test_the_escalation_engineer_is_told_with_the_customers_contact(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case()
    said = repo.ok("escalate", case_id, "--to", "zhou.qiang", "--reason", "需要高级工程师分析",
                   by="wang.jianguo", now="2026-11-26 14:10")  # fmt: skip
    assert said == f"{case_id} escalated to zhou.qiang"
    (msg,) = smtp.box.to("zhou.qiang@example.com")
    assert str(msg["Subject"]) == f"[casectl] {case_id} 升级给你 escalated to you: 招商银行"
    body = smtp.box.body(msg)
    assert "联系人 contact: 刘先生 13800000000" in body
    assert "原因 reason: 需要高级工程师分析" in body and "wang.jianguo" in body
    for now in ("2026-11-26 14:20", "2026-11-26 15:00", "2026-11-26 18:00"):
        repo.ok("sweep", now=now)
    told = [s for s in subjects(smtp, "zhou.qiang@example.com") if "escalated to you" in s]
    assert len(told) == 1


def test_the_manager_is_told_of_an_onsite_request_at_once_and_the_engineer_on_approval(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case()
    repo.ok("onsite", case_id, "--request", "--reason", "需要现场更换控制器", "--when",
            "2026-11-26 17:00", by="zhang.wei", now="2026-11-26 14:10")  # fmt: skip
    asked = [s for s in subjects(smtp, MANAGER) if "on-site service requested" in s]
    assert asked == [f"[casectl] {case_id} 申请现场服务 on-site service requested: 招商银行"]
    body = smtp.box.body(smtp.box.to(MANAGER)[-1])
    assert "申请人 by: zhang.wei" in body and "需要现场更换控制器" in body
    assert f"casectl onsite {case_id} --approve" in body
    repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", "--when", "17:00",
            by="wang.jianguo", now="2026-11-26 14:12")  # fmt: skip
    (sent,) = smtp.box.to("zheng.hao@example.com")
    assert "on-site visit approved for you" in str(sent["Subject"])
    assert "联系人 contact: 刘先生 13800000000" in smtp.box.body(sent)
    assert f"casectl onsite {case_id} --arrive --by zheng.hao" in smtp.box.body(sent)
    repo.ok("sweep", now="2026-11-26 14:30")
    repo.ok("notify", "flush", now="2026-11-26 14:40")
    assert len([s for s in subjects(smtp, MANAGER) if "on-site service requested" in s]) == 1
    assert len(smtp.box.to("zheng.hao@example.com")) == 1


def test_an_alert_tells_the_manager_at_the_step_where_the_clone_can(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case()
    said = repo.ok("log", case_id, "机房漏水，阵列有断电风险", "--alert-manager",
                   by="zhang.wei", now="2026-11-26 14:07")  # fmt: skip
    assert said == f"{case_id} note recorded; the manager (wang.jianguo) is told now"
    (alert,) = smtp.box.to(MANAGER)
    assert "alert from zhang.wei: 机房漏水，阵列有断电风险" in str(alert["Subject"])
    for now in ("2026-11-26 14:09", "2026-11-26 14:30", "2026-11-27 09:00"):
        repo.ok("sweep", now=now)
    assert [s for s in subjects(smtp, MANAGER) if "alert from" in s] == [str(alert["Subject"])]
    assert "(manager told 2026-11-26 14:07)" in repo.ok("show", case_id)


def test_an_alert_waits_for_the_sweep_where_no_channel_reaches_the_manager(
    repo: Repo, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    roster = repo.root / "roster.yaml"
    text = roster.read_text(encoding="utf-8")
    roster.write_text(text.replace("  email: wang.jianguo@example.com\n", ""), encoding="utf-8")
    case_id = repo.open_case()
    said = repo.ok("log", case_id, "客户威胁投诉", "--alert-manager", by="zhang.wei")
    assert said.endswith("the manager (wang.jianguo) is told at the next sweep")
    assert "(the manager is told at the next sweep)" in repo.ok("show", case_id)


def test_the_holiday_notice_goes_through_the_channels_once(repo: Repo, smtp: SmtpServer) -> None:
    use_email(repo, smtp)
    out = repo.ok("sweep", by=None, now="2026-12-01 00:10")
    assert "holidays_missing" in out  # still printed, for cron's mail
    (notice,) = smtp.box.to(MANAGER)
    assert "holiday data missing" in str(notice["Subject"])
    assert "casectl calendar holidays --year 2027" in smtp.box.body(notice)
    repo.ok("sweep", by=None, now="2026-12-01 00:15")
    repo.ok("sweep", by=None, now="2026-12-02 09:00")
    assert len(smtp.box.to(MANAGER)) == 1
