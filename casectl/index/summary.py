"""What the index keeps of one case: its summary for `list` and `sweep`, and until when a
closed one matters to a report. Pure: from a parsed case to plain tuples."""

from __future__ import annotations

import sys
from typing import NamedTuple

from casectl import deadlines
from casectl.config import Config
from casectl.model import Case, notices
from casectl.store import read_case as _read_any_language


class Summary(NamedTuple):
    """What `list` and `sweep` need of a case; instants in seconds since the epoch."""

    id: str
    severity: int
    customer: str
    assignee: str | None
    opened_at: str
    next_step: str | None  # the earliest deadline not yet met, and who owes it
    next_at: float | None
    next_owner: str | None
    unmet: tuple[float, ...]  # due times of every deadline not yet met
    sweep_at: float | None  # the earliest deadline the sweep has yet to act on (or report late)
    status: str
    inquiry: str | None  # price or technical: a caller without a contract


SWEEP_AT = Summary._fields.index("sweep_at")
STATUS = Summary._fields.index("status")
UNMET = Summary._fields.index("unmet")
INQUIRY = Summary._fields.index("inquiry")


def summarize(case: Case, cfg: Config) -> Summary:
    s = case.state
    found = deadlines.compute(case, cfg, include_met=False)  # not met, or met late
    unmet = [d for d in found if d.met is None and d.due is not None]
    acted = {e["deadline"] for e in case.events if "deadline" in e}
    # the earliest deadline running, else one standing still (a case waiting: `paused`)
    first = next(iter(unmet or [d for d in found if d.met is None]), None)
    return Summary(
        case.id, s.severity, s.customer, s.assignee,
        s.opened_at.isoformat() if s.opened_at else "",
        sys.intern(first.label) if first else None,  # interned: marshal stores it once
        first.due.timestamp() if first and first.due else None,
        first.owner if first else None,
        tuple(d.due.timestamp() for d in unmet if d.due),
        min((*(d.due.timestamp() for d in found if d.due and d.key not in acted),
             *(n.due.timestamp() for n in notices(case, cfg))), default=None),
        s.status, s.inquiry,
    )  # fmt: skip


def matters_until(case: Case) -> float:
    """Until when a closed case matters to a report: its last event, or for ever while one
    of its RMAs is outstanding (a forced close leaves it so)."""
    from casectl.model import RMA_DONE

    if any(r.status not in RMA_DONE for r in case.state.rmas.values()):
        return float("inf")
    return max((e["at"].timestamp() for e in case.events), default=0.0)


def newest_key(summary: tuple) -> tuple[str, str]:
    """What `list` orders by, newest first: when the case was opened, then its id."""
    return summary[4], summary[0]


def read_case(path: str) -> Case:
    """The case at `path`; a broken file's reason in English, whatever the language:
    the index keeps it, and `sweep --json` reports it."""
    from casectl import i18n

    with i18n.english():
        return _read_any_language(path)
