"""`casectl check` and its pre-commit hook on what a real day holds (issue 20.1-20.3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo

from casectl.store import relative_path

pytestmark = pytest.mark.slow

PRICE = ["open", "--no-contract", "--inquiry", "price", "--customer", "某公司", "--contact",
         "赵女士", "--description", "问阵列报价"]  # fmt: skip


def check(repo: Repo, now: str | None = None) -> tuple[int, list[str], str]:
    result = repo.run("check", by=None, now=now)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout.splitlines(), result.stderr


def test_check_passes_a_repository_holding_price_inquiries(repo: Repo) -> None:
    first = repo.ok(*PRICE)
    second = repo.ok(*PRICE[:-2])  # no description
    repo.ok("log", first, "报价已发", by="feng.xue", now="2026-11-26 15:00")
    repo.ok("close", first, "--resolution", "已报价", by="feng.xue", now="2026-11-26 15:10")
    repo.open_case()
    assert check(repo) == (0, [], "casectl check: 3 case files, no problems\n")
    # the routing is judged as a step: a price inquiry handed to an engineer is a problem
    path = repo.case_path(second)
    path.write_text(path.read_text().replace("to: feng.xue", "to: zhang.wei"))
    code, out, _ = check(repo)
    assert code == 1 and out == [
        f"{relative_path(second)}:10: event 2 (assign): zhang.wei may not take price inquiry "
        f"{second}: only sales may"
    ]


def hook_repo(tmp_path: Path, name: str, env: dict[str, str]) -> Path:
    casectl = os.path.join(os.path.dirname(sys.executable), "casectl")
    root = tmp_path / name
    made = subprocess.run([casectl, "init", str(root), "--hook"], capture_output=True,
                          text=True, env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return root


def test_the_hook_checks_the_repository_being_committed_not_casectl_repo(tmp_path: Path) -> None:
    env = os.environ | {"CASECTL_NOW": "2026-11-26 14:05", "CASECTL_USER": "li.na"}
    other = hook_repo(tmp_path, "other", env)  # sound: nothing in it
    root = hook_repo(tmp_path, "mine", env)
    repo = Repo(root)
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    path.write_text(path.read_text().replace("  to: zhang.wei\n", ""))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "edit"]
    done = subprocess.run(git, cwd=root, capture_output=True, text=True,
                          env=env | {"CASECTL_REPO": str(other)})  # fmt: skip
    assert done.returncode != 0, done.stdout + done.stderr
    assert f"{relative_path(case_id)}:14: event 2 (assign): no `to`" in done.stderr
    # from a folder below the top, too
    done = subprocess.run(git, cwd=root / "cases", capture_output=True, text=True,
                          env=env | {"CASECTL_REPO": str(other)})  # fmt: skip
    assert done.returncode != 0 and "no `to`" in done.stderr


def test_next_years_holidays_missing_is_a_warning_until_the_year_starts(repo: Repo) -> None:
    result = repo.run("check", "--json", by=None, now="2026-12-01 00:00")
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["problems"] == [] and len(doc["warnings"]) == 1
    said = doc["warnings"][0]["problem"]
    assert "casectl calendar holidays --year 2027 --calendar business" in said
    assert "`2027: {holidays: [2027-01-01, 2027-01-02], workdays: [2027-02-07]}`" in said
    # the manager is still told by the sweep
    swept = json.loads(repo.ok("sweep", "--json", by=None, now="2026-12-01 00:05"))
    assert [a["kind"] for a in swept["actions"]] == ["holidays_missing"]
    code, _, _ = check(repo, now="2027-01-01 00:00")
    assert code == 1
    # the block the message shows, typed by hand, is holiday data the calendar reads
    holidays = repo.root / "holidays-cn.yaml"
    holidays.write_text(holidays.read_text() + "2027: {holidays: [2027-01-01, 2027-01-02], "
                        "workdays: [2027-02-07]}\n")  # fmt: skip
    assert check(repo, now="2026-12-02 10:00") == (0, [], "casectl check: 0 case files, "
                                                   "no problems\n")  # fmt: skip
    assert check(repo, now="2027-01-04 10:00")[0] == 0
