"""The repository and its sharing: init, sync, setup-git, and git's merge driver."""

from __future__ import annotations

import os
from typing import Any

import click

from casectl.cli.app import App, pass_app
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.model import Case


@click.command()
@click.argument("directory", metavar="[DIR]", required=False, type=click.Path(file_okay=False))
@click.option("--hook", is_flag=True, help="Install `casectl check` as git's pre-commit hook.")
@click.option("--whoami", "whoami", metavar="ID",
              help="Bind this clone to a roster person (asked on a terminal).")  # fmt: skip
@pass_app
def init(app: App, directory: str | None, hook: bool, whoami: str | None) -> None:
    """Create a case repository with example roster.yaml and severity.yaml.

    Sets up git (when available) with the case merge driver. DIR defaults to
    --repo, else the current folder, which must then be empty.

    --whoami ID binds the clone to a roster person (casectl whoami); on a
    terminal, init asks for it.

    Example: casectl init /srv/cases --hook
    """
    from casectl import initrepo

    root = initrepo.init(directory or app.repo)
    click.echo(_("Initialized case repository in {folder}").format(folder=root))
    if hook:
        hooked = initrepo.install_hook(root)
        click.echo(_("pre-commit hook installed: {hook}").format(hook=hooked))
    if whoami is not None or gitrepo_here(root):
        from casectl.cli.whoami import bind_or_ask

        bind_or_ask(root, whoami)


@click.command()
@pass_app
def sync(app: App) -> None:
    """Share the repository through its git remote: pull, merge cases, push.

    Sets up the case merge driver in this clone, refuses while conflicts are
    unresolved, pulls (merging case files event by event), refuses a merge that
    would lose a case or an event, converts the old layout, and pushes, retrying
    when someone pushed first.

    Example: casectl sync
    """
    from casectl import gitrepo, share

    if not gitrepo.is_repo(app.root):
        raise CasectlError(
            _("{folder} is not a git repository; nothing to sync").format(folder=app.root)
        )
    gitrepo.install_driver(app.root)  # first: reading the rules warns of a clone without it
    with share.turn(app.store, wait=True):
        try:
            said = synced(app)
        except CasectlError as err:
            share.note(app.store, str(err))
            raise
        share.note(app.store, None)
    click.echo(said)


def synced(app: App, housekeeping: bool = True) -> str:
    """Pull, merge through the driver, push (casectl.remote.sync), the repository's lock
    held only while the working tree changes."""
    from casectl import remote

    identity = (app.cfg.bot_name, app.cfg.bot_email)
    return remote.sync(app.root, identity, event_ids, lambda: _migrate(app), app.store.lock,
                        housekeeping=housekeeping)  # fmt: skip


@click.command()
@pass_app
def share(app: App) -> None:
    """Share this clone's steps with the remote (a step starts this in the background)."""
    from casectl import share as sharing

    with sharing.turn(app.store, wait=False) as mine:
        if mine:
            sharing.share(app.store, lambda: synced(app, housekeeping=False))


@click.command()
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document.")
@pass_app
def status(app: App, json_out: bool) -> None:
    """Steps not yet on the remote, messages not yet told, and who this clone is.

    Lists the steps (commits) not yet on the remote and why the last share
    failed, if it did; with channels, how many messages wait in the outbox.

    Example: casectl status
    """
    from casectl import render, share

    document = share.status(app.root, app.store)
    if json_out:
        click.echo(render.to_json(document))
        return
    for line in share.status_lines(document):
        click.echo(line)


def event_ids(case_id: str, data: bytes) -> set[str] | None:
    """The ids of the events in one version of a case file; None if it is not one."""
    from casectl import yamlio
    from casectl.errors import BrokenCaseError
    from casectl.store import case_from_document

    try:
        case = case_from_document(yamlio.load(data), case_id, case_id)
    except (ValueError, BrokenCaseError):
        return None
    return {str(e["id"]) for e in case.events}


@click.command()
@pass_app
def migrate(app: App) -> None:
    """Move case files of the old layout (cases/open/, cases/closed/) to their one path.

    Once per repository; `casectl sync` does it too. Every case then lives at
    cases/<yyyy>/<mm>/<dd>/<id>.yaml for its whole life.

    Example: casectl migrate
    """
    with app.store.lock():
        moved = _migrate(app)
    click.echo(_("{count} case files moved to their fixed paths").format(count=len(moved) // 2))


def _migrate(app: App) -> list[str]:
    """Convert the old layout and commit that as the bot; the paths changed."""
    changed = app.store.migrate()
    if changed:
        ids = sorted({os.path.basename(p)[: -len(".yaml")] for p in changed})
        what = "moved to fixed paths (cases/<yyyy>/<mm>/<dd>/<id>.yaml)"
        app.commit(changed, None, ids, what, "", False, True, label="migrate")
    return changed


@click.command("setup-git")
@click.option("--hook", is_flag=True, help="Also install `casectl check` as the pre-commit hook.")
@click.option("--whoami", "whoami", metavar="ID",
              help="Bind this clone to a roster person (asked on a terminal).")  # fmt: skip
@click.option("--sign", is_flag=True, help="Sign this clone's commits with --key (an SSH key).")
@click.option(
    "--as", "as_id", metavar="ID", help="Whose key --sign uses (default: git config casectl.user)."
)
@click.option(
    "--key",
    "key_path",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    help="The private SSH key --sign signs with; its public key is the roster's.",
)
@click.option(
    "--trust",
    "trust_file",
    metavar="KEYFILE",
    type=click.Path(dir_okay=False),
    help="Trust this public key to change roster.yaml and severity.yaml.",
)
@click.option(
    "--trust-roster",
    is_flag=True,
    help="Trust the keys of the managers in roster.yaml now (replacing the trusted).",
)
@pass_app
def setup_git(
    app: App, hook: bool, whoami: str | None, sign: bool, as_id: str | None,
    key_path: str | None, trust_file: str | None, trust_roster: bool,
) -> None:  # fmt: skip
    """Register the case merge driver in this clone (sync does it too).

    Git keeps the driver in each clone's own config, which a clone does not copy;
    without it git would merge case files as text. With --hook, every commit made
    by hand first runs `casectl check` (casectl's own steps skip it). --whoami ID
    binds the clone to a roster person (casectl whoami); on a terminal, setup-git
    asks for it while the clone is bound to nobody.

    --sign --key PATH [--as ID]: sign this clone's commits with the person's SSH
    key (its public key must be their signing_key in roster.yaml), as the steps
    severity.yaml's `signed:` names must be. --trust KEYFILE, --trust-roster: the
    keys whose signature a change of roster.yaml or severity.yaml needs to be
    taken by sync.

    Example: casectl setup-git --hook --whoami liu.yang
    Example: casectl setup-git --sign --key ~/.ssh/id_ed25519 --as wang.jianguo
    """
    from casectl import gitrepo

    if not gitrepo.is_repo(app.root):
        raise CasectlError(_("{folder} is not a git repository").format(folder=app.root))
    if (as_id or key_path) and not sign:
        raise click.UsageError(_("--as and --key go with --sign"))
    said = []
    if sign or trust_file or trust_roster:
        from casectl import signing

        if sign:  # each checked before anything is changed
            said.append(signing.setup_sign(app.root, app.cfg, as_id, key_path))
        if trust_file or trust_roster:
            said.append(signing.setup_trust(app.root, app.cfg, trust_file, trust_roster))
    gitrepo.install_driver(app.root)
    click.echo(_("merge driver registered"))
    for line in said:
        click.echo(line)
    if hook:
        from casectl import initrepo

        hooked = initrepo.install_hook(app.root)
        click.echo(_("pre-commit hook installed: {hook}").format(hook=hooked))
    from casectl.cli.whoami import bind_or_ask

    bind_or_ask(app.root, whoami)


def gitrepo_here(root: str) -> bool:
    from casectl import gitrepo

    return gitrepo.is_repo(root)


def hand_edited(err: Any, path: str) -> str:
    """What the merge driver says of an opening edited by hand, and how to recover."""
    from casectl import gitrepo

    said = gitrepo.run(".", "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    remote = said.stdout.strip() if said.returncode == 0 and said.stdout.strip() else "<remote>"
    if err.side == "theirs":
        return _(
            "the opening of case {case} was edited by hand in the version being merged in "
            "(an opening never changes); whoever pushed it must put the opening back as it "
            "was recorded and correct it with casectl amend {case} --reason TEXT; nothing was "
            "merged"
        ).format(case=err.case_id)
    if err.side is None:
        return _(
            "the opening of case {case} differs between the two versions: it was edited by "
            "hand (an opening never changes); take the shared file back with "
            "git checkout {remote} -- {path}, commit it, then correct the opening with casectl "
            "amend {case} --customer/--contact/--contract/--description ... --reason TEXT"
        ).format(case=err.case_id, remote=remote, path=path)
    return _(
        "the opening of case {case} was edited by hand in this clone (an opening never "
        "changes, and other clones refuse the edit); take the shared file back with "
        "git checkout {remote} -- {path}, commit it, then correct the opening with casectl "
        "amend {case} --customer/--contact/--contract/--description ... --reason TEXT"
    ).format(case=err.case_id, remote=remote, path=path)


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
    from casectl.store import case_from_document, id_of

    case_id = id_of(os.path.basename(path))

    def read(name: str) -> dict | None:
        with open(name, "rb") as f:
            data = f.read()
        if not data.strip():
            return None
        try:
            document = yamlio.load(data)
        except ValueError as err:
            raise CasectlError(_("not a case file: {reason}").format(reason=err)) from None
        return case_from_document(document, path, str(case_id)).to_document()

    try:
        if case_id is None:
            raise CasectlError(_("not a case file name"))
        sides = read(ours), read(theirs)
        if sides[0] is None or sides[1] is None:
            raise CasectlError(_("{path}: one side is empty").format(path=path))
        merged = merge.merge(read(base), sides[0], sides[1])
    except merge.HandEdited as err:
        click.echo(f"casectl merge-file: {path}: {hand_edited(err, path)}", err=True)
        raise SystemExit(1) from None
    except CasectlError as err:
        click.echo(f"casectl merge-file: {path}: {err}", err=True)
        raise SystemExit(1) from None
    with open(ours, "wb") as f:
        extra = {k: v for k, v in merged.items() if k not in ("id", "events")}
        f.write(yamlio.dump(Case(merged["id"], merged["events"], extra).to_document()))
