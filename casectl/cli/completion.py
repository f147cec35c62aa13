"""Shell completion of case ids, engineers, RMA ids and severity levels, from the repository.

Imported only while the shell asks for completions (click sets `resilient_parsing`),
never on a command's start-up path. A completer never fails: a missing repository
or a broken file completes nothing rather than printing a traceback into the shell.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from click.shell_completion import CompletionItem

from casectl.cli import REPO_KEY
from casectl.config import Config
from casectl.store import Store

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _repository(ctx: click.Context) -> tuple[Store, Config]:
    from casectl import config
    from casectl.store import find_root

    repo = ctx.meta.get(REPO_KEY) or ctx.find_root().params.get("repo")
    root = find_root(repo)
    return Store(root), config.load(root)


def _safe(complete: Completer) -> Completer:
    def safely(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            return complete(ctx, param, incomplete)
        except Exception:  # anything at all: a shell completing must never see a traceback
            return []

    return safely


@_safe
def case_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The open cases, from the open-case index; help: severity, customer, assignee."""
    from casectl.index import Index

    if ctx.command.name == "reopen":
        return []  # only a closed case reopens; the open-case index has none
    store, cfg = _repository(ctx)
    prefix = incomplete.upper()
    found = sorted(Index(store, cfg).summaries().values(), key=lambda s: s.id)
    return [
        CompletionItem(s.id, help=f"S{s.severity} {s.customer} ({s.assignee or 'unassigned'})")
        for s in found
        if s.id.startswith(prefix)
    ]


@_safe
def engineers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Roster ids in roster order, with the person's name and roles as help."""
    _, cfg = _repository(ctx)
    return [
        CompletionItem(p.id, help=f"{p.name}, {' '.join(p.roles)}")
        for p in cfg.people
        if p.id.startswith(incomplete)
    ]


@_safe
def rma_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The RMAs of the case named before, with part and status as help."""
    store, _ = _repository(ctx)
    case = store.load(ctx.params["case_id"])
    return [
        CompletionItem(r.id, help=f"{r.qty} x {r.part}, {r.status}")
        for r in case.state.rmas.values()
        if r.id.startswith(incomplete.upper())
    ]


@_safe
def levels(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The severity levels of severity.yaml, with their names as help."""
    _, cfg = _repository(ctx)
    return [
        CompletionItem(str(n), help=level.name)
        for n, level in sorted(cfg.levels.items())
        if str(n).startswith(incomplete)
    ]


# By the parameter's name, so every command (and any new one) completes alike.
COMPLETERS: dict[str, Completer] = {
    "case_id": case_ids,
    "rma_id": rma_ids,
    "severity": levels,
    "level": levels,
    **dict.fromkeys(
        (
            "engineer",
            "by",
            "for_",
            "to",
            "assign_to",
            "owner",
            "approved_by",
            "assignee",
            "person_id",
            "whoami",
        ),
        engineers,
    ),
}


def attach(command: click.Command) -> None:
    """Give the command's parameters their completers (click's `shell_complete=`)."""
    for param in command.params:
        complete = COMPLETERS.get(param.name or "")
        if complete is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = complete
