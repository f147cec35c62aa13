"""Crash recovery and retries: what a killed step left is committed by the next one, and
the same step typed again soon is recognised, not recorded twice.

A step notes the files it writes in the state folder (casectl.store) before writing;
the next command to take the lock commits what a killed step left under the step's
own author (`settle`, `commit_left`), after removing the lock files a killed git
left (casectl.repair). Each event carries `key`, a hash of what was typed
(`step_key`): a step retried within RETRY_WINDOW (or with the same --at) finds its
event (`retried`) and exits 0 saying so (`already`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from os.path import join
from typing import TYPE_CHECKING, Any

import click

from casectl.cli.app import BOT, event_ids, event_yaml, say
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.store import read_case

if TYPE_CHECKING:
    from casectl.cli.app import App
    from casectl.config import Person

RETRY_WINDOW = timedelta(minutes=10)  # the same step typed again this soon is a retry


def settle(app: App) -> None:
    """As a writer takes the lock, before it writes: commit what a killed step left,
    remove its temporary files and the lock files a killed git left; wait briefly
    for a running git's. Refuses (nothing written) when a git keeps a lock."""
    from casectl import gitrepo, repair

    app.store.commit_writes = app.committing()
    left = app.store.pending()
    to_commit = [name for commit, name in left if commit]
    killed = False
    if app.store.commit_writes or (to_commit and gitrepo.is_repo(app.root)):
        try:
            killed = repair.settle_locks(app.root, say)
        except CasectlError as err:
            raise CasectlError(_("{reason}; nothing was written").format(reason=err)) from None
    if (killed or to_commit) and gitrepo.is_repo(app.root):
        repair.remove_temporary(app.root)
    app.store.remove_dead_temporary()
    if left:
        app.store.remove_temporary([name for _, name in left])
        if to_commit and app.cfg.commit and gitrepo.is_repo(app.root):
            commit_left(app, to_commit)
        app.store.finish()


def commit_left(app: App, names: list[str]) -> None:
    """Commit the files a killed step wrote, under the author of the events it added
    (the event's `by`), not under the name of whoever runs this command."""
    from casectl import gitrepo, repair

    changed, new = repair.uncommitted(app.root, names)
    added: list[dict[str, Any]] = []
    cases = []
    for name in list(changed):
        try:
            case = read_case(join(app.root, name))
        except CasectlError as err:  # not casectl's writing: a hand edit since
            say(f"casectl: not committing {name}, which an interrupted step wrote: {err}")
            changed.remove(name)
            continue
        known = event_ids(gitrepo.committed_blob(app.root, name))
        added += [e for e in case.events if str(e["id"]) not in known]
        cases.append(case.id)
    if not changed:
        return
    by = str(added[-1]["by"]) if added else BOT
    label = cases[0] if len(cases) == 1 else f"{len(cases)} cases"
    kinds = ", ".join(dict.fromkeys(str(e["type"]) for e in added)) or "changes"
    what = f"{kinds}, committed after the step was interrupted"
    body = "".join(event_yaml(e) for e in added)
    message = gitrepo.message(f"{label}: {what} ({by})", body, cases)
    paths = [join(app.root, name) for name in changed]
    try:
        gitrepo.commit(app.root, paths, app.author(by), message, say, bool(new))
    except CasectlError as err:
        raise CasectlError(
            _(
                "{label}: a step interrupted earlier is written but could not be committed "
                "({reason}); nothing was written now"
            ).format(label=label, reason=err)
        ) from None


def step_key(person: Person, at: datetime | None, fixed: dict[str, Any]) -> str:
    """The idempotency key of the step being run: a hash of the command, who acts, the
    time when --at gave it, and every option as typed (`fixed` replaces some, such as
    the case id in its canonical form)."""
    try:
        from _blake2 import blake2b  # hashlib's own, without OpenSSL's 4 ms of import
    except ImportError:  # pragma: no cover - another Python
        from hashlib import blake2b

    ctx = click.get_current_context()
    typed = {k: v for k, v in ctx.params.items() if k not in NOT_TYPED} | fixed
    what = repr((ctx.info_name, person.id, at.isoformat() if at else None, sorted(typed.items())))
    return blake2b(what.encode(), digest_size=8).hexdigest()


NOT_TYPED = frozenset({"by", "for_", "at", "no_commit", "json_out"})  # the key holds them otherwise


def retried(
    events: list[dict[str, Any]], key: str, by: str, now: datetime | None
) -> dict[str, Any] | None:
    """The event a retry of the step `key` would repeat: `by`'s latest event in the
    case, if it has that key and was recorded within RETRY_WINDOW of `now` (None for
    `now` when --at was given: the key holds the time). A step `by` took since makes
    the same typing a new step (an RMA installed, returned, then installed again)."""
    latest = next((e for e in reversed(events) if e["by"] == by), None)
    if latest is None or latest.get("key") != key:
        return None
    return latest if now is None or abs(now - latest["at"]) <= RETRY_WINDOW else None


def already(case_id: str, event: dict[str, Any]) -> str:
    from casectl.render import event_type

    return (
        _("{case}: this {type} was already recorded at {at} (event {event}); not recorded "
          "again").format(case=case_id, type=event_type(event["type"]),
                                   at=f"{event['at']:%Y-%m-%d %H:%M}", event=event["id"])
    )  # fmt: skip
