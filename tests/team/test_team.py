"""A center, not a clone: two engineers' clones and a cron host sharing a remote served
by `git daemon` on 127.0.0.1, driven through the real CLI along the seed's timeline.

Every step is shared as it is made (a detached `casectl share`), the cron host's
`sweep --sync` tells people of steps other clones made, and a step shared after the
sweep acted withdraws what the sweep did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import GitDaemon, Repo, git
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

Team = tuple[Repo, Repo, Repo]
SHARING = {"CASECTL_PUSH": "1"}
OPENED = "2026-11-26 12:05"  # a Thursday: the callback falls due at 12:50


def remote_head(daemon: GitDaemon) -> str:
    return subprocess.run(["git", "--git-dir", str(daemon.bare), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip


def shared(clone: Repo, daemon: GitDaemon, wait: float = 20.0) -> None:
    """Wait until the remote has the clone's HEAD (a step's background share)."""
    deadline = time.monotonic() + wait
    head = git(clone.root, "rev-parse", "HEAD").strip()
    while time.monotonic() < deadline:
        found = subprocess.run(["git", "--git-dir", str(daemon.bare), "merge-base",
                                "--is-ancestor", head, "HEAD"], capture_output=True)  # fmt: skip
        if found.returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{clone.root.name}'s {head[:8]} never reached the remote")


def cron(host: Repo, now: str) -> str:
    """The cron line, as a real process."""
    env = dict(os.environ, CASECTL_NOW=now, LANG="C")
    done = subprocess.run([sys.executable, "-m", "casectl", "--repo", str(host.root), "sweep",
                           "--sync"], env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    return done.stderr


def told(server: SmtpServer, address: str, case_id: str) -> list[str]:
    return [str(m["Subject"]) for m in server.box.to(address) if case_id in str(m["Subject"])]


@pytest.fixture
def center(served_team: Team, smtp: SmtpServer) -> Team:  # noqa: F811
    """Engineers a and b (no channels), the cron host c mailing through the test server."""
    use_email(served_team[2], smtp)
    return served_team


def test_a_step_is_shared_as_it_is_made(center: Team, daemon: GitDaemon) -> None:
    a, b, _ = center
    a.open_case(now=OPENED, env=SHARING)
    shared(a, daemon)
    b.ok("sync", by=None)
    assert git(b.root, "rev-parse", "HEAD") == git(a.root, "rev-parse", "HEAD")
    status = a.ok("status", "--json")
    assert '"unshared": []' in status


def test_the_host_tells_an_assignment_made_in_a_clone_without_channels(
    center: Team,
    smtp: SmtpServer,  # noqa: F811
    daemon: GitDaemon,
) -> None:
    a, _, host = center
    case_id = a.open_case(now=OPENED, assign="liu.yang", env=SHARING)
    shared(a, daemon)
    cron(host, "2026-11-26 12:06")
    assert len(told(smtp, "liu.yang@example.com", case_id)) == 1
    cron(host, "2026-11-26 12:07")  # told once
    assert len(told(smtp, "liu.yang@example.com", case_id)) == 1


def test_a_clone_that_told_at_the_step_is_not_told_again_by_the_host(
    center: Team,
    smtp: SmtpServer,  # noqa: F811
    daemon: GitDaemon,
) -> None:
    a, _, host = center
    use_email(a, smtp)
    case_id = a.open_case(now=OPENED, assign="liu.yang", env=SHARING)
    assert len(told(smtp, "liu.yang@example.com", case_id)) == 1  # told by a, at the step
    shared(a, daemon)
    cron(host, "2026-11-26 12:06")
    assert len(told(smtp, "liu.yang@example.com", case_id)) == 1


def test_a_callback_shared_after_the_sweep_withdraws_the_reassignment(
    center: Team,
    smtp: SmtpServer,  # noqa: F811
    daemon: GitDaemon,
) -> None:
    """The engineer called back at 12:10 in a clone that was offline; the cron host
    reassigned at 12:50; shared at 12:55, the callback withdraws the reassignment, and the
    engineer who got the case and the manager are told there is nothing to do."""
    a, b, host = center
    case_id = a.open_case(now=OPENED, env=SHARING)
    shared(a, daemon)
    b.ok("sync", by=None)
    b.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 12:10")
    cron(host, "2026-11-26 12:50")
    assert host.show(case_id, now="2026-11-26 12:50")["assignee"] == "liu.yang"
    assert len(told(smtp, "liu.yang@example.com", case_id)) == 1
    b.ok("sync", by=None, now="2026-11-26 12:55")  # back online
    cron(host, "2026-11-26 12:56")
    case = host.show(case_id, now="2026-11-26 12:56")
    assert case["assignee"] == "zhang.wei"
    [withdrawn] = [e for e in case["events"] if e["type"] == "withdraw"]
    assert "zhang.wei called back at 2026-11-26 12:10" in withdrawn["text"]
    callback = next(d for d in case["deadlines"] if d["kind"] == "callback")
    assert callback["state"] == "met"
    last = told(smtp, "liu.yang@example.com", case_id)
    assert len(last) == 2 and "no action" in last[-1], last
    assert any("no action" in s for s in told(smtp, "wang.jianguo@example.com", case_id))
    cron(host, "2026-11-26 13:30")  # nothing reassigned again, nothing told again
    assert host.show(case_id, now="2026-11-26 13:30")["assignee"] == "zhang.wei"
    assert len(told(smtp, "liu.yang@example.com", case_id)) == 2


def test_offline_steps_wait_and_are_shared_once(center: Team, daemon: GitDaemon) -> None:
    a, b, _ = center
    daemon.stop()
    first = a.open_case(now=OPENED, env=SHARING)
    time.sleep(0.5)
    second = a.run("log", first, "note", now="2026-11-26 12:07", env=SHARING)
    assert second.exit_code == 0
    deadline = time.monotonic() + 20
    while "not shared yet" not in a.run("log", first, f"n{time.monotonic()}", env=SHARING,
                                        now="2026-11-26 12:08").stderr:  # fmt: skip
        assert time.monotonic() < deadline, "the failed share was never said"
        time.sleep(0.3)
    status = a.ok("status")
    assert "not shared yet: 4 steps" in status or "not shared yet: 3 steps" in status, status
    daemon.start()
    a.ok("log", first, "back", now="2026-11-26 12:10", env=SHARING)
    shared(a, daemon)
    b.ok("sync", by=None)
    notes = [e for e in b.show(first)["events"] if e["type"] == "note"]
    assert len(notes) == len({e["id"] for e in notes}) >= 3
    assert "not shared yet: 0 steps" in a.ok("status")


def test_two_clones_pushing_at_once_both_land(center: Team, daemon: GitDaemon) -> None:
    """Two engineers open a case in the same second, each in a process of its own."""
    a, b, _ = center
    env = dict(os.environ, CASECTL_NOW=OPENED, CASECTL_USER="li.na", LANG="C", **SHARING)
    runs = [
        subprocess.Popen([sys.executable, "-m", "casectl", "--repo", str(clone.root), "open",
                          "--customer", "c", "--contact", "x", "--contract", "H",
                          "--severity", "1", "--description", clone.root.name],
                         env=env, stdout=subprocess.PIPE, text=True)
        for clone in (a, b)
    ]  # fmt: skip
    ids = [run.communicate(timeout=30)[0].split()[0] for run in runs]
    for clone in (a, b):
        shared(clone, daemon, wait=40)
    check = Repo(a.root.parent / "check")
    subprocess.run(["git", "clone", "-q", daemon.url, str(check.root)], check=True)
    for case_id in ids:
        assert check.case_path(case_id).is_file()


def test_the_cron_host_says_once_that_the_remote_is_down(center: Team, daemon: GitDaemon) -> None:
    a, _, host = center
    case_id = a.open_case(now=OPENED)
    a.ok("sync", by=None)
    cron(host, "2026-11-26 12:06")
    daemon.stop()
    said = cron(host, "2026-11-26 12:51")
    assert "cannot share with the remote" in said
    assert host.show(case_id, now="2026-11-26 12:51")["assignee"] == "liu.yang"  # swept alone
    assert "cannot share" not in cron(host, "2026-11-26 12:52")
    daemon.start()
    cron(host, "2026-11-26 12:53")
    a.ok("sync", by=None)
    assert a.show(case_id, now="2026-11-26 12:53")["assignee"] == "liu.yang"


def test_the_sweeps_push_reaches_the_engineers(center: Team, daemon: GitDaemon) -> None:
    a, b, host = center
    case_id = a.open_case(now=OPENED)
    a.ok("sync", by=None)
    cron(host, "2026-11-26 12:51")
    assert remote_head(daemon) == git(host.root, "rev-parse", "HEAD").strip()
    b.ok("sync", by=None)
    assert b.show(case_id, now="2026-11-26 12:52")["assignee"] == "liu.yang"


def test_sharing_is_off_when_the_clone_says_so(center: Team, daemon: GitDaemon) -> None:
    a, _, _ = center
    git(a.root, "config", "casectl.push", "false")
    before = remote_head(daemon)
    a.open_case(now=OPENED, env={"CASECTL_PUSH": None})  # type: ignore[dict-item]
    time.sleep(1.5)
    assert remote_head(daemon) == before
    assert "sharing: off" in a.ok("status", env={"CASECTL_PUSH": None})  # type: ignore[dict-item]


def test_a_repository_path_in_status(repo: Repo) -> None:
    """Without a remote, status says so and lists nothing to share."""
    out = repo.ok("status")
    assert "remote: none" in out and "bound to: nobody" in out


def test_share_child_is_detached(center: Team, daemon: GitDaemon, tmp_path: Path) -> None:
    """The step's prompt returns before the share is done: a remote that hangs (a
    listener that never answers) does not hold the step."""
    import socket

    a, _, _ = center
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    git(a.root, "remote", "set-url", "origin", f"git://127.0.0.1:{silent.getsockname()[1]}/x")
    started = time.monotonic()
    a.open_case(now=OPENED, env=SHARING)
    assert time.monotonic() - started < 5
    silent.close()


def test_a_callback_typed_late_withdraws_and_the_report_counts_it_apart(repo: Repo) -> None:
    """In one clone, with the documented --at: the callback at 09:40 typed at 09:50,
    after the 09:45 sweep's reassignment, meets the callback; the next sweep withdraws
    the reassignment, and the day's report counts the callback met and the withdrawal
    apart (the checker's health)."""
    import json

    case_id = repo.open_case(now="2026-11-26 09:00")
    repo.ok("sweep", now="2026-11-26 09:46", by=None)
    assert repo.show(case_id, now="2026-11-26 09:46")["assignee"] == "liu.yang"
    repo.ok("log", case_id, "已回呼", "--callback", "--at", "09:40", by="zhang.wei",
            now="2026-11-26 09:50")  # fmt: skip
    said = repo.ok("sweep", "--json", now="2026-11-26 09:51", by=None)
    [action] = json.loads(said)["actions"]
    assert action["kind"] == "withdraw" and set(action["notify"]) == {"liu.yang", "wang.jianguo"}
    case = repo.show(case_id, now="2026-11-26 10:30")
    assert case["assignee"] == "zhang.wei"
    assert [d["state"] for d in case["deadlines"] if d["kind"] == "callback"] == ["met"]
    assert repo.ok("sweep", "--json", now="2026-11-26 10:30", by=None).count('"kind"') == 0
    report = json.loads(repo.ok("report", "--date", "2026-11-26", "--json", now="2026-11-27 08:00"))
    [withdrawn] = report["checker"]["withdrawn"]
    assert withdrawn["case"] == case_id and withdrawn["kind"] == "reassign"
    callback = next(k for k in report["compliance"]["by_kind"] if k["kind"] == "callback")
    assert callback["met"] == 1 and callback["missed"] == 0
