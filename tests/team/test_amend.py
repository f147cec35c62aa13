"""Correcting the opening: `amend` records an event, show/list/report use the amended
values, it merges with other clones' steps; a hand-edited opening is named by `check`
before it is pushed, and the merge driver's refusal says how to recover."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import yaml
from conftest import Repo, assert_converged, case_file, git

pytestmark = pytest.mark.slow

Team = tuple[Repo, Repo, Repo]


def clean(repo: Repo) -> bool:
    result = repo.run("check", by=None)
    return result.exit_code == 0 and "no problems" in result.stderr


def test_amend_corrects_the_opening_as_an_event(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("amend", case_id, "--contract", "HT-2026-013", "--customer", "招商银行深圳分行",
            "--reason", "合同号记错", now="2026-11-26 14:20")  # fmt: skip
    case = repo.show(case_id)
    assert (case["contract"], case["customer"]) == ("HT-2026-013", "招商银行深圳分行")
    assert case["contact"] == "刘先生 13800000000"  # not given: unchanged
    [amended] = case["amendments"]
    assert amended["by"] == "li.na" and amended["reason"] == "合同号记错"
    assert amended["changes"] == {
        "customer": {"from": "招商银行", "to": "招商银行深圳分行"},
        "contract": {"from": "HT-2026-031", "to": "HT-2026-013"},
    }
    # the opening itself is as it was recorded
    opening = yaml.safe_load(case_file(repo, case_id).read_bytes())["events"][0]
    assert (opening["contract"], opening["customer"]) == ("HT-2026-031", "招商银行")
    text = repo.ok("show", case_id)
    assert "Contract:            HT-2026-013" in text
    assert "Contract HT-2026-031 -> HT-2026-013" in text and "(reason: 合同号记错)" in text
    # list and the report use the amended values
    listed = json.loads(repo.ok("list", "--json"))
    assert listed[0]["customer"] == "招商银行深圳分行"
    assert repo.ok("list", "--customer", "深圳分行", "--json") != "[]"
    report = json.loads(repo.ok("report", "--date", "2026-11-26", "--json",
                                now="2026-11-27 09:00"))  # fmt: skip
    assert "招商银行深圳分行" in json.dumps(report, ensure_ascii=False)
    assert git(repo.root, "log", "-1", "--format=%s").startswith(
        f"{case_id}: amended customer, contract: 合同号记错 (li.na)"
    )


def test_amend_refuses_nothing_to_change_and_strangers(
    repo: Repo, refused: Callable[..., str]
) -> None:
    case_id = repo.open_case()
    said = refused("amend", case_id, "--contract", "HT-2026-031", "--reason", "x")
    assert said == f"case {case_id} already has these values; nothing to amend"
    said = refused("amend", case_id, "--contact", "赵女士", "--reason", "x", by="liu.yang")
    assert said.startswith("liu.yang may not amend case")
    assert refused("amend", case_id, "--contact", " ", "--reason", "x") == "the contact is empty"
    # the assigned engineer and the manager may
    repo.ok("amend", case_id, "--contact", "赵女士 13900000000", "--reason", "换人", by="zhang.wei")
    repo.ok("amend", case_id, "--description", "控制器离线，已恢复一台", "--reason", "补充",
            by="wang.jianguo")  # fmt: skip
    assert repo.show(case_id)["description"] == "控制器离线，已恢复一台"
    usage = repo.run("amend", case_id, "--reason", "x")
    assert usage.exit_code == 2  # no field at all: a usage error
    assert clean(repo)


def test_an_amend_merges_cleanly_with_steps_in_another_clone(team: Team) -> None:
    a, b, cron = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    a.ok("amend", case_id, "--contract", "HT-2026-013", "--reason", "合同号记错",
         now="2026-11-26 14:12")  # fmt: skip
    b.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    b.ok("log", case_id, "收集日志", by="zhang.wei", now="2026-11-26 14:15")
    b.ok("sync", by=None)
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    cron.ok("sync", by=None)
    assert_converged([a, b, cron], [case_id], set())
    case = cron.show(case_id)
    assert case["contract"] == "HT-2026-013"
    assert [e["type"] for e in case["events"]] == ["open", "assign", "callback", "amend", "note"]
    assert clean(cron)


def hand_edit(repo: Repo, case_id: str) -> None:
    path = case_file(repo, case_id)
    path.write_bytes(path.read_bytes().replace(b"HT-2026-031", b"HT-2026-013"))


def test_check_finds_a_hand_edited_opening_before_it_is_pushed(team: Team) -> None:
    a, _, _ = team
    case_id = a.open_case()
    a.ok("sync", by=None)
    hand_edit(a, case_id)
    result = a.run("check", by=None)
    assert result.exit_code == 1
    [finding] = [line for line in result.stdout.splitlines() if "edited by hand" in line]
    relative = case_file(a, case_id).relative_to(a.root)
    assert finding.startswith(f"{relative}:9: the opening of case {case_id} was edited by hand")
    assert f"casectl amend {case_id} --reason TEXT" in finding
    # committed by hand but not pushed yet: still found
    git(a.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "fix contract")
    assert "edited by hand" in a.run("check", by=None).stdout
    # put back and amended: nothing to say
    git(a.root, "reset", "-q", "--hard", "HEAD~1")
    a.ok("amend", case_id, "--contract", "HT-2026-013", "--reason", "合同号记错")
    assert clean(a)


def test_the_merge_driver_says_a_hand_edit_and_how_to_recover(team: Team) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    b.ok("log", case_id, "b 的记录", by="zhang.wei", now="2026-11-26 14:10")
    b.ok("sync", by=None)
    hand_edit(a, case_id)
    git(a.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "fix contract")
    before = git(a.root, "rev-parse", "HEAD")
    result = a.run("sync", by=None)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    upstream = git(a.root, "rev-parse", "--abbrev-ref", "@{upstream}").strip()
    relative = case_file(a, case_id).relative_to(a.root)
    assert f"the opening of case {case_id} was edited by hand in this clone" in line
    assert f"git checkout {upstream} -- {relative}" in line
    assert f"casectl amend {case_id}" in line
    assert "two different cases" not in line
    assert git(a.root, "rev-parse", "HEAD") == before  # nothing changed
    # the recovery it names works
    git(a.root, "checkout", upstream, "--", str(relative))
    git(a.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "undo hand edit")
    a.ok("sync", by=None)
    a.ok("amend", case_id, "--contract", "HT-2026-013", "--reason", "合同号记错",
         now="2026-11-26 14:20")  # fmt: skip
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    assert b.show(case_id)["contract"] == "HT-2026-013"
    assert [e["type"] for e in b.show(case_id)["events"]][-2:] == ["note", "amend"]


def test_the_clone_receiving_a_pushed_hand_edit_is_told_whose_it_is(team: Team) -> None:
    a, b, _ = team
    case_id = a.open_case(now="2026-11-26 14:05")
    a.ok("sync", by=None)
    b.ok("sync", by=None)
    hand_edit(b, case_id)
    git(b.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "fix contract")
    git(b.root, "push", "-q", "origin", "HEAD")
    a.ok("log", case_id, "a 的记录", by="zhang.wei", now="2026-11-26 14:10")
    result = a.run("sync", by=None)
    assert result.exit_code == 1
    assert "was edited by hand in the version being merged in" in result.stderr
    assert "whoever pushed it must put the opening back" in result.stderr
