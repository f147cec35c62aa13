"""The repository and its sharing: init, sync, setup-git, and git's merge driver."""

from __future__ import annotations

import os

import click

from casectl.cli.app import App, pass_app
from casectl.errors import CasectlError
from casectl.model import Case


@click.command()
@click.argument("directory", metavar="[DIR]", required=False, type=click.Path(file_okay=False))
@pass_app
def init(app: App, directory: str | None) -> None:
    """Create a case repository with example roster.yaml and severity.yaml.

    Sets up git (when available) with the case merge driver. DIR defaults to
    --repo, else the current folder, which must then be empty.

    Example: casectl init /srv/cases
    """
    from casectl import initrepo

    root = initrepo.init(directory or app.repo)
    click.echo(f"Initialized case repository in {root}")


@click.command()
@pass_app
def sync(app: App) -> None:
    """Share the repository through its git remote: pull, merge cases, push.

    Sets up the case merge driver in this clone, refuses while conflicts are
    unresolved, pulls (merging case files event by event), re-files cases the
    merge closed or reopened, and pushes, retrying when someone pushed first.

    Example: casectl sync
    """
    from casectl import gitrepo
    from casectl.store import dump_case

    if not gitrepo.is_repo(app.root):
        raise CasectlError(f"{app.root} is not a git repository; nothing to sync")

    class Cases:
        """The store's case files, as sync needs them."""

        places = app.store.places

        @staticmethod
        def merge(case_id: str, base: bytes | None, sides: list[bytes]) -> tuple[str, bytes]:
            from casectl import merge

            merged = merge.merge_versions(case_id, base, sides)
            return app.store.relative(app.store.path_for(merged)), dump_case(merged)

        @staticmethod
        def refile(names: list[str]) -> None:
            moved = app.store.refile(names)
            if moved:
                ids = sorted({os.path.basename(p)[: -len(".yaml")] for p in moved})
                what = "re-filed by status after a merge"
                app.commit(moved, None, ids, what, "", False, True, label="sync")

    identity = (app.cfg.bot_name, app.cfg.bot_email)
    with app.store.lock():
        click.echo(gitrepo.sync(app.root, identity, Cases()))


@click.command("setup-git")
@pass_app
def setup_git(app: App) -> None:
    """Register the case merge driver in this clone (sync does it too).

    Git keeps the driver in each clone's own config, which a clone does not copy;
    without it git would merge case files as text.

    Example: casectl setup-git
    """
    from casectl import gitrepo

    if not gitrepo.is_repo(app.root):
        raise CasectlError(f"{app.root} is not a git repository")
    gitrepo.install_driver(app.root)
    click.echo("merge driver registered")


@click.command("merge-file")
@click.argument("base", type=click.Path())
@click.argument("ours", type=click.Path())
@click.argument("theirs", type=click.Path())
@click.argument("path", required=False, default="")
def merge_file(base: str, ours: str, theirs: str, path: str) -> None:
    """Git's merge driver for case files: writes the union of both sides' events to OURS.

    Git runs it as `casectl merge-file %O %A %B %P` (see .gitattributes); exit 1
    is a conflict git will report: two different cases opened under one id.
    """
    from casectl import merge, yamlio
    from casectl.store import case_from_document

    def read(name: str) -> dict | None:
        with open(name, "rb") as f:
            data = f.read()
        if not data.strip():
            return None
        try:
            document = yamlio.load(data)
        except ValueError as err:
            raise CasectlError(f"{path or name}: not a case file: {err}") from None
        return case_from_document(document, path or name).to_document()

    try:
        sides = read(ours), read(theirs)
        if sides[0] is None or sides[1] is None:
            raise CasectlError(f"{path}: one side is empty")
        merged = merge.merge(read(base), sides[0], sides[1])
    except CasectlError as err:
        click.echo(f"casectl merge-file: {path}: {err}", err=True)
        raise SystemExit(1) from None
    with open(ours, "wb") as f:
        f.write(yamlio.dump(Case(merged["id"], merged["events"]).to_document()))
