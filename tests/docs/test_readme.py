"""The manual says what the code does: its module map (docs/internals.md), the log types
(docs/commands.md) and the peer vectors (docs/rules.md) are whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_calendars import CHOSEN

from casectl import model

ROOT = Path(__file__).resolve().parents[2]


def section(page: str, title: str) -> str:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_module_map_matches_the_package() -> None:
    """Every module of casectl/ is named in docs/internals.md's map, and nothing else is."""
    block = section("internals.md", "Module map").split("```", 2)[1]
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
    commands = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    line = next(row for row in commands.splitlines() if row.startswith("| `log CASE TEXT"))
    listed = re.search(r"--type ([\w|\\-]+)\]", line)
    assert listed and set(listed.group(1).split("\\|")) == set(model.LOG_TYPES)


def test_the_peer_vector_count_and_the_ones_left_out() -> None:
    """`(N of M)` and the ids docs/rules.md names are what tests/core/test_calendars.py runs."""
    vectors = json.loads((ROOT / "tests" / "data" / "business_time_vectors.json").read_text())
    every = [v for kind in ("due", "between", "due_subminute", "between_subminute")
             for v in vectors[kind]]  # fmt: skip
    left_out = {v["id"] for v in every if v["convention"] not in CHOSEN}
    deadlines = section("rules.md", "Deadlines")
    counted = re.findall(r"\b(\d+) of (\d+)\b", deadlines)
    assert counted == [(str(len(every) - len(left_out)), str(len(every)))]
    named = set(re.findall(r"\b(?:due|btw)-\d{3}\b", deadlines))
    assert left_out <= named <= {v["id"] for v in every}
