"""`casectl approve`: support approved for an alarm case without a valid contract."""

from __future__ import annotations

import click

from casectl.cli.app import Acting, App, acting, as_json, pass_app, record, show_json
from casectl.i18n import _


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True, help="Why support is given (a contract renewing...).")
@acting
@as_json
@pass_app
def approve(app: App, case_id: str, reason: str, act: Acting, json_out: bool) -> None:
    """Approve support for an alarm case opened without a valid contract.

    The manager or a sales manager approves; the case's clocks start then. Assign it next.

    Example: casectl approve 261206-K7Q3M --reason "续约合同审批中，先行支持" --by wang.jianguo
    """
    from casectl.approval import approve as approving

    case = record(
        app, case_id, act,
        lambda case, person, at: approving(case, person, at, reason),
        lambda e: "support approved",
    )  # fmt: skip
    said = _("{case} approved; assign it: casectl assign {case} --next").format(case=case.id)
    click.echo(show_json(app, case) if json_out else said)
