"""casectl in Chinese, the steps: each step's confirmation, the refusals of on-site
service, RMAs and close, `check`'s lines and the settings' errors; the case file, the
commit subject and --json stay the same whatever the language."""

from __future__ import annotations

import pytest
from conftest import Repo, git

pytestmark = pytest.mark.slow

ZH = {"LANG": "zh_CN.UTF-8"}
C = {"LANG": "C"}


def test_step_confirmations_in_chinese(repo: Repo) -> None:
    case_id = repo.open_case()
    said = repo.run("log", case_id, "已电话联系客户", "--callback", by="zhang.wei", env=ZH)
    assert said.stdout.strip() == f"{case_id} 已记录回呼"
    said = repo.run("log", case_id, "等客户日志", "--type", "wait-customer", "--alert-manager",
                    by="zhang.wei", env=ZH)  # fmt: skip
    assert (
        said.stdout.strip() == f"{case_id} 已记录等待客户；下次巡检时通知中心经理（wang.jianguo）"
    )
    said = repo.run("escalate", case_id, "--to", "zhou.qiang", by="wang.jianguo", env=ZH)
    assert said.stdout.strip() == f"{case_id} 已升级给 zhou.qiang"
    said = repo.run("severity", case_id, "2", "--reason", "业务恢复", by="zhou.qiang", env=ZH)
    assert said.stdout.strip() == f"{case_id} 故障级别改为 2"
    rma = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhou.qiang", env=ZH)
    said = repo.run("rma", case_id, rma, "--status", "shipped", "--new-serial", "SN9",
                    by="zhou.qiang", env=ZH)  # fmt: skip
    assert said.stdout.strip() == f"{rma} 已发货，新序列号 SN9"
    said = repo.run("close", case_id, "--resolution", "更换", "--force", "--reason", "客户同意",
                    by="zhou.qiang", env=ZH)  # fmt: skip
    assert said.stdout.strip() == f"{case_id} 已关闭"
    said = repo.run("reopen", case_id, "--reason", "故障复现", by="li.na", env=ZH)
    assert said.stdout.strip() == f"{case_id} 已重新打开"
    # what git records never changes with the language
    subjects = git(repo.root, "log", "--format=%s", "-8")
    assert "escalated to zhou.qiang" in subjects and f"{rma} shipped" in subjects
    assert f"{case_id}: reopened (li.na)" in subjects and "closed (forced)" in subjects
    assert f"{case_id}: callback: 已电话联系客户 (zhang.wei)" in subjects  # the text typed


def test_assign_and_a_contact_by_someone_else_in_chinese(repo: Repo) -> None:
    case_id = repo.open_case(assign=None)
    said = repo.run("assign", case_id, "zhang.wei", env=ZH)
    assert said.stderr.startswith(f"{case_id} 已分配给 zhang.wei 张伟 ") or said.stdout.startswith(
        f"{case_id} 已分配给 zhang.wei 张伟 "
    )
    said = repo.run("log", case_id, "值班工程师联系了客户", "--callback", by="li.na", env=ZH)
    assert said.stdout.strip().startswith(
        f"{case_id} 已记录为联系：li.na 不是指定工程师（zhang.wei）"
    )
    said = repo.run("log", case_id, "note in english", by="li.na", env=C)
    assert said.stdout.strip() == f"{case_id} note recorded"


def test_onsite_in_chinese_keeps_the_commit_subject_english(repo: Repo, refused) -> None:  # type: ignore[no-untyped-def]
    case_id = repo.open_case()
    said = refused("onsite", case_id, "--request", "--reason", "换控制器", by="liu.yang", env=ZH)
    assert said == (
        f"错误：liu.yang 无权为 CASE {case_id} 申请现场服务：只有指定工程师（zhang.wei）"
        "或升级工程师（无）可以"
    )
    said = repo.run("onsite", case_id, "--request", "--reason", "需要现场更换控制器",
                    by="zhang.wei", env=ZH)  # fmt: skip
    assert said.exit_code == 0 and "已申请现场服务（OS-" in said.stdout
    assert "on-site service requested (OS-" in git(repo.root, "log", "--format=%s", "-1")
    visit = said.stdout.split("（")[1].split("）")[0]
    said = refused("onsite", case_id, "--arrive", by="zhang.wei", env=ZH)
    assert said == f"错误：无法记录到场：CASE {case_id} 的 {visit} 状态为待批准"
    english = refused("onsite", case_id, "--arrive", by="zhang.wei", env=C)
    assert english.startswith("cannot record an arrival on site: OS-") and english.endswith(
        f"of case {case_id} is pending"
    )


def test_close_with_an_open_rma_refused_in_chinese(repo: Repo, refused) -> None:  # type: ignore[no-untyped-def]
    case_id = repo.open_case()
    rma = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    said = refused("close", case_id, "--resolution", "好了", by="zhang.wei", env=ZH)
    assert said == (
        f"错误：{rma}（DKC-CTL-F）状态为已申请，尚未安装或退回；如要关闭请用 --force --reason TEXT"
    )
    said = refused("close", case_id, "--resolution", "done", by="zhang.wei", env=C)
    assert said == (
        f"{rma} (DKC-CTL-F) is requested, not installed or returned; "
        "close with --force --reason TEXT"
    )


def test_a_price_inquiry_refuses_engineering_in_chinese(repo: Repo, refused) -> None:  # type: ignore[no-untyped-def]
    case_id = repo.ok("open", "--no-contract", "--inquiry", "price", "--customer", "某公司",
                      "--contact", "赵女士")  # fmt: skip
    said = refused("rma", case_id, "--part", "X1", by="wang.jianguo", env=ZH)
    assert said.startswith(f"错误：CASE {case_id} 是交给销售的价格咨询，不能登记 RMA；")


def test_check_lines_in_chinese_and_its_json_in_every_language(repo: Repo) -> None:
    repo.open_case()
    stray = repo.root / "cases" / "notes.txt"
    stray.write_text("x\n", encoding="utf-8")
    zh = repo.run("check", env=ZH)
    assert zh.exit_code == 1
    assert "cases/notes.txt: 不在目录结构内：CASE 文件应在" in zh.stdout
    assert zh.stderr.strip() == "casectl check：1 个问题"
    en = repo.run("check", env=C)
    assert "cases/notes.txt: outside the layout" in en.stdout
    assert en.stderr.strip() == "casectl check: 1 problem"
    documents = {repo.run("check", "--json", env=env).stdout for env in (ZH, C, ZH)}
    assert len(documents) == 1 and "outside the layout" in documents.pop()


def test_a_notification_setting_error_in_chinese(repo: Repo) -> None:
    git(repo.root, "config", "casectl.email.host", "smtp.example.com")
    git(repo.root, "config", "casectl.email.from", "not-an-address")
    said = repo.run("notify", "status", env=ZH)
    assert said.exit_code == 1
    assert "git config casectl.email.from：应为 casectl@example.com 这样的地址" in said.stderr
    said = repo.run("notify", "status", env=C)
    assert "git config casectl.email.from: expected an address such as" in said.stderr
