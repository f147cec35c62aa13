"""The contract register (contracts.yaml): `open --contract/--serial`, and `check`."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Repo
from intake_helpers import with_register


def opened(repo: Repo, *args: str, **kw: object) -> dict:
    case_id = repo.ok("open", "--severity", "2", "--description", "控制器告警", *args, **kw)
    return repo.show(case_id)


def test_a_known_contract_fills_customer_and_contact(repo: Repo) -> None:
    with_register(repo)
    shown = opened(repo, "--contract", "ht-2026-031")
    assert shown["contract"] == "HT-2026-031" and shown["customer"] == "招商银行 数据中心"
    assert shown["contact"] == "刘先生 13800000000"
    typed = opened(repo, "--contract", "HT-2026-031", "--customer", "招行", "--contact", "张")
    assert (typed["customer"], typed["contact"]) == ("招行", "张")


def test_a_typo_is_refused_with_the_nearest_number(repo: Repo, refused: Callable) -> None:
    with_register(repo)
    said = refused("open", "--contract", "HT-2026-013", "--severity", "2", "--description", "d")
    assert said == (
        "contract HT-2026-013 is not in contracts.yaml: a customer without a valid contract "
        "needs --approved-by the manager or a sales manager; did you mean HT-2026-031?"
    )


def test_an_expired_or_unknown_contract_needs_approval(repo: Repo, refused: Callable) -> None:
    with_register(repo)
    said = refused("open", "--contract", "HT-2025-107", "--severity", "2", "--description", "d")
    assert said.startswith("contract HT-2025-107 is valid from 2025-01-01 to 2025-12-31: ")
    assert "needs --approved-by" in refused(
        "open", "--contract", "HT-2025-107", "--approved-by", "li.na", "--severity", "2",
        "--description", "d")  # fmt: skip
    shown = opened(repo, "--contract", "HT-2025-107", "--approved-by", "feng.xue")
    assert shown["contract"] == "HT-2025-107" and shown["customer"] == "某证券公司"
    unknown = opened(repo, "--contract", "X-1", "--approved-by", "wang.jianguo",
                     "--customer", "某公司", "--contact", "赵")  # fmt: skip
    assert unknown["contract"] == "X-1"


def test_open_by_serial_finds_the_contract(repo: Repo, refused: Callable) -> None:
    with_register(repo)
    shown = opened(repo, "--serial", "411235", "--assign", "zhang.wei")
    assert shown["contract"] == "HT-2026-031" and shown["customer"] == "招商银行 数据中心"
    said = refused("open", "--serial", "000000", "--severity", "2", "--description", "d")
    assert said.startswith("no contract in contracts.yaml covers serial 000000")


def test_without_the_register_open_is_as_before(repo: Repo, refused: Callable) -> None:
    assert opened(repo, "--contract", "ANY-1", "--customer", "c", "--contact", "x")["contract"]
    said = refused("open", "--serial", "411235", "--severity", "2", "--description", "d")
    assert said == "open --serial needs the contract register contracts.yaml"
    result = repo.run("open", "--contract", "ANY-2", "--severity", "2", "--description", "d")
    assert result.exit_code == 2 and "Missing option '--customer'" in result.stderr


def test_check_names_a_broken_register_and_broken_alert_rules(repo: Repo) -> None:
    with_register(repo)
    assert repo.ok("check", by=None) == ""
    text = (repo.root / "contracts.yaml").read_text(encoding="utf-8")
    (repo.root / "contracts.yaml").write_text(text.replace("end: 2025-12-31", "end: 2024-12-31"))
    with open(repo.root / "severity.yaml", "a", encoding="utf-8") as f:
        f.write("  default_severity: 7\n")
    result = repo.run("check", by=None)
    assert result.exit_code == 1
    assert "contracts.yaml: contracts.HT-2025-107.end: before the start (2025-01-01)" in (
        result.stdout
    )
    assert "severity.yaml: alerts.default_severity: expected a configured severity" in (
        result.stdout
    )


def test_the_report_counts_volume_by_the_register_s_contracts(repo: Repo) -> None:
    import json

    with_register(repo)
    opened(repo, "--contract", "HT-2026-031")
    opened(repo, "--contract", "X-9", "--approved-by", "wang.jianguo", "--customer", "c",
           "--contact", "x")  # fmt: skip
    document = json.loads(repo.ok("report", "--json", by=None,
                                  now="2026-11-27 09:00"))  # fmt: skip
    rows = {r["contract"]: r["opened"] for r in document["volume"]["by_contract"]}
    assert rows == {"HT-2026-031 招商银行 数据中心": 1, "HT-2025-107 某证券公司": 0,
                    "contract": 1, "no contract": 0}  # fmt: skip


def test_a_business_hours_contract_counts_its_clocks_on_business_hours(repo: Repo) -> None:
    with_register(repo)
    text = (repo.root / "contracts.yaml").read_text(encoding="utf-8")
    text = text.replace("end: 2025-12-31", "end: 2026-12-31\n    service: business")
    (repo.root / "contracts.yaml").write_text(text, encoding="utf-8")
    saturday = "2026-11-28 10:00"
    business = opened(repo, "--contract", "HT-2025-107", now=saturday)
    reply = next(d for d in business["deadlines"] if d["kind"] == "reply")
    assert reply["due"].startswith("2026-11-30T10:00")  # Monday 09:00 plus one working hour
    round_the_clock = opened(repo, "--contract", "HT-2026-031", now=saturday)
    reply = next(d for d in round_the_clock["deadlines"] if d["kind"] == "reply")
    assert reply["due"].startswith("2026-11-28T11:00")
