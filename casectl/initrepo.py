"""`casectl init`: a new case repository with the example rules and git set up."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from casectl import gitrepo
from casectl.errors import CasectlError
from casectl.i18n import _

EXAMPLE = Path(__file__).parent / "example"
GITIGNORE = "# derived by casectl, never committed: lock, index, caches\n.casectl/\n"
ATTRIBUTES = (
    "# case files merge as the union of their events (casectl merge driver)\n"
    "cases/**/*.yaml merge=casectl\n"
)


def init(directory: str | None) -> str:
    """Write what is missing, keep what is there (a roster of one's own, a .gitignore).

    With no folder named, the current one, which must hold nothing but dotfiles
    (a fresh clone's .git) and a roster: `casectl init` typed in the wrong place
    would otherwise scatter a repository among someone's files.
    """
    root = Path(directory or ".")
    if (root / "severity.yaml").exists():
        raise CasectlError(_("{folder} is a case repository already").format(folder=root.resolve()))
    if directory is None and _occupied(root):
        raise CasectlError(
            _("{folder} is not empty and not a case repository; name the folder to create: "
              "casectl init DIR").format(folder=root.resolve())
        )  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    for name in ("roster.yaml", "severity.yaml", "holidays-cn.yaml"):
        if not (root / name).exists():
            shutil.copyfile(EXAMPLE / name, root / name)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    _ensure(root / ".gitignore", GITIGNORE)
    _ensure(root / ".gitattributes", ATTRIBUTES)
    if shutil.which("git"):
        gitrepo.init(str(root))
    return str(root.resolve())


def _occupied(root: Path) -> bool:
    return any(not p.name.startswith(".") and p.name != "roster.yaml" for p in root.iterdir())


def _ensure(path: Path, block: str) -> None:
    """Append `block` to the file unless its last line is there already."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if block.splitlines()[-1] not in text.splitlines():
        separator = "\n" if text and not text.endswith("\n") else ""
        path.write_text(text + separator + block, encoding="utf-8")


HOOK_MARK = "# installed by casectl --hook"


def install_hook(root: str) -> str:
    """A git pre-commit hook that runs `casectl check` (this very Python, isolated, as the
    merge driver does); casectl's own steps commit with --no-verify and skip it.

    Rewrites a hook casectl installed; refuses to replace anyone else's. Returns its path.
    """
    import shlex

    if not gitrepo.is_repo(root):
        raise CasectlError(
            _("{folder} is not a git repository: no hook to install").format(folder=root)
        )
    path = os.path.join(
        root, gitrepo.git(root, "rev-parse", "--git-path", "hooks/pre-commit").strip()
    )
    if os.path.lexists(path) and HOOK_MARK not in _text(path):
        raise CasectlError(
            _("{path} exists and is not casectl's: add `casectl check || exit 1` to it "
              "yourself").format(path=os.path.relpath(path, root))
        )  # fmt: skip
    os.makedirs(os.path.dirname(path), exist_ok=True)
    script = (
        f"#!/bin/sh\n{HOOK_MARK}: check the case repository before each commit\n"
        f'exec {shlex.quote(sys.executable)} -I -m casectl --repo "$(git rev-parse '
        '--show-toplevel)" check\n'  # the repository committing, whatever CASECTL_REPO says
    )
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(script)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(1 << 16)
    except OSError:
        return ""
