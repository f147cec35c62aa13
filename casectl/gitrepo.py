"""Git: commit exactly the files a step changed, authored by the person who acted."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from os.path import exists, join
from typing import Any

from casectl.errors import CasectlError
from casectl.terminal import safe


def is_repo(root: str) -> bool:
    return exists(join(root, ".git"))


def run(root: str, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
    """Run git in the repository; the finished process, whatever its exit status."""
    import subprocess  # 2.5 ms of start-up saved for every command that does not commit

    return subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
    )


def git(
    root: str,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    input: str | None = None,
) -> str:
    """Run git; its output, or a CasectlError with git's last line when it fails."""
    result = run(root, *args, env=env, input=input)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise CasectlError(f"git {args[0]} failed: {detail[-1] if detail else result.returncode}")
    return str(result.stdout)


def message(subject: str, body: str, case_ids: list[str]) -> str:
    """A commit message whose structure no user text can forge: the subject on one line,
    the body indented (so no line of it starts with `Case:`), trailers from casectl alone."""
    subject = safe(" ".join(subject.split()))
    lines = [f"    {line}".rstrip() for line in body.rstrip().splitlines()]
    trailers = "".join(f"Case: {case_id}\n" for case_id in case_ids)
    return f"{subject}\n\n" + ("\n".join(lines) + "\n\n" if lines else "") + trailers


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
    if _index_bytes(root) > BIG_INDEX or len(names) > 100:
        _commit_paths(root, names, message, identity)
        return
    # no auto-maintenance after each step (a second process); sync runs it instead.
    # The message goes on stdin: a sweep's can pass the kernel's limit for one argument.
    commit = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "commit", "-q", "--no-verify"]
    if not new:
        try:
            git(root, *commit, "-F", "-", "--", *names, env=identity, input=message)
            return
        except CasectlError as err:
            if "did not match any file" not in str(err):  # else: written with --no-commit before
                raise
    git(root, "add", "-A", "--", *names)
    git(root, *commit, "-F", "-", "--", *names, env=identity, input=message)


def _commit_paths(root: str, names: list[str], message: str, identity: dict[str, str]) -> None:
    """`git commit -- NAMES` from plumbing: stage the paths, write the tree, move HEAD.
    Paths and message go on stdin, so a sweep of thousands of cases fits."""
    git(root, "update-index", "--add", "--remove", "-z", "--stdin", input="\0".join(names))
    tree = git(root, "write-tree").strip()
    parent = git(root, "rev-parse", "--verify", "HEAD").strip()
    made = git(root, "commit-tree", tree, "-p", parent, "-F", "-", env=identity, input=message)
    subject = message.splitlines()[0]
    git(root, "update-ref", "-m", f"commit: {subject}", "HEAD", made.strip(), parent)


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

    The driver runs this very Python, so it works whatever PATH git runs with, and
    isolated (`-I`): git runs drivers from the top of the working tree, where a plain
    `python -m casectl` would import a `casectl/` folder anyone could push.
    """
    import shlex

    driver = f"{shlex.quote(sys.executable)} -I -m casectl merge-file %O %A %B %P"
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


EventIds = Callable[[str, bytes], "set[str] | None"]


def sync(
    root: str, identity: tuple[str, str], events: EventIds, after: Callable[[], object]
) -> str:
    """Pull (merging case files with the driver), check the merge lost nothing, push.

    `events(case_id, data)` reads the event ids of a version of a case file (None: not
    a case file); a merge that drops a case or an event is undone and refused. `after`
    runs after each pull (it converts the old layout). A push rejected because someone
    pushed first is retried after another pull.
    """
    install_driver(root)
    env = _identity(*identity)
    if exists(join(root, ".git", "MERGE_HEAD")):
        raise CasectlError("a merge is in progress; finish it (git commit) or git merge --abort")
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
        if git(root, "ls-remote", "--heads", remote, branch).strip():
            _pull(root, remote, branch, env, events)
        after()
        pushed = run(root, "push", "-q", "-u", remote, f"HEAD:{branch}")
        if pushed.returncode == 0:
            maintain(root)
            return f"synced with {remote}/{branch}"
        if "rejected" not in pushed.stderr and "fetch first" not in pushed.stderr:
            raise CasectlError(f"push to {remote} failed: {pushed.stderr.strip().splitlines()[-1]}")
    raise CasectlError(f"push to {remote} was rejected five times; try again")


def _pull(root: str, remote: str, branch: str, env: dict[str, str], events: EventIds) -> None:
    """Fetch and merge; undo a merge that fails or loses a case or an event."""
    git(root, "fetch", "-q", remote, branch)
    ours = git(root, "rev-parse", "HEAD").strip()
    theirs = git(root, "rev-parse", "FETCH_HEAD").strip()
    merged = run(root, "merge", "--no-edit", "-q", theirs, env=env)
    if merged.returncode != 0:
        if exists(join(root, ".git", "MERGE_HEAD")):
            git(root, "merge", "--abort", check=False)
        said = (merged.stderr or merged.stdout).strip().splitlines()
        # the driver's own words say more than git's last line
        why = [line for line in said if "casectl merge-file:" in line] or said[-1:]
        raise CasectlError(f"pull from {remote} failed, nothing was changed: {'; '.join(why)}")
    lost = _lost(root, ours, "HEAD", events) or _lost(root, theirs, "HEAD", events)
    if lost:
        git(root, "reset", "-q", "--merge", ours)
        raise CasectlError(
            f"sync refused: merging {remote}/{branch} would lose {lost}; nothing was changed"
        )


def _lost(root: str, side: str, merged: str, events: EventIds) -> str | None:
    """What `side` has that `merged` lost: a case file, or events of one; None if nothing.
    Reads only the case files that differ between the two."""
    changes = git(root, "diff", "--no-renames", "--name-status", "-z", side, merged, "--", "cases")
    fields = changes.split("\0")
    status = dict(zip(fields[1::2], fields[0::2], strict=False))  # a trailing NUL: one more
    now_at = {os.path.basename(p): p for p, kind in status.items() if kind != "D"}
    for path, kind in sorted(status.items()):
        name = os.path.basename(path)
        if kind == "A" or not name.endswith(".yaml"):
            continue
        before = events(name[:-5], _blob(root, f"{side}:{path}"))
        if before is None:
            continue  # not a case file on that side either
        moved = now_at.get(name)  # the old layout's path converted to the new one
        after = events(name[:-5], _blob(root, f"{merged}:{moved}")) if moved else None
        if after is None:
            return f"case {name[:-5]} ({path})"
        if not before <= after:
            return f"{len(before - after)} event(s) of case {name[:-5]}"
    return None


def _blob(root: str, spec: str) -> bytes:
    import subprocess

    found = subprocess.run(["git", "cat-file", "blob", spec], cwd=root, capture_output=True)
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
