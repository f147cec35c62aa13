"""The README's day at the support center runs in a shell as written, in both languages;
docs/report.md's sample report is `make demo`'s day; the e-mail set-up of
docs/running-a-center.md works (issue 20.17)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo
from notify_servers import SmtpServer, smtp  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
BIN = os.path.dirname(sys.executable)  # the venv's `casectl`


def section(page: str, title: str) -> str:
    text = (ROOT / page).read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def block(text: str, opening: str) -> str:
    return text.split(opening, 1)[1].split("```", 1)[0]


def shell(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CASECTL_")}
    environ |= {"PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(tmp_path)} | env
    return subprocess.run(["bash", "-c", f"set -euo pipefail\n{script}"], capture_output=True,
                          text=True, env=environ, cwd=tmp_path)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("readme", "title"),
    [("README.md", "A day at the support center"), ("README.zh-CN.md", "支持中心的一天")],
)
def test_a_day_at_the_support_center_runs_in_a_shell_as_written(
    tmp_path: Path, readme: str, title: str
) -> None:
    script = block(section(readme, title), "```sh\n")
    assert "261126-K7Q3M" not in script.replace("# 261126-K7Q3M", "")  # ids only in comments
    script = script.replace("/srv/cases", str(tmp_path / "cases"))
    done = shell(script + 'casectl show "$id" --json\n', tmp_path,
                 CASECTL_NOW="2026-11-26 14:05", LANG="C")  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = done.stdout[done.stdout.rindex("\n{\n") + 1 :]
    assert '"status": "closed"' in shown and '"status": "installed"' in shown


@pytest.mark.slow
def test_the_sample_report_is_make_demos_day(tmp_path: Path) -> None:
    """Each piece of docs/report.md's sample (between `...` lines) is in the report that
    examples/demo.sh prints, in order; after a change to the report's numbers, paste the
    new tables (the assertion prints them)."""
    shutil.copytree(ROOT / "cases", tmp_path / "cases")
    shutil.copy(ROOT / "contracts.yaml", tmp_path / "contracts.yaml")
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "demo.sh", tmp_path / "examples" / "demo.sh")
    done = shell(f"bash {tmp_path / 'examples' / 'demo.sh'}", tmp_path, LANG="C")
    assert done.returncode == 0, done.stderr
    printed = done.stdout.split("\n$ casectl report --date 2026-11-26\n", 1)[1]
    printed = printed.split("\n$ ", 1)[0]
    sample = block(section("docs/report.md", "A sample"), "```\n$ casectl report --date "
                   "2026-11-26\n")  # fmt: skip
    pieces = [p.strip("\n") for p in re.split(r"^\.\.\.$", sample, flags=re.M)]
    assert len(pieces) >= 3
    at = 0
    for piece in pieces:
        found = printed.find(piece, at)
        assert found >= 0, f"not in make demo's report:\n{piece}\n\nthe report:\n{printed}"
        at = found + len(piece)


def test_the_email_set_up_works_against_a_local_server(
    repo: Repo,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """docs/running-a-center.md's lines, with the host and port of a local relay, security none and no
    login, as its comment says."""
    notifications = section("docs/running-a-center.md", "Notifications")
    lines = [line for line in block(notifications, "```sh\n").splitlines()
             if line.startswith("git config casectl.email.")]  # fmt: skip
    keys = [line.split()[2] for line in lines]
    assert keys[:3] == ["casectl.email.host", "casectl.email.port", "casectl.email.security"]
    local = {"casectl.email.host": "127.0.0.1", "casectl.email.port": str(smtp.port),
             "casectl.email.security": "none"}  # fmt: skip
    for line in lines:
        key = line.split()[2]
        if key in ("casectl.email.user", "casectl.email.password-env"):
            continue  # a relay without login
        command = line if key not in local else f"git config {key} {local[key]}"
        done = subprocess.run(["bash", "-c", command], cwd=repo.root, capture_output=True)
        assert done.returncode == 0, done.stderr
    assert repo.ok("notify", "test", "--to", "zhang.wei") == "sent to zhang.wei by email"
    assert [rcpt for rcpt, _ in smtp.box.received] == [["zhang.wei@example.com"]]
