"""An on-site request or approved visit called off before anyone arrived: recorded, shown,
and the case may ask again (an approved visit that never happens no longer blocks it)."""

from __future__ import annotations

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo"


def approved(repo: Repo) -> str:
    case_id = repo.open_case()
    repo.ok("onsite", case_id, "--request", "--reason", "需要现场更换控制器", by="zhang.wei",
            now="2026-11-26 14:10")  # fmt: skip
    repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", "--when", "16:00",
            by=MANAGER, now="2026-11-26 14:20")  # fmt: skip
    return case_id


def test_an_approved_visit_called_off_frees_the_case_to_ask_again(repo: Repo) -> None:
    case_id = approved(repo)
    said = repo.ok("onsite", case_id, "--cancel", "--reason", "客户远程重启后恢复",
                   by="zhang.wei", now="2026-11-26 15:00")  # fmt: skip
    assert said.endswith("cancelled: 客户远程重启后恢复")
    [visit] = repo.show(case_id, now="2026-11-26 15:01")["onsite"]
    assert (visit["stage"], visit["cancelled_by"], visit["cancellation"]) == (
        "cancelled", "zhang.wei", "客户远程重启后恢复")  # fmt: skip
    assert visit["cancelled_at"] == "2026-11-26T15:00:00+08:00"
    assert visit["decided_by"] == MANAGER  # the approval stays on record
    shown = repo.ok("show", case_id, now="2026-11-26 15:01")
    assert "cancelled 2026-11-26 15:00 by zhang.wei: 客户远程重启后恢复" in shown
    refused = repo.run("log", case_id, "到现场", "--type", "onsite", by="zheng.hao",
                       now="2026-11-26 16:00")  # fmt: skip
    assert refused.exit_code == 1 and "no approved on-site visit" in refused.stderr
    arrive = repo.run("onsite", case_id, "--arrive", by="zheng.hao", now="2026-11-26 16:00")
    assert arrive.exit_code == 1 and "is cancelled" in arrive.stderr
    repo.ok("onsite", case_id, "--request", "--reason", "故障复现，需要现场", by="zhang.wei",
            now="2026-11-26 17:00")  # fmt: skip
    visits = repo.show(case_id, now="2026-11-26 17:01")["onsite"]
    assert [v["stage"] for v in visits] == ["cancelled", "pending"]


def test_a_pending_request_is_withdrawn_by_its_requester(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("onsite", case_id, "--request", "--reason", "需要现场", by="zhang.wei",
            now="2026-11-26 14:10")  # fmt: skip
    repo.ok("onsite", case_id, "--cancel", "--reason", "不需要了", by="zhang.wei",
            now="2026-11-26 14:15")  # fmt: skip
    [visit] = repo.show(case_id, now="2026-11-26 14:16")["onsite"]
    assert visit["stage"] == "cancelled" and visit["decided_by"] is None
    swept = repo.ok("sweep", "--json", by=None, now="2026-11-27 14:00")
    assert "onsite_pending" not in swept  # nothing waits for the manager any more


def test_who_may_cancel_and_when(repo: Repo, refused) -> None:  # type: ignore[no-untyped-def]
    case_id = approved(repo)
    said = refused("onsite", case_id, "--cancel", "--reason", "x", by="liu.yang",
                   now="2026-11-26 15:00")  # fmt: skip
    assert "liu.yang may not cancel on-site service" in said
    assert "the manager, zhang.wei or zheng.hao may" in said
    said = refused("onsite", case_id, "--cancel", "--reason", "x", by=MANAGER,
                   now="2026-11-26 14:15")  # fmt: skip
    assert "is before the last step of" in said
    usage = repo.run("onsite", case_id, "--cancel", by=MANAGER, now="2026-11-26 15:00")
    assert usage.exit_code == 2 and "--cancel needs --reason TEXT" in usage.stderr
    repo.ok("onsite", case_id, "--arrive", by="zheng.hao", now="2026-11-26 16:05")
    said = refused("onsite", case_id, "--cancel", "--reason", "x", by=MANAGER,
                   now="2026-11-26 16:10")  # fmt: skip
    assert "is on site" in said
