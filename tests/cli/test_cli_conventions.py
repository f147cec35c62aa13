"""What a click user expects of every command: help, -h, --repo anywhere, a careful init."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import Repo

from casectl.cli import COMMANDS, HIDDEN, cli

PEOPLE_COMMANDS = sorted(set(COMMANDS) - HIDDEN)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, prog_name="casectl")
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_dash_h(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and (command.help or "").strip(), f"{name} has no docstring"
    code, long_help, _ = run(name, "--help")
    assert code == 0 and long_help.startswith(f"Usage: casectl {name} ")
    assert run(name, "-h") == (0, long_help, "")
    assert "-h, --help" in long_help


def test_top_level_help_shows_each_summary_whole_and_hides_merge_file() -> None:
    code, text, _ = run("-h")
    assert code == 0 and run("--help")[1] == text
    commands = text.split("Commands:")[1]
    flat = " ".join(commands.split())
    for name in PEOPLE_COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        summary = (command.help or "").strip().split("\n\n")[0]
        assert f"{name} {' '.join(summary.split())}" in flat
    assert "..." not in commands
    assert "merge-file" not in text


def test_repo_before_or_after_the_command(repo: Repo, tmp_path: Path) -> None:
    case_id = repo.open_case()
    env = {"CASECTL_NOW": repo.now}
    before = run("--repo", str(repo.root), "list", "--json", env=env)
    after = run("list", "--json", "--repo", str(repo.root), env=env)
    assert before == after and case_id in after[1]
    # after the command it wins over the group's option and the environment
    elsewhere = str(tmp_path / "nowhere")
    assert run("--repo", elsewhere, "show", case_id, "--repo", str(repo.root), env=env)[0] == 0
    env_elsewhere = env | {"CASECTL_REPO": elsewhere}
    assert run("show", case_id, "--repo", str(repo.root), env=env_elsewhere)[0] == 0


def test_repo_after_a_step_writes_there(repo: Repo) -> None:
    case_id = repo.open_case()
    env = {"CASECTL_NOW": repo.now, "CASECTL_USER": "zhang.wei"}
    code, out, err = run("log", case_id, "called", "--callback", "--repo", str(repo.root), env=env)
    assert code == 0, err
    assert repo.show(case_id)["events"][-1]["type"] == "callback"


def test_init_without_a_folder_refuses_a_non_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("init")
    assert code == 1 and out == ""
    assert err == (
        f"Error: {tmp_path.resolve()} is not empty and not a case repository; "
        "name the folder to create: casectl init DIR\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_init_without_a_folder_in_a_fresh_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    code, out, err = run("init")
    assert code == 0, err
    assert (tmp_path / "severity.yaml").is_file() and (tmp_path / "cases").is_dir()
    code, out, err = run("init")
    assert (code, err) == (1, f"Error: {tmp_path.resolve()} is a case repository already\n")


@pytest.mark.parametrize("where", ["before", "after"])
def test_init_takes_repo_as_its_folder(tmp_path: Path, where: str) -> None:
    target = str(tmp_path / "cases")
    args = ["--repo", target, "init"] if where == "before" else ["init", "--repo", target]
    code, out, err = run(*args)
    assert code == 0, err
    assert out == f"Initialized case repository in {Path(target).resolve()}\n"


def test_completion_is_not_imported_by_a_command(repo: Repo) -> None:
    code = (
        "import sys; from casectl.cli import main; sys.argv = ['casectl', '--repo', "
        f"{str(repo.root)!r}, 'list']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if 'completion' in m))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CASECTL")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
