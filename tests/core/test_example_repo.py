"""The project's top level is a working example case repository, with the rules init writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import Repo

TOP = Path(__file__).parents[2]
RULES = ("roster.yaml", "severity.yaml", "holidays-cn.yaml")
NOW = "2026-11-26 12:00"


@pytest.mark.parametrize("name", RULES)
def test_init_writes_the_top_levels_rules(name: str) -> None:
    """One source of truth: the package's copy (what init writes) and the top level's."""
    assert (TOP / name).read_bytes() == (TOP / "casectl" / "example" / name).read_bytes()


def test_the_top_level_holds_the_design_cards_layout() -> None:
    for name in ("pyproject.toml", "casectl", "roster.yaml", "severity.yaml", "cases", "tests",
                 "Makefile"):  # fmt: skip
        assert (TOP / name).exists(), name
    assert not any(p.is_symlink() for p in TOP.iterdir())


@pytest.fixture
def example(tmp_path: Path) -> Repo:
    """A copy of the top level's repository files (a command writes .casectl/ beside them)."""
    root = tmp_path / "example"
    root.mkdir()
    for name in RULES:
        shutil.copyfile(TOP / name, root / name)
    shutil.copytree(TOP / "cases", root / "cases")
    return Repo(root, now=NOW)


def test_list_show_and_sweep_work_on_the_example_cases(example: Repo) -> None:
    rows = json.loads(example.ok("list", "--json"))
    assert len(rows) == 3 and {r["status"] for r in rows} == {"open"}
    [closed] = json.loads(example.ok("list", "--status", "closed", "--json"))
    for case_id in [r["id"] for r in rows] + [closed["id"]]:
        assert example.show(case_id)["id"] == case_id
        assert case_id in example.ok("show", case_id)
    states = {r["id"]: {d["state"] for d in example.show(r["id"])["deadlines"]} for r in rows}
    assert sum("paused" in found for found in states.values()) == 1  # waits on the customer
    swept = example.run("sweep", "--dry-run", "--json", by=None)
    assert swept.exit_code == 0, swept.output
    assert json.loads(swept.stdout)["actions"]  # something is due at noon
