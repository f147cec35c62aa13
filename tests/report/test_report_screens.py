"""The report's page in headless Chromium (issue 26.2, 26.3): at 1280 and 390 px, in
English and Chinese, a screenshot that is not blank, nothing wider than a 390 px phone
(every table's columns shown without sideways scrolling), `lang` the page's language,
every chart label at least 12 px on screen, and a week's trend chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import INSTALL, WIDER_THAN_VIEWPORT, Browser, binary
from conftest import Repo
from test_report_day import MORNING
from test_report_headline import day  # noqa: F401 - the scripted day, with alerts and visits
from test_report_html import png_colours

pytestmark = pytest.mark.slow

LANGUAGES = {"en": {"LANG": "C"}, "zh-CN": {"LANG": "zh_CN.UTF-8"}}
# every SVG text's font size as drawn: its computed size times the SVG's scale on screen
LABELS = """[...document.querySelectorAll('svg text')].map(t => {
  const svg = t.ownerSVGElement, box = svg.getBoundingClientRect();
  return parseFloat(getComputedStyle(t).fontSize) * box.width / svg.viewBox.baseVal.width;
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = binary()
    if path is None:
        pytest.skip(f"chromium is not installed: {INSTALL}")
    found = Browser(path)
    yield found
    found.close()


def page(repo: Repo, tmp_path: Path, language: str, *args: str) -> Path:
    out = tmp_path / f"report-{language}.html"
    repo.ok("report", "--html", str(out), *args, by=None, now=MORNING, env=LANGUAGES[language])
    return out


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_on_a_desk_and_on_a_phone(
    browser: Browser,
    day: tuple[Repo, dict[str, str]],  # noqa: F811
    tmp_path: Path,
    language: str,
    width: int,
) -> None:
    repo, _ = day
    shown = browser.open(page(repo, tmp_path, language).as_uri(), width)
    measured = shown.evaluate(WIDER_THAN_VIEWPORT)
    assert measured["width"] == width and measured["lang"] == language
    assert measured["wide"] == [] and measured["scroll"] <= width, measured["wide"]
    assert measured["text"] > 2000  # the page's text is there, not an empty shell
    sizes = shown.evaluate(LABELS)
    assert sizes and min(sizes) >= 12, sizes
    shot = shown.screenshot()
    (tmp_path / f"shot-{language}-{width}.png").write_bytes(shot)
    assert len(png_colours(shot)) > 10  # text, tiles and bars, not one blank colour


def test_the_weeks_trend_chart(browser: Browser, day: tuple[Repo, dict[str, str]],  # noqa: F811
                               tmp_path: Path) -> None:  # fmt: skip
    repo, _ = day
    shown = browser.open(page(repo, tmp_path, "en", "--week").as_uri(), 390)
    charts = shown.evaluate("[...document.querySelectorAll('svg')].map(s => s.ariaLabel)")
    assert "Opened, closed and open at the end of each day" in charts
    labels = shown.evaluate("[...document.querySelectorAll('svg text')].map(t => t.textContent)")
    assert "4/2/4" in labels and "11-26" in labels  # the 26th: opened, closed, open at end
    assert shown.evaluate(WIDER_THAN_VIEWPORT)["wide"] == []
