"""`casectl init`: a new case repository with the example rules and git set up."""

from __future__ import annotations

import shutil
from pathlib import Path

from casectl import gitrepo
from casectl.errors import CasectlError

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
        raise CasectlError(f"{root.resolve()} is a case repository already")
    if directory is None and _occupied(root):
        raise CasectlError(
            f"{root.resolve()} is not empty and not a case repository; "
            "name the folder to create: casectl init DIR"
        )
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
