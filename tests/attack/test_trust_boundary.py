"""What a colleague pushes stays data: a clone's own state is out of the push's reach.

A hostile clone commits with `git add -f` and pushes to a remote served by `git
daemon` on 127.0.0.1; the victim is a cron host with e-mail set up against a real
SMTP server. `casectl sync` refuses what casectl never takes from a push (one line,
nothing changed); pulled by hand with plain git anyway, nothing of it is read: the
clone's outbox, markers, indexes and locks live in its git folder. Every victim
command runs as a real process under a 20 s timeout.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo, git, state_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notify_servers import SmtpServer, smtp, use_email  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

Team = tuple[Repo, Repo, Repo]
OPENED, SWEPT = "2026-11-26 14:05", "2026-11-26 14:51"  # the callback missed at 14:50
EVIL = "URGENT: your VPN password expires, log in at http://evil.example/login"


def cli(repo: Repo, *args: str, now: str = SWEPT, by: str = "li.na") -> subprocess.CompletedProcess:
    env = dict(os.environ, CASECTL_NOW=now, CASECTL_USER=by, LANG="C")
    env.pop("CASECTL_REPO", None)
    return subprocess.run([sys.executable, "-m", "casectl", "--repo", str(repo.root), *args],
                          env=env, capture_output=True, text=True, timeout=20)  # fmt: skip


def sane(done: subprocess.CompletedProcess, *codes: int) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (codes or (0,)), done.stderr


def tree_hash(folder: Path) -> str:
    """Every path, link target and byte under `folder`."""
    digest = hashlib.sha256()
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(top, name)
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The cron user's home beside the repositories: nothing may ever change in it."""
    folder = tmp_path / "home"
    (folder / "outside" / "dir").mkdir(parents=True)
    (folder / ".bashrc").write_text("# the cron user's shell start-up\n", encoding="utf-8")
    (folder / "outside" / "dir" / "settings").write_text("keep\n", encoding="utf-8")
    return folder


def hostile_item(key: str, text: str = EVIL) -> str:
    return json.dumps({
        "key": key, "event": "e1", "case": None, "in_case": False, "person": "zhang.wei",
        "channel": "email", "created": "2026-11-26T14:00:00+08:00", "attempts": 0,
        "first_failure": None, "last_attempt": None, "last_error": None,
        "part": {"title": text, "lines": [text], "case": None},
    })  # fmt: skip


def push_hostile(attacker: Repo, build: dict[str, str | Path]) -> str:
    """Commit `build` (path: text, or a Path for a link to it) with `git add -f`; push."""
    git(attacker.root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "HEAD")
    for name, what in build.items():
        path = attacker.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(what, Path):
            path.symlink_to(what)
        else:
            path.write_text(what, encoding="utf-8")
    git(attacker.root, "add", "-A", "-f")
    git(attacker.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "hostile")
    git(attacker.root, "push", "-q", "origin", "HEAD")
    return git(attacker.root, "rev-parse", "--short", "HEAD").strip()


def a_missed_callback(team: Team, server: SmtpServer) -> tuple[Repo, str]:
    """The cron host (c) mails; a case assigned to zhang.wei is opened and shared."""
    a, _, cron = team
    use_email(cron, server)
    case_id = a.open_case(now=OPENED)
    a.ok("sync", by=None, now=OPENED)
    cron.ok("sync", by=None, now=OPENED)
    return cron, case_id


def refused_then_pulled(victim: Repo, *words: str) -> None:
    """`sync` refuses in one line naming `words`, HEAD unchanged; then a plain `git pull`."""
    head = git(victim.root, "rev-parse", "HEAD")
    done = cli(victim, "sync", now=OPENED)
    sane(done, 1)
    [line] = done.stderr.strip().splitlines()
    for word in ("sync refused", *words):
        assert word in line, line
    assert git(victim.root, "rev-parse", "HEAD") == head
    git(victim.root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "HEAD")


def sweep_told(cron: Repo, server: SmtpServer, case_id: str, *codes: int) -> None:
    """The sweep reassigns the missed callback, and the people it names are mailed
    messages casectl composed (each about the case), nothing else. `codes`: the exit
    statuses allowed (a pushed file that is no case file is named, exit 1)."""
    sane(cli(cron, "sweep", by=""), *(codes or (0,)))
    sane(cli(cron, "notify", "flush", by=""))
    events = [e["type"] for e in cron.show(case_id, now=SWEPT)["events"]]
    assert "reassign" in events, events
    received = [m for _rcpt, m in server.box.received]
    told = {address for rcpt, _m in server.box.received for address in rcpt}
    assert told >= {"liu.yang@example.com", "wang.jianguo@example.com"}, told
    for message in received:
        assert case_id in str(message["Subject"]), message["Subject"]
        assert "evil" not in message.as_string()


def test_a_pushed_log_link_and_a_command_named_item_reach_nothing(
    served_team: Team,
    smtp: SmtpServer,  # noqa: F811
    home: Path,
) -> None:
    """Finding 1: `.casectl/outbox/log -> ~/.bashrc` plus an item whose name is a shell
    command: the cron host's sweep wrote that name into the shell's start-up file."""
    cron, case_id = a_missed_callback(served_team, smtp)
    before = tree_hash(home)
    commit = push_hostile(served_team[1], {
        ".casectl/outbox/log": home / ".bashrc",
        ".casectl/outbox/pending/x;echo${IFS}aWQK|base64${IFS}-d|sh;#.json": hostile_item("0" * 32),
    })  # fmt: skip
    refused_then_pulled(cron, ".casectl/outbox/log", commit, "symbolic link")
    sweep_told(cron, smtp, case_id)
    assert tree_hash(home) == before


def test_a_pushed_item_whose_key_is_a_path_touches_nothing_outside(
    served_team: Team,
    smtp: SmtpServer,  # noqa: F811
    home: Path,
) -> None:
    """Finding 2: `"key": "../../../../outside/dir/settings"` deleted and created files
    outside the repository."""
    cron, case_id = a_missed_callback(served_team, smtp)
    before = tree_hash(home)
    up = os.path.relpath(home / "outside" / "dir" / "settings", cron.root / ".casectl" / "x")
    push_hostile(served_team[1], {".casectl/outbox/pending/k.json": hostile_item(up)})
    refused_then_pulled(cron, ".casectl/outbox/pending/k.json", "own state")
    sweep_told(cron, smtp, case_id)
    assert tree_hash(home) == before


@pytest.mark.parametrize("name", ["outbox/sent", "outbox/last", "outbox/pending", "index-days",
                                  "index-files", "index-facts", "lock", "index"])  # fmt: skip
def test_pushed_state_links_are_never_written_through(
    served_team: Team,
    smtp: SmtpServer,  # noqa: F811
    home: Path,
    name: str,
) -> None:
    """Finding 3: state folders pushed as links were written through by sweep, assign,
    report and list."""
    cron, case_id = a_missed_callback(served_team, smtp)
    before = tree_hash(home)
    push_hostile(served_team[1], {f".casectl/{name}": home / "outside"})
    refused_then_pulled(cron, f".casectl/{name}", "symbolic link")
    sweep_told(cron, smtp, case_id)
    for args in (["assign", case_id, "sun.li"], ["report"], ["list"], ["check"]):
        sane(cli(cron, *args), 0, 1)
    assert tree_hash(home) == before


def test_pushed_items_and_sent_markers_neither_mail_nor_silence(
    served_team: Team,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """Findings 4 and 5: a pushed item was mailed from the center's own address, and
    pushed `sent/` markers silenced the sweep's messages."""
    cron, case_id = a_missed_callback(served_team, smtp)
    # every key the sweep could use is marked sent: keys are hashes of event ids the
    # attacker cannot know in advance, so mark a wide spread and the real ones' shape
    markers = {f".casectl/outbox/sent/{i:032x}": "" for i in range(64)}
    markers[".casectl/outbox/pending/ab.json"] = hostile_item("a" * 32)
    push_hostile(served_team[1], markers)
    refused_then_pulled(cron, "own state")
    sweep_told(cron, smtp, case_id)
    assert not any(EVIL in m.as_string() for _r, m in smtp.box.received)


@pytest.mark.parametrize("build", [
    {".casectl/outbox/pending/z.json": Path("/dev/zero")},
    {".casectl/outbox": "a file where the outbox was\n"},
    {".casectl/outbox/pending/y.json": '{"key": "' + "b" * 32 + '", "first_failure": "yesterday"}'},
], ids=["dev-zero", "outbox-a-file", "bad-item"])  # fmt: skip
def test_pushed_state_cannot_stop_the_sweep(
    served_team: Team,
    smtp: SmtpServer,  # noqa: F811
    build: dict[str, str | Path],
) -> None:
    """Finding 6: a link to /dev/zero read until memory ran out, `.casectl/outbox` as a
    file made every sweep refuse, a bad item gave a traceback on every sweep."""
    cron, case_id = a_missed_callback(served_team, smtp)
    push_hostile(served_team[1], build)
    refused_then_pulled(cron, ".casectl/outbox")
    sweep_told(cron, smtp, case_id)


def test_check_names_tracked_state_and_links_with_their_commit(served_team: Team) -> None:
    """Finding 6's last line: `check` said "no problems" for all of these."""
    a, b, _ = served_team
    commit = push_hostile(a, {".casectl/outbox/pending/k.json": "{}", "docs/etc": Path("/etc")})
    refused_then_pulled(b, commit)
    done = cli(b, "check")
    sane(done, 1)
    assert f".casectl/outbox/pending/k.json: a clone's own state, which never crosses the remote, committed in {commit}" in done.stdout, done.stdout  # fmt: skip
    assert "docs/etc: a symbolic link" in done.stdout
    staged = b.root / "link"
    staged.symlink_to("/tmp")
    git(b.root, "add", "link")
    done = cli(b, "check")
    assert "link: staged to be committed: a symbolic link" in done.stdout, done.stdout


def test_a_clone_keeps_its_state_in_its_git_folder(repo: Repo) -> None:
    """Index, caches, lock: under `.git/casectl/`, nothing in the working tree."""
    repo.open_case()
    repo.ok("list")
    assert repo.state == repo.root / ".git" / "casectl"
    assert (repo.state / "index").is_file() and (repo.state / "lock").is_file()
    assert not (repo.root / ".casectl").exists()
    assert git(repo.root, "status", "--porcelain", "--ignored") == ""


def test_an_old_state_folder_is_moved_once_and_its_outbox_delivered(
    repo: Repo,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """An older casectl's `.casectl/` (here with an undelivered message) moves into the
    git folder on the first run, saying so in one line, and its message is delivered."""
    use_email(repo, smtp)
    smtp.stop()  # the mail server down: the assignment's message stays in the outbox
    opened = repo.run("open", *open_intake())
    assert opened.exit_code == 3, opened.stderr  # recorded, not delivered
    case_id = opened.stdout.split()[0]
    assert list((repo.state / "outbox" / "pending").iterdir())
    os.rename(repo.state, repo.root / ".casectl")
    smtp.start()
    done = cli(repo, "notify", "flush", now="2026-11-26 14:30")
    sane(done)
    assert done.stderr.count("moved this clone's state from .casectl/") == 1, done.stderr
    assert not (repo.root / ".casectl").exists()
    assert not list((repo.state / "outbox" / "pending").iterdir())
    assert any(case_id in str(m["Subject"]) for _r, m in smtp.box.received)
    assert "moved" not in cli(repo, "list").stderr


def test_state_elsewhere_by_choice_but_never_in_the_working_tree(
    repo: Repo, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "state-elsewhere"
    done = repo.run("open", *open_intake(), env={"CASECTL_STATE": str(elsewhere)})
    assert done.exit_code == 0, done.stderr
    assert (elsewhere / "lock").is_file()
    before = repo.fingerprint()
    done = repo.run("list", env={"CASECTL_STATE": str(repo.root / "state")})
    assert done.exit_code == 1
    assert "inside the working tree" in done.stderr and len(done.stderr.splitlines()) == 1
    assert repo.fingerprint() == before and not (repo.root / "state").exists()


def open_intake() -> list[str]:
    return ["--customer", "c", "--contact", "x", "--contract", "H", "--severity", "1",
            "--description", "d", "--assign", "zhang.wei"]  # fmt: skip


def test_a_linked_worktree_shares_the_outbox_but_keeps_its_own_index(
    repo: Repo, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    git(repo.root, "worktree", "add", "-q", str(other))
    repo.open_case()
    Repo(other).ok("list")
    own, shared = state_dir(other), Path(str(state_dir(repo.root)))
    assert own != shared and (own / "index").is_file()
    from casectl.state import folders

    assert Path(folders(str(other))[1]) == shared


# --- the property: random pushed files and links change nothing the sweep does ---------

NAMES = st.sampled_from([".casectl", ".casectl/outbox", ".casectl/outbox/pending/a.json",
                         ".casectl/outbox/sent/" + "c" * 32, ".casectl/index", ".casectl/lock",
                         ".casectl/index-days/2026-11-26", "cases/2026/11/26/x.yaml", "cases/x",
                         "docs/readme", "roster.d", ".casectl/notices", "z"])  # fmt: skip
TARGETS = st.sampled_from(["/dev/zero", "/etc", "../..", "/tmp", ".git/config", "HOME"])
PUSHES = st.dictionaries(NAMES, st.one_of(st.text(max_size=40), TARGETS.map(Path)),
                         min_size=1, max_size=4)  # fmt: skip


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(push=PUSHES)
def test_random_pushed_files_and_links_never_change_what_the_sweep_does(
    push: dict[str, str | Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from conftest import GitDaemon, clone_url
    from notify_servers import SmtpServer

    base = tmp_path_factory.mktemp("prop")
    home = base / "home"
    home.mkdir()
    (home / ".bashrc").write_text("x\n", encoding="utf-8")
    daemon = GitDaemon(base / "served")
    daemon.start()
    server = SmtpServer()
    server.start()
    try:
        a = _first(base, daemon)
        cron = clone_url(daemon.url, base / "cron")
        # nothing may overwrite a path that is both a file and a folder's prefix
        build = {n: (home if v == Path("HOME") else v) for n, v in _consistent(push).items()}
        _, case_id = a_missed_callback((a, a, cron), server)
        before = tree_hash(home)
        push_hostile(a, build)
        sane(cli(cron, "sync", now=OPENED), 0, 1)  # refused, or plain files taken
        sweep_told(cron, server, case_id, 0, 1)
        assert tree_hash(home) == before
    finally:
        server.stop()
        daemon.stop()


def _first(base: Path, daemon: object) -> Repo:
    from click.testing import CliRunner

    from casectl.cli import cli as casectl

    root = base / "first"
    assert CliRunner().invoke(casectl, ["init", str(root)]).exit_code == 0
    repo = Repo(root)
    git(root, "remote", "add", "origin", daemon.url)  # type: ignore[attr-defined]
    repo.ok("sync", by=None)
    return repo


def _consistent(push: dict[str, str | Path]) -> dict[str, str | Path]:
    """Drop the names that sit under another name given (a file cannot hold a folder)."""
    return {n: v for n, v in push.items()
            if not any(n.startswith(f"{m}/") for m in push if m != n)}  # fmt: skip
