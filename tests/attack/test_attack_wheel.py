# ruff: noqa: F811 - the wheel fixtures are imported by name
"""A new user's install: the wheel (not the checkout) inits a repository with the shipped
examples, opens, sweeps, reports in every format with its templates, checks, installs
the pre-commit hook, and merges two clones' steps through the driver it registers."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from test_wheel import Built, built, clean_env, installed  # noqa: F401

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_ships_the_templates_and_the_examples(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        for name in ("report/templates/report.html", "report/templates/charts.html",
                     "example/roster.yaml", "example/severity.yaml", "example/holidays-cn.yaml"):  # fmt: skip
            assert f"casectl/{name}" in names
            assert wheel.read(f"casectl/{name}") == (ROOT / "casectl" / name).read_bytes()


def run(bin_: Path, cwd: Path, *args: str, now: str = "2026-11-26 14:05", by: str = "li.na",
        code: int = 0) -> str:  # fmt: skip
    done = subprocess.run(
        [str(bin_ / "casectl"), *args], cwd=cwd, capture_output=True, text=True,
        env=clean_env(CASECTL_NOW=now, CASECTL_USER=by),
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout


def test_the_installed_wheel_runs_a_day(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    run(installed, home, "init", "--hook", "cases")
    repo = home / "cases"
    for name in ("roster.yaml", "severity.yaml", "holidays-cn.yaml"):
        assert (repo / name).read_bytes() == (ROOT / "casectl" / "example" / name).read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = ["--repo", str(repo)]
    case_id = run(installed, elsewhere, *r, "open", "--customer", "招商银行", "--contact", "刘先生",
                  "--contract", "HT-1", "--severity", "1", "--description", "控制器离线",
                  "--auto-assign").strip()  # fmt: skip
    run(installed, elsewhere, *r, "sweep", now="2026-11-26 15:00")
    run(installed, elsewhere, *r, "log", case_id, "已回电", "--callback", by="liu.yang",
        now="2026-11-26 15:05")  # fmt: skip
    run(installed, elsewhere, *r, "close", case_id, "--resolution", "客户同意", by="wang.jianguo",
        now="2026-11-26 16:00")  # fmt: skip
    now = "2026-11-27 09:00"
    report = json.loads(run(installed, elsewhere, *r, "report", "--json", now=now))
    assert report
    run(installed, elsewhere, *r, "report", "--html", str(tmp_path / "r.html"), now=now)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html and case_id[:6] in html
    run(installed, elsewhere, *r, "report", "--csv", str(tmp_path / "csv"), now=now)
    assert list((tmp_path / "csv").glob("*.csv"))
    run(installed, elsewhere, *r, "check", now=now)  # exit 0: nothing to report
    # the hook the wheel installed refuses a hand-broken case file
    path = next((repo / "cases").rglob(f"{case_id}.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("type: close", "type: clos"))
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    committed = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x"],
        capture_output=True, text=True, env=clean_env(CASECTL_NOW=now),
    )  # fmt: skip
    assert committed.returncode != 0, committed.stdout
    assert "clos" in committed.stdout + committed.stderr


def test_the_installed_driver_merges_two_clones(installed: Path, tmp_path: Path) -> None:
    run(installed, tmp_path, "init", "origin-work")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "-C", str(tmp_path / "origin-work"), "remote", "add", "origin",
                    str(remote)], check=True)  # fmt: skip
    run(installed, tmp_path / "origin-work", "sync")
    case_id = run(installed, tmp_path / "origin-work", "open", "--customer", "c", "--contact",
                  "x", "--contract", "H", "--severity", "2", "--description", "d",
                  "--assign", "zhang.wei").strip()  # fmt: skip
    run(installed, tmp_path / "origin-work", "sync")
    clones = []
    for name in ("a", "b"):
        subprocess.run(["git", "clone", "-q", str(remote), str(tmp_path / name)], check=True)
        run(installed, tmp_path / name, "sync")
        driver = subprocess.run(["git", "-C", str(tmp_path / name), "config",
                                 "merge.casectl.driver"], capture_output=True, text=True)  # fmt: skip
        assert driver.stdout.startswith(str(installed / "python")), driver.stdout
        clones.append(tmp_path / name)
    run(installed, clones[0], "log", case_id, "a 的记录", by="zhang.wei", now="2026-11-26 14:10")
    run(installed, clones[1], "log", case_id, "b 的记录", by="zhang.wei", now="2026-11-26 14:11")
    run(installed, clones[0], "sync")
    run(installed, clones[1], "sync")
    run(installed, clones[0], "sync")
    shown = json.loads(run(installed, clones[0], "show", case_id, "--json"))
    notes = [e["text"] for e in shown["events"] if e["type"] == "note"]
    assert notes == ["a 的记录", "b 的记录"]
    assert (
        next(clones[0].rglob(f"{case_id}.yaml")).read_bytes()
        == next(clones[1].rglob(f"{case_id}.yaml")).read_bytes()
    )
