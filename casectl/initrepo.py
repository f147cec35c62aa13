"""`casectl init`: a new case repository with the example rules and git set up."""

from __future__ import annotations

import shutil
from pathlib import Path

from casectl import gitrepo
from casectl.errors import CasectlError

EXAMPLE = Path(__file__).parent / "example"
GITIGNORE = "# derived by casectl, never committed: the lock and the open-case index\n.casectl/\n"


def init(directory: str) -> str:
    root = Path(directory)
    if (root / "severity.yaml").exists():
        raise CasectlError(f"{root} is a case repository already")
    root.mkdir(parents=True, exist_ok=True)
    for name in ("roster.yaml", "severity.yaml"):
        shutil.copyfile(EXAMPLE / name, root / name)
    (root / "cases" / "open").mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    if shutil.which("git"):
        gitrepo.init(str(root))
    return str(root.resolve())
