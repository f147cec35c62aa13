"""On-site service: the engineer asks, the manager decides, the visit is recorded (issue 13.1)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo"


def requested(repo: Repo, severity: int = 1, **kw: str) -> str:
    """A case assigned to zhang.wei, who has asked for on-site service at T0."""
    case_id = repo.open_case(severity)
    repo.ok("onsite", case_id, "--request", "--reason", "需要现场更换控制器", by="zhang.wei", **kw)
    return case_id


def sweep(repo: Repo, now: str) -> list[dict]:
    return json.loads(repo.ok("sweep", "--json", now=now))["actions"]


def test_request_approve_arrive_work_depart_shown_in_show(repo: Repo) -> None:
    case_id = repo.open_case()
    rma = repo.ok("rma", case_id, "--part", "DKC-CTL-F", "--serial", "SN1", by="zhang.wei")
    said = repo.ok("onsite", case_id, "--request", "--reason", "现场更换控制器", "--when",
                   "17:00", by="zhang.wei", now="2026-11-26 14:10")  # fmt: skip
    assert said.startswith(f"{case_id} on-site service requested (OS-")
    assert said.endswith("for 2026-11-26 17:00")
    said = repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", "--when", "16:00",
                   by=MANAGER, now="2026-11-26 14:20")  # fmt: skip
    assert said.endswith("approved: zheng.hao for 2026-11-26 16:00")
    repo.ok("onsite", case_id, "--arrive", by="zheng.hao", now="2026-11-26 16:05")
    said = repo.ok("onsite", case_id, "--work", "更换控制器", "--part", "DKC-CTL-F", "--part",
                   "CBL-FC-5M", by="zheng.hao", now="2026-11-26 16:30")  # fmt: skip
    assert said.endswith("work recorded, parts DKC-CTL-F, CBL-FC-5M")
    repo.ok("onsite", case_id, "--depart", "--summary", "控制器恢复", "--solution", "更换 CTL1",
            "--unresolved", "复制链路待观察", by="zheng.hao", now="2026-11-26 17:00")  # fmt: skip

    doc = repo.show(case_id, now="2026-11-26 17:05")
    [visit] = doc["onsite"]
    assert visit == {
        "id": visit["id"], "stage": "done", "requested_by": "zhang.wei",
        "requested_at": "2026-11-26T14:10:00+08:00", "reason": "现场更换控制器",
        "planned": "2026-11-26T16:00:00+08:00", "decided_by": MANAGER,
        "decided_at": "2026-11-26T14:20:00+08:00", "decision": None, "engineer": "zheng.hao",
        "arrived_at": "2026-11-26T16:05:00+08:00", "departed_at": "2026-11-26T17:00:00+08:00",
        "work": [{"at": "2026-11-26T16:30:00+08:00", "by": "zheng.hao", "text": "更换控制器",
                  "parts": [{"part": "DKC-CTL-F", "rma": rma},
                            {"part": "CBL-FC-5M", "source": "stock"}]}],
        "solved": "控制器恢复", "solution": "更换 CTL1", "unresolved": "复制链路待观察",
        "cancelled_by": None, "cancelled_at": None, "cancellation": None,
    }  # fmt: skip
    kinds = [e["type"] for e in doc["events"] if e["type"].startswith("onsite-")]
    assert kinds == ["onsite-request", "onsite-approve", "onsite-arrive", "onsite-work",
                     "onsite-depart"]  # fmt: skip
    text = repo.ok("show", case_id, now="2026-11-26 17:05")
    section = text.split("On-site service:\n", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith(visit["id"] + " "))
    for cell in ("done", "2026-11-26 14:10 zhang.wei", "2026-11-26 14:20 wang.jianguo",
                 "zheng.hao", "2026-11-26 16:00", "2026-11-26 16:05", "2026-11-26 17:00"):  # fmt: skip
        assert cell in row
    assert f"[parts: DKC-CTL-F ({rma}), CBL-FC-5M (spare from stock)]" in section
    assert "solved: 控制器恢复; solution: 更换 CTL1; still open: 复制链路待观察" in section


def test_the_requester_goes_when_the_manager_names_nobody(repo: Repo) -> None:
    case_id = requested(repo)
    repo.ok("onsite", case_id, "--approve", by=MANAGER)
    repo.ok("onsite", case_id, "--arrive", by="zhang.wei")
    assert repo.show(case_id)["onsite"][0]["stage"] == "on site"


def test_a_denied_request_keeps_the_reason_and_allows_no_visit(
    repo: Repo, refused: Callable
) -> None:
    case_id = requested(repo)
    repo.ok("onsite", case_id, "--deny", "--reason", "远程可解决", by=MANAGER)
    visit = repo.show(case_id)["onsite"][0]
    assert (visit["stage"], visit["decision"], visit["decided_by"]) == (
        "denied",
        "远程可解决",
        MANAGER,
    )
    assert refused("onsite", case_id, "--arrive", by="zhang.wei") == (
        f"cannot record an arrival on site: {visit['id']} of case {case_id} is denied"
    )
    # a new request may follow a denied one
    repo.ok("onsite", case_id, "--request", "--reason", "客户坚持", by="zhang.wei")


def test_a_request_by_someone_not_on_the_case_is_refused(repo: Repo, refused: Callable) -> None:
    case_id = repo.open_case()
    for person in ("liu.yang", "zheng.hao", MANAGER):
        assert refused("onsite", case_id, "--request", "--reason", "r", by=person) == (
            f"{person} may not request on-site service for case {case_id}: only the assigned "
            "engineer (zhang.wei) or the escalation engineer (none) may"
        )
    repo.ok("escalate", case_id, "--to", "zhou.qiang", by=MANAGER)
    repo.ok("onsite", case_id, "--request", "--reason", "r", by="zhou.qiang")


def test_approval_by_anyone_but_the_manager_is_refused(repo: Repo, refused: Callable) -> None:
    case_id = requested(repo)
    for person in ("li.na", "zhang.wei", "zheng.hao"):
        assert refused("onsite", case_id, "--approve", by=person) == (
            f"{person} may not approve on-site service: only manager may"
        )
        assert refused("onsite", case_id, "--deny", "--reason", "no", by=person) == (
            f"{person} may not deny on-site service: only manager may"
        )


def test_log_onsite_without_an_approved_request_is_refused(repo: Repo, refused: Callable) -> None:
    case_id = repo.open_case()
    message = (
        f"case {case_id} has no approved on-site visit under way; ask the manager first: "
        f"casectl onsite {case_id} --request --reason TEXT"
    )
    assert refused("log", case_id, "到达现场", "--type", "onsite", by="zhang.wei") == message
    repo.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei")
    assert refused("log", case_id, "到达现场", "--type", "onsite", by="zhang.wei") == message
    repo.ok("onsite", case_id, "--approve", by=MANAGER)
    repo.ok("log", case_id, "到达现场", "--type", "onsite", by="zhang.wei")


@pytest.mark.parametrize(
    ("args", "by", "message"),
    [
        (["--arrive"], "zhang.wei",
         "zhang.wei may not record an arrival on site: the manager approved zheng.hao for {v}"),
        (["--work", "x"], "zheng.hao", "cannot record work on site: {v} of case {c} is approved"),
        (["--depart", "--summary", "s", "--solution", "s"], "zheng.hao",
         "cannot record a departure from site: {v} of case {c} is approved"),
        (["--request", "--reason", "again"], "zhang.wei",
         "case {c} already has on-site request {v}, approved"),
        (["--approve"], MANAGER, "cannot approve on-site service: {v} of case {c} is approved"),
    ],
)  # fmt: skip
def test_steps_out_of_order_are_refused(
    repo: Repo, refused: Callable, args: list[str], by: str, message: str
) -> None:
    case_id = requested(repo)
    repo.ok("onsite", case_id, "--approve", "--engineer", "zheng.hao", by=MANAGER)
    visit = repo.show(case_id)["onsite"][0]["id"]
    assert refused("onsite", case_id, *args, by=by) == message.format(v=visit, c=case_id)


def test_parts_must_be_the_cases_rmas_or_spares(repo: Repo, refused: Callable) -> None:
    case_id = requested(repo)
    rma = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    repo.ok("onsite", case_id, "--approve", by=MANAGER)
    repo.ok("onsite", case_id, "--arrive", by="zhang.wei")
    assert refused("onsite", case_id, "--work", "x", "--part", "RMA-ZZZZ", by="zhang.wei") == (
        f"case {case_id} has no RMA-ZZZZ; its RMAs: {rma}"
    )
    repo.ok("rma", case_id, rma, "--status", "cancelled", by="zhang.wei")
    assert refused("onsite", case_id, "--work", "x", "--part", rma.lower(), by="zhang.wei") == (
        f"{rma} (DKC-CTL-F) was cancelled; it cannot be used"
    )
    second = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    repo.ok("onsite", case_id, "--work", "换", "--part", "dkc-ctl-f", by="zhang.wei")
    work = repo.show(case_id)["onsite"][0]["work"]
    assert work[0]["parts"] == [{"part": "DKC-CTL-F", "rma": second}]  # the cancelled one skipped
    third = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    assert refused("onsite", case_id, "--work", "x", "--part", "DKC-CTL-F", by="zhang.wei") == (
        f"part DKC-CTL-F is in several RMAs of case {case_id} ({second}, {third}); give the RMA id"
    )
    repo.ok("onsite", case_id, "--work", "换", "--part", third, by="zhang.wei")
    assert repo.show(case_id)["onsite"][0]["work"][1]["parts"] == [
        {"part": "DKC-CTL-F", "rma": third}
    ]


def test_only_a_field_engineer_or_the_requester_goes(repo: Repo, refused: Callable) -> None:
    case_id = requested(repo)
    assert refused("onsite", case_id, "--approve", "--engineer", "liu.yang", by=MANAGER) == (
        "liu.yang may not go on site: --engineer names a field engineer (zheng.hao) or the "
        "requester (zhang.wei)"
    )


def test_a_visit_cannot_be_backdated_before_its_approval_or_arrival(
    repo: Repo, refused: Callable
) -> None:
    case_id = requested(repo)
    repo.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 15:00")
    assert refused("onsite", case_id, "--arrive", "--at", "14:30", by="zhang.wei",
                   now="2026-11-26 15:10") == (
        "2026-11-26 14:30 is before the approval of "
        f"{repo.show(case_id)['onsite'][0]['id']} (2026-11-26 15:00)"
    )  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--request", "--approve"],
        ["--request"],
        ["--deny"],
        ["--depart", "--summary", "s"],
        ["--arrive", "--engineer", "zheng.hao"],
        ["--approve", "--part", "X"],
    ],
)
def test_usage_errors_exit_2(repo: Repo, args: list[str]) -> None:
    case_id = requested(repo)
    before = repo.fingerprint()
    result = repo.run("onsite", case_id, *args, by=MANAGER)
    assert result.exit_code == 2, result.output
    assert repo.fingerprint() == before


def test_a_pending_request_is_reported_to_the_manager_once_at_its_limit(repo: Repo) -> None:
    case_id = repo.open_case(severity=1)
    repo.ok("log", case_id, "已联系", "--callback", by="zhang.wei", now="2026-11-26 14:10")
    repo.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei",
            now="2026-11-26 14:10")  # fmt: skip
    pending = [a for a in sweep(repo, "2026-11-26 14:39") if a["kind"] == "onsite_pending"]
    assert pending == []  # 30 minutes for severity 1: not before 14:40
    [action] = [a for a in sweep(repo, "2026-11-26 14:40") if a["kind"] == "onsite_pending"]
    assert action["notify"] == [MANAGER] and action["due"] == "2026-11-26T14:40:00+08:00"
    assert action["case"] == case_id and action["late_by"] == 0
    assert not [a for a in sweep(repo, "2026-11-26 14:50") if a["kind"] == "onsite_pending"]
    assert not [a for a in sweep(repo, "2026-11-27 09:00") if a["kind"] == "onsite_pending"]
    events = [e for e in repo.show(case_id)["events"] if e["type"] == "onsite-pending"]
    assert len(events) == 1 and events[0]["notify"] == [MANAGER]


def test_the_printed_sweep_names_the_manager_and_the_request(repo: Repo) -> None:
    case_id = requested(repo, severity=2)  # 2h
    printed = repo.ok("sweep", now="2026-11-26 16:05")
    block = printed.split("wang.jianguo (王建国", 1)[1].split("\n\n", 1)[0]
    assert f"{case_id}  onsite_pending" in block
    assert "by zhang.wei awaits approval" in block


def test_a_request_decided_in_time_is_never_reported(repo: Repo) -> None:
    case_id = requested(repo, severity=1)
    repo.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 14:20")
    assert not [a for a in sweep(repo, "2026-11-26 15:00") if a["kind"] == "onsite_pending"]


def test_severity_3_waits_one_working_day(repo: Repo) -> None:
    """Thursday 17:00 on business hours (09-12, 13-18): 8 working hours end Friday 17:00."""
    case_id = repo.open_case(severity=3, now="2026-11-26 17:00")
    repo.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei",
            now="2026-11-26 17:00")  # fmt: skip
    assert not [a for a in sweep(repo, "2026-11-27 16:59") if a["kind"] == "onsite_pending"]
    [action] = [a for a in sweep(repo, "2026-11-27 17:00") if a["kind"] == "onsite_pending"]
    assert action["due"] == "2026-11-27T17:00:00+08:00"


def test_the_limit_is_read_from_severity_yaml(repo: Repo) -> None:
    path = repo.root / "severity.yaml"
    path.write_text(path.read_text().replace("onsite_approval: 30m", "onsite_approval: 5m"))
    case_id = requested(repo, severity=1)
    [action] = [a for a in sweep(repo, "2026-11-26 14:10") if a["kind"] == "onsite_pending"]
    assert action["case"] == case_id


def test_a_zero_limit_is_refused_naming_the_key(repo: Repo) -> None:
    path = repo.root / "severity.yaml"
    path.write_text(path.read_text().replace("onsite_approval: 2h", "onsite_approval: 0m"))
    result = repo.run("list")
    assert result.exit_code == 1
    assert "severity.yaml: levels.2.onsite_approval: expected a limit longer than zero" in (
        result.stderr
    )
