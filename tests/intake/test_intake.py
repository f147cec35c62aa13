# ruff: noqa: F811 - the servers are fixtures, imported by name
"""`casectl intake` end to end: HM800 traps through the real snmptrapd, AutoSupport mails
through aiosmtpd into a maildir, the rules of severity.yaml's `alerts:`, a crash."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from conftest import Repo, git
from intake_helpers import (
    CASECTL,
    Snmptrapd,
    autosupport,
    cases,
    intake,
    maildir,
    trap_text,
    trapd,  # noqa: F401 - a fixture
    wait_for,
    with_register,
)
from notify_servers import SmtpServer, free_port, smtp, use_email  # noqa: F401 - fixtures

from casectl.store import Store


def alarm_cases(repo: Repo) -> dict[str, dict]:
    return {k: v for k, v in cases(repo).items() if v["events"][0].get("source") == "alarm"}


@pytest.mark.slow
def test_an_acute_sim_through_snmptrapd_opens_a_severity_1_case_assigned_and_told(
    repo: Repo, trapd: Snmptrapd, smtp: SmtpServer
) -> None:
    use_email(repo, smtp)
    trapd.send("411234", "3e1234", level=1, description="DKC processor failure")
    found = wait_for(lambda: alarm_cases(repo))
    assert len(found) == 1, "snmptrapd's traphandle opened no case"
    case_id, document = next(iter(found.items()))
    opening = document["events"][0]
    assert opening["by"] == "intake" and opening["contract"] == "HT-2026-031"
    assert opening["customer"] == "招商银行 数据中心" and opening["alarm"]["code"] == "3E1234"
    shown = repo.show(case_id)
    assert shown["severity"] == 1 and shown["assignee"] == "zhang.wei"
    assert shown["duty"] == "li.na" and "DKC processor failure" in shown["events"][0]["text"]
    assert {d["kind"] for d in shown["deadlines"]} >= {"callback", "reply"}
    told = wait_for(lambda: smtp.box.to("li.na@example.com"))
    assert told and case_id in str(told[0]["Subject"])
    assert wait_for(lambda: smtp.box.to("zhang.wei@example.com"))
    # the same SIM again (a later time) appends; the case stays one
    trapd.send("411234", "3E1234", level=1, clock="14:05:00")
    wait_for(lambda: len(cases(repo)[case_id]["events"]) == 3)
    alert = cases(repo)[case_id]["events"][-1]
    assert alert["type"] == "alert" and alert["alarm"]["count"] == 2
    assert len(alarm_cases(repo)) == 1
    assert wait_for(lambda: git(repo.root, "status", "--porcelain") == "")  # its commit too


@pytest.mark.slow
def test_fifty_repeats_append_and_an_exact_repeat_is_recorded_once(repo: Repo) -> None:
    with_register(repo)
    assert intake(repo, data=trap_text(clock="14:00:00")).exit_code == 0
    [case_id] = alarm_cases(repo)
    for n in range(50):
        result = intake(repo, data=trap_text(clock=f"14:{1 + n // 60:02d}:{n % 60:02d}"))
        assert result.exit_code == 0 and f"({n + 2} so far)" in result.stdout
    again = intake(repo, data=trap_text(clock="14:00:00"))
    assert again.stdout.startswith("already taken: hitachi 411234 3E1234")
    events = cases(repo)[case_id]["events"]
    alerts = [e for e in events if e["type"] == "alert"]
    assert len(alerts) == 50 and len(alarm_cases(repo)) == 1
    last = alerts[-1]["alarm"]
    assert last["count"] == 51
    assert last["first_seen"].strftime("%H:%M:%S") == "14:00:00"
    assert last["last_seen"].strftime("%H:%M:%S") == "14:01:49"


def test_a_storm_opens_one_storm_case_and_the_rest_append(repo: Repo, tmp_path: Path) -> None:
    with_register(repo)
    box = maildir(tmp_path / "Maildir")
    for n in range(15):
        (box / "new" / f"{n:03d}.trap").write_bytes(trap_text("411235", f"A{n:05d}"))
    result = intake(repo, "--maildir", str(box))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 15
    found = alarm_cases(repo)
    storms = [d for d in found.values() if d["events"][0]["alarm"].get("storm")]
    assert len(storms) == 1 and len(found) == 10  # nine alerts open, the tenth the storm
    appended = [e for e in storms[0]["events"] if e["type"] == "alert"]
    assert len(appended) == 5
    assert sorted(os.listdir(box / "new")) == [] and len(os.listdir(box / "cur")) == 15


def test_an_ignored_code_opens_nothing_and_open_after_waits_for_its_count(repo: Repo) -> None:
    with_register(repo)
    before = repo.fingerprint()
    ignored = intake(repo, data=trap_text(code="7FF102", level=4))
    assert ignored.exit_code == 0
    assert ignored.stdout.strip() == "ignored: hitachi 411234 7FF102 is on the ignore list"
    for n, said in ((1, "counted"), (2, "counted")):
        result = intake(repo, data=trap_text(code="AC1001", level=3, clock=f"14:0{n}:00"))
        assert result.stdout.startswith(f"{said}: hitachi 411234 AC1001, {n} of 3 within 1h")
    assert repo.fingerprint() == before  # the log is the clone's own, not tracked
    third = intake(repo, data=trap_text(code="AC1001", level=3, clock="14:03:00"))
    assert "opened from hitachi 411234 AC1001, severity 3" in third.stdout
    log = intake(repo, "log")
    assert [line.split(" -> ")[1].split()[0] for line in log.stdout.splitlines()] == [
        "ignored", "counted", "counted", "opened"]  # fmt: skip
    entries = json.loads(intake(repo, "log", "--json", "--repo", str(repo.root)).stdout)
    assert entries[-1]["code"] == "AC1001" and entries[-1]["case"] in alarm_cases(repo)


def test_an_expired_contract_needs_approval_and_runs_no_clock_until_then(repo: Repo) -> None:
    with_register(repo)
    result = intake(repo, data=trap_text(serial="452001"))
    assert result.exit_code == 0
    [case_id] = alarm_cases(repo)
    assert "not assigned: contract HT-2025-107 is valid from 2025-01-01 to 2025-12-31" in (
        result.stdout
    )
    shown = repo.show(case_id)
    assert shown["assignee"] is None and shown["deadlines"] == []
    assert shown["approval"] == "needed"
    assert f"HT-2025-107, awaits approval: casectl approve {case_id}" in repo.ok("show", case_id)
    refused = repo.run("approve", case_id, "--reason", "r", by="li.na")
    assert refused.exit_code == 1 and "only the manager or a sales manager" in refused.stderr
    repo.ok("approve", case_id, "--reason", "续约审批中，先行支持", by="wang.jianguo",
            now="2026-11-26 15:00")  # fmt: skip
    repo.ok("assign", case_id, "--next", now="2026-11-26 15:01")
    shown = repo.show(case_id, now="2026-11-26 15:02")
    reply = next(d for d in shown["deadlines"] if d["kind"] == "reply")
    assert reply["due"].startswith("2026-11-26T16:00")  # from the approval, not the opening
    assert repo.ok("check", by=None, now="2026-11-26 15:02") == ""


def test_an_unknown_array_is_flagged_like_a_customer_without_contract(repo: Repo) -> None:
    with_register(repo)
    result = intake(repo, data=trap_text(serial="999999"))
    assert "no contract in contracts.yaml covers serial 999999" in result.stdout
    [document] = alarm_cases(repo).values()
    assert document["events"][0]["approval"] == "needed"
    assert document["events"][0]["customer"] == "unknown (array 999999)"


def test_autosupport_mail_through_smtp_into_a_maildir(repo: Repo, tmp_path: Path) -> None:
    with_register(repo)
    box = maildir(tmp_path / "Maildir")
    controller = Controller(Mailbox(str(box)), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            client.send_message(autosupport("4511-0007", "DISK REDUNDANCY FAILED", "CRITICAL"))
            client.send_message(autosupport("4511-0007", "DISK REDUNDANCY FAILED", "CRITICAL", 1))
    finally:
        controller.stop()
    assert len(os.listdir(box / "new")) == 2
    result = intake(repo, "--maildir", str(box))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "opened from netapp 4511-0007 DISK_REDUNDANCY_FAILED, severity 1" in lines[0]
    assert "appended (2 so far)" in lines[1]
    [document] = alarm_cases(repo).values()
    assert document["events"][0]["alarm"]["model"] == "AFF-A400"
    assert os.listdir(box / "new") == [] and len(os.listdir(box / "cur")) == 2
    assert intake(repo, "--maildir", str(box)).stdout == ""  # taken once


def test_a_clear_appends_alarm_cleared_and_closes_nothing(repo: Repo) -> None:
    with_register(repo)
    raised = {
        "vendor": "dell",
        "serial": "411234",
        "code": "0x1A2B",
        "severity": "critical",
        "time": "2026-11-26T13:55:00+08:00",
        "id": "evt-1",
        "description": "Node A down",
    }
    assert intake(repo, data=json.dumps(raised).encode()).exit_code == 0
    cleared = raised | {"id": "evt-2", "state": "clear", "time": "2026-11-26T14:02:00+08:00"}
    result = intake(repo, data=json.dumps(cleared).encode())
    assert "alarm cleared at 2026-11-26 14:02:00 +0800" in result.stdout
    [case_id] = alarm_cases(repo)
    assert repo.show(case_id)["status"] == "open"
    assert cases(repo)[case_id]["events"][-1]["type"] == "alarm-cleared"


@pytest.mark.slow
def test_a_serial_under_maintenance_appends_instead_of_opening(repo: Repo) -> None:
    with_register(repo)
    intake(repo, data=trap_text(code="3E1234"))
    [case_id] = alarm_cases(repo)
    repo.ok("rma", case_id, "--part", "DKU-HDD", by="zhang.wei")
    result = intake(repo, data=trap_text(code="FF0001", level=2, clock="14:10:00"))
    assert "the array is under maintenance on this case" in result.stdout
    assert list(alarm_cases(repo)) == [case_id]


HOSTILE = {
    "malformed": b"Subject: =?utf-8?q?broken\nContent-Type: multipart/mixed; boundary=\n\n--",
    "huge": b"Subject: x\n\n" + b"A" * (2 << 20),
    "binary": b"\x00\x01\x02ELF\x00" * 100,
    "no-serial": json.dumps({"code": "X1", "time": "2026-11-26T14:00:00+08:00"}).encode(),
    "bad-serial": trap_text(serial="../../etc/passwd"),
    "not-hitachi": trap_text().replace(b".1.3.6.1.4.1.116.3.11.4.1.1.0.1", b".1.3.6.1.4.1.9.9.1"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_bad_alert_is_one_line_quarantined_and_changes_nothing_else(
    repo: Repo, tmp_path: Path, kind: str
) -> None:
    with_register(repo)
    box = maildir(tmp_path / "Maildir")
    (box / "new" / "m1").write_bytes(HOSTILE[kind])
    before = repo.fingerprint()
    result = intake(repo, "--maildir", str(box))
    assert result.exit_code == 0 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("quarantined m1: ")
    assert repo.fingerprint() == before
    kept = Path(Store(str(repo.root)).state_dir) / "intake" / "quarantine" / "m1"
    assert kept.read_bytes() == HOSTILE[kind][: 1 << 20 | 1]  # kept whole, up to the cap
    assert os.listdir(box / "new") == []


def test_text_that_looks_like_yaml_or_a_mention_stays_text(repo: Repo) -> None:
    with_register(repo)
    nasty = 'x\\"\n- id: FAKE\n  by: wang.jianguo <at user_id=\\"all\\"> \x1b]0;pwn\x07'
    alert = {"vendor": "v", "serial": "411234", "code": "C1", "severity": "critical",
             "time": "2026-11-26T14:00:00+08:00", "description": nasty}  # fmt: skip
    result = intake(repo, data=json.dumps(alert).encode())
    assert result.exit_code == 0
    [document] = alarm_cases(repo).values()
    assert len(document["events"]) == 2 and "\x1b" not in document["events"][0]["text"]
    assert "- id: FAKE" in document["events"][0]["text"]
    assert repo.ok("check", by=None) == ""


def test_dry_run_says_what_would_happen_and_writes_nothing(repo: Repo) -> None:
    with_register(repo)
    before = repo.fingerprint()
    result = intake(repo, "--dry-run", data=trap_text())
    assert result.stdout.startswith("would do: ")
    assert "opened from hitachi 411234 3E1234, severity 1, assigned to zhang.wei" in result.stdout
    assert repo.fingerprint() == before
    assert intake(repo, "log").stdout == ""


@pytest.mark.slow
def test_a_sigkill_during_intake_loses_and_doubles_nothing(repo: Repo, tmp_path: Path) -> None:
    with_register(repo)
    box = maildir(tmp_path / "Maildir")
    sent = 400
    for n in range(sent):
        code = f"K{n % 40:05d}"  # 40 codes on 3 arrays: opens, appends, storms
        serial = ("411234", "411235", "4511-0007")[n % 3]
        clock = f"13:{n % 60:02d}:{n // 60:02d}"
        (box / "new" / f"{n:04d}.trap").write_bytes(trap_text(serial, code, clock=clock))
    env = os.environ | {"CASECTL_NOW": repo.now, "CASECTL_REPO": str(repo.root)}
    command = [CASECTL, "intake", "--maildir", str(box)]
    midway, delay = 0, 0.05
    while os.listdir(box / "new"):  # killed ever later, until a run gets to its end
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        left = len(os.listdir(box / "new"))
        midway += process.returncode == -signal.SIGKILL and 0 < left < sent
        delay += 0.02  # fine steps: on a quiet machine a whole run is a few tenths
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    assert finished.returncode == 0 and finished.stdout == "", finished.stderr
    assert midway, "no kill landed in the middle of a run"
    assert len(os.listdir(box / "cur")) == sent
    ids = [e["alarm"]["id"] for d in cases(repo).values() for e in d["events"] if "alarm" in e]
    assert len(ids) == len(set(ids)) == sent  # each alert once: none lost, none doubled
    assert git(repo.root, "status", "--porcelain") == ""
    assert repo.ok("check", by=None) == ""


@pytest.mark.slow
def test_a_thousand_traps_in_a_minute_open_ten_cases_one_line_each(
    repo: Repo, tmp_path: Path
) -> None:
    with_register(repo)
    box = maildir(tmp_path / "Maildir")
    for n in range(1000):
        clock = f"14:00:{n % 60:02d}"
        (box / "new" / f"{n:04d}").write_bytes(trap_text("411234", f"F{n:05d}", clock=clock))
    result = intake(repo, "--maildir", str(box))
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 1000
    found = alarm_cases(repo)
    assert len(found) == 10  # nine before the storm, then the storm case takes the rest
    [storm] = [d for d in found.values() if d["events"][0]["alarm"].get("storm")]
    assert len([e for e in storm["events"] if e["type"] == "alert"]) == 990
    assert git(repo.root, "status", "--porcelain") == ""


@pytest.mark.slow
def test_traps_handled_at_once_are_each_taken_once(repo: Repo) -> None:
    with_register(repo)
    env = os.environ | {"CASECTL_NOW": repo.now, "CASECTL_REPO": str(repo.root)}
    processes = [
        subprocess.Popen(
            [CASECTL, "intake"],
            stdin=subprocess.PIPE,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(12)
    ]
    for n, process in enumerate(processes):
        assert process.stdin is not None
        process.stdin.write(trap_text(f"4112{n % 2 + 34}", f"C{n:05d}", clock=f"14:00:{n:02d}"))
        process.stdin.close()
    assert all(p.wait(timeout=120) == 0 for p in processes)
    ids = [e["alarm"]["id"] for d in cases(repo).values() for e in d["events"] if "alarm" in e]
    assert len(ids) == len(set(ids)) == 12
    spool = Path(Store(str(repo.root)).state_dir) / "intake" / "spool" / "new"
    assert os.listdir(spool) == []
    assert git(repo.root, "status", "--porcelain") == ""


def test_what_a_killed_stdin_run_spooled_is_taken_by_intake_spool(repo: Repo) -> None:
    from casectl.intake.journal import Journal, deliver

    with_register(repo)
    journal = Journal(Store(str(repo.root)).state_dir)
    journal.ready()
    deliver(f"{journal.folder}/spool", trap_text(), "20261126140000")  # then the kill
    assert alarm_cases(repo) == {}
    result = intake(repo, "--spool")
    assert "opened from hitachi 411234 3E1234, severity 1" in result.stdout
    assert len(alarm_cases(repo)) == 1
    assert intake(repo, "--spool").stdout == ""


def test_a_trap_with_names_and_types_as_snmptrapd_prints_them_without_on(repo: Repo) -> None:
    """Without -On, with the MIB loaded or not: names, `iso.` prefixes, `TYPE: ` values."""
    with_register(repo)
    named = b"""array.example.com
UDP: [192.0.2.10]:161->[192.0.2.1]:162
DISMAN-EVENT-MIB::sysUpTimeInstance = Timeticks: (1) 0:00:00.01
SNMPv2-MIB::snmpTrapOID.0 OID: SNMPv2-SMI::enterprises.116.3.11.4.1.1.0.2
HM800MIB::eventTrapSerialNumber INTEGER: 411235
iso.3.6.1.4.1.116.5.11.4.2.3 STRING: "ac8f21"
HM800MIB::eventTrapPartsID OID: HM800MIB::raidExMibRoot.6
HM800MIB::eventTrapDate STRING: "2026/11/26"
iso.3.6.1.4.1.116.5.11.4.2.6 STRING: "13:59:00"
HM800MIB::eventTrapDescription STRING: "CHB port failure \\"CL1-A\\""
"""
    result = intake(repo, data=named)
    assert "opened from hitachi 411235 AC8F21, severity 2" in result.stdout, result.output
    [document] = alarm_cases(repo).values()
    assert document["events"][0]["text"].endswith('CHB port failure "CL1-A"')
    assert document["events"][0]["alarm"]["seen"].strftime("%H:%M") == "13:59"


def test_a_backlog_taken_at_once_is_no_storm(repo: Repo, tmp_path: Path) -> None:
    """Windows run on the array's clock: a day's alerts taken after an outage are no storm."""
    with_register(repo)
    box = maildir(tmp_path / "Maildir")
    for n in range(15):
        clock = f"{n:02d}:30:00"  # one an hour
        (box / "new" / f"{n:03d}").write_bytes(trap_text("411235", f"B{n:05d}", clock=clock))
    assert intake(repo, "--maildir", str(box)).exit_code == 0
    found = alarm_cases(repo)
    assert len(found) == 15 and not any(
        d["events"][0]["alarm"].get("storm") for d in found.values()
    )
