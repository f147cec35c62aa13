"""What a killed git leaves: lock files and temporary objects; a step written but not
committed.

A lock file whose git is gone (no live git for this repository in /proc) or older
than STALE_AFTER is removed, with a notice naming it; a live one is waited for
LOCK_WAIT seconds, then refused, naming it. `uncommitted` tells which of a killed
step's files still differ from HEAD, for the next command to commit them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from os.path import exists, join

from casectl import gitrepo
from casectl.errors import CasectlError

STALE_AFTER = 60.0  # seconds: longer than any git command a step runs takes
LOCK_WAIT = 3.0  # seconds a step waits for a running git to let go of its lock
LOCKED = ".lock': File exists"  # how git says a lock file stopped it
# lock files below the git folder that git takes besides `*.lock` at its top
DEEP_LOCKS = (
    "objects/maintenance.lock",
    "objects/info/commit-graph.lock",
    "objects/info/commit-graphs/commit-graph-chain.lock",
)


def lock_files(root: str) -> list[str]:
    """The lock files in this repository now: `index.lock`, `HEAD.lock`,
    `next-index-*.lock`, `packed-refs.lock`, `config.lock`, the current branch's ref
    lock, and maintenance's and the commit-graph's. A git killed at work leaves them."""
    gitdir = gitrepo.git_dir(root)
    common = gitrepo._common_dir(gitdir)
    found = []
    for folder in dict.fromkeys((gitdir, common)):
        found += [join(folder, n) for n in _names(folder) if n.endswith(".lock")]
    deep = [*DEEP_LOCKS, f"{gitrepo._head_ref(gitdir)}.lock"]
    return found + [join(common, p) for p in deep if os.path.lexists(join(common, p))]


def _names(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def gits_running(root: str) -> list[int] | None:
    """The pids of live git processes working in this repository (git works from the
    top of the working tree); None where the system cannot tell (no /proc)."""
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    inside = (root, root + os.sep)
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
                if not f.read().startswith("git"):
                    continue
            folder = os.readlink(f"/proc/{pid}/cwd")  # fails for a zombie: it is dead
        except OSError:
            continue
        if folder == root or folder.startswith(inside[1]):
            found.append(int(pid))
    return found


def settle_locks(root: str, say: Callable[[str], object], wait: float = LOCK_WAIT) -> bool:
    """Remove the lock files a dead git left, each with a one-line notice; wait up to
    `wait` seconds for those a running git holds, then refuse naming the file. True
    when a lock was removed: a git was killed here.

    A lock is left by a dead git when no git process works in this repository, or when
    it is older than any git command takes (STALE_AFTER; the only test where the
    system cannot list processes).
    """
    import time

    until = time.monotonic() + wait
    removed = False
    while True:
        held = lock_files(root)
        if not held:
            return removed
        gits = gits_running(root)
        kept = [path for path in held if not _remove_if_stale(root, path, gits, say)]
        removed = removed or len(kept) < len(held)
        if not kept:
            return removed
        if time.monotonic() >= until:
            raise CasectlError(_held(root, kept[0], gits))
        time.sleep(0.05)


def remove_temporary(root: str) -> None:
    """Remove the temporary files a killed git left in its object store (`tmp_obj_*`,
    `tmp_pack_*`, `tmp_graph_*`...), unless a git works here now and may be writing one.
    Git itself would only prune them weeks later."""
    if gits_running(root) != []:
        return
    objects = join(gitrepo._common_dir(gitrepo.git_dir(root)), "objects")
    for folder, _dirs, files in os.walk(objects):
        for name in files:
            if name.startswith(("tmp_", ".tmp-")):
                with suppress(FileNotFoundError):
                    os.unlink(join(folder, name))


def _remove_if_stale(
    root: str, path: str, gits: list[int] | None, say: Callable[[str], object]
) -> bool:
    """Remove `path` if no live git can hold it; True when it is gone."""
    import time

    try:
        if gits != [] and time.time() - os.lstat(path).st_mtime <= STALE_AFTER:
            return False
        os.unlink(path)
    except FileNotFoundError:
        return True  # its git finished meanwhile
    say(f"casectl: removed {os.path.relpath(path, root)}, left by a git no longer running")
    return True


def _held(root: str, path: str, gits: list[int] | None) -> str:
    name = os.path.relpath(path, root)
    who = f"git (pid {', '.join(map(str, gits))})" if gits else "a git"
    return (
        f"{name} is held by {who} running in this repository; wait for it to finish and "
        f"run the command again (if no git is running here, remove {name})"
    )


def uncommitted(root: str, names: list[str]) -> tuple[list[str], list[str]]:
    """Of the files `names`, those whose content differs from HEAD's, and which of
    those HEAD lacks (new files). The index is first put back to HEAD for them: a git
    killed between moving HEAD and writing its index leaves it stale."""
    gitrepo.git(root, "reset", "-q", "--", *names, check=False)
    listed = gitrepo.git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", *names)
    committed = set(listed.split("\0"))
    changed = set(gitrepo.git(root, "diff", "--name-only", "-z", "HEAD", "--", *names).split("\0"))
    new = [n for n in names if n not in committed and exists(join(root, n))]
    return sorted((changed - {""}) | set(new)), new
