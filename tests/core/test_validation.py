"""Case files are validated when read: every event type's fields, types, order, ids; unknown keys kept."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import Repo

from casectl import casefile, model, yamlio
from casectl.store import read_case


@pytest.mark.slow
def test_every_event_type_casectl_writes_is_in_the_schema(repo: Repo) -> None:
    """A whole life, with every step and every sweep action: each file is valid, and every
    type it holds is one the schema knows."""
    a = repo.open_case(assign="zhang.wei")
    for kind in ("note", "contact", "wait-customer", "resume", "wait-parts", "resume"):
        repo.ok("log", a, f"{kind} step", "--type", kind, by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("onsite", a, "--request", "--reason", "r", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("onsite", a, "--approve", by="wang.jianguo", now="2026-11-26 14:06")
    repo.ok("onsite", a, "--arrive", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("log", a, "onsite step", "--type", "onsite", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("onsite", a, "--work", "w", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("onsite", a, "--depart", "--summary", "s", "--solution", "x", by="zhang.wei",
            now="2026-11-26 14:06")  # fmt: skip
    repo.ok("log", a, "alert", "--alert-manager", by="zhang.wei", now="2026-11-26 14:06")
    repo.ok("log", a, "called", "--callback", by="zhang.wei", now="2026-11-26 14:07")
    repo.ok("severity", a, "2", "--reason", "r", by="zhang.wei", now="2026-11-26 14:08")
    repo.ok("escalate", a, "--to", "zhou.qiang", by="wang.jianguo", now="2026-11-26 14:09")
    rma = repo.ok("rma", a, "--part", "P1", "--qty", "2", by="zhou.qiang", now="2026-11-26 14:10")
    repo.ok("rma", a, rma, "--status", "installed", by="zhou.qiang", now="2026-11-26 14:11")
    repo.ok("close", a, "--resolution", "done", by="zhou.qiang", now="2026-11-26 14:12")
    repo.ok("reopen", a, "--reason", "again", now="2026-11-26 14:13")
    b = repo.open_case(assign="zhang.wei", now="2026-11-26 14:05")
    repo.ok("log", b, "late", "--callback", by="zhang.wei", now="2026-11-26 15:30")
    c = repo.open_case(assign="liu.yang", now="2026-11-26 14:05")
    repo.ok("onsite", c, "--request", "--reason", "r", by="liu.yang", now="2026-11-26 14:06")
    price = repo.ok("open", "--no-contract", "--inquiry", "price", "--customer", "c",
                    "--contact", "d", now="2026-11-26 14:06")  # fmt: skip
    repo.run("sweep", by=None, now="2026-11-26 16:30")
    seen: set[str] = set()
    for case_id in (a, b, c, price):
        data = repo.case_path(case_id).read_bytes()
        document = yamlio.load(data)
        assert casefile.problems(document, case_id) == []
        seen |= {e["type"] for e in document["events"]}
    assert seen <= set(casefile.TYPES)
    assert {"check", "reassign", "overdue", "met-late", "rma-status", "reopen"} <= seen
    assert {"onsite-pending", "manager-alert", "onsite-depart"} <= seen
    assert set(model.LOG_TYPES) <= set(casefile.TYPES)


VALID = {
    "id": "261126-K7Q3M",
    "events": [
        {"id": "E1", "at": datetime.fromisoformat("2026-11-26T14:05:00+08:00"), "by": "li.na",
         "type": "open", "customer": "c", "contact": "c", "severity": 1, "text": "d"},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "field"), [(k, f) for k, fs in casefile.REQUIRED.items() for f in fs]
)
def test_each_required_field_is_named_when_missing(kind: str, field: str) -> None:
    event = {"id": "E2", "at": VALID["events"][0]["at"], "by": "li.na", "type": kind}  # type: ignore[index]
    event |= {f: "x" for f in casefile.REQUIRED[kind] if f != field}
    document = {"id": VALID["id"], "events": [*VALID["events"], event]}  # type: ignore[misc]
    assert (
        casefile.problems(document, "261126-K7Q3M")[0].message == f"event 2 ({kind}): no `{field}`"
    )


def test_all_problems_are_found_and_the_first_alone_when_reading() -> None:
    at = VALID["events"][0]["at"]  # type: ignore[index]
    events = [
        *VALID["events"],  # type: ignore[misc]
        {"id": "E1", "at": at, "by": "li.na", "type": "assign", "to": "x"},
        {"id": "E3", "at": at.replace(hour=13), "by": "li.na", "type": "note", "text": "t"},
        {"id": "E4", "at": at, "by": "li.na", "type": "note", "text": 5},
    ]
    found = [
        p.message for p in casefile.problems({"id": VALID["id"], "events": events}, VALID["id"])
    ]
    assert found == [
        "event 2: id E1 is used twice",
        "event 3: at 2026-11-26T13:05:00+08:00 is earlier than the event before it "
        "(2026-11-26T14:05:00+08:00); events are in time order",
        "event 4 (note): `text` expected text, got int 5",
    ]
    first = casefile.problems({"id": VALID["id"], "events": events}, VALID["id"], first=True)
    assert [p.message for p in first] == found[:1]


def test_a_broken_file_is_named_with_the_line_of_its_fault(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  severity: 1\n", "  severity: one\n"), encoding="utf-8")
    line = text.splitlines().index("  severity: 1") + 1
    result = repo.run("show", case_id)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}:{line}: event 1 (open): `severity` expected a severity, 1 to 9, "
        "got str 'one'\n"
    )


def test_an_incomplete_case_never_stops_the_sweep(repo: Repo) -> None:
    broken = repo.open_case(assign="zhang.wei")
    good = repo.open_case(assign="liu.yang")
    path = repo.case_path(broken)
    path.write_text(path.read_text(encoding="utf-8").replace("  to: zhang.wei\n", ""), "utf-8")
    for command in ("show", "log", "history"):
        args = (command, broken, "x") if command == "log" else (command, broken)
        result = repo.run(*args, by="zhang.wei")
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.stderr.strip().endswith("event 2 (assign): no `to`")
    result = repo.run("sweep", by=None, now="2026-11-26 14:21")
    assert result.exit_code == 1
    assert good in result.stdout and broken not in result.stdout
    assert f"casectl sweep: skipped {path}:14: event 2 (assign): no `to`" in result.stderr
    listed = repo.run("list")
    assert listed.exit_code == 1 and good in listed.stdout and broken not in listed.stdout


def test_unknown_keys_are_kept_on_the_next_write(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    text = path.read_text(encoding="utf-8")
    unknown = "  x-crm: CRM-77\n  x-tags:\n  - vip\n  - bank\n"  # between known keys
    text = text.replace("  type: open\n", "  type: open\n" + unknown)
    text += "imported_from: old-tracker\nx-links:\n  jira: SUP-1\n"
    path.write_text(text, encoding="utf-8")
    repo.ok("log", case_id, "note", by="zhang.wei", now="2026-11-26 14:30")
    after = path.read_text(encoding="utf-8")
    assert after.startswith(text.split("imported_from")[0])  # every earlier event byte for byte
    assert after.endswith("imported_from: old-tracker\nx-links:\n  jira: SUP-1\n")
    assert "  type: open\n" + unknown + "  customer: " in after
    document = yamlio.load(after)
    assert document["events"][0]["x-crm"] == "CRM-77" and document["events"][-1]["text"] == "note"
    assert read_case(str(path)).extra == {
        "imported_from": "old-tracker",
        "x-links": {"jira": "SUP-1"},
    }


def test_a_round_trip_with_unknown_keys_is_byte_identical(repo: Repo) -> None:
    from casectl.store import dump_case

    case_id = repo.open_case()
    path = repo.case_path(case_id)
    data = path.read_bytes().replace(b"  type: open\n", b"  type: open\n  zz: 1\n") + b"later: x\n"
    path.write_bytes(data)
    assert dump_case(read_case(str(path))) == data
