"""Where a clone's own state lives, and how it is read: out of any push's reach.

The outbox and what it delivered, the indexes, caches, locks and pending notes
belong to one clone, never to the team. They live in the clone's git folder,
which no push, pull or checkout writes: `<git dir>/casectl/` for what describes
this working tree (index, caches, the lock, pending notes), and
`<common git dir>/casectl/` for what the clone does once for all its linked
worktrees (the outbox, the notices it told) — one folder for a plain clone.
`CASECTL_STATE` names another folder for the rare user who wants it elsewhere,
never inside the working tree; a repository without git keeps its state under
`$XDG_STATE_HOME/casectl/`.

State files are still read as untrusted: `read` opens them without following a
link, refuses anything but a regular file (a FIFO would hang, a device never
ends) and reads at most a cap. An older casectl kept all this in `.casectl/`
inside the working tree; `migrate` moves it once.
"""

from __future__ import annotations

import errno
import os
import stat
from os.path import join
from typing import BinaryIO

from casectl.errors import CasectlError
from casectl.i18n import _

OLD = ".casectl"  # where an older casectl kept it, inside the working tree
NAME = "casectl"  # the folder's name inside the git folder
SHARED = ("outbox", "notices")  # one per clone, shared by its worktrees
CAP = 64 << 20  # the most any state file may hold (the index at 100,000 open cases: 20 MiB)


def git_dir(root: str) -> str | None:
    """The git folder of the repository at `root`: its `.git` folder, where its `.git`
    file points (a linked worktree), or None when `root` has no `.git`."""
    dot = join(root, ".git")
    try:
        mode = os.lstat(dot).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        return dot
    if not stat.S_ISREG(mode):
        return None
    try:
        with open(dot, encoding="utf-8") as f:
            line = f.readline(4096).strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir:"):
        return None
    return os.path.normpath(join(root, line.removeprefix("gitdir:").strip()))


def common_dir(gitdir: str) -> str:
    """Where refs, objects and config live: the git folder, or a worktree's main one."""
    try:
        with open(join(gitdir, "commondir"), encoding="utf-8") as f:
            return os.path.normpath(join(gitdir, f.readline(4096).strip()))
    except (OSError, UnicodeDecodeError):
        return gitdir


def folders(root: str) -> tuple[str, str]:
    """(this working tree's state folder, the clone's shared one); neither is made here."""
    chosen = os.environ.get("CASECTL_STATE")
    if chosen:
        chosen = os.path.realpath(chosen)
        gitdir = git_dir(root)
        inside = os.path.commonpath([chosen, root]) == root
        if inside and not (gitdir and os.path.commonpath([chosen, gitdir]) == gitdir):
            raise CasectlError(
                _(
                    "CASECTL_STATE={folder} is inside the working tree, where a push could reach "
                    "it: choose a folder outside it, or unset it"
                ).format(folder=chosen)
            )
        return chosen, chosen
    gitdir = git_dir(root)
    if gitdir is None:
        import hashlib

        base = os.environ.get("XDG_STATE_HOME") or join(os.path.expanduser("~"), ".local", "state")
        own = join(base, NAME, hashlib.sha1(root.encode()).hexdigest()[:16])
        return own, own
    return join(gitdir, NAME), join(common_dir(gitdir), NAME)


def open_file(path: str) -> BinaryIO:
    """A state file opened for reading: never through a link, only a regular file (a
    FIFO would hang, a device never ends). FileNotFoundError when it is missing; any
    other refusal is an OSError saying why."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link", path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", path)
    return open(fd, "rb")


def read(path: str, cap: int = CAP) -> bytes:
    """A state file's bytes (`open_file`), refused when it holds more than `cap`."""
    with open_file(path) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise OSError(errno.EFBIG, f"larger than {cap} bytes", path)
    return data


def append(path: str, text: str) -> None:
    """Add `text` to a state file (made if missing), never through a link or into anything
    but a regular file."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def make(root: str, own: str, shared: str) -> str:
    """This working tree's state folder, made if missing: the first time, an older
    casectl's `.casectl/` is moved into it (one line on stderr says so). Refused when
    the folder is a link or not a folder."""
    try:
        mode = os.lstat(own).st_mode
    except FileNotFoundError:
        _migrate(root, own, shared)
        os.makedirs(own, exist_ok=True)
        os.makedirs(shared, exist_ok=True)
        return own
    if not stat.S_ISDIR(mode):
        raise CasectlError(
            _("{path} is not a folder: move it away (casectl keeps its state there)").format(
                path=own
            )
        )
    return own


def _migrate(root: str, own: str, shared: str) -> None:
    """Move an older casectl's `.casectl/` out of the working tree into the state folders.

    Nothing is taken while git tracks anything under it (a `.casectl/` someone
    committed is other people's input: `check` reports it), and a link is not a folder."""
    old = join(root, OLD)
    try:
        if not stat.S_ISDIR(os.lstat(old).st_mode) or _tracked(root):
            return
        os.makedirs(os.path.dirname(own), exist_ok=True)
        os.rename(old, own)
        if shared != own:
            os.makedirs(shared, exist_ok=True)
            for name in SHARED:
                if os.path.lexists(join(own, name)) and not os.path.lexists(join(shared, name)):
                    os.rename(join(own, name), join(shared, name))
    except OSError:
        return
    import sys

    from casectl.i18n import _

    print(
        _("casectl: moved this clone's state from {old}/ to {new}, out of any push's reach").format(
            old=OLD, new=own
        ),
        file=sys.stderr,
    )


def _tracked(root: str) -> bool:
    """Whether git tracks anything under `.casectl/` here (asked only when migrating)."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--", OLD],
            cwd=root,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return True  # unsure: leave it
    return done.returncode != 0 or bool(done.stdout)
