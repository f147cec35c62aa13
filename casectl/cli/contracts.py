"""What `open --contract/--serial` makes of the contract register (contracts.yaml)."""

from __future__ import annotations

from casectl import contracts, model
from casectl.cli.app import App
from casectl.errors import RefusedError
from casectl.i18n import _


def opening(
    app: App,
    contract: str | None,
    serial: str | None,
    customer: str | None,
    contact: str | None,
    approved_by: str | None,
) -> tuple[str | None, str | None, str | None, str | None]:
    """The contract, customer, contact and service calendar to record; an unknown or
    expired contract is refused unless the manager or a sales manager approved it."""
    register = contracts.load(app.root, app.cfg.calendars)
    found = contracts.for_open(register, contract, serial, customer, contact, app.now.date())
    if found.approval is not None:
        approver = model.actor(app.cfg, approved_by) if approved_by else None
        if approver is None or not approver.has("manager", "sales-manager"):
            raise RefusedError(
                _("{why}: a customer without a valid contract needs --approved-by the manager "
                  "or a sales manager").format(why=found.approval) + found.hint
            )  # fmt: skip
    return found.contract, found.customer, found.contact, found.service
