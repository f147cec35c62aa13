"""Callers without a contract asking about prices: a price inquiry is sales' business.

It is opened with no severity and no engineer's clock, and handed once to the sales
person with the fewest open inquiries. A technical question from such a caller is a
normal case (`model.open_case` with `inquiry="technical"`, approved like any customer
without a contract). The refusal that keeps a price inquiry out of the engineering steps
(assign, severity, escalate, RMA, on-site) is `model.require_engineering`: those steps
live in `model` and `onsite`, which this module imports, so it stays beside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl.config import Config, Person
from casectl.errors import RefusedError
from casectl.i18n import N_, _
from casectl.model import Case, filled, new_event, require_role


def pick_sales(cfg: Config, loads: dict[str, int]) -> Person:
    """The sales person with the fewest open inquiries; ties go to roster order."""
    sales = cfg.with_role("sales")
    if not sales:
        raise RefusedError(_("nobody in roster.yaml has the role sales, who take price inquiries"))
    return min(sales, key=lambda p: loads.get(p.id, 0))


def open_price_inquiry(
    cfg: Config,
    case_id: str,
    by: Person,
    at: datetime,
    *,
    customer: str,
    contact: str,
    description: str | None,
    to: Person | None,
) -> Case:
    """A caller without a contract asking about prices: recorded and routed to sales `to`,
    with no severity and no engineer's clock (`to` None: the opening alone, as `check`
    judges the routing as a step of its own)."""
    require_role(by, N_("take a call"), "duty", "manager")
    for name, value in ((N_("customer"), customer), (N_("contact"), contact)):
        filled(value, name)
    if description is not None:
        filled(description, N_("description"))
    case = Case(case_id, [])
    opening = dict(customer=customer, contact=contact, inquiry="price", text=description)
    case.append(new_event(by, at, "open", **opening))
    if to is not None:
        route_price_inquiry(case, by, at, to)
    return case


def route_price_inquiry(case: Case, by: Person, at: datetime, to: Person) -> dict[str, Any]:
    """The assignment that hands a new price inquiry to a sales person (once, on opening)."""
    require_role(by, N_("take a call"), "duty", "manager")
    if case.state.assignee is not None:
        raise RefusedError(
            _("price inquiry {case} is routed to sales already ({person})").format(
                case=case.id, person=case.state.assignee)
        )  # fmt: skip
    if not to.has("sales"):
        raise RefusedError(
            _("{person} may not take price inquiry {case}: only sales may").format(
                person=to.id, case=case.id)
        )  # fmt: skip
    return case.append(new_event(by, at, "assign", to=to.id))
