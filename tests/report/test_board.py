"""`casectl board`: most urgent first, fitted to a real terminal, redrawn as the repository
changes; `--once`; `--html` and the page each sweep rewrites."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import Repo
from pty_terminal import AMBER, RED, Terminal, environment, frames, plain, run, width

NOW = "2026-11-26 14:10"
CUSTOMER = "国家电网 信息中心 华东分中心 数据中心机房"  # 44 columns wide


def open_at(repo: Repo, when: str, severity: int, customer: str = "招商银行", n: int = 0) -> str:
    args = ["open", "--customer", customer, "--contact", "刘先生", "--contract", "HT-1",
            "--severity", str(severity), "--description", f"故障 {when} {severity} {n}",
            "--assign", "zhang.wei"]  # fmt: skip
    return repo.ok(*args, now=when)


@pytest.fixture
def busy(repo: Repo) -> dict[str, str]:
    """A case whose staged check was missed at 13:55, one due next (14:15), and 23 more
    due at 14:20 or 14:21, more than a 24-line terminal holds."""
    cases = {"late": open_at(repo, "2026-11-26 13:40", 3)}
    cases["soon"] = open_at(repo, "2026-11-26 14:00", 1)
    for n in range(23):
        cases[f"more{n}"] = open_at(repo, f"2026-11-26 14:0{5 + n % 2}", 4, CUSTOMER, n)
    return cases


def data_rows(frame: list[str]) -> list[str]:
    """The case lines of a frame: after its title, header and rule."""
    return [line for line in frame[3:] if re.search(r"\d{6}-\w{5}", line)]


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_the_live_board_fits_the_terminal_and_follows_a_step_made_elsewhere(
    repo: Repo, busy: dict[str, str], size: tuple[int, int]
) -> None:
    columns, lines = size
    board = Terminal(["board", "--interval", "1"], environment(repo.root, NOW), columns, lines)
    try:
        board.until(lambda text: len(frames(text)) >= 1)
        first = frames(board.text)[0]
        assert len(first) <= lines and all(width(line) <= columns for line in first), first
        assert first[0].startswith("2026-11-26 14:10 · 25 open · 1 missed")
        rows = data_rows(first)
        assert busy["late"] in rows[0] and rows[0].lstrip().startswith("-15m")
        assert busy["soon"] in rows[1] and rows[1].lstrip().startswith("5m")
        if lines == 24:  # 20 cases and a line saying how many more
            assert len(rows) == 20 and first[-1] == "5 more, 0 of them missed"
            assert "…" in rows[2]  # the customer cut to the width left
        else:
            assert len(rows) == 25 and CUSTOMER in plain(board.text)
        # colour: the missed case in red, the one due soon in amber
        raw = re.findall(r"\x1b\[H(.*?)\x1b\[J", board.text, re.S)[0].split("\n")
        assert any(RED in line and busy["late"] in line for line in raw)
        assert any(AMBER in line and busy["soon"] in line for line in raw)

        seen = len(frames(board.text))
        repo.ok("log", busy["late"], "已回电", "--callback", by="zhang.wei", now=NOW)

        def moved(text: str) -> bool:
            shown = frames(text)
            return len(shown) > seen and busy["soon"] in data_rows(shown[-1])[0]

        board.until(moved)
        after = data_rows(frames(board.text)[-1])
        assert not any(busy["late"] in row and "-15m" in row for row in after)
        board.interrupt()
        assert board.finish() == 0
        assert board.text.endswith("\x1b[?25h\x1b[?1049l")  # the screen left as found
    finally:
        board.close()


@pytest.mark.slow
def test_once_prints_one_frame(repo: Repo, busy: dict[str, str]) -> None:
    text = run(["board", "--once"], environment(repo.root, NOW), 80, 24)
    lines = plain(text).rstrip("\n").split("\n")
    assert len(lines) == 24 and all(width(line) <= 80 for line in lines)
    assert len(data_rows(lines)) == 20 and lines[-1] == "5 more, 0 of them missed"
    assert RED in text  # a terminal: coloured
    no_colour = run(["board", "--once"], environment(repo.root, NOW, NO_COLOR="1"), 80, 24)
    assert "\x1b[" not in no_colour and plain(text) == no_colour
    piped = repo.ok("board", now=NOW)  # into a pipe: every case, no colour
    assert "\x1b" not in piped and busy["late"] in piped.splitlines()[3]
    assert len(data_rows(piped.splitlines())) == 25
    shortened = repo.ok("board", now=NOW, env={"LINES": "10"}).splitlines()
    assert len(shortened) == 10 and shortened[-1] == "19 more, 0 of them missed"


def test_an_empty_board_says_so(repo: Repo) -> None:
    assert repo.ok("board", "--once").splitlines()[-1] == "no open cases"


def test_the_page_refreshes_itself_and_escapes_what_customers_typed(
    repo: Repo, tmp_path: Path
) -> None:
    late = open_at(repo, "2026-11-26 13:40", 2, "<script>alert(1)</script> & 银行")
    page = tmp_path / "board.html"
    repo.ok("board", "--html", str(page), now=NOW)
    html = page.read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="60">' in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 银行" in html
    assert re.search(rf'<tr class="missed"><td class="n">-15m</td><td>2</td><td>{late}</td>', html)
    assert 'lang="en"' in html
    repo.ok("board", "--html", str(page), "--interval", "15", now=NOW)
    assert '<meta http-equiv="refresh" content="15">' in page.read_text(encoding="utf-8")


def test_each_sweep_rewrites_the_page_git_config_names(repo: Repo) -> None:
    case_id = open_at(repo, "2026-11-26 14:00", 1)
    page = repo.root / "www" / "board.html"
    repo.ok("sweep", now="2026-11-26 14:05")
    assert not page.parent.exists()  # not set up: nothing written
    subprocess.run(["git", "-C", str(repo.root), "config", "casectl.board-html", "www/board.html"],
                   check=True)  # fmt: skip
    result = repo.run("sweep", now="2026-11-26 14:06")  # quiet, and the folder is missing
    assert result.exit_code == 1 and result.stdout == ""
    assert "casectl sweep: the board page" in result.stderr and "www/board.html" in result.stderr
    page.parent.mkdir()
    repo.ok("sweep", now="2026-11-26 14:07")
    first = page.read_text(encoding="utf-8")
    assert "2026-11-26 14:07 · 1 open · 0 missed · 1 due soon" in first and case_id in first
    repo.ok("sweep", now="2026-11-26 14:20")  # the check at 14:15 reported; next, 14:30's
    second = page.read_text(encoding="utf-8")
    assert "2026-11-26 14:20 · 1 open" in second and ">10m<" in second and "check 30m" in second
    repo.ok("log", case_id, "已回电", "--callback", by="zhang.wei", now="2026-11-26 14:21")
    repo.ok("sweep", now="2026-11-26 14:22")
    assert "check 30m" not in page.read_text(encoding="utf-8")  # called back: checks done
    repo.ok("sweep", "--dry-run", now="2026-11-26 14:30")  # records nothing, writes nothing
    assert "14:22 · 1 open" in page.read_text(encoding="utf-8")


def test_a_case_file_that_cannot_be_read_is_counted_on_the_board(
    repo: Repo, tmp_path: Path
) -> None:
    good, bad = open_at(repo, "2026-11-26 14:00", 1), open_at(repo, "2026-11-26 14:01", 2)
    path = repo.case_path(bad)
    path.write_text("<<<<<<< HEAD\n" + path.read_text() + "=======\n>>>>>>> theirs\n")
    result = repo.run("board", "--once", now=NOW)
    assert result.exit_code == 1 and good in result.stdout and bad not in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "1 case file could not be read and is not shown; `casectl check` names it"
    )
    assert result.stderr.startswith(f"casectl board: skipped {path}: cannot read case:")
    page = tmp_path / "board.html"
    repo.ok("board", "--html", str(page), now=NOW)
    assert '<p class="warning">1 case file could not be read' in page.read_text()


@pytest.mark.slow
def test_json_gives_the_counts_and_every_case_in_order(repo: Repo, busy: dict[str, str]) -> None:
    document = json.loads(repo.ok("board", "--json", now=NOW))
    assert (document["open"], document["missed"], document["due_soon"]) == (25, 1, 24)
    first, second = document["cases"][:2]
    assert first["id"] == busy["late"] and first["state"] == "missed" and first["left"] == -900
    assert first["next"] == "check 15m" and first["owner"] == "li.na"
    assert first["due"] == "2026-11-26T13:55:00+08:00"
    assert second["id"] == busy["soon"] and second["left"] == 300
    assert len(document["cases"]) == 25


def test_a_quiet_sweep_without_the_setting_loads_nothing_of_the_board(repo: Repo) -> None:
    from test_startup import probe

    open_at(repo, "2026-11-26 14:00", 1)
    repo.ok("sweep")  # at 14:05: nothing due
    found, said = probe(repo, "sweep")
    assert found["code"] in (0, None) and said.strip() == ""
    assert not {"casectl.board", "jinja2"} & set(found["modules"]), said


@pytest.mark.slow
def test_a_resized_window_is_filled_at_once(repo: Repo, busy: dict[str, str]) -> None:
    board = Terminal(["board", "--interval", "600"], environment(repo.root, NOW), 80, 12)
    try:
        board.until(lambda text: len(frames(text)) >= 1)
        assert len(data_rows(frames(board.text)[0])) == 8  # 12 lines: 8 cases and "17 more"
        board.resize(120, 40)  # long before the next redraw is due
        board.until(lambda text: len(frames(text)) >= 2, timeout=10)
        resized = frames(board.text)[1]
        assert len(data_rows(resized)) == 25 and max(map(width, resized)) > 80
        board.interrupt()
        assert board.finish() == 0
    finally:
        board.close()
