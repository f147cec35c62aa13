"""The customer asks the manager to raise a case: `--customer-request` (issue 13.3)."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Repo

MANAGER = "wang.jianguo"


def test_a_customer_requested_escalation_is_visible_in_show(repo: Repo) -> None:
    case_id = repo.open_case(severity=3)
    repo.ok("severity", case_id, "1", "--reason", "客户致电经理：业务中断", "--customer-request",
            by=MANAGER, now="2026-11-26 14:30")  # fmt: skip
    repo.ok("escalate", case_id, "--to", "zhou.qiang", "--customer-request", by=MANAGER,
            now="2026-11-26 14:31")  # fmt: skip
    repo.ok("escalate", case_id, "--to", "wu.min", by=MANAGER, now="2026-11-26 14:40")
    doc = repo.show(case_id, now="2026-11-26 14:45")
    assert doc["severity"] == 1 and doc["escalation_engineer"] == "wu.min"
    asked = [(e["type"], e["at"], e["by"], e["customer_request"]) for e in doc["customer_requests"]]
    assert asked == [
        ("severity", "2026-11-26T14:30:00+08:00", MANAGER, True),
        ("escalate", "2026-11-26T14:31:00+08:00", MANAGER, True),
    ]
    plain = [e for e in doc["events"] if e["type"] == "escalate" and e["to"] == "wu.min"]
    assert "customer_request" not in plain[0]
    text = repo.ok("show", case_id, now="2026-11-26 14:45")
    assert (
        "Customer requests:   2026-11-26 14:30 severity 3 -> 1 by wang.jianguo: 客户致电经理"
        in text
    )
    assert "2026-11-26 14:31 escalated to zhou.qiang by wang.jianguo" in text


def test_only_the_manager_records_a_customer_request(repo: Repo, refused: Callable) -> None:
    case_id = repo.open_case(severity=3)
    assert refused("severity", case_id, "2", "--reason", "r", "--customer-request",
                   by="zhang.wei") == (
        "zhang.wei may not record a customer's request: only manager may"
    )  # fmt: skip
    repo.ok("severity", case_id, "2", "--reason", "r", by="zhang.wei")  # without it: as before


def test_the_commit_says_it_was_the_customers_request(repo: Repo) -> None:
    import subprocess

    case_id = repo.open_case(severity=3)
    repo.ok("escalate", case_id, "--to", "zhou.qiang", "--customer-request", by=MANAGER)
    subject = subprocess.run(["git", "-C", str(repo.root), "log", "-1", "--format=%s"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert subject == (
        f"{case_id}: escalated to zhou.qiang at the customer's request (wang.jianguo)"
    )
