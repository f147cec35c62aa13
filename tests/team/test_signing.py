"""Decisions no one can forge: the manager's steps signed, verified by every clone (issue 23).

Real keys made by ssh-keygen in the test's folder, real signed commits, git's own
verification; clones share a bare remote.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import Repo, clone, git, open_args
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

MANAGER = "wang.jianguo"
POLICY = "signed: [onsite-approve, onsite-deny, noncontract-approve, escalate, customer-request]\n"


def keygen(folder: Path, name: str) -> tuple[Path, str]:
    """A new ed25519 key pair: the private key's path and the public key's line."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
                   check=True)  # fmt: skip
    return path, path.with_suffix(".pub").read_text().strip()


def set_key(root: Path, person: str, key: str, roles: str | None = None) -> None:
    """Give `person` in roster.yaml the signing key (and, given, the roles)."""
    lines = (root / "roster.yaml").read_text().splitlines()
    at = lines.index(f"- id: {person}")
    end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("- id:")), len(lines))
    body = [ln for ln in lines[at + 1 : end] if not ln.startswith("  signing_key:")]
    if roles:
        body = [f"  roles: [{roles}]" if ln.startswith("  roles:") else ln for ln in body]
    body.append(f"  signing_key: {key}")
    (root / "roster.yaml").write_text("\n".join([*lines[: at + 1], *body, *lines[end:]]) + "\n")


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "keys"
    return {name: keygen(folder, name) for name in ("manager", "engineer", "manager-new")}


@pytest.fixture
def center(repo: Repo, keys: dict, tmp_path: Path) -> tuple[Repo, Repo, Repo]:
    """The manager's clone (signing, trusting the roster's managers), the first-line
    engineer zhang.wei's (signing with his own key) and the cron host's (no key; it
    trusts the managers too), the policy on, shared through a bare remote."""
    set_key(repo.root, MANAGER, keys["manager"][1])
    set_key(repo.root, "zhang.wei", keys["engineer"][1])
    with (repo.root / "severity.yaml").open("a") as f:
        f.write(POLICY)
    repo.ok("setup-git", "--sign", "--key", str(keys["manager"][0]), "--as", MANAGER)
    repo.ok("setup-git", "--trust-roster")
    git(repo.root, "commit", "-qam", "keys and the signing policy")  # signed: commit.gpgSign
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo.root, "remote", "add", "origin", str(remote))
    repo.ok("sync", by=None)
    engineer = clone(remote, tmp_path / "zhang-wei")
    engineer.ok("setup-git", "--sign", "--key", str(keys["engineer"][0]), "--as", "zhang.wei")
    cron = clone(remote, tmp_path / "cron-host")
    cron.ok("setup-git", "--trust-roster")
    return repo, engineer, cron


def requested(manager: Repo, engineer: Repo) -> str:
    """A severity-1 case assigned to zhang.wei, who asked for on-site service at T0."""
    case_id = manager.open_case(1, by="li.na")
    manager.ok("sync", by=None)
    engineer.ok("sync", by=None)
    engineer.ok("onsite", case_id, "--request", "--reason", "需要现场更换控制器", by="zhang.wei")
    engineer.ok("sync", by=None)
    return case_id


def sweep(repo: Repo, now: str) -> list[dict]:
    return json.loads(repo.ok("sweep", "--json", now=now))["actions"]


def signature(repo: Repo, commit: str = "HEAD") -> str:
    """git's own verdict on a commit: %G? and the signer, against the clone's own
    allowed-signers file (setup-git --sign wrote it)."""
    return git(repo.root, "log", "-1", "--format=%G? %GS", commit).strip()


def test_setup_sign_signs_the_steps_and_the_fast_path_does_not_skip_it(center: tuple) -> None:
    manager, _engineer, _cron = center
    case_id = manager.open_case(1, by="li.na")
    manager.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei")
    manager.ok("onsite", case_id, "--approve", by=MANAGER)
    assert signature(manager) == f"G {MANAGER}"
    config = git(manager.root, "config", "--local", "--list")
    assert "gpg.format=ssh" in config and "commit.gpgsign=true" in config
    from casectl.store import Store

    signers = Path(git(manager.root, "config", "gpg.ssh.allowedSignersFile").strip())
    assert signers.is_relative_to(Path(Store(str(manager.root)).state_dir))
    assert f"{MANAGER} ssh-ed25519 " in signers.read_text()
    # the fast commit path (git fast-import) never signs: with signing asked, git commit does
    from casectl import fastimport

    assert fastimport.may_sign(str(manager.root))


def test_an_approval_signed_by_the_manager_is_acted_on(center: tuple) -> None:
    manager, engineer, cron = center
    case_id = requested(manager, engineer)
    manager.ok("sync", by=None)
    manager.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 14:10")
    manager.ok("sync", by=None)
    cron.ok("sync", by=None)
    assert cron.show(case_id)["onsite"][0]["stage"] == "approved"
    actions = sweep(cron, "2026-11-26 14:40")
    assert not [a for a in actions if a["kind"] in ("onsite_pending", "unverified_step")]
    assert "unverified" not in cron.ok("show", case_id)
    assert cron.run("check").exit_code == 0, cron.run("check").stdout


@pytest.mark.parametrize("signed", [True, False], ids=["own-key", "unsigned"])
def test_an_approval_committed_by_an_engineer_is_not_acted_on(center: tuple, signed: bool) -> None:
    manager, engineer, cron = center
    case_id = requested(manager, engineer)
    # zhang.wei writes the manager's approval: his clone lies about whom it signs as
    git(engineer.root, "config", "casectl.signer", MANAGER)
    if signed:
        engineer.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 14:10")
        assert signature(engineer) == "G zhang.wei"
    else:
        engineer.ok("onsite", case_id, "--approve", "--no-commit", by=MANAGER,
                    now="2026-11-26 14:10")  # fmt: skip
        git(engineer.root, "-c", "commit.gpgSign=false", "commit", "-qam", "approved")
        assert signature(engineer)[0] == "N"
    forged = git(engineer.root, "rev-parse", "--short=12", "HEAD").strip()
    engineer.ok("sync", by=None)
    cron.ok("sync", by=None)
    # the sweep still reports the request pending, and tells the manager of the forgery once
    actions = sweep(cron, "2026-11-26 14:40")
    [pending] = [a for a in actions if a["kind"] == "onsite_pending"]
    assert pending["case"] == case_id and pending["notify"] == [MANAGER]
    [told] = [a for a in actions if a["kind"] == "unverified_step"]
    assert case_id in told["deadline"] and forged in told["deadline"]
    assert told["notify"] == [MANAGER]
    assert not [a for a in sweep(cron, "2026-11-26 14:50") if a["kind"] == "unverified_step"]
    # the approval stays in the file, and the sweep's own events are kept with it
    kinds = [e["type"] for e in cron.show(case_id)["events"]]
    assert "onsite-approve" in kinds and "onsite-pending" in kinds
    assert cron.show(case_id)["onsite"][0]["stage"] == "pending"
    shown = cron.ok("show", case_id)
    assert "unverified" in shown and forged in shown
    checked = cron.run("check")
    assert checked.exit_code == 1
    assert forged in checked.stdout and "not verified" in checked.stdout
    # the manager's own clone sees the same
    manager.ok("sync", by=None)
    assert "unverified" in manager.ok("show", case_id)


def test_a_clone_that_does_not_sign_refuses_the_step(center: tuple) -> None:
    manager, engineer, cron = center
    case_id = manager.open_case(1, by="li.na")
    manager.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei")
    manager.ok("sync", by=None)
    cron.ok("sync", by=None)
    before = cron.fingerprint()
    result = cron.run("onsite", case_id, "--approve", by=MANAGER)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "casectl setup-git --sign" in line and "nothing was written" in line
    assert cron.fingerprint() == before
    # a customer without a contract is the approver's decision: a clone signing as
    # someone else refuses to record it, naming whose key it takes; the approver's records it
    no_contract = open_args(1, None, "--approved-by", MANAGER)
    before = engineer.fingerprint()
    result = engineer.run(*no_contract, by="li.na")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f"signed by {MANAGER}" in line and "signs as zhang.wei" in line
    assert engineer.fingerprint() == before
    opened = manager.ok(*no_contract, by="li.na")
    assert signature(manager) == f"G {MANAGER}"
    assert "unverified" not in manager.ok("show", opened)


def test_a_roster_change_signed_by_an_engineer_is_refused_by_every_other_clone(
    center: tuple,
) -> None:
    manager, engineer, cron = center
    plain = clone(manager.root.parent / "remote.git", manager.root.parent / "plain")  # no pins
    set_key(engineer.root, "zhang.wei", engineer_key(engineer), roles="manager")
    git(engineer.root, "commit", "-qam", "zhang.wei is a manager now")
    assert signature(engineer) == "G zhang.wei"
    git(engineer.root, "push", "-q", "origin", "HEAD")
    bad = git(engineer.root, "rev-parse", "--short=12", "HEAD").strip()
    for clone_ in (cron, manager, plain):
        head = git(clone_.root, "rev-parse", "HEAD")
        trust = git(clone_.root, "config", "--list")
        result = clone_.run("sync", by=None)
        assert result.exit_code == 1
        [line] = result.stderr.strip().splitlines()
        assert bad in line and "roster.yaml" in line and "nothing was changed" in line
        assert git(clone_.root, "rev-parse", "HEAD") == head
        assert git(clone_.root, "status", "--porcelain") == ""
        assert git(clone_.root, "config", "--list") == trust
        assert "roles: [first-line]" in (clone_.root / "roster.yaml").read_text()
    # check reports such a commit where it got in by other means (a plain git pull)
    git(cron.root, "pull", "-q", "--no-rebase", "origin", "HEAD")
    checked = cron.run("check")
    assert checked.exit_code == 1 and bad in checked.stdout


def engineer_key(engineer: Repo) -> str:
    path = git(engineer.root, "config", "user.signingKey").strip()
    return Path(path + ".pub").read_text().strip()


def test_rotating_the_managers_key_by_a_change_signed_by_the_old_key(
    center: tuple, keys: dict
) -> None:
    manager, engineer, cron = center
    case_id = requested(manager, engineer)  # approved with the old key, before the rotation
    manager.ok("sync", by=None)
    manager.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 14:10")
    set_key(manager.root, MANAGER, keys["manager-new"][1])
    git(manager.root, "commit", "-qam", "the manager's new key")  # signed by the old one
    git(manager.root, "push", "-q", "origin", "HEAD")
    old = keys["manager"][1].split()[1]
    new = keys["manager-new"][1].split()[1]
    cron.ok("sync", by=None)
    trusted = git(cron.root, "config", "--get-all", "casectl.trust")
    assert new in trusted and old not in trusted
    assert new[-16:] in cron.ok("status")
    # the new key signs from now on; a later change signed by it is taken
    manager.ok("setup-git", "--sign", "--key", str(keys["manager-new"][0]), "--as", MANAGER)
    (manager.root / "severity.yaml").write_text(
        (manager.root / "severity.yaml").read_text().replace("due_soon: 30m", "due_soon: 20m")
    )
    git(manager.root, "commit", "-qam", "due soon: 20m")
    git(manager.root, "push", "-q", "origin", "HEAD")
    cron.ok("sync", by=None)
    assert "due_soon: 20m" in (cron.root / "severity.yaml").read_text()
    # the old key no longer counts: a change signed by it is refused
    engineer.ok("sync", by=None)
    git(engineer.root, "config", "user.signingKey", str(keys["manager"][0]))
    (engineer.root / "severity.yaml").write_text(
        (engineer.root / "severity.yaml").read_text().replace("due_soon: 20m", "due_soon: 5m")
    )
    git(engineer.root, "commit", "-qam", "signed with the old key")
    git(engineer.root, "push", "-q", "origin", "HEAD")
    result = cron.run("sync", by=None)
    assert result.exit_code == 1 and "not signed by a trusted" in result.stderr
    assert cron.run("check").exit_code == 0  # what cron took is all signed
    # a fresh clone believes the approval signed with the old key: judged by its own roster
    fresh = clone(manager.root.parent / "remote.git", manager.root.parent / "fresh")
    git(fresh.root, "reset", "-q", "--hard", "HEAD~1")  # without the old key's last change
    assert fresh.show(case_id)["onsite"][0]["stage"] == "approved"
    assert "unverified" not in fresh.ok("show", case_id)


def test_policy_off_nothing_changes_and_no_git_process(repo: Repo, monkeypatch: object) -> None:
    case_id = repo.open_case(1)
    repo.ok("onsite", case_id, "--request", "--reason", "r", by="zhang.wei")
    repo.ok("onsite", case_id, "--approve", by=MANAGER)
    assert repo.show(case_id)["onsite"][0]["stage"] == "approved"
    assert "unverified" not in repo.ok("show", case_id)
    assert repo.run("check").exit_code == 0
    assert count_gits(repo, monkeypatch, "show", case_id) == 0
    sweep(repo, "2026-11-26 14:30")
    assert count_gits(repo, monkeypatch, "sweep", now="2026-11-26 14:31") == 0


def test_a_warm_sweep_with_the_policy_on_runs_no_git(center: tuple, monkeypatch: object) -> None:
    manager, engineer, cron = center
    case_id = requested(manager, engineer)
    git(engineer.root, "config", "casectl.signer", MANAGER)
    engineer.ok("onsite", case_id, "--approve", by=MANAGER, now="2026-11-26 14:10")
    engineer.ok("sync", by=None)
    cron.ok("sync", by=None)
    sweep(cron, "2026-11-26 14:20")  # cold: finds and verifies the approval once
    sweep(cron, "2026-11-26 14:21")  # (the first sweep's own commit moved HEAD: one git diff)
    assert count_gits(cron, monkeypatch, "sweep", now="2026-11-26 14:22") == 0
    assert count_gits(cron, monkeypatch, "show", case_id) == 0


def test_roster_keys_are_checked_at_load(repo: Repo, keys: dict) -> None:
    set_key(repo.root, MANAGER, "ssh-ed25519 not-base64!")
    result = repo.run("list")
    assert result.exit_code == 1 and "signing_key" in result.stderr
    set_key(repo.root, MANAGER, keys["manager"][1])
    with (repo.root / "severity.yaml").open("a") as f:
        f.write("signed: [approve-everything]\n")
    result = repo.run("list")
    assert result.exit_code == 1 and "signed" in result.stderr


def count_gits(repo: Repo, monkeypatch: object, *args: str, now: str | None = None) -> int:
    """How many git processes one command starts (in this process: CliRunner)."""
    import subprocess as sp

    started: list[list[str]] = []
    real_run, real_popen = sp.run, sp.Popen

    def run(cmd: object, *a: object, **kw: object) -> object:
        started.append(list(cmd))  # type: ignore[call-overload]
        return real_run(cmd, *a, **kw)  # type: ignore[call-overload]

    class Popen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, cmd: object, *a: object, **kw: object) -> None:
            started.append(list(cmd))  # type: ignore[call-overload]
            super().__init__(cmd, *a, **kw)

    monkeypatch.setattr(sp, "run", run)  # type: ignore[attr-defined]
    monkeypatch.setattr(sp, "Popen", Popen)  # type: ignore[attr-defined]
    try:
        repo.ok(*args, now=now)
    finally:
        monkeypatch.undo()  # type: ignore[attr-defined]
    return sum(1 for cmd in started if cmd and cmd[0] == "git")


def test_a_policy_by_role_judges_the_steps_taken_since_it_was_set(center: tuple) -> None:
    manager, engineer, cron = center
    case_id = requested(manager, engineer)
    # a note in the manager's name, which the policy of decisions does not name
    git(engineer.root, "config", "casectl.signer", MANAGER)
    engineer.ok("log", case_id, "客户同意更换", by=MANAGER, now="2026-11-26 14:10")
    engineer.ok("sync", by=None)
    cron.ok("sync", by=None)
    sweep(cron, "2026-11-26 14:12")
    assert "unverified" not in cron.ok("show", case_id)
    # the manager's signed change: everything the manager does is to be signed
    manager.ok("sync", by=None)
    text = (manager.root / "severity.yaml").read_text().replace(POLICY, "")
    (manager.root / "severity.yaml").write_text(text + "signed: {roles: [manager]}\n")
    git(manager.root, "commit", "-qam", "everything the manager does is signed")
    manager.ok("sync", by=None)
    cron.ok("sync", by=None)
    # every case is read again under the new policy; the note taken before it stands
    assert not [a for a in sweep(cron, "2026-11-26 14:13") if a["kind"] == "unverified_step"]
    assert "unverified" not in cron.ok("show", case_id)
    # such a note written since is not believed
    engineer.ok("sync", by=None)
    engineer.ok("log", case_id, "客户再次同意更换", by=MANAGER, now="2026-11-26 14:14")
    note = git(engineer.root, "rev-parse", "--short=12", "HEAD").strip()
    engineer.ok("sync", by=None)
    cron.ok("sync", by=None)
    [told] = [a for a in sweep(cron, "2026-11-26 14:15") if a["kind"] == "unverified_step"]
    assert note in told["deadline"]
    assert note in cron.ok("show", case_id)
    # and the manager's clone, which signs, takes such a step; the cron host's refuses it
    manager.ok("log", case_id, "已电话确认", by=MANAGER, now="2026-11-26 14:16")
    assert signature(manager) == f"G {MANAGER}"
    result = cron.run("log", case_id, "已电话确认", by=MANAGER, now="2026-11-26 14:16")
    assert result.exit_code == 1 and "setup-git --sign" in result.stderr


@pytest.mark.parametrize("forged", [False, True], ids=["signed", "forged"])
def test_the_cron_host_tells_a_signed_assignment_and_not_a_forged_one(
    center: tuple,
    smtp: SmtpServer,  # noqa: F811
    forged: bool,
) -> None:
    manager, engineer, cron = center
    use_email(cron, smtp)
    case_id = manager.open_case(1, by="li.na")  # li.na's assignment, before the change
    # assignments signed too: the manager's signed change of the policy
    text = (
        (manager.root / "severity.yaml")
        .read_text()
        .replace("customer-request]", "customer-request, assign]")
    )
    (manager.root / "severity.yaml").write_text(text)
    git(manager.root, "commit", "-qam", "assignments are signed")
    manager.ok("sync", by=None)
    cron.ok("sweep", "--sync", by=None, now="2026-11-26 14:06")  # told so far
    assigner = engineer if forged else manager
    if forged:
        git(engineer.root, "config", "casectl.signer", MANAGER)
    assigner.ok("sync", by=None)
    assigner.ok("assign", case_id, "liu.yang", by=MANAGER, now="2026-11-26 14:10")
    assigner.ok("sync", by=None)
    cron.ok("sweep", "--sync", by=None, now="2026-11-26 14:11")
    assert len(mails(smtp, "liu.yang@example.com", case_id)) == (0 if forged else 1)
    # a forged assignment changes nothing: the case is still zhang.wei's
    assert cron.show(case_id)["assignee"] == ("zhang.wei" if forged else "liu.yang")


def mails(server: SmtpServer, address: str, case_id: str) -> list[str]:
    return [m.get_body(("plain",)).get_content() for m in server.box.to(address)
            if case_id in str(m["Subject"])]  # fmt: skip


def test_setup_git_sign_refuses_a_key_that_is_not_the_rosters(
    repo: Repo, keys: dict, refused: object
) -> None:
    set_key(repo.root, MANAGER, keys["manager"][1])
    config = git(repo.root, "config", "--local", "--list")
    for args, said in (
        (["--key", str(keys["engineer"][0]), "--as", MANAGER], "is not the key roster.yaml gives"),
        (["--key", str(keys["manager"][0]), "--as", "li.na"], "li.na has no signing_key"),
        (["--key", str(keys["manager"][0]), "--as", "nobody"], "nobody is not in roster.yaml"),
        (["--key", str(keys["manager"][0])], "give --as ID"),
        (["--as", MANAGER], "give --key PATH"),
    ):
        result = repo.run("setup-git", "--sign", *args)
        assert result.exit_code == 1 and said in result.stderr, result.stderr
        assert git(repo.root, "config", "--local", "--list") == config
    result = repo.run("setup-git", "--trust", str(keys["manager"][0]))  # a private key
    assert result.exit_code == 1 and "not an SSH public key" in result.stderr
    assert git(repo.root, "config", "--local", "--list") == config
    git(repo.root, "config", "casectl.user", MANAGER)  # bound by `casectl whoami`
    said = repo.ok("setup-git", "--sign", "--key", str(keys["manager"][0]))
    assert f"signs its commits as {MANAGER}" in said


def test_a_signed_approval_rewritten_later_is_not_believed(center: tuple) -> None:
    manager, engineer, cron = center
    case_id = requested(manager, engineer)
    manager.ok("sync", by=None)
    manager.ok("onsite", case_id, "--approve", "--when", "16:00", by=MANAGER,
               now="2026-11-26 14:10")  # fmt: skip
    manager.ok("sync", by=None)
    cron.ok("sync", by=None)
    assert not [a for a in sweep(cron, "2026-11-26 14:12") if a["kind"] == "unverified_step"]
    # zhang.wei moves the approved visit in the file: the event keeps its id
    engineer.ok("sync", by=None)
    path = engineer.case_path(case_id)
    text = path.read_text()
    assert text.count("16:00:00") == 1
    path.write_text(text.replace("16:00:00", "20:00:00"))
    git(engineer.root, "commit", "-qam", "later")
    rewritten = git(engineer.root, "rev-parse", "--short=12", "HEAD").strip()
    engineer.ok("sync", by=None)
    cron.ok("sync", by=None)
    [told] = [a for a in sweep(cron, "2026-11-26 14:13") if a["kind"] == "unverified_step"]
    assert case_id in told["deadline"] and f"commit {rewritten} changed it" in told["deadline"]
    assert cron.show(case_id)["onsite"][0]["stage"] == "pending"
