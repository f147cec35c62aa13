"""Hostile YAML in any file casectl reads: alias bombs, huge files, Python tags: one line, fast."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow

# "billion laughs": nine levels of nine aliases each, 9**9 strings once expanded
BOMB = "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{n}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
    for n, (a, b) in enumerate(zip("abcdefgh", "bcdefghi", strict=True))
)


def run(repo: Repo, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """casectl in its own process (a bomb must not take the test runner down), timed."""
    env = os.environ | {"CASECTL_NOW": repo.now, "CASECTL_USER": "li.na"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "casectl", "--repo", str(repo.root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return done, time.monotonic() - started


def one_line_refusal(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0].removeprefix("Error: ")


@pytest.mark.parametrize("name", ["roster.yaml", "severity.yaml"])
def test_an_alias_bomb_in_a_config_file_is_refused_at_once(repo: Repo, name: str) -> None:
    (repo.root / name).write_text(BOMB)
    done, took = run(repo, "roster")
    assert one_line_refusal(done) == (
        f"{name}: not valid YAML: line 1: YAML anchors and aliases (&a) are not allowed: "
        "casectl files never need them"
    )
    assert took < 5


def test_an_alias_bomb_in_a_case_file_is_refused_at_once(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    path.write_text(
        path.read_text() + "extra:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines())
    )
    done, took = run(repo, "show", case_id)
    message = one_line_refusal(done)
    assert message.startswith(f"{path}: cannot read case: line ")
    assert message.endswith(
        "YAML anchors and aliases (&a) are not allowed: casectl files never need them"
    )
    assert took < 5


def test_an_alias_alone_is_refused_too(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    text = path.read_text().replace("- id:", "- &first\n  id:", 1)
    path.write_text(text.replace("  to: zhang.wei", "  to: zhang.wei\n  copy: *first", 1))
    result = repo.run("show", case_id)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "YAML anchors and aliases (&first) are not allowed: casectl files never need them"
    )


def test_text_with_ampersands_and_stars_still_loads(repo: Repo) -> None:
    case_id = repo.ok(
        "open", "--customer", "AT&T *R&D*", "--contact", "&x *y", "--contract", "C",
        "--severity", "1", "--description", "& * &a *a",
    )  # fmt: skip
    assert repo.show(case_id)["customer"] == "AT&T *R&D*"
    assert repo.show(case_id)["contact"] == "&x *y"


def test_a_file_over_the_size_cap_is_refused(repo: Repo) -> None:
    case_id = repo.open_case()
    path = repo.case_path(case_id)
    path.write_text(path.read_text() + "# " + "x" * (5 << 20) + "\n")
    result = repo.run("show", case_id)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {path}: cannot read case: larger than 4 MiB, the most casectl reads"
    )
    (repo.root / "roster.yaml").write_text("# " + "x" * (5 << 20) + "\n")
    result = repo.run("roster")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: roster.yaml: not valid YAML: larger than 4 MiB, the most casectl reads"
    )


def test_tags_that_build_python_objects_are_refused(repo: Repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "pwned"
    (repo.root / "severity.yaml").write_text(
        f"timezone: !!python/object/apply:os.system [touch {marker}]\n"
    )
    done, _ = run(repo, "roster")
    assert one_line_refusal(done) == (
        "severity.yaml: not valid YAML: line 1: the tag !!python/object/apply:os.system is "
        "not allowed: casectl files hold plain data"
    )
    assert not marker.exists()
