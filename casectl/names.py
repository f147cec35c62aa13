"""The names people read of what casectl keeps in English (roster.yaml's roles, an RMA's
status, an on-site visit's stage): files, --json and commit messages keep the English
value; messages translate it here, when they are shown."""

from __future__ import annotations

from collections.abc import Iterable

from casectl.i18n import Nc_, _, pgettext

ROLES = (Nc_("role", "manager"), Nc_("role", "duty"), Nc_("role", "first-line"),
         Nc_("role", "senior"), Nc_("role", "field"), Nc_("role", "sales"),
         Nc_("role", "sales-manager"))  # fmt: skip
# render.py marks the RMA statuses ("rma status") and on-site stages ("on-site stage")


def role(name: str) -> str:
    """A role as people call it: `manager` is the 中心经理 in Chinese."""
    return pgettext("role", name)


def roles_or(names: Iterable[str]) -> str:
    """`manager or duty`, in the reader's language."""
    return _(" or ").join(role(name) for name in names)


def rma_status(status: str) -> str:
    return pgettext("rma status", status)


def stage(name: str) -> str:
    """An on-site visit's stage: pending, approved, on site..."""
    return pgettext("on-site stage", name)
