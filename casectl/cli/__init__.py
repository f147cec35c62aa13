"""The command line: each command parses, calls one domain function, saves, and prints.

Only this package reads the clock, prints, or exits. The commands live in three
modules, each imported only when one of its commands runs: `steps` (a case's
life), `reports` (what people read, and the sweep) and `repository` (init and git).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from casectl.cli.app import App
from casectl.errors import CasectlError

COMMANDS = {
    "init": "repository:init", "open": "steps:open_", "assign": "steps:assign",
    "log": "steps:log", "severity": "steps:severity", "escalate": "steps:escalate",
    "rma": "steps:rma", "close": "steps:close", "reopen": "steps:reopen",
    "show": "reports:show", "list": "reports:list_", "roster": "reports:roster",
    "history": "reports:history", "sweep": "reports:sweep", "sync": "repository:sync",
    "setup-git": "repository:setup_git", "merge-file": "repository:merge_file",
    "calendar": "calendar:calendar",
}  # fmt: skip


class Group(click.Group):
    """Loads a command's module only when it runs; turns casectl's errors into click's."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        found: click.Command = getattr(importlib.import_module(f"casectl.cli.{module}"), attribute)
        return found

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CasectlError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=Group)
@click.option(
    "--repo",
    envvar="CASECTL_REPO",
    metavar="DIR",
    help="The case repository (default: $CASECTL_REPO, else the nearest folder "
    "at or above here holding severity.yaml).",
)
@click.version_option(package_name="casectl")
@click.pass_context
def cli(ctx: click.Context, repo: str | None) -> None:
    """casectl: the support center's case tracker, one YAML file per case in git.

    Times are parsed like `2026-11-26 14:05`, `14:05` or ISO 8601, in the
    repository's timezone; CASECTL_NOW sets the current time for simulations.
    """
    ctx.obj = App(repo)


def main() -> None:
    cli(prog_name="casectl")
