"""Every command, with --json where it takes it, on a repository broken in each way a
careless user or a hostile push can break it: never a traceback, exit 0, 1 or 2, and
JSON that parses whenever the command says it succeeded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo, state_dir

pytestmark = pytest.mark.slow

Breaker = Callable[[Path, str], None]


def _write(path: Path, text: str) -> None:
    _remove(path)
    path.write_text(text, encoding="utf-8")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _folder(path: Path) -> None:
    _remove(path)
    path.mkdir()


BREAKERS: dict[str, Breaker] = {
    "state folder is a file": lambda r, f: _write(state_dir(r), "x"),
    "state folder is a link": lambda r, f: (
        _remove(state_dir(r)),
        (state_dir(r)).symlink_to("/tmp"),
    ),
    "lock is a link": lambda r, f: (
        _remove(state_dir(r) / "lock"),
        (state_dir(r) / "lock").symlink_to(r.parent / "elsewhere"),
    ),
    "severity.yaml truncated": lambda r, f: _write(r / "severity.yaml", "levels: [\n"),
    "severity.yaml is a folder": lambda r, f: _folder(r / "severity.yaml"),
    "roster.yaml missing": lambda r, f: _remove(r / "roster.yaml"),
    "roster.yaml is a folder": lambda r, f: _folder(r / "roster.yaml"),
    "roster.yaml is a list": lambda r, f: _write(r / "roster.yaml", "- a\n- b\n"),
    "roster.yaml not UTF-8": lambda r, f: (r / "roster.yaml").write_bytes(b"\xff\xfe\x00bad"),
    "holiday file is a folder": lambda r, f: _folder(r / "holidays-cn.yaml"),
    "holiday file nonsense": lambda r, f: _write(r / "holidays-cn.yaml", "2026: 5\n"),
    "cases is a file": lambda r, f: _write(r / "cases", "x"),
    "cases missing": lambda r, f: _remove(r / "cases"),
    "year is a file": lambda r, f: _write(r / "cases" / "2026", "x"),
    "case is a folder": lambda r, f: _folder(r / f),
    "case is empty": lambda r, f: _write(r / f, ""),
    "case is null": lambda r, f: _write(r / f, "null\n"),
    "case is a list": lambda r, f: _write(r / f, "- 1\n"),
    "case has no events": lambda r, f: _write(r / f, f"id: {Path(f).stem}\nevents: []\n"),
    "case events a string": lambda r, f: _write(r / f, f"id: {Path(f).stem}\nevents: abc\n"),
    "case is a fifo": lambda r, f: (_remove(r / f), os.mkfifo(r / f)),
    "case is a link": lambda r, f: (_remove(r / f), (r / f).symlink_to("/dev/zero")),
    "no .git": lambda r, f: _remove(r / ".git"),
    ".git points nowhere": lambda r, f: _write(r / ".git", "gitdir: /nonexistent\n"),
    "index files garbage": lambda r, f: [
        (Path(d) / n).write_bytes(b"garbage\0")
        for d, _, names in os.walk(state_dir(r))
        for n in names
        if n != "lock"
    ],  # fmt: skip
    "outbox item garbage": lambda r, f: _outbox(r, "{{{"),
    "outbox item empty object": lambda r, f: _outbox(r, "{}"),
    "outbox item a list": lambda r, f: _outbox(r, "[1]"),
    "outbox item no channel": lambda r, f: _outbox(r, '{"key": "k", "created": 0, "to": "x"}'),
    "outbox is a file": lambda r, f: (_outbox(r, "{}"), _write(state_dir(r) / "outbox", "x")),
}


def _outbox(root: Path, text: str) -> None:
    """E-mail set up (to a port nobody listens on) and one pending item holding `text`."""
    for key, value in (("host", "127.0.0.1"), ("port", "9"), ("security", "none"),
                       ("from", "casectl <c@example.com>")):  # fmt: skip
        subprocess.run(
            ["git", "-C", str(root), "config", f"casectl.email.{key}", value], check=True
        )
    pending = state_dir(root) / "outbox" / "pending"
    pending.mkdir(parents=True, exist_ok=True)
    (pending / "k.json").write_text(text, encoding="utf-8")


def commands(case_id: str) -> list[list[str]]:
    intake = ["--customer", "c", "--contact", "x", "--contract", "H", "--severity", "1"]
    return [
        ["list", "--json"], ["show", case_id, "--json"], ["sweep", "--json"],
        ["sweep", "--dry-run", "--json"], ["check", "--json"], ["report", "--json"],
        ["roster", "--json"], ["history", case_id, "--json"], ["history", case_id, "--diff", "--json"],
        ["notify", "status", "--json"], ["notify", "flush"], ["sync"], ["migrate"], ["setup-git"],
        ["log", case_id, "hello", "--json"], ["open", *intake, "--description", "dz", "--json"],
        ["assign", case_id, "liu.yang", "--json"], ["severity", case_id, "2", "--reason", "r", "--json"],
        ["escalate", case_id, "--to", "zhou.qiang", "--json"],
        ["close", case_id, "--resolution", "r", "--json"],
        ["onsite", case_id, "--request", "--reason", "r", "--json"],
    ]  # fmt: skip


@pytest.mark.parametrize("breaker", list(BREAKERS))
def test_no_command_gives_a_traceback(repo: Repo, breaker: str) -> None:
    case_id = repo.open_case(now="2026-11-26 14:05")
    relative = str(repo.case_path(case_id).relative_to(repo.root))
    pristine = repo.root.parent / "pristine"
    shutil.copytree(repo.root, pristine, symlinks=True)
    failures = []
    for args in commands(case_id):
        shutil.rmtree(repo.root)
        shutil.copytree(pristine, repo.root, symlinks=True)
        BREAKERS[breaker](repo.root, relative)
        result = repo.run(*args, by="wang.jianguo", now="2026-11-27 10:00")
        escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
        if escaped or result.exit_code not in (0, 1, 2, 3):
            failures.append(f"{' '.join(args[:2])}: {result.exception!r}")
        elif "--json" in args and result.exit_code == 0:
            try:
                json.loads(result.stdout)
            except ValueError:
                failures.append(f"{' '.join(args[:2])}: not JSON: {result.stdout[:60]!r}")
    assert failures == []
