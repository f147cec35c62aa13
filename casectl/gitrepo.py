"""Git: commit exactly the files a step changed, authored by the person who acted."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from os.path import exists, join
from typing import Protocol

from casectl.errors import CasectlError


def is_repo(root: str) -> bool:
    return exists(join(root, ".git"))


def git(root: str, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
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


BIG_INDEX = 2 << 20  # bytes of shared index, about 20,000 files


def commit(
    root: str, paths: list[str], author: tuple[str, str], message: str, new: bool = False
) -> None:
    """Commit only `paths` (never `git add .`): others' edits stay out of it.

    `git commit -- PATHS` stages exactly those paths itself; a file git does not
    know yet (`new`) must be added first. In a large repository that command
    stats every tracked file and rebuilds a whole index from HEAD (0.25 s at
    110,000 files), so there the commit is made from plumbing that touches only
    the paths (0.06 s).
    """
    names = [os.path.relpath(p, root) for p in paths]
    identity = _identity(*author)
    if _index_bytes(root) > BIG_INDEX:
        _commit_paths(root, names, message, identity)
        return
    # no auto-maintenance after each step (a second process); sync runs it instead
    commit = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "commit", "-q", "--no-verify"]
    if not new:
        try:
            git(root, *commit, "-m", message, "--", *names, env=identity)
            return
        except CasectlError as err:
            if "did not match any file" not in str(err):  # else: written with --no-commit before
                raise
    git(root, "add", "-A", "--", *names)
    git(root, *commit, "-m", message, "--", *names, env=identity)


def _commit_paths(root: str, names: list[str], message: str, identity: dict[str, str]) -> None:
    """`git commit -- NAMES` from plumbing: stage the paths, write the tree, move HEAD."""
    git(root, "update-index", "--add", "--remove", "--", *names)
    tree = git(root, "write-tree").strip()
    parent = git(root, "rev-parse", "--verify", "HEAD").strip()
    made = git(root, "commit-tree", tree, "-p", parent, "-m", message, env=identity).strip()
    subject = message.splitlines()[0]
    git(root, "update-ref", "-m", f"commit: {subject}", "HEAD", made, parent)


def _index_bytes(root: str) -> int:
    """The size of this clone's index: the split index's shared part where there is one."""
    gitdir = join(root, ".git")
    try:
        shared = [n for n in os.listdir(gitdir) if n.startswith("sharedindex.")]
        return max(os.stat(join(gitdir, n)).st_size for n in shared or ["index"])
    except OSError:
        return 0


def init(root: str) -> None:
    """A git repository whose case files merge through casectl's driver."""
    if not is_repo(root):
        git(root, "init", "-q")
    install_driver(root)
    files = (".gitattributes", ".gitignore", "roster.yaml", "severity.yaml", "holidays-cn.yaml")
    git(root, "add", "--", *files)
    identity = _identity("casectl", "casectl@localhost")
    git(root, "commit", "-q", "--no-verify", "-m", "New case repository", env=identity)
    write_commit_graph(root)


def install_driver(root: str) -> None:
    """Register the merge driver and casectl's settings in this clone's config (git
    never copies config): changed-path filters, index v4 and a split index.

    The driver runs this very Python, so it works whatever PATH git runs with.
    """
    import shlex

    driver = f"{shlex.quote(sys.executable)} -m casectl merge-file %O %A %B %P"
    git(root, "config", "merge.casectl.name", "casectl: union of case events")
    git(root, "config", "merge.casectl.driver", driver)
    # changed-path Bloom filters keep `git log -- <case file>` fast on long histories
    git(root, "config", "core.commitGraph", "true")
    git(root, "config", "fetch.writeCommitGraph", "true")
    # a step rewrites only its share of a large index, not all of it
    git(root, "config", "index.version", "4")
    git(root, "config", "core.splitIndex", "true")


def has_driver(root: str) -> bool:
    try:
        with open(join(root, ".git", "config"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return True  # a worktree or odd layout: say nothing rather than cry wolf
    return '[merge "casectl"]' in text


def warn_if_no_driver(root: str, say: Callable[..., object]) -> None:
    """Git silently merges case files as text in a clone without the driver: say so."""
    if exists(join(root, ".gitattributes")) and not has_driver(root):
        say(
            "warning: this clone has no casectl merge driver; git would merge case files "
            "as text. Run `casectl sync` (or `casectl setup-git`) once.",
            err=True,
        )


def write_commit_graph(root: str) -> None:
    git(root, "commit-graph", "write", "--reachable", "--changed-paths", "--split", check=False)


def maintain(root: str) -> None:
    """What git would do after each commit (casectl's steps skip it): pack loose objects
    when there are many, and keep the commit-graph current. Run by sync and sweep."""
    git(root, "maintenance", "run", "--auto", "--quiet", check=False)
    write_commit_graph(root)


class CaseFiles(Protocol):
    """What sync needs of the case files; the store owns their layout."""

    def places(self, case_id: str) -> list[str]:
        """Where a case may live, relative to the repository."""

    def merge(self, case_id: str, base: bytes | None, sides: list[bytes]) -> tuple[str, bytes]:
        """All versions of a case as one: the path it belongs at, and its content."""

    def refile(self, names: list[str]) -> None:
        """Move the named case files a merge left in the wrong folder, and commit that."""


def sync(
    root: str,
    identity: tuple[str, str],
    cases: CaseFiles,
) -> str:
    """Pull (merging case files with the driver), re-file what the merge moved, push.

    A push rejected because someone pushed first is retried after another pull.
    `cases.refile` gets the case files the pull changed.
    """
    install_driver(root)
    env = _identity(*identity)
    _resolve(root, cases, env)  # a plain `git pull` may have left one half done
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
            if pulled.returncode != 0 and not _resolve(root, cases, env):
                if exists(join(root, ".git", "MERGE_HEAD")):
                    git(root, "merge", "--abort", check=False)
                said = (pulled.stderr or pulled.stdout).strip().splitlines()
                # the driver's own words say more than git's last line
                why = [line for line in said if "casectl merge-file:" in line] or said[-1:]
                raise CasectlError(
                    f"pull from {remote} failed, nothing was changed: {'; '.join(why)}"
                )
            changed = git(root, "diff", "--name-only", before, "HEAD", "--", "cases")
            cases.refile(changed.split())
        pushed = subprocess.run(
            ["git", "push", "-q", "-u", remote, f"HEAD:{branch}"],
            cwd=root, capture_output=True, text=True,
        )  # fmt: skip
        if pushed.returncode == 0:
            maintain(root)
            return f"synced with {remote}/{branch}"
        if "rejected" not in pushed.stderr and "fetch first" not in pushed.stderr:
            raise CasectlError(f"push to {remote} failed: {pushed.stderr.strip().splitlines()[-1]}")
    raise CasectlError(f"push to {remote} was rejected five times; try again")


def _resolve(root: str, cases: CaseFiles, env: dict[str, str]) -> bool:
    """Finish a merge whose only conflicts are case files git could not pair up.

    A close moves a case from cases/open/ to cases/closed/; when the file also grew a
    lot, git's rename detection misses the move and reports "modified here, deleted
    there". Every version of such a case is merged as the union of its events and
    filed by its status. Anything else (two intakes under one id) stays a conflict.
    """
    if not exists(join(root, ".git", "MERGE_HEAD")):
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
        by_case.setdefault(os.path.basename(path)[: -len(".yaml")], []).append(path)
    for case_id, paths in by_case.items():
        base = next((versions[1] for p in paths if 1 in (versions := stages[p])), None)
        sides = [data for p in paths for stage, data in stages[p].items() if stage != 1]
        others = [p for p in cases.places(case_id) if exists(join(root, p))]
        sides += [_read(join(root, p)) for p in others if p not in stages]
        try:
            target, content = cases.merge(case_id, base, sides)
        except CasectlError:
            return False
        for path in set(paths) | set(others):
            if path != target:
                if exists(join(root, path)):
                    os.unlink(join(root, path))
                git(root, "rm", "-q", "--cached", "--ignore-unmatch", "--", path)
        os.makedirs(os.path.dirname(join(root, target)), exist_ok=True)
        with open(join(root, target), "wb") as f:
            f.write(content)
        git(root, "add", "--", target)
    git(root, "commit", "-q", "--no-edit", "--no-verify", env=env)
    return True


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _blob(root: str, blob: str) -> bytes:
    import subprocess

    found = subprocess.run(["git", "cat-file", "blob", blob], cwd=root, capture_output=True)
    return found.stdout


def log_case(root: str, paths: list[str]) -> str:
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
