"""The command line: each command parses, calls one domain function, saves, and prints.

Only this package reads the clock, prints, or exits. The commands live in three
modules, each imported only when one of its commands runs: `steps` (a case's
life), `reports` (what people read, and the sweep) and `repository` (init and git);
`completion` is imported only while a shell asks for completions.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

import click

from casectl import i18n
from casectl.cli.app import App
from casectl.errors import CasectlError
from casectl.i18n import N_, _

i18n.bind_click("en")  # before the decorators below call click's `_`: no gettext lookup

COMMANDS = {
    "init": "repository:init", "open": "steps:open_", "assign": "steps:assign",
    "log": "steps:log", "severity": "steps:severity", "escalate": "steps:escalate",
    "rma": "steps:rma", "close": "steps:close", "reopen": "steps:reopen",
    "show": "reports:show", "list": "reports:list_", "roster": "reports:roster",
    "history": "reports:history", "sweep": "reports:sweep", "sync": "repository:sync",
    "share": "repository:share", "status": "repository:status",
    "setup-git": "repository:setup_git", "merge-file": "repository:merge_file",
    "migrate": "repository:migrate", "calendar": "calendar:calendar",
    "check": "check:check",
    "onsite": "onsite:onsite",
    "notify": "notify:notify",
    "report": "report:report",
    "board": "board:board",
    "intake": "intake:intake", "approve": "approve:approve",
    "whoami": "whoami:whoami", "amend": "amend:amend",
}  # fmt: skip
HIDDEN = {"merge-file", "share"}  # run by git or a step, not by people: not in --help
REPO_KEY = "casectl.repo"  # ctx.meta's key for a --repo given after the command
REPO_HELP = N_(
    "The case repository (default: $CASECTL_REPO, else the nearest folder "
    "at or above here holding severity.yaml)."
)


def _repo_after(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`casectl list --repo X`: the same as `casectl --repo X list` (and wins over it)."""
    if value is not None:
        ctx.meta[REPO_KEY] = value  # completion reads it there: it runs no command callback
        app = ctx.find_object(App)  # made by the group's callback, before this parse
        if app is not None:
            app.repo = value


class Group(click.Group):
    """Loads a command's module only when it runs; turns casectl's errors into click's.

    Every command it hands out also takes --repo after its name, `-h` (inherited from
    the group's context) and, while a shell completes, its parameters' completers; its
    help is in the language chosen (`i18n`), which is known before any argument is parsed.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        i18n.use_repository(_root_or_none(_repo_typed(args)))
        return super().make_context(info_name, args, parent, **extra)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        i18n.localize(self)
        super().format_help(ctx, formatter)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        found: click.Command = getattr(importlib.import_module(f"casectl.cli.{module}"), attribute)
        if name in HIDDEN:
            found.hidden = True
        elif not any(param.name == "repo" for param in found.params):
            found.params.append(
                click.Option(["--repo"], metavar="DIR", expose_value=False, callback=_repo_after,
                             help=REPO_HELP)
            )  # fmt: skip
        if ctx.resilient_parsing:  # set only while completing
            from casectl.cli import completion

            completion.attach(found)
        return i18n.localize(found)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's one-line summary whole, wrapped rather than cut with `...`."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CasectlError as err:  # may name a pushed file: escaped like all text output
            from casectl.terminal import safe

            raise click.ClickException(safe(str(err))) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", envvar="CASECTL_REPO", metavar="DIR", help=REPO_HELP)
@click.version_option(package_name="casectl")
@click.pass_context
def cli(ctx: click.Context, repo: str | None) -> None:
    """casectl: the support center's case tracker, one YAML file per case in git.

    Times are parsed like `2026-11-26 14:05`, `14:05` or ISO 8601, in the
    repository's timezone; CASECTL_NOW sets the current time for simulations.
    """
    ctx.obj = App(repo)


def _repo_typed(args: Sequence[str]) -> str | None:
    """The group's --repo as typed before the command's name, else $CASECTL_REPO."""
    for i, arg in enumerate(args):
        if arg == "--repo" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--repo="):
            return arg.removeprefix("--repo=")
        if not arg.startswith("-"):
            break  # the command's name: its own --repo is seen when it is parsed
    return os.environ.get("CASECTL_REPO") or None


def _root_or_none(repo: str | None) -> str | None:
    """The repository whose `language:` applies, if there is one."""
    from casectl.store import find_root

    try:
        return find_root(repo)
    except CasectlError:
        return None


def main() -> None:
    cli(prog_name="casectl")
