"""The README says what the code does: its example runs, its module map and lists are whole."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner
from test_calendars import CHOSEN

from casectl import model
from casectl.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CASE_ID = re.compile(r"\b\d{6}-[0-9A-Z]{5}\b")
RMA_ID = re.compile(r"\bRMA-[0-9A-Z]{4}\b")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def shell_commands(text: str) -> list[list[str]]:
    """The commands of the first ```sh block: continuations joined, comments dropped."""
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


def test_a_day_at_the_support_center_runs_as_written(tmp_path: Path) -> None:
    """Every command of the example, in order, against a fresh repository.

    The example's ids are replaced by the ones this run's `open` and `rma` print,
    and /srv/cases by a temporary folder; everything else is as the README has it.
    """
    env = {"CASECTL_NOW": "2026-11-26 14:05"}
    printed = {"case": "", "rma": ""}
    ran = []
    for words in shell_commands(section("A day at the support center")):
        if not words:
            continue
        words = [w.replace("/srv/cases", str(tmp_path / "cases")) for w in words]
        if words[0] == "export":
            env |= dict(word.split("=", 1) for word in words[1:])
            continue
        assert words[0] == "casectl", words
        args = [RMA_ID.sub(printed["rma"], CASE_ID.sub(printed["case"], w)) for w in words[1:]]
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0, f"{shlex.join(words)}\n{result.stderr}"
        if args[0] == "open":
            printed["case"] = result.stdout.strip()
        if args[0] == "rma" and "--part" in args:
            printed["rma"] = result.stdout.strip()
        ran.append(args[0])
    assert ran[:2] == ["init", "open"] and "close" in ran
    shown = CliRunner().invoke(
        cli, ["show", printed["case"], "--json"], env=env | {"CASECTL_NOW": "2026-11-26 15:00"}
    )
    assert json.loads(shown.stdout)["status"] == "closed"


def test_module_map_matches_the_package() -> None:
    """Every module of casectl/ is named in the Development map, and nothing else is."""
    block = section("Development").split("```", 2)[1]
    indented = "\n".join(line for line in block.splitlines() if line.startswith(" "))
    named = set(re.findall(r"[\w/]+\.py", indented))
    package = ROOT / "casectl"
    modules = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py" or path.parent != package
    }
    assert named == modules


def test_log_types_are_all_listed() -> None:
    line = next(row for row in README.splitlines() if row.startswith("| `log CASE TEXT"))
    listed = re.search(r"--type ([\w|\\-]+)\]", line)
    assert listed and set(listed.group(1).split("\\|")) == set(model.LOG_TYPES)


def test_the_peer_vector_count_and_the_ones_left_out() -> None:
    """`(N of M)` and the ids the README names are what tests/test_calendars.py runs."""
    vectors = json.loads((ROOT / "tests" / "data" / "business_time_vectors.json").read_text())
    every = [v for kind in ("due", "between", "due_subminute", "between_subminute")
             for v in vectors[kind]]  # fmt: skip
    left_out = {v["id"] for v in every if v["convention"] not in CHOSEN}
    deadlines = section("Deadlines and the sweep")
    counted = re.findall(r"\b(\d+) of (\d+)\b", deadlines)
    assert counted == [(str(len(every) - len(left_out)), str(len(every)))]
    named = set(re.findall(r"\b(?:due|btw)-\d{3}\b", deadlines))
    assert left_out <= named <= {v["id"] for v in every}
