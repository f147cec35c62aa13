"""Approving support for an alarm case opened without a valid contract (the intake flags
it): the manager or a sales manager approves, as for any non-contract customer, and
the case's clocks start then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casectl.config import Person
from casectl.errors import RefusedError
from casectl.i18n import _
from casectl.ids import random_code
from casectl.model import Case


def approve(case: Case, by: Person, at: datetime, reason: str) -> dict[str, Any]:
    s = case.state
    if s.status != "open" or not s.approval:
        raise RefusedError(_("case {case} awaits no approval").format(case=case.id))
    if not by.has("manager", "sales-manager"):
        raise RefusedError(
            _("{person} may not approve support for case {case}: only the manager or a sales "
              "manager may").format(person=by.id, case=case.id)
        )  # fmt: skip
    if not reason.strip():
        raise RefusedError(_("the reason is empty"))
    event = {"id": random_code(8), "at": at, "by": by.id, "type": "approve", "text": reason}
    return case.append(event)
