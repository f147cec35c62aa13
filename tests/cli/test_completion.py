"""Shell completion through click's protocol: case ids, engineers, RMA ids, severity levels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Repo

from casectl.cli import cli


def complete(line: str, env: dict[str, str] | None = None, shell: str = "bash") -> list[str]:
    """What the shell is offered for `line` (its last word is the one being completed).

    bash gets `type,value` lines; zsh `type`, `value`, `help` triples, which this
    returns as `value: help`.
    """
    words = line.split(" ")
    environ = {
        "_CASECTL_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    } | (env or {})
    result = CliRunner().invoke(cli, [], env=environ, prog_name="casectl")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = [line for line in result.stdout.splitlines() if line]
    if shell == "zsh":
        return [f"{lines[i + 1]}: {lines[i + 2]}" for i in range(0, len(lines), 3)]
    return [entry.split(",", 1)[1] for entry in lines]


def test_case_ids_are_the_open_cases(repo: Repo) -> None:
    first = repo.open_case()
    second = repo.open_case(severity=3)
    closed = repo.open_case()
    repo.ok("close", closed, "--resolution", "done", by="zhang.wei")
    offered = complete(f"casectl --repo {repo.root} show ")
    assert sorted(offered) == sorted([first, second])
    assert complete(f"casectl --repo {repo.root} log {first[:11].lower()}") == [first]


def test_case_ids_carry_severity_customer_and_assignee_as_help(repo: Repo) -> None:
    case_id = repo.open_case(severity=2)
    assert complete(f"casectl --repo {repo.root} escalate ", shell="zsh") == [
        f"{case_id}: S2 招商银行 (zhang.wei)"
    ]


def test_engineer_ids_with_their_names(repo: Repo) -> None:
    case_id = repo.open_case()
    offered = complete(f"casectl --repo {repo.root} assign {case_id} z", shell="zsh")
    assert offered == [
        "zhang.wei: 张伟, first-line",
        "zhao.lei: 赵磊, first-line",
        "zhou.qiang: 周强, senior",
        "zheng.hao: 郑浩, field",
    ]
    for option in ("--by", "--to"):
        assert complete(f"casectl --repo {repo.root} escalate {case_id} {option} wa") == [
            "wang.jianguo"
        ]
    assert "li.na" in complete(f"casectl --repo {repo.root} list --assignee ")


def test_rma_ids_of_the_case_named(repo: Repo) -> None:
    case_id = repo.open_case()
    rma = repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    other = repo.open_case()
    repo.ok("rma", other, "--part", "HDD", by="zhang.wei")
    offered = complete(f"casectl --repo {repo.root} rma {case_id} ", shell="zsh")
    assert offered == [f"{rma}: 1 x DKC-CTL-F, requested"]


def test_severity_levels_with_their_names(repo: Repo) -> None:
    case_id = repo.open_case()
    assert complete(f"casectl --repo {repo.root} open --severity ") == ["1", "2", "3", "4"]
    assert complete(f"casectl --repo {repo.root} list --severity 3") == ["3"]
    offered = complete(f"casectl --repo {repo.root} severity {case_id} ", shell="zsh")
    assert offered[0] == "1: 严重（系统宕机）" and len(offered) == 4


def test_repo_after_the_command_and_from_the_environment(repo: Repo, tmp_path: Path) -> None:
    case_id = repo.open_case()
    assert complete(f"casectl show --repo {repo.root} ") == [case_id]
    assert complete("casectl show ", env={"CASECTL_REPO": str(repo.root)}) == [case_id]


def test_no_repository_completes_nothing_quietly(tmp_path: Path) -> None:
    assert complete(f"casectl --repo {tmp_path} show ") == []
    assert complete(f"casectl --repo {tmp_path} log x --by ") == []


def test_commands_complete_without_the_internal_merge_driver() -> None:
    offered = complete("casectl ")
    assert {"open", "assign", "sweep", "setup-git"} <= set(offered)
    assert "merge-file" not in offered
    assert complete("casectl me") == []


@pytest.mark.slow
def test_installed_entry_point_completes_from_inside_the_repository(repo: Repo) -> None:
    case_id = repo.open_case()
    entry_point = Path(sys.executable).parent / "casectl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECTL")} | {
        "_CASECTL_COMPLETE": "bash_complete",
        "COMP_WORDS": "casectl show ",
        "COMP_CWORD": "2",
    }
    done = subprocess.run(
        [str(entry_point)], cwd=repo.root / "cases", env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"plain,{case_id}"]
