"""Every test drives the real `casectl` against its own repository made by `casectl init`."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from casectl.cli import cli

T0 = "2026-11-26 14:05"  # a Thursday

# The tests assert English messages: a shell that speaks Chinese must not change them
# (tests/i18n/test_i18n.py sets the language where it means to).
os.environ["LANG"] = "C"
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
# Steps share with the remote in the background as they are made; the tests of that
# (tests/team/test_team.py) turn it on, the others sync when they mean to.
os.environ["CASECTL_PUSH"] = "0"


def open_args(severity: int = 1, contract: str | None = "HT-1", *extra: str) -> list[str]:
    """`casectl open` with a minimal intake; no contract gives --no-contract."""
    intake = [
        "--customer",
        "a",
        "--contact",
        "b",
        "--severity",
        str(severity),
        "--description",
        "d",
    ]
    return ["open", *intake, *(["--contract", contract] if contract else ["--no-contract"]), *extra]


def state_dir(root: Path) -> Path:
    """Where casectl keeps a clone's own state: `.git/casectl/` (casectl.state)."""
    from casectl import state

    return Path(state.folders(str(root))[0])


@dataclass
class Repo:
    root: Path
    now: str = T0
    opened: int = 0  # cases open_case opened: each gets its own description

    def run(
        self,
        *args: str,
        by: str | None = "li.na",
        now: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """`casectl --repo ROOT ARGS` as `by` at `now`; stdout and stderr kept apart."""
        environ = {"CASECTL_NOW": now or self.now, "CASECTL_USER": by or ""} | (env or {})
        return CliRunner().invoke(cli, ["--repo", str(self.root), *args], env=environ)

    def ok(self, *args: str, **kw: object) -> str:
        result = self.run(*args, **kw)  # type: ignore[arg-type]
        assert result.exit_code == 0, result.stderr or result.output
        return result.stdout.strip()

    def open_case(self, severity: int = 1, assign: str | None = "zhang.wei", **kw: object) -> str:
        """A new case. The same intake typed again within minutes would be a retry of
        the first `open` (no new case), so each call's description is its own."""
        self.opened += 1
        description = "阵列控制器离线" + (f" ({self.opened})" if self.opened > 1 else "")
        args = [
            "open",
            "--customer",
            "招商银行",
            "--contact",
            "刘先生 13800000000",
            "--contract",
            "HT-2026-031",
            "--severity",
            str(severity),
            "--description",
            description,
        ]
        if assign:
            args += ["--assign", assign]
        return self.ok(*args, **kw)

    def case_path(self, case_id: str) -> Path:
        """Where the case lives for its whole life."""
        from casectl.store import relative_path

        return self.root / relative_path(case_id)

    def show(self, case_id: str, now: str | None = None) -> dict:
        import json

        return json.loads(self.ok("show", case_id, "--json", now=now))

    @property
    def state(self) -> Path:
        """This clone's own state folder (in its git folder)."""
        return state_dir(self.root)

    def fingerprint(self) -> str:
        """A hash of every file but the clone's derived state folder, to prove nothing changed."""
        paths = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if Path(folder, d) != self.state]
            paths += [Path(folder) / name for name in files]
        digest = hashlib.sha256()
        for path in sorted(paths):
            digest.update(str(path.relative_to(self.root)).encode() + path.read_bytes())
        return digest.hexdigest()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "cases-repo")])
    assert result.exit_code == 0, result.output
    return Repo(tmp_path / "cases-repo")


@pytest.fixture
def refused(repo: Repo) -> Callable[..., str]:
    """Run a step that must be refused: exit 1, one line on stderr, no byte changed."""

    def check(*args: str, **kw: object) -> str:
        before = repo.fingerprint()
        result = repo.run(*args, **kw)  # type: ignore[arg-type]
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert repo.fingerprint() == before
        return lines[0].removeprefix("Error: ")

    return check


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def clone(remote: Path, root: Path) -> Repo:
    subprocess.run(["git", "clone", "-q", str(remote), str(root)], check=True)
    repo = Repo(root)
    repo.ok("sync", by=None)
    return repo


@pytest.fixture
def team(repo: Repo, tmp_path: Path) -> tuple[Repo, Repo, Repo]:
    """Two engineers' clones and a cron host's, sharing one bare remote."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo.root, "remote", "add", "origin", str(remote))
    repo.ok("sync", by=None)
    return repo, clone(remote, tmp_path / "engineer-b"), clone(remote, tmp_path / "cron-host")


class GitDaemon:
    """A bare repository served over git:// by `git daemon` on 127.0.0.1 (push enabled):
    the team's remote as a real protocol, which a test can stop and start again."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.bare = base / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(self.bare)], check=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"git://127.0.0.1:{self.port}/remote.git"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={self.port}",
             f"--base-path={self.base}", "--export-all", "--enable=receive-pack",
             "--informative-errors", str(self.base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("git daemon did not start")

    def stop(self) -> None:
        """SIGTERM, which `git` passes on to the `git-daemon` it runs (SIGKILL would not)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait()
            self.process = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the port closed: nobody answers now
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) != 0:
                        return
                time.sleep(0.05)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    served = GitDaemon(tmp_path / "served")
    served.start()
    yield served
    served.stop()


@pytest.fixture
def served_team(repo: Repo, daemon: GitDaemon, tmp_path: Path) -> tuple[Repo, Repo, Repo]:
    """Two engineers' clones and a cron host's, sharing a remote served by git daemon."""
    git(repo.root, "remote", "add", "origin", daemon.url)
    repo.ok("sync", by=None)
    return (repo, clone_url(daemon.url, tmp_path / "engineer-b"),
            clone_url(daemon.url, tmp_path / "cron-host"))  # fmt: skip


def clone_url(url: str, root: Path) -> Repo:
    subprocess.run(["git", "clone", "-q", url, str(root)], check=True)
    repo = Repo(root)
    repo.ok("sync", by=None)
    return repo


def case_file(repo: Repo, case_id: str) -> Path:
    [path] = list((repo.root / "cases").glob(f"**/{case_id}.yaml"))
    return path


def events_of(repo: Repo) -> dict[str, list[str]]:
    """Every case file in the clone: its event ids, in file order."""
    import yaml

    found = {}
    for path in sorted((repo.root / "cases").glob("*/*/*/*.yaml")):
        document = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
        found[document["id"]] = [e["id"] for e in document["events"]]
    return found


def assert_converged(clones: list[Repo], cases: list[str], acknowledged: set[str]) -> None:
    """After everyone synced: clones byte-identical, every case there, every acknowledged
    event exactly once, no conflict markers, clean working trees."""
    from casectl.store import relative_path

    files = [{p: (c.root / relative_path(p)).read_bytes() for p in events_of(c)} for c in clones]
    assert all(f == files[0] for f in files)
    final = events_of(clones[0])
    assert sorted(final) == sorted(set(cases))
    every = [event for ids in final.values() for event in ids]
    assert len(every) == len(set(every))
    assert acknowledged <= set(every)
    assert not any(b"<<<<<<<" in data for data in files[0].values())
    for c in clones:
        assert git(c.root, "status", "--porcelain") == ""
