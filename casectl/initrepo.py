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


def init(directory: str) -> str:
    """Write what is missing, keep what is there (a roster of one's own, a .gitignore)."""
    root = Path(directory)
    if (root / "severity.yaml").exists():
        raise CasectlError(f"{root} is a case repository already")
    root.mkdir(parents=True, exist_ok=True)
    for name in ("roster.yaml", "severity.yaml", "holidays-cn.yaml"):
        if not (root / name).exists():
            shutil.copyfile(EXAMPLE / name, root / name)
    (root / "cases" / "open").mkdir(parents=True, exist_ok=True)
    _ensure(root / ".gitignore", GITIGNORE)
    _ensure(root / ".gitattributes", ATTRIBUTES)
    if shutil.which("git"):
        gitrepo.init(str(root))
    return str(root.resolve())


def _ensure(path: Path, block: str) -> None:
    """Append `block` to the file unless its last line is there already."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if block.splitlines()[-1] not in text.splitlines():
        separator = "\n" if text and not text.endswith("\n") else ""
        path.write_text(text + separator + block, encoding="utf-8")
