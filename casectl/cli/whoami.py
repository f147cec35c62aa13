"""`casectl whoami`: the person this clone is bound to, kept in its own git config."""

from __future__ import annotations

import sys

import click

from casectl.cli.app import App, as_json, pass_app
from casectl.config import Config
from casectl.errors import CasectlError
from casectl.i18n import _


@click.command()
@click.argument("person_id", metavar="[ID]", required=False)
@click.option("--unbind", is_flag=True, help="Bind this clone to nobody again.")
@as_json
@pass_app
def whoami(app: App, person_id: str | None, unbind: bool, json_out: bool) -> None:
    """The person this clone is bound to; with ID, bind it to that roster person.

    A bound clone takes steps only as that person (--by or $CASECTL_USER naming
    someone else is refused), or with --for ID records what someone else did;
    the binding lives in the clone's own git config (casectl.user), which no
    push reaches. Commits are authored by the person acting and committed by
    the clone's own git identity (user.name, user.email).

    Example: casectl whoami liu.yang
    """
    from casectl import identity

    if person_id and unbind:
        raise click.UsageError(_("give an ID or --unbind, not both"))
    if person_id or unbind:
        bind(app.root, app.cfg, None if unbind else person_id)
    bound_id = identity.bound(app.root)
    person = app.cfg.person(bound_id) if bound_id else None
    committer = identity.committer(app.root)
    if json_out:
        from casectl.render import to_json

        click.echo(to_json({
            "id": bound_id, "name": person.name if person else None,
            "in_roster": person is not None,
            "committer": {"name": committer[0], "email": committer[1]} if committer else None,
        }))  # fmt: skip
        return
    if bound_id is None:
        click.echo(_("this clone is bound to nobody: steps are taken as --by or "
                     "$CASECTL_USER says; casectl whoami ID binds it"), err=True)  # fmt: skip
        return
    if person is None:
        click.echo(_("{person} (no longer in roster.yaml: steps are refused until the clone is "
                     "bound to someone else)").format(person=bound_id))  # fmt: skip
        return
    click.echo(f"{person.id} ({person.name})")


def bind(root: str, cfg: Config, person_id: str | None) -> None:
    """Bind the clone at `root` to a roster person (None: to nobody), saying so on stderr."""
    from casectl import gitrepo, identity, model

    if not gitrepo.is_repo(root):
        raise CasectlError(
            _("{folder} is not a git repository: a clone is bound in its git config").format(
                folder=root)
        )  # fmt: skip
    if person_id is None:
        identity.bind(root, None)
        click.echo(_("this clone is bound to nobody now"), err=True)
        return
    person = model.actor(cfg, person_id)
    identity.bind(root, person.id)
    click.echo(_("this clone is bound to {person} ({name}): its steps are {person}'s").format(
        person=person.id, name=person.name), err=True)  # fmt: skip


def bind_or_ask(root: str, given: str | None) -> None:
    """`init` and `setup-git`: bind the clone to --whoami ID, or ask on a terminal
    (stdin and stdout both: a script's `>/dev/null` is never left waiting) when it is
    bound to nobody yet; an empty answer leaves it unbound."""
    from casectl import config, identity

    if given is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()) or identity.bound(root):
            return
        given = click.prompt(
            _("Who uses this clone? A roster id (empty: nobody)"), default="",
            show_default=False,
        ).strip()  # fmt: skip
        if not given:
            return
    bind(root, config.load(root), given)
