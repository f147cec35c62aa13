"""Case files: byte-identical round trips, readable diffs, no lost steps under concurrency."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from conftest import Repo
from hypothesis import given, settings
from hypothesis import strategies as st

from casectl import yamlio
from casectl.model import Case
from casectl.store import case_from_document, dump_case

SPECIAL = st.sampled_from(
    [
        "no",
        "null",
        "~",
        ": ",
        "#",
        "- ",
        "  lead",
        "yes",
        "1e3",
        "0x1F",
        "2026-11-26",
        "'",
        '"',
        "|",
        ">",
        "@x",
        "`",
        "%",
        "!tag",
        "*a",
        "&a",
        "",
        " ",
        "\t",
        "a\n",
        "\nb",
        "trailing \n",
        "é",
        "中文\n第二行",
    ]
)
TEXT = st.one_of(st.text(), SPECIAL, st.lists(st.one_of(st.text(), SPECIAL)).map("\n".join))
AT = datetime(2026, 11, 26, 14, 5, tzinfo=timezone(timedelta(hours=8)))


def case_with(texts: list[str]) -> Case:
    events = [
        {
            "id": "AAAAAAAA",
            "at": AT,
            "by": "li.na",
            "type": "open",
            "customer": texts[0],
            "contact": "c",
            "severity": 1,
            "text": texts[-1],
        }
    ]
    events += [
        {
            "id": f"E{i:07d}",
            "at": AT + timedelta(minutes=i),
            "by": "zhang.wei",
            "type": "note",
            "text": t,
        }
        for i, t in enumerate(texts)
    ]
    return Case("261126-K7Q3M", events)


@pytest.mark.slow
@settings(max_examples=300)
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_round_trip_is_byte_identical(texts: list[str]) -> None:
    data = dump_case(case_with(texts))
    again = case_from_document(yamlio.load(data), "test", "261126-K7Q3M")
    assert [e.get("text") for e in again.events[1:]] == texts
    assert again.events[0]["customer"] == texts[0]
    assert dump_case(again) == data


def test_file_reads_well_in_a_diff(repo: Repo) -> None:
    case_id = repo.open_case()
    repo.ok("log", case_id, "多行\n说明", by="zhang.wei", now="2026-11-26 14:30")
    path = repo.case_path(case_id)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"id: {case_id}\nevents:\n- id: ")
    assert (
        "  at: 2026-11-26T14:30:00+08:00\n  by: zhang.wei\n  type: note\n  text: |-\n    多行\n    说明\n"
        in text
    )
    assert "\\u" not in text and "{" not in text and "&id" not in text
    before = path.read_bytes()
    repo.ok("show", case_id)
    assert path.read_bytes() == before


@pytest.mark.slow
def test_eight_processes_logging_at_once_keep_every_event(repo: Repo) -> None:
    case_id = repo.open_case()
    env = {"CASECTL_NOW": "2026-11-26 14:10", "CASECTL_USER": "zhang.wei", "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "casectl",
                "--repo",
                str(repo.root),
                "log",
                case_id,
                f"step {i}",
            ],
            env=env,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    texts = {e.get("text") for e in repo.show(case_id)["events"]}
    assert texts >= {f"step {i}" for i in range(8)}


def test_without_libyaml_casectl_says_so(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from casectl.errors import CasectlError

    monkeypatch.setattr(yamlio, "CSafeLoader", None)
    with pytest.raises(CasectlError, match="PyYAML was built without libyaml"):
        yamlio.load(b"a: 1")


def test_times_load_as_pyyaml_would_load_them() -> None:
    import yaml

    for text in ("2026-11-26T14:05:00+08:00", "2026-11-26 14:05:00+08:00", "2026-11-26T14:05:00Z",
                 "2026-11-26T14:05:00.250000+05:30", "2026-11-26t14:05:00+08:00", "2026-01-01",
                 "2026-11-26T14:05:00"):  # fmt: skip
        document = f"at: {text}\n"
        assert yamlio.load(document) == yaml.load(document, Loader=yaml.CSafeLoader), text
    assert type(yamlio.load("d: 2026-01-01")["d"]).__name__ == "date"


def test_a_full_disk_changes_nothing(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Taskwarrior lost data when the disk filled (#2264): the old file must survive."""
    import errno
    import os

    case_id = repo.open_case()
    folder = repo.case_path(case_id).parent
    before = (folder / f"{case_id}.yaml").read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    result = repo.run("log", case_id, "写不下", by="zhang.wei")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: cannot write {case_id}.yaml: No space left on device; nothing was changed"
    )
    assert (folder / f"{case_id}.yaml").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [f"{case_id}.yaml"]
