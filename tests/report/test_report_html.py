"""`casectl report --html`: one self-contained page that parses, holds the report's numbers,
runs no script, names no external address, and shows untrusted text as text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import Repo
from test_report_day import MORNING, scripted_day

pytestmark = pytest.mark.slow

HOSTILE = "<img src=x onerror=alert(1)>"


class Page(HTMLParser):
    """Every tag with its attributes, the text of each table cell, and the SVG charts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[str] = []
        self.texts: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def holds(cells: list[str], run: list[str]) -> bool:
    """Whether the cells hold `run` one after another (one table row's cells)."""
    return any(cells[i : i + len(run)] == run for i in range(len(cells)))


def page_of(repo: Repo, tmp_path: Path) -> tuple[str, Page]:
    out = tmp_path / "report.html"
    assert repo.ok("report", "--html", str(out), by=None, now=MORNING) == f"wrote {out}"
    html = out.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    page.close()
    return html, page


@pytest.fixture
def hostile_day(repo: Repo) -> Repo:
    scripted_day(repo)
    repo.ok("open", "--customer", HOSTILE, "--contact", "x", "--contract", "HT-1", "--severity",
            "4", "--description", "<script>alert(2)</script>", "--assign", "sun.li",
            now="2026-11-26 17:30")  # fmt: skip
    return repo


def test_the_page_parses_and_holds_the_numbers(hostile_day: Repo, tmp_path: Path) -> None:
    html, page = page_of(hostile_day, tmp_path)
    report = json.loads(hostile_day.ok("report", "--json", by=None, now=MORNING))
    assert html.startswith("<!DOCTYPE html>")
    tags = [t for t, _ in page.tags]
    # every table with a row that is not all zeros, but the headline's (shown as tiles)
    assert tags.count("table") == sum(
        1 for name, section in report.items() if name != "headline"
        for rows in (section.values() if isinstance(section, dict) else [])
        if isinstance(rows, list) and any(
            not {"met", "opened", "cases", "count"} & r.keys()
            or any(r[k] for k in ("met", "met_late", "missed", "opened", "closed", "reopened",
                                  "open_at_end", "cases", "count") if k in r) for r in rows)
    )  # fmt: skip
    totals = report["volume"]["totals"][0]
    assert totals == {"opened": 5, "closed": 2, "reopened": 1, "open_at_end": 5}
    assert holds(page.cells, ["5", "2", "1", "5"])  # the Volume table's one row
    assert holds(page.cells, ["callback", "4", "1", "1", "67%"])  # as in the JSON
    assert holds(page.cells, ["first reply", "4", "1", "0", "80%"])
    assert tags.count("svg") == 2  # compliance by kind and severity, open cases by age
    # each bar carries its numbers as text: met / met late / missed and the on-time share
    texts = [t.strip() for t in page.texts]
    at = texts.index("S1 callback")
    assert "1 / 0 / 1 (50% on time)" in texts[at : at + 8]
    assert "< 1 day" in texts and "S1 callback met: 1" in texts
    assert any('name="viewport"' in html for _ in [0])  # readable on a phone


def test_no_script_no_external_address(hostile_day: Repo, tmp_path: Path) -> None:
    html, page = page_of(hostile_day, tmp_path)
    assert "script" not in [t for t, _ in page.tags]
    assert "<script" not in html.lower()
    for tag, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        for key in ("src", "href", "xlink:href", "action"):
            assert key not in attrs, (tag, attrs)
    assert not re.search(r"(?i)(https?:|ftp:)?//[a-z0-9.-]+\.[a-z]", html)
    assert "url(" not in html and "@import" not in html


def test_a_hostile_customer_name_is_text(hostile_day: Repo, tmp_path: Path) -> None:
    html, page = page_of(hostile_day, tmp_path)
    assert "img" not in [t for t, _ in page.tags]
    assert HOSTILE in page.cells  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert HOSTILE not in html


def test_chromium_renders_the_page(hostile_day: Repo, tmp_path: Path) -> None:
    """The page renders and the screenshot is not blank (apt-get install chromium)."""
    browser = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    html_file = tmp_path / "report.html"
    hostile_day.ok("report", "--html", str(html_file), by=None, now=MORNING)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={shot}", "--window-size=420,900", html_file.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    colours = png_colours(shot.read_bytes())
    assert len(colours) > 10  # text and bars, not one blank colour


def png_colours(data: bytes) -> set[bytes]:
    """The distinct pixel values of a PNG (8-bit RGB or RGBA, any filter), by zlib alone."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, b"", b""
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        header, chunks = (
            (body, chunks) if kind == b"IHDR" else (header, chunks + body * (kind == b"IDAT"))
        )
        pos += 12 + size
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride, previous = zlib.decompress(chunks), width * step, bytearray(width * step)
    seen: set[bytes] = set()
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            guess = {0: 0, 1: left, 2: up, 3: (left + up) // 2}.get(kind)
            if guess is None:  # Paeth
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[x] = (line[x] + guess) & 0xFF
        seen.update(bytes(line[i : i + step]) for i in range(0, stride, step * 7))
        previous = line
    return seen
