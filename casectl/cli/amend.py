"""`casectl amend`: correct the opening's data (a typo in a contract number...) as an event."""

from __future__ import annotations

import click

from casectl import model
from casectl.cli.app import Acting, App, acting, as_json, first_line, pass_app, show_json
from casectl.cli.steps import taken
from casectl.i18n import _


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--customer", help="The customer (company), corrected.")
@click.option("--contact", help="The contact person with phone or e-mail, corrected.")
@click.option("--contract", metavar="NO", help="The contract number, corrected.")
@click.option("--description", help="The fault description, corrected.")
@click.option("--reason", required=True, help="Why the opening is corrected.")
@acting
@as_json
@pass_app
def amend(
    app: App,
    case_id: str,
    customer: str | None,
    contact: str | None,
    contract: str | None,
    description: str | None,
    reason: str,
    act: Acting,
    json_out: bool,
) -> None:
    """Correct the customer, contact, contract or description recorded at the opening.

    The opening stays as it was recorded; an `amend` event says what changed and
    why, and show, list and the report use the values as amended. A duty engineer,
    the manager or the case's engineers may amend; a correction that changes
    nothing is refused. Never edit the opening in the file: other clones' sync
    refuses a hand-edited opening.

    Example: casectl amend 261126-K7Q3M --contract HT-2026-013 --reason "合同号记错"
    """
    changes = {"customer": customer, "contact": contact, "contract": contract,
               "description": description}  # fmt: skip
    if all(value is None for value in changes.values()):
        raise click.UsageError(_("give at least one of --customer, --contact, --contract or "
                                 "--description"))  # fmt: skip

    def what(event: dict) -> str:
        fields = ", ".join(k for k in model.AMENDABLE if k in event)
        return f"amended {fields}: {first_line(reason)}"

    case, event = taken(
        app, case_id, act,
        lambda case, person, at: model.amend(case, person, at, changes, reason), what,
    )  # fmt: skip
    from casectl.render import field_names

    fields = field_names(k for k in model.AMENDABLE if k in event)
    said = _("{case} amended: {fields}").format(case=case.id, fields=fields)
    click.echo(show_json(app, case) if json_out else said)
