"""Two cron hosts, one voice: the sweeper's lease, kept on the remote itself.

The lease is a commit at `refs/casectl/sweeper` in the shared repository. Its tree
holds `lease` (who holds it, on which host, until when, and the commit up to which
arrived events were told) and `sent` (the messages delivered lately, one outbox
key a line: what was told travels with the lease). A sweeper takes or renews it
with a compare-and-swap push, `git push --atomic --force-with-lease=REF:EXPECTED`,
so two can never both succeed: the holder sweeps and tells, the others see a live
lease and stop quietly, and when it expires (`casectl.lease`, default 3 minutes)
the next sweeper takes it over, with the dead holder's record of what it told.

What this gives: at most one teller while the remote answers; a gap of at most
the lease plus one cron interval when a host dies; a message delivered by a host
that died before renewing is told again by the next (at most twice). A sweeper
that cannot reach the remote for longer than the lease sweeps alone on what it
has, rather than stay silent.

Everything read from the ref is other people's input: parsed field by field,
bounded, and checked for its shape.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from datetime import datetime, timedelta
from os.path import join
from typing import Any, NamedTuple

from casectl import gitrepo, state
from casectl.errors import CasectlError
from casectl.i18n import _

REF = "refs/casectl/sweeper"
LOCAL = "refs/casectl/remote-sweeper"  # this clone's copy of the remote's lease
DEFAULT = timedelta(minutes=3)
KEEP_SENT = timedelta(days=2)  # how long a delivered message stays in the lease's record
LAST_OK = "lease.reached"  # when this clone last reached the remote about the lease
_KEY = re.compile(r"[0-9a-f]{32}")
_COMMIT = re.compile(r"[0-9a-f]{40}")


class Lease(NamedTuple):
    oid: str  # the lease commit
    holder: str
    expires: datetime
    told_through: str | None
    sent: tuple[str, ...]

    def live(self, now: datetime) -> bool:
        return self.expires > now

    def document(self) -> dict[str, Any]:
        return {"holder": self.holder, "expires": self.expires.isoformat(),
                "told_through": self.told_through}  # fmt: skip


def me(root: str) -> str:
    """This sweeper: its host and its clone's folder (two clones on one host differ)."""
    return f"{os.uname().nodename}:{root}"


def remote_of(root: str) -> str:
    branch = gitrepo.git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return gitrepo.git(root, "config", f"branch.{branch}.remote", check=False).strip() or "origin"


def fetch(root: str, remote: str, timeout: float) -> Lease | None:
    """The remote's lease now (None: nobody took one yet); CasectlError when the remote
    cannot be reached."""
    said = gitrepo.git(root, "ls-remote", remote, REF, timeout=timeout)
    oid = said.split("\t")[0].strip()
    if not oid:
        return None
    if not _COMMIT.fullmatch(oid):
        raise CasectlError(_("{ref} on {remote} is not a commit").format(ref=REF, remote=remote))
    gitrepo.git(root, "fetch", "-q", remote, f"+{REF}:{LOCAL}", timeout=timeout)
    return read(root, oid)


def read(root: str, oid: str) -> Lease:
    """The lease in commit `oid`; a malformed one reads as expired, held by nobody."""
    lease = gitrepo.committed_blob(root, "lease", oid)[:4096].decode("utf-8", "replace")
    fields = dict(line.partition(": ")[::2] for line in lease.splitlines() if ": " in line)
    try:
        expires = datetime.fromisoformat(fields.get("expires", ""))
        if expires.tzinfo is None:
            raise ValueError
    except ValueError:
        expires = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    told = fields.get("told-through", "").strip()
    sent = gitrepo.committed_blob(root, "sent", oid)[: 64 << 20].decode("ascii", "replace")
    keys = tuple(dict.fromkeys(k for k in sent.split() if _KEY.fullmatch(k)))
    holder = " ".join(fields.get("holder", "").split())[:500]
    return Lease(oid, holder, expires, told if _COMMIT.fullmatch(told) else None, keys)


def take(
    root: str, remote: str, old: Lease | None, holder: str, until: datetime,
    told_through: str | None, sent: tuple[str, ...], timeout: float,
) -> Lease | None:  # fmt: skip
    """Take or renew the lease by compare-and-swap: the new lease, or None when the remote's
    changed since `old` was read (someone else took it)."""
    text = f"holder: {holder}\nexpires: {until.isoformat()}\n"
    if told_through:
        text += f"told-through: {told_through}\n"
    lease_blob = _write_blob(root, text)
    sent_blob = _write_blob(root, "".join(f"{k}\n" for k in sent))
    listing = f"100644 blob {lease_blob}\tlease\n100644 blob {sent_blob}\tsent\n"
    tree = gitrepo.git(root, "mktree", input=listing).strip()
    parents = ["-p", old.oid] if old else []
    env = dict.fromkeys(("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"), "casectl sweep") | dict.fromkeys(
        ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"), "casectl@localhost"
    )
    oid = gitrepo.git(root, "commit-tree", tree, *parents, "-m", f"lease: {holder} until {until}",
                      env=env).strip()  # fmt: skip
    expected = old.oid if old else ""
    pushed = gitrepo.run(root, "push", "-q", "--atomic", f"--force-with-lease={REF}:{expected}",
                         remote, f"{oid}:{REF}", timeout=timeout)  # fmt: skip
    if pushed.returncode != 0:
        if "stale info" in pushed.stderr or "rejected" in pushed.stderr:
            return None
        raise CasectlError(
            _("git push of {ref} failed: {reason}").format(
                ref=REF, reason=pushed.stderr.strip()[-300:]
            )
        )
    gitrepo.git(root, "update-ref", LOCAL, oid, check=False)
    return Lease(oid, holder, until, told_through, sent)


def _write_blob(root: str, text: str) -> str:
    return gitrepo.git(root, "hash-object", "-w", "--stdin", input=text).strip()


def local(root: str) -> Lease | None:
    """The lease as this clone last saw it (for `casectl status`); no network."""
    oid = gitrepo.run(root, "rev-parse", "-q", "--verify", f"{LOCAL}^{{commit}}").stdout.strip()
    return read(root, oid) if oid else None


# --- what was told ------------------------------------------------------------------------


def import_sent(outbox_sent: str, keys: tuple[str, ...]) -> None:
    """Mark as delivered here what the lease says was delivered (by another host)."""
    os.makedirs(outbox_sent, exist_ok=True)
    for key in keys:
        path = join(outbox_sent, key)
        if not os.path.lexists(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write("delivered by another sweeper (the lease's record)\n")


def recent_sent(outbox_sent: str, now_epoch: float) -> tuple[str, ...]:
    """The keys of the messages delivered lately, for the lease's record."""
    keys = []
    try:
        names = os.listdir(outbox_sent)
    except OSError:
        return ()
    for name in names:
        if not _KEY.fullmatch(name):
            continue
        try:
            if now_epoch - os.lstat(join(outbox_sent, name)).st_mtime <= KEEP_SENT.total_seconds():
                keys.append(name)
        except OSError:
            continue
    return tuple(sorted(keys))


def reached(shared_dir: str, now: datetime) -> None:
    """Remember that the remote answered about the lease at `now`."""
    tmp = join(shared_dir, f"{LAST_OK}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(now.isoformat())
    os.replace(tmp, join(shared_dir, LAST_OK))


def last_reached(shared_dir: str) -> datetime | None:
    try:
        return datetime.fromisoformat(state.read(join(shared_dir, LAST_OK), 100).decode())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


# --- a sweeper's turn -----------------------------------------------------------------------


class Turn(NamedTuple):
    sweep: bool  # whether this host sweeps and tells now
    lease: Lease | None  # the lease held (None: not held, or sweeping alone)
    told_through: str | None  # where telling arrived events goes on from


def begin(
    root: str, shared_dir: str, outbox_sent: str, now: datetime, length: timedelta,
    timeout: float,
) -> Turn:  # fmt: skip
    """Take this sweeper's turn, or learn that another holds it (sweep nothing). A remote
    that does not answer: keep sweeping on a lease still ours, or alone once it has not
    answered for longer than the lease; else leave it to the holder."""
    mine = me(root)
    try:
        current = fetch(root, remote_of(root), timeout)
    except CasectlError:
        held, last = local(root), last_reached(shared_dir)
        if held is not None and held.holder == mine and held.live(now):
            return Turn(True, None, held.told_through)
        alone = last is None or now - last > length
        return Turn(alone, None, None)
    reached(shared_dir, now)
    if current is not None and current.holder != mine and current.live(now):
        return Turn(False, None, None)
    told = current.told_through if current else None
    sent = current.sent if current else ()
    new = take(root, remote_of(root), current, mine, now + length, told, sent, timeout)
    if new is None:
        return Turn(False, None, None)  # another sweeper took it first
    if sent:
        import_sent(outbox_sent, sent)
    return Turn(True, new, told)


def end(
    root: str, turn: Turn, outbox_sent: str, now: datetime, length: timedelta,
    told_through: str | None, timeout: float,
) -> None:  # fmt: skip
    """Renew the lease with what this run told: the outbox's recent deliveries and the
    commit up to which arrived events were queued (all delivered)."""
    if turn.lease is None:
        return
    import time

    sent = recent_sent(outbox_sent, time.time())
    with suppress(CasectlError):  # the remote went away: the lease runs out, another takes it
        take(root, remote_of(root), turn.lease, me(root), now + length, told_through, sent, timeout)


def length(root: str) -> timedelta:
    """`git config casectl.lease` (default 3 minutes)."""
    from casectl.durations import parse_duration

    said = gitrepo.git(root, "config", "--get", "casectl.lease", check=False).strip()
    if not said:
        return DEFAULT
    try:
        amount = parse_duration(said)
    except ValueError:
        amount = None
    if not amount:
        raise CasectlError(
            _("casectl.lease: expected a duration such as 3m, not {said!r}").format(said=said)
        )
    return amount
