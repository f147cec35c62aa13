"""Git: commit exactly the files a step changed, authored by the person who acted."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from casectl.errors import CasectlError


def is_repo(root: Path) -> bool:
    return (root / ".git").exists()


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    import subprocess  # 2.5 ms of start-up saved for every command that does not commit

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
    identity = _identity(*author)
    if not new:
        try:
            git(root, "commit", "-q", "--no-verify", "-m", message, "--", *names, env=identity)
            return
        except CasectlError as err:
            if "did not match any file" not in str(err):  # else: written with --no-commit before
                raise
    git(root, "add", "-A", "--", *names)
    git(root, "commit", "-q", "--no-verify", "-m", message, "--", *names, env=identity)


ATTRIBUTES = (
    "# case files merge as the union of their events (casectl merge driver)\n"
    "cases/**/*.yaml merge=casectl\n"
)


def init(root: Path) -> None:
    """A git repository whose case files merge through casectl's driver."""
    if not is_repo(root):
        git(root, "init", "-q")
    (root / ".gitattributes").write_text(ATTRIBUTES, encoding="utf-8")
    install_driver(root)
    git(root, "add", "--", ".gitattributes", ".gitignore", "roster.yaml", "severity.yaml")
    identity = _identity("casectl", "casectl@localhost")
    git(root, "commit", "-q", "--no-verify", "-m", "New case repository", env=identity)
    write_commit_graph(root)


def install_driver(root: Path) -> None:
    """Register the merge driver in this clone's config (git never copies config).

    The driver runs this very Python, so it works whatever PATH git runs with.
    """
    import shlex

    driver = f"{shlex.quote(sys.executable)} -m casectl merge-file %O %A %B %P"
    git(root, "config", "merge.casectl.name", "casectl: union of case events")
    git(root, "config", "merge.casectl.driver", driver)
    # changed-path Bloom filters keep `git log -- <case file>` fast on long histories
    git(root, "config", "core.commitGraph", "true")
    git(root, "config", "fetch.writeCommitGraph", "true")


def has_driver(root: Path) -> bool:
    try:
        text = (root / ".git" / "config").read_text(encoding="utf-8")
    except OSError:
        return True  # a worktree or odd layout: say nothing rather than cry wolf
    return '[merge "casectl"]' in text


def warn_if_no_driver(root: Path, say: Callable[..., object]) -> None:
    """Git silently merges case files as text in a clone without the driver: say so."""
    if (root / ".gitattributes").exists() and not has_driver(root):
        say(
            "warning: this clone has no casectl merge driver; git would merge case files "
            "as text. Run `casectl sync` (or `casectl setup-git`) once.",
            err=True,
        )


def write_commit_graph(root: Path) -> None:
    git(root, "commit-graph", "write", "--reachable", "--changed-paths", "--split", check=False)


# (case id, base version, other versions) -> (path for the merged case, its content)
MergeCase = Callable[[str, bytes | None, list[bytes]], tuple[str, bytes]]


def sync(
    root: Path,
    identity: tuple[str, str],
    refile: Callable[[list[str]], None],
    merge_case: MergeCase,
) -> str:
    """Pull (merging case files with the driver), re-file what the merge moved, push.

    A push rejected because someone pushed first is retried after another pull.
    `refile` gets the case files the pull changed and may commit fixes.
    """
    install_driver(root)
    env = _identity(*identity)
    _resolve(root, merge_case, env)  # a plain `git pull` may have left one half done
    unmerged = git(root, "diff", "--name-only", "--diff-filter=U").split()
    if unmerged:
        raise CasectlError(
            f"unresolved merge conflicts in {', '.join(unmerged)}; resolve them first"
        )
    marked = git(root, "grep", "-l", "-E", "^(<<<<<<<|>>>>>>>)( |$)", "--", "cases", check=False)
    if marked.strip():
        raise CasectlError(f"conflict markers in {', '.join(marked.split())}; resolve them first")
    branch = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    remote = git(root, "config", f"branch.{branch}.remote", check=False).strip() or "origin"
    for _ in range(5):
        import subprocess

        before = git(root, "rev-parse", "HEAD").strip()
        if git(root, "ls-remote", "--heads", remote, branch).strip():
            pulled = subprocess.run(
                ["git", "pull", "--no-rebase", "--no-edit", "-q", remote, branch],
                cwd=root, capture_output=True, text=True, env={**os.environ, **env},
            )  # fmt: skip
            if pulled.returncode != 0 and not _resolve(root, merge_case, env):
                if (root / ".git" / "MERGE_HEAD").exists():
                    git(root, "merge", "--abort", check=False)
                why = (pulled.stderr or pulled.stdout).strip().splitlines()[-1:]
                raise CasectlError(
                    f"pull from {remote} failed, nothing was changed: {''.join(why)}"
                )
            changed = git(root, "diff", "--name-only", before, "HEAD", "--", "cases")
            refile(changed.split())
        pushed = subprocess.run(
            ["git", "push", "-q", "-u", remote, f"HEAD:{branch}"],
            cwd=root, capture_output=True, text=True,
        )  # fmt: skip
        if pushed.returncode == 0:
            write_commit_graph(root)
            return f"synced with {remote}/{branch}"
        if "rejected" not in pushed.stderr and "fetch first" not in pushed.stderr:
            raise CasectlError(f"push to {remote} failed: {pushed.stderr.strip().splitlines()[-1]}")
    raise CasectlError(f"push to {remote} was rejected five times; try again")


def _resolve(root: Path, merge_case: MergeCase, env: dict[str, str]) -> bool:
    """Finish a merge whose only conflicts are case files git could not pair up.

    A close moves a case from cases/open/ to cases/closed/; when the file also grew a
    lot, git's rename detection misses the move and reports "modified here, deleted
    there". Every version of such a case is merged as the union of its events and
    filed by its status. Anything else (two intakes under one id) stays a conflict.
    """
    if not (root / ".git" / "MERGE_HEAD").exists():
        return False
    stages: dict[str, dict[int, bytes]] = {}
    for line in git(root, "ls-files", "-u").splitlines():
        info, path = line.split("\t", 1)
        _, blob, stage = info.split()
        if not path.startswith("cases/") or not path.endswith(".yaml"):
            return False
        stages.setdefault(path, {})[int(stage)] = _blob(root, blob)
    by_case: dict[str, list[str]] = {}
    for path in stages:
        by_case.setdefault(Path(path).stem, []).append(path)
    for case_id, paths in by_case.items():
        base = next((versions[1] for p in paths if 1 in (versions := stages[p])), None)
        sides = [data for p in paths for stage, data in stages[p].items() if stage != 1]
        others = [str(p.relative_to(root)) for p in (root / "cases").glob(f"**/{case_id}.yaml")]
        sides += [(root / p).read_bytes() for p in others if p not in stages]
        try:
            target, content = merge_case(case_id, base, sides)
        except CasectlError:
            return False
        for path in set(paths) | set(others):
            if path != target:
                (root / path).unlink(missing_ok=True)
                git(root, "rm", "-q", "--cached", "--ignore-unmatch", "--", path)
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        (root / target).write_bytes(content)
        git(root, "add", "--", target)
    git(root, "commit", "-q", "--no-edit", "--no-verify", env=env)
    return True


def _blob(root: Path, blob: str) -> bytes:
    import subprocess

    found = subprocess.run(["git", "cat-file", "blob", blob], cwd=root, capture_output=True)
    return found.stdout


def log_case(root: Path, paths: list[str]) -> str:
    """The commits that touched a case file, with their diffs."""
    return git(root, "log", "-p", "--format=commit %h%nAuthor: %an <%ae>%nDate:   %ad%n%n    %s%n",
               "--date=iso", "--", *paths)  # fmt: skip


def _identity(name: str, email: str) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
