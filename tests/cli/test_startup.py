"""A step starts fast: what `casectl` does before and around the command, run as users run it.

The speed itself is measured by `make bench` (these machines are too noisy for timed
tests); these tests pin down the means: the collector kept off while the modules load,
click's English without gettext's catalog search, records without typing's checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from conftest import Repo, git

# Runs the installed entry point in a fresh interpreter, as the `casectl` script does,
# and prints what the start-up left behind: a line of JSON after the command's output.
PROBE = """
import gc, sys
collections_before_freeze = []
def seen(phase, info):
    if phase == "start" and gc.get_freeze_count() == 0:
        collections_before_freeze.append(info["generation"])
gc.callbacks.append(seen)
sys.argv = ["casectl", *sys.argv[1:]]
from casectl.__main__ import main
try:
    main()
except SystemExit as done:
    code = done.code
modules = sorted(sys.modules)
import json
print(json.dumps({
    "code": code,
    "collections_before_freeze": collections_before_freeze,
    "frozen": gc.get_freeze_count(),
    "enabled": gc.isenabled(),
    "modules": modules,
}))
"""


def probe(repo: Repo, *args: str, user: str = "zhang.wei") -> tuple[dict, str]:
    import json

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("_CASECTL")},
        "CASECTL_REPO": str(repo.root),
        "CASECTL_NOW": repo.now,
        "CASECTL_USER": user,
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=True
    )
    *said, last = done.stdout.splitlines()
    return json.loads(last), "\n".join(said) + done.stderr


def test_the_casectl_script_starts_through_the_collector_free_entry_point() -> None:
    (script,) = entry_points(group="console_scripts", name="casectl")
    assert script.value == "casectl.__main__:main"


@pytest.mark.slow
def test_no_collection_runs_while_the_modules_load_and_the_command_collects_as_usual(
    repo: Repo,
) -> None:
    case_id = repo.open_case()
    found, said = probe(repo, "log", case_id, "已电话联系客户", "--no-commit")
    assert found["code"] in (0, None), said
    assert f"{case_id} note recorded" in said
    assert found["collections_before_freeze"] == []  # click, yaml, casectl: loaded unwalked
    assert found["frozen"] > 5_000  # what they made is out of the collector's reach
    assert found["enabled"]  # and the command's own garbage is collected


@pytest.mark.slow
def test_python_dash_m_casectl_runs_the_same_entry(repo: Repo) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "casectl", "--repo", str(repo.root), "roster"],
        capture_output=True,
        text=True,
        cwd=repo.root.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "li.na" in done.stdout


@pytest.mark.slow
def test_a_step_in_english_never_searches_gettext_catalogs(repo: Repo) -> None:
    """The stdlib's gettext imports `locale` on its first lookup and stats a catalog per
    language on each: English answers click's messages with their own text."""
    case_id = repo.open_case()
    found, said = probe(repo, "log", case_id, "收集日志", "--no-commit")
    assert "locale" not in found["modules"], said
    found, said = probe(repo, "log", case_id, "--nope")
    assert found["code"] == 2
    assert "Error: No such option '--nope'." in said
    assert "locale" not in found["modules"]


def test_click_speaks_chinese_when_chosen_and_english_again_after(repo: Repo) -> None:
    zh = repo.run("log", "--nope", env={"LANG": "zh_CN.UTF-8"})
    assert zh.exit_code == 2
    assert "--nope" in zh.stderr and "No such option" not in zh.stderr
    en = repo.run("log", "--nope")
    assert "Error: No such option '--nope'." in en.stderr


def test_records_on_the_step_path_skip_typings_annotation_checks(repo: Repo) -> None:
    """typing.NamedTuple compiles each (string) annotation into a ForwardRef; a Record
    keeps the strings: the classes a step builds at import are all Records."""
    from typing import ForwardRef

    from casectl import calendars, casefile, config, model
    from casectl.cli import app

    records = [
        config.Person, config.Level, config.Config, calendars.Calendar, model.Rma,
        model.Visit, model.Notice, casefile.Problem, app.Acting,
    ]  # fmt: skip
    for record in records:
        assert issubclass(record, tuple) and record._fields, record
        hints = record.__annotations__
        assert list(hints) == list(record._fields), record
        assert not any(isinstance(h, ForwardRef) for h in hints.values()), record


def test_a_record_is_the_named_tuple_its_class_body_says() -> None:
    from casectl.records import Record

    class Point(Record):
        """A point."""

        x: int
        y: int = 0
        label: str | None = None

        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

    p = Point(3, -4)
    assert p == (3, -4, None) and p.norm() == 7 and p.label is None
    assert p._replace(label="a") == Point(3, -4, "a")
    assert Point._fields == ("x", "y", "label")
    assert Point._field_defaults == {"y": 0, "label": None}
    assert Point.__doc__ == "A point." and Point.__module__ == __name__
    assert Point.__qualname__.endswith("Point")
    assert hash(p) == hash((3, -4, None))
    assert p._asdict() == {"x": 3, "y": -4, "label": None}
    try:
        p.x = 5  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("a record must be immutable")


@pytest.mark.slow
def test_a_step_under_no_commit_loads_no_module_it_does_not_use(repo: Repo) -> None:
    case_id = repo.open_case()
    found, said = probe(repo, "log", case_id, "收集日志 2", "--no-commit")
    heavy = {"subprocess", "pathlib", "dataclasses", "tabulate", "dateutil", "locale", "json"}
    ours = {"casectl.index", "casectl.listing", "casectl.deadlines", "casectl.render"}
    loaded = set(found["modules"])
    assert not {m for m in loaded if m.split(".")[0] in heavy}, said
    assert not loaded & ours, said
    assert Path(repo.case_path(case_id)).read_text(encoding="utf-8").count("收集日志 2") == 1


def test_an_open_commits_its_event_and_under_no_commit_writes_the_case_alone(repo: Repo) -> None:
    """The event's YAML for the commit body is made only when there is a commit."""
    case_id = repo.open_case(assign=None)
    message = git(repo.root, "log", "-1", "--format=%B")
    assert message.splitlines()[0].startswith(f"{case_id}: opened, severity 1")
    assert "type: open" in message and "customer: 招商银行" in message
    head = git(repo.root, "rev-parse", "HEAD")
    quiet = repo.ok("open", "--customer", "某客户", "--contact", "王工", "--contract", "HT-1",
                    "--severity", "3", "--description", "不提交", "--no-commit")  # fmt: skip
    assert git(repo.root, "rev-parse", "HEAD") == head
    assert "不提交" in repo.case_path(quiet).read_text(encoding="utf-8")
