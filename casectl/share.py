"""Sharing with the team: every step reaches the remote as it is made.

A clone with a remote shares each step's commit at once: the step starts `casectl
share` detached and returns, so the person's prompt never waits on the network.
That child takes the share lock (pushes never overlap; a step made meanwhile asks
the holder to go round once more), then syncs: fetch, merge through the driver when
someone pushed first, push, each network call bounded (`remote.NETWORK_WAIT`).
How it went is kept in the state folder: after a failed share, the next step says
"not shared yet" in one line and `casectl status` lists the commits that wait.
Offline, steps stay recorded; the next step, `sync` or sweep shares them.

`git config casectl.push false` (or CASECTL_PUSH=0 in the environment) turns it off.

The cron host's `sweep --sync` syncs before and after it sweeps, and tells people of
the events that arrived by the merge (`arrived`): whichever clone recorded them,
unless that clone told them itself (the event's `teller`, see casectl.cli.notify).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from os.path import join
from typing import TYPE_CHECKING, Any

from casectl import state

if TYPE_CHECKING:
    from casectl.model import Case
    from casectl.store import Store

LOCK, AGAIN, STATUS = "share.lock", "share.again", "share.status"
TOLD = "told-through"  # the commit up to which arrived events were considered
ROUNDS = 5  # a busy clone's share goes round at most this often before it lets go


OFF = ("0", "false", "no", "off", "")  # how git and the environment say no


def enabled(root: str, settings: dict[tuple[str, str], str] | None = None) -> bool:
    """Whether steps here are shared as they are made: the clone has a remote, and neither
    its git config (`casectl.push false`) nor CASECTL_PUSH=0 turns it off. `settings`:
    `_config(root)`, when the caller read it already (one file read in all)."""
    said = os.environ.get("CASECTL_PUSH")
    if said is not None:
        return said.strip().lower() not in OFF
    settings = _config(root) if settings is None else settings
    push = settings.get(("casectl", "push"), "true")
    return settings.get(("remote", "any")) == "yes" and push.strip().lower() not in OFF


def _config(root: str) -> dict[tuple[str, str], str]:
    """What sharing needs of the clone's git config (casectl.identity reads it without a
    git process): whether any remote is set, `casectl.*`, each branch's remote."""
    from casectl import identity

    found: dict[tuple[str, str], str] = {}
    for key, value in identity.local_settings(root):
        section, _dot, rest = key.partition(".")
        if section == "remote":
            found[("remote", "any")] = "yes"
        elif section == "casectl":
            found[("casectl", rest)] = value
        elif section == "branch" and rest.endswith(".remote"):
            found[("branch", rest)] = value
    return found


def after_step(root: str, store: Store, say: Callable[[str], None]) -> None:
    """A step was committed: share it in the background; say so if the last share failed."""
    settings = _config(root)
    if not enabled(root, settings):
        return
    failed = last_failure(store)
    if failed:
        from casectl.i18n import _

        say(_("casectl: not shared yet: the last share failed ({reason}); it is retried "
              "now in the background, and `casectl status` lists what waits").format(
                reason=failed))  # fmt: skip
    import subprocess
    import sys

    share = [sys.executable, "-m", "casectl", "--repo", root, "share"]
    target = _push_target(root, settings)
    if target and not failed:  # the usual case: a plain push; a merge only when refused
        status = join(store.state_folder(), STATUS)
        share = ["sh", "-c", PUSH_FIRST, "sh", root, *target, status, *share]
    try:
        subprocess.Popen(
            share, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
        )  # fmt: skip
    except OSError as err:
        from casectl.i18n import _

        say(_("casectl: not shared yet: cannot start the share ({reason}); run casectl "
              "sync").format(reason=err.strerror))  # fmt: skip


# A step's share, as the detached shell runs it: push the branch as it is (nobody pushed
# meanwhile: done, in a git process alone); refused or failed, the whole `casectl share`
# (under its lock: fetch, merge through the driver, push again), which notes the outcome.
PUSH_FIRST = (
    'timeout 30 git -C "$1" push -q "$2" "HEAD:refs/heads/$3" >/dev/null 2>&1 '
    '&& printf "ok\\t\\n" > "$4" || { shift 4; exec "$@"; }'
)


def _push_target(root: str, settings: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    """(remote, branch) the current branch pushes to, from git's own files; None when
    HEAD is detached or the branch has no remote (the full share decides then)."""
    gitdir = state.git_dir(root)
    try:
        head = state.read(join(gitdir, "HEAD"), 1024).decode().strip() if gitdir else ""
    except (OSError, UnicodeDecodeError):
        return None
    if not head.startswith("ref: refs/heads/"):
        return None
    branch = head.removeprefix("ref: refs/heads/")
    remote = settings.get(("branch", f"{branch}.remote"))
    return (remote, branch) if remote else None


def last_failure(store: Store) -> str | None:
    """Why the last share failed, or None when it worked (or none ran yet)."""
    try:
        text = state.read(join(store.state_dir, STATUS), 4096).decode("utf-8", "replace")
    except OSError:
        return None
    ok, _sep, reason = text.partition("\t")
    return None if ok == "ok" else reason.strip() or "unknown"


def note(store: Store, error: str | None) -> bool:
    """Keep how the share went; True when that changed (worked after failing, or the
    reverse): the cron host says a remote is down once, not every minute."""
    before = last_failure(store)
    folder = store.state_folder()
    tmp = join(folder, f"{STATUS}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("ok\t\n" if error is None else f"failed\t{' '.join(error.split())[:300]}\n")
    os.replace(tmp, join(folder, STATUS))
    return (before is None) != (error is None)


@contextmanager
def turn(store: Store, wait: bool) -> Iterator[bool]:
    """The share lock: True while held. Without `wait`, a holder already at work is asked
    to go round once more (it will push this clone's newest commit too) and False given."""
    import fcntl

    folder = store.state_folder()
    fd = os.open(join(folder, LOCK), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            state.append(join(folder, AGAIN), "again\n")
            yield False
            return
        yield True
    finally:
        os.close(fd)


def share(store: Store, sync: Callable[[], object]) -> str | None:
    """The background child's work: sync until no step asked for another round; the error
    that stopped it, or None. Run under `turn`."""
    again = join(store.state_dir, AGAIN)
    from casectl.errors import CasectlError

    for _round in range(ROUNDS):
        with suppress(FileNotFoundError):
            os.unlink(again)
        try:
            sync()
        except CasectlError as err:
            note(store, str(err))
            return str(err)
        note(store, None)
        if not os.path.lexists(again):
            break
    return None


# --- the cron host tells of what arrived --------------------------------------------------


def told_through(store: Store) -> str | None:
    """The commit up to which arrived events were told; None before the first time."""
    try:
        text = state.read(join(store.shared_state_dir, TOLD), 100).decode("ascii", "replace")
    except OSError:
        return None
    return text.strip() or None


def mark_told(store: Store, commit: str) -> None:
    folder = store.shared_folder()
    tmp = join(folder, f"{TOLD}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{commit}\n")
    os.replace(tmp, join(folder, TOLD))


def arrived(
    root: str, store: Store, since: str, until: str
) -> list[tuple[Case, list[dict[str, Any]]]]:
    """Each case changed between two commits, with the events it gained (in file order)."""
    from casectl import gitrepo
    from casectl.cli.app import event_ids
    from casectl.errors import CasectlError
    from casectl.store import id_of

    changed = gitrepo.git(root, "diff", "--name-only", "--no-renames", "-z", since, until,
                          "--", "cases", check=False)  # fmt: skip
    found = []
    for path in filter(None, changed.split("\0")):
        case_id = id_of(os.path.basename(path))
        if case_id is None:
            continue
        before = event_ids(gitrepo.committed_blob(root, path, since))
        try:
            case = store.load(case_id)
        except CasectlError:  # a broken file: the sweep names it
            continue
        new = [e for e in case.events if str(e["id"]) not in before]
        if new:
            found.append((case, new))
    return found


def worth_telling(case: Case, event: dict[str, Any], oldest: Any) -> bool:
    """An arrived event still worth a message: not told by the clone that made it, not
    older than the outbox would keep it, and not an assignment superseded since."""
    if event.get("teller") or event["at"] < oldest:
        return False
    if event["type"] in ("assign", "reassign"):
        s = case.state
        return s.status == "open" and s.assignee == event["to"]
    return True


# --- casectl status -----------------------------------------------------------------------


def status(root: str, store: Store) -> dict[str, Any]:
    """What this clone has not shared or told yet, and who it is bound to."""
    from casectl import gitrepo

    settings = _config(root)
    unshared = []
    if gitrepo.is_repo(root):
        log = gitrepo.git(root, "log", "--format=%h%x09%s", "HEAD", "--not", "--remotes",
                          check=False)  # fmt: skip
        unshared = [dict(zip(("commit", "subject"), line.split("\t", 1), strict=False))
                    for line in log.splitlines()]  # fmt: skip
    pending = join(store.shared_state_dir, "outbox", "pending")
    try:
        untold = sum(1 for name in os.listdir(pending) if name.endswith(".json"))
    except OSError:
        untold = 0
    from casectl import lease

    held = lease.local(root) if gitrepo.is_repo(root) else None
    from casectl import signing

    return {
        "signs_as": signing.signs_as(root) if gitrepo.is_repo(root) else None,
        "trusted": signing.trusted(root) if gitrepo.is_repo(root) else [],
        "user": settings.get(("casectl", "user")),
        "lease": held.document() if held else None,
        "remote": settings.get(("remote", "any")) == "yes",
        "sharing": enabled(root, settings),
        "last_share_failed": last_failure(store),
        "unshared": unshared,
        "untold": untold,
    }


def status_lines(document: dict[str, Any]) -> list[str]:
    from casectl.i18n import _
    from casectl.terminal import safe

    lines = [
        _("bound to: {person}").format(person=document["user"])
        if document["user"]
        else _("bound to: nobody (casectl whoami ID binds this clone)")
    ]
    if not document["remote"]:
        lines.append(_("remote: none; steps stay in this clone"))
    elif not document["sharing"]:
        lines.append(_("sharing: off (git config casectl.push); run casectl sync to share"))
    if document["last_share_failed"]:
        lines.append(_("the last share failed: {reason}").format(
            reason=document["last_share_failed"]))  # fmt: skip
    unshared = document["unshared"]
    if document["remote"]:
        lines.append(_("not shared yet: {count} steps").format(count=len(unshared)))
        lines += [f"  {safe(c['commit'])} {safe(c.get('subject', ''))}" for c in unshared]
    lines.append(_("not told yet: {count} messages in the outbox").format(count=document["untold"]))
    if document.get("signs_as"):
        lines.append(_("signs its commits as: {person}").format(person=document["signs_as"]))
    trusted = document.get("trusted") or []
    lines.append(_("keys trusted to change roster.yaml and severity.yaml: {count}").format(
        count=len(trusted)))  # fmt: skip
    lines += [f"  {key.split()[0]} ...{key.split()[1][-16:]}" for key in trusted]
    held = document["lease"]
    if held:
        said = _("sweeper lease (as last fetched): {holder} until {until}")
        lines.append(said.format(holder=safe(held["holder"]), until=held["expires"]))
    return lines
