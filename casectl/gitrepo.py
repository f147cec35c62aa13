"""Git: commit exactly the files a step changed, authored by the person who acted."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from casectl.errors import CasectlError


def is_repo(root: Path) -> bool:
    return (root / ".git").exists()


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise CasectlError(f"git {args[0]} failed: {detail[-1] if detail else result.returncode}")
    return result.stdout


def commit(
    root: Path, paths: list[Path], author: tuple[str, str], message: str, new: bool = False
) -> None:
    """Commit only `paths` (never `git add .`): others' edits stay out of it.

    `git commit -- PATHS` stages exactly those paths itself; a file git does not
    know yet (`new`) must be added first.
    """
    names = [str(p.relative_to(root)) for p in paths]
    name, email = author
    identity = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    if new:
        git(root, "add", "-A", "--", *names)
    git(root, "commit", "-q", "--no-verify", "-m", message, "--", *names, env=identity)


ATTRIBUTES = (
    "# case files merge as the union of their events (casectl merge driver)\n"
    "cases/**/*.yaml merge=casectl\n"
)
_warned = False


def init(root: Path) -> None:
    """A git repository whose case files merge through casectl's driver."""
    if not is_repo(root):
        git(root, "init", "-q")
    (root / ".gitattributes").write_text(ATTRIBUTES, encoding="utf-8")
    install_driver(root)
    git(root, "add", "--", ".gitattributes", ".gitignore", "roster.yaml", "severity.yaml")
    identity = {
        "GIT_AUTHOR_NAME": "casectl",
        "GIT_AUTHOR_EMAIL": "casectl@localhost",
        "GIT_COMMITTER_NAME": "casectl",
        "GIT_COMMITTER_EMAIL": "casectl@localhost",
    }
    git(root, "commit", "-q", "--no-verify", "-m", "New case repository", env=identity)


def install_driver(root: Path) -> None:
    """Register the merge driver in this clone's config (git does not copy config)."""
    git(root, "config", "merge.casectl.name", "casectl: union of case events")
    git(root, "config", "merge.casectl.driver", "casectl merge-file %O %A %B %P")


def has_driver(root: Path) -> bool:
    try:
        text = (root / ".git" / "config").read_text(encoding="utf-8")
    except OSError:
        return True  # a worktree or odd layout: say nothing rather than cry wolf
    return '[merge "casectl"]' in text


def warn_if_no_driver(root: Path, say: Callable[..., object]) -> None:
    global _warned
    if not _warned and (root / ".gitattributes").exists() and not has_driver(root):
        _warned = True
        say(
            "warning: this clone has no casectl merge driver; git would merge case files "
            "as text. Run `casectl sync` (or `casectl setup-git`) once.",
            err=True,
        )
