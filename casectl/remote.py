"""Sharing through the remote: sync (pull, merge through the driver, push), and what a
pull may not bring.

Before anything is checked out, a pull is refused when it brings a symbolic link or
anything under `.casectl/` (`foreign`), or a change of the rules no trusted key
signed (casectl.signing); after the merge, when it lost a case or an event
(`_lost`). Each network call gives up after NETWORK_WAIT seconds, and the
repository's lock is held only while the working tree changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from os.path import exists, join

from casectl import gitrepo
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.terminal import safe

EventIds = Callable[[str, bytes], "set[str] | None"]
NETWORK_WAIT = 30.0  # seconds one fetch or push may take before the remote counts as down


def sync(
    root: str, identity: tuple[str, str], events: EventIds, after: Callable[[], object],
    locked: Callable[[], AbstractContextManager[object]], timeout: float = NETWORK_WAIT,
    housekeeping: bool = True,
) -> str:  # fmt: skip
    """Pull (merging case files with the driver), check the merge lost nothing, push.

    `events(case_id, data)` reads the event ids of a version of a case file (None: not
    a case file); a merge that drops a case or an event is undone and refused. `after`
    runs after each pull (it converts the old layout). A push rejected because someone
    pushed first is retried after another pull. `locked()` holds the repository's lock
    while the working tree changes (the merge, `after`), never while waiting on the
    network; each network step gives up after `timeout` seconds.
    """
    gitrepo.install_driver(root)
    env = gitrepo._identity(*identity)
    with locked():
        _mergeable(root)
    branch = gitrepo.git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    remote = gitrepo.git(root, "config", f"branch.{branch}.remote", check=False).strip() or "origin"
    for _attempt in range(5):
        if _network(root, timeout, "ls-remote", "--heads", remote, branch).strip():
            _network(root, timeout, "fetch", "-q", remote, branch)
            with locked():
                _pull(root, remote, branch, env, events)
        with locked():
            after()
        pushed = gitrepo.run(root, "push", "-q", "-u", remote, f"HEAD:{branch}", timeout=timeout)
        if pushed.returncode == 0:
            if housekeeping:  # a step's background share leaves it to sync and the sweep
                gitrepo.maintain(root)
            return f"synced with {remote}/{branch}"
        if "rejected" not in pushed.stderr and "fetch first" not in pushed.stderr:
            raise CasectlError(
                _("push to {remote} failed: {reason}").format(
                    remote=remote, reason=gitrepo._why(pushed)
                )
            )
    raise CasectlError(
        _("push to {remote} was rejected five times; try again").format(remote=remote)
    )


def _network(root: str, timeout: float, *args: str) -> str:
    """A git command that talks to the remote: its output, or one line saying why not."""
    done = gitrepo.run(root, *args, timeout=timeout)
    if done.returncode != 0:
        raise CasectlError(
            _("git {command} failed: {reason}").format(command=args[0], reason=gitrepo._why(done))
        )
    return str(done.stdout)


def _mergeable(root: str) -> None:
    """Refuse while a merge is in progress, conflicts are unresolved or markers are left."""
    if exists(join(gitrepo.git_dir(root), "MERGE_HEAD")):
        raise CasectlError(_("a merge is in progress; finish it (git commit) or git merge --abort"))
    unmerged = gitrepo.git(root, "diff", "--name-only", "--diff-filter=U").split()
    if unmerged:
        raise CasectlError(
            _("unresolved merge conflicts in {paths}; resolve them first").format(
                paths=", ".join(unmerged)
            )
        )
    marked = gitrepo.git(
        root, "grep", "-l", "-E", "^(<<<<<<<|>>>>>>>)( |$)", "--", "cases", check=False
    )
    if marked.strip():
        raise CasectlError(
            _("conflict markers in {paths}; resolve them first").format(
                paths=", ".join(marked.split())
            )
        )


def _pull(root: str, remote: str, branch: str, env: dict[str, str], events: EventIds) -> None:
    """Merge what was fetched; undo a merge that fails or loses a case or an event."""
    ours = gitrepo.git(root, "rev-parse", "HEAD").strip()
    theirs = gitrepo.git(root, "rev-parse", "FETCH_HEAD").strip()
    refused = foreign(root, theirs, ours)
    if refused:
        path, commit, why = refused
        raise CasectlError(
            _("sync refused: {remote}/{branch} adds {path} (commit {commit}), {why}; "
              "nothing was changed").format(remote=remote, branch=branch, path=safe(path),
                                            commit=commit, why=why)
        )  # fmt: skip
    trust = _guard_trust_root(root, remote, branch, ours, theirs)
    said = _merge_message(root, remote, ours, theirs)
    merged = gitrepo.run(root, "merge", "--no-edit", "-q", "-m", said, theirs, env=env)
    if merged.returncode != 0:
        if exists(join(root, ".git", "MERGE_HEAD")):
            gitrepo.git(root, "merge", "--abort", check=False)
        said = (merged.stderr or merged.stdout).strip().splitlines()
        # the driver's own words say more than git's last line
        lines = [line for line in said if "casectl merge-file:" in line] or said[-1:]
        raise CasectlError(
            _("pull from {remote} failed, nothing was changed: {reason}").format(
                remote=remote, reason="; ".join(lines)
            )
        )
    lost = _lost(root, ours, "HEAD", events) or _lost(root, theirs, "HEAD", events)
    if lost:
        gitrepo.git(root, "reset", "-q", "--merge", ours)
        raise CasectlError(
            _(
                "sync refused: merging {remote}/{branch} would lose {lost}; nothing was changed"
            ).format(remote=remote, branch=branch, lost=lost)
        )
    if trust is not None:
        from casectl import signing

        signing.set_trusted(root, trust)  # an accepted change of the roster moves the trust


def _guard_trust_root(root: str, remote: str, branch: str, ours: str, theirs: str) -> list | None:
    """Refuse a pull that changes roster.yaml or severity.yaml in a commit no key this
    clone trusts signed (casectl.signing); the pinned keys after the pull when it changes
    them, else None. Without pinned keys and without `signed:`, nothing is checked."""
    from casectl import signing

    pinned = signing.trusted(root)
    if not pinned and not signing.policy_on(root):
        return None
    from casectl.store import Store

    judged = signing.guard_pull(root, Store(root), ours, theirs, pinned)
    if judged is None:
        return None
    commit, why, keys = judged
    if commit:
        said = (
            _("sync refused: {remote}/{branch} changes roster.yaml or severity.yaml in commit "
              "{commit}, which is not signed; nothing was changed") if why == "unsigned" else
            _("sync refused: {remote}/{branch} changes roster.yaml or severity.yaml in commit "
              "{commit}, which is not signed by a trusted manager's key; nothing was changed")
        )  # fmt: skip
        raise CasectlError(said.format(remote=remote, branch=branch, commit=commit[:12]))
    return keys if pinned and keys != pinned else None


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
STATE = ".casectl"  # what an older casectl kept in the working tree: never crosses the remote


def foreign(root: str, theirs: str, ours: str | None = None) -> tuple[str, str, str] | None:
    """The first path `theirs` brings (since the common base with `ours`) that casectl
    never takes from a push, as (path, the commit that brought it, why); None when there
    is none. Read from git's objects, before anything is checked out."""
    base = gitrepo.run(root, "merge-base", ours, theirs).stdout.strip() if ours else ""
    for path, why in refused_paths(gitrepo.git(root, "diff", "--raw", "--no-renames", "-z",
                                       base or EMPTY_TREE, theirs)):  # fmt: skip
        return path, brought_by(root, path, theirs, ours), why
    return None


def refused_paths(raw: str) -> list[tuple[str, str]]:
    """The paths of `git diff --raw -z` output that casectl never takes from a push, with
    why: a symbolic link anywhere could lead a write or a read outside the repository,
    and anything under `.casectl/` is one clone's own state."""
    fields = raw.split("\0")
    found = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        mode, status = meta.split()[1], meta.split()[-1]
        if status == "D":
            continue
        if mode == "120000":
            found.append((path, _("a symbolic link, which casectl never takes from a push")))
        elif path == STATE or path.startswith(f"{STATE}/"):
            found.append((path, _("a clone's own state, which never crosses the remote")))
    return found


def brought_by(root: str, path: str, tip: str, since: str | None = None) -> str:
    """The (short) commit that first brought `path` into `tip`'s history, after `since`."""
    after = ["--not", since] if since else []
    found = gitrepo.git(
        root, "log", "--format=%h", "--reverse", tip, *after, "--", path, check=False
    )
    return (found.split() or [tip[:12]])[0]


def _merge_message(root: str, remote: str, ours: str, theirs: str) -> str:
    """`sync: 3 steps from origin (cases 261126-K7Q3M, 261127-9MM76)`: what a manager
    reading `git log` needs of a merge, not `Merge commit '<hash>'`."""
    steps = int(
        gitrepo.git(root, "rev-list", "--count", "--no-merges", f"{ours}..{theirs}").strip()
    )
    changed = gitrepo.git(root, "diff", "--name-only", f"{ours}...{theirs}", "--", "cases").split()
    cases = sorted({os.path.basename(p)[:-5] for p in changed if p.endswith(".yaml")})
    shown = ", ".join(cases[:5]) + (f" and {len(cases) - 5} more" if len(cases) > 5 else "")
    noun = "step" if steps == 1 else "steps"
    return f"sync: {steps} {noun} from {remote}" + (f" (cases {shown})" if cases else "")


def _lost(root: str, side: str, merged: str, events: EventIds) -> str | None:
    """What `side` has that `merged` lost: a case file, or events of one; None if nothing.
    Reads only the case files that differ between the two."""
    changes = gitrepo.git(
        root, "diff", "--no-renames", "--name-status", "-z", side, merged, "--", "cases"
    )
    fields = changes.split("\0")
    status = dict(zip(fields[1::2], fields[0::2], strict=False))  # a trailing NUL: one more
    now_at = {os.path.basename(p): p for p, kind in status.items() if kind != "D"}
    for path, kind in sorted(status.items()):
        name = os.path.basename(path)
        if kind == "A" or not name.endswith(".yaml"):
            continue
        before = events(name[:-5], gitrepo._blob(root, f"{side}:{path}"))
        if before is None:
            continue  # not a case file on that side either
        moved = now_at.get(name)  # the old layout's path converted to the new one
        after = events(name[:-5], gitrepo._blob(root, f"{merged}:{moved}")) if moved else None
        if after is None:
            return f"case {name[:-5]} ({path})"
        if not before <= after:
            return f"{len(before - after)} event(s) of case {name[:-5]}"
    return None
