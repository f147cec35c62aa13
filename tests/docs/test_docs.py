"""The manual stays true mechanically (issue 27): docs/commands.md is what `make docs`
generates, every relative link and #anchor in the READMEs and docs/ leads somewhere (on
GitHub and on the MkDocs site alike), the site builds with --strict, every block marked
"runs as written" runs in an empty folder, and the README stays a front door."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify_unicode
from test_readme_day import shell

ROOT = Path(__file__).resolve().parents[2]
BIN = os.path.dirname(sys.executable)  # the venv's `casectl`, `mkdocs`
PAGES = [ROOT / "README.md", ROOT / "README.zh-CN.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
COMMENT = re.compile(r"<!--.*?-->", re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
MARKER = "<!-- runs as written"


def prose(page: Path) -> str:
    """The page without code blocks and HTML comments (cog's code is in one)."""
    return COMMENT.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))


def github_slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def headings(page: Path) -> list[str]:
    return [m.group(1).replace("`", "") for m in re.finditer(r"^#{1,6} (.+)$", prose(page), re.M)]


def anchors(page: Path) -> set[str]:
    return {github_slug(title) for title in headings(page)}


@pytest.mark.slow
def test_commands_md_is_what_make_docs_generates() -> None:
    """cog --check regenerates every `--help` block in memory and compares (exit 5: stale)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASECTL_", "LC_"))}
    done = subprocess.run([sys.executable, "-m", "cogapp", "--check", "docs/commands.md"],
                          cwd=ROOT, capture_output=True, text=True, env=env | {"LANG": "C"})  # fmt: skip
    assert done.returncode == 0, (
        f"docs/commands.md is stale: run `make docs` and commit it\n{done.stdout}{done.stderr}"
    )


def test_commands_md_has_every_visible_command() -> None:
    """The generated part covers every command `casectl --help` lists, and no hidden one."""
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### casectl (\S+)", text, re.M))
    from casectl.cli import COMMANDS, HIDDEN

    assert documented >= set(COMMANDS) - HIDDEN
    assert not documented & HIDDEN


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
            broken.append(f"{target}: no such heading in {linked.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_anchors_are_the_same_on_github_and_the_site(page: Path) -> None:
    """A heading whose two slugs differed would be a link that works in one place only."""
    titles = headings(page)
    assert [github_slug(t) for t in titles] == [slugify_unicode(t, "-") for t in titles]
    assert len(set(titles)) == len(titles), "two headings share an anchor"


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """mkdocs --strict: nav, every page, every link and anchor between pages."""
    done = subprocess.run([f"{BIN}/mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "running-a-center" / "index.html").is_file()
    assert "casectl sweep" in (tmp_path / "commands" / "index.html").read_text("utf-8")


def marked_blocks() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for n, piece in enumerate(text.split(MARKER)[1:], 1):
            after = piece.split("-->", 1)[1].lstrip("\n")
            assert after.startswith("```sh\n"), f"{page.name}: a marker not before a sh block"
            found.append((f"{page.relative_to(ROOT).as_posix()}#{n}", after[6:].split("```")[0]))
    return found


BLOCKS = marked_blocks()


def test_there_are_blocks_that_run_as_written() -> None:
    assert len(BLOCKS) >= 2  # the operator's guide's, in English and in Chinese


@pytest.mark.slow
@pytest.mark.parametrize(("where", "script"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_a_block_marked_runs_as_written_runs_in_an_empty_folder(
    where: str, script: str, tmp_path: Path
) -> None:
    done = shell(script, tmp_path, CASECTL_NOW="2026-11-26 14:05", LANG="C")
    assert done.returncode == 0, f"{where}:\n{script}\n{done.stderr}"


def test_the_readme_is_a_front_door() -> None:
    """A few screens: the two set-up commands, the day, where to go next."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    assert "make demo" in readme and "make test" in readme
    for page in ("running-a-center", "rules", "commands", "sharing-and-security", "report",
                 "internals"):  # fmt: skip
        assert f"(docs/{page}.md)" in readme
