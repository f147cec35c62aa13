"""A slim record of an open case, enough to report it for a period it was quiet in.

Most open cases are quiet on any one day: nothing happened to them (no step that changes
what the report sees of them) since before the period began. For such a case the report
needs only what stands at the period's end, which is what stands after its last such
step: the slim record, kept by the index beside the full facts, is that state with the
deadlines that can still be judged or listed. `numbers` reads it with a few comparisons
and counters instead of replaying the case; every other case takes the full path, and
the two give the same document (tests/test_report_quiet.py).

A case is quiet in a period when the last step that changes its state (`STATE`), every
deadline version's start and end included, is before the period's start, and no other
step the report lists or counts (an escalation, an alert, a sweep's check...) falls in
the period. The record keeps only what periods beginning less than `WINDOW` before the
case's latest step can judge or list (a day's report, made the next day): a report of an
older period takes the full path for the cases active since. Steps after the period's
end that change nothing it sees (a sweep's note of a deadline met late) leave a case
quiet; contacts are not events of the facts: they show as deadlines' `met` times, which
the slim record keeps and compares as the full path does.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any

from casectl.model import RMA_DONE
from casectl.report.facts import Facts
from casectl.report.numbers import View, _standing

# the steps `View.apply` replays, and those that start or end a deadline's version
STATE = frozenset({"open", "amend", "assign", "reassign", "severity", "wait-customer",
                   "wait-parts", "resume", "rma", "rma-status", "close", "reopen"})  # fmt: skip
WINDOW = 3 * 86_400  # the slim record serves periods that begin at most this long before
# the case's latest step: a day's report made the next day, whatever its steps since
NOT_QUIET = ()  # the slim record of a case that is never quiet (closed, never opened)
# (cut: it serves the periods that begin after it, marks, severity, customer, assignee,
#  source, contract, inquiry, opened_at, waiting, rmas, dues, deadlines by due (judge),
#  mets, those not met by `cut` (attend: their places in judge, by met), slots)
Slim = tuple[Any, ...]


def thin(facts: Facts) -> Slim:
    """The slim record of a case from its facts (NOT_QUIET for a case not open)."""
    _, case_id, events, records = facts
    view = View(case_id)
    t_state, marks = -math.inf, []
    for at, kind, by, f in events:
        view.apply(at, kind, by, f)
        if kind in STATE:
            t_state = max(t_state, at)
        elif _counted(kind, by, f):
            marks.append(at)
    for r in records:  # a version's start and end are steps of STATE; to be sure
        t_state = max(t_state, r[7], r[8] if r[8] is not None else -math.inf)
    if view.status != "open":
        return NOT_QUIET
    # periods that begin before the case's recent days take the full path: what the slim
    # record keeps is what can still be judged or listed after `cut`
    latest = max((*(e[0] for e in events), *(r[4] for r in records),
                  *(r[3] for r in records if r[3] is not None)), default=t_state)  # fmt: skip
    cut = max(t_state, latest - WINDOW)
    standing = _standing(records, math.inf)
    versions: dict[str, list[tuple[float, str | None]]] = {}
    for r in sorted(records, key=lambda r: r[7]):
        versions.setdefault(r[0], []).append((r[7], r[6]))
    kept = sorted(
        (
            (i, r[1], r[2], r[3], r[4], r[5], r[6], r[8], _history(versions[r[0]], r[3]))
            for i, r in enumerate(standing)
            if r[2] > cut or (r[8] is None and (r[3] is None or r[3] > cut))
        ),
        key=lambda j: (j[2], j[0]),
    )  # those that can be judged (due after `cut`) or listed (current, not met by `cut`)
    unmet = sorted(
        (math.inf if r[3] is None else r[3], r[0], n)
        for n, r in enumerate(kept)
        if r[7] is None and (r[3] is None or r[3] > cut)
    )
    rmas = tuple(
        (rma_id, r["part"], r["qty"], r["status"], r["owner"], r["requested_at"], r["since"])
        for rma_id, r in sorted(view.rmas.items())
        if r["status"] not in RMA_DONE
    )
    return (
        cut, tuple(sorted(m for m in marks if m > cut)), view.severity, view.customer,
        view.assignee, view.source, view.contract, view.inquiry, view.opened_at, view.waiting,
        rmas, tuple(r[2] for r in kept), tuple(kept), tuple(u[0] for u in unmet),
        tuple(u[2] for u in unmet), _slots(events, standing, cut),
    )  # fmt: skip


def is_quiet(slim: Slim, start: float, end: float) -> bool:
    """Whether the slim record says all the report of [start, end) needs of its case."""
    if not slim or slim[0] >= min(start, end):
        return False
    marks = slim[1]
    return not marks or bisect_left(marks, start) == bisect_left(marks, end)


def add(builder: Any, case_id: str, slim: Slim) -> None:
    """What the full path (`Builder.add`) does for a case quiet in the builder's period."""
    (_, _, severity, customer, assignee, source, contract, inquiry, opened_at, waiting,
     rmas, dues, judge, mets, attend, slots) = slim  # fmt: skip
    b, start, end = builder, builder.start, builder.end
    key = (inquiry, severity, assignee, source, contract)
    b.quiet_open[key] = b.quiet_open.get(key, 0) + 1  # counts, volume, trend, headline
    if inquiry == "price":
        return  # sales' business: counted apart
    if not inquiry:  # engineering compliance leaves every inquiry out
        low, high = bisect_left(dues, start), bisect_left(dues, end)
        due_now = judge[low:high] if high - low < 2 else sorted(judge[low:high])
        seen = Seen(case_id, customer, waiting) if due_now else None
        for _, kind, due, met, begin, level, owner, until, history in due_now:
            met = met if met is not None and met <= end else None
            if met is None and until is not None and until <= end and due > until:
                continue  # replaced before it fell due: not missed
            state = "missed" if met is None else "met" if met <= due else "met_late"
            owed = _owner(history, due if met is None or met > due else met, owner)
            b.judged.append((kind, level, owed, state, met - begin if met else None))
            if state != "met":
                b.breaches.append((seen, None, kind, level, owed, due, met))
        for begin, called in slots:
            if start <= called < end:  # its first callback, made in the period
                b.waits.append(called - begin)
    b.quiet_longest.append((opened_at, case_id, customer, severity, assignee))
    if waiting:
        on, since = waiting
        b._row("attention.waiting", case_id, customer, on, b.time(since), round(end - since))
    unmet = [judge[n] for n in attend[bisect_right(mets, end) :]]  # met after the end, or never
    for _, kind, due, _, begin, _, owner, _, _ in sorted(unmet) if len(unmet) > 1 else unmet:
        if kind == "update" and due < end:
            b._row("attention.no_update", case_id, customer, assignee, b.time(due),
                   round(end - due))  # fmt: skip
        if begin <= end <= due < b._horizon(severity):
            b._row("lists.at_risk", case_id, customer, severity, kind, owner, b.time(due),
                   round(due - end))  # fmt: skip
    for rma_id, part, qty, status, owner, requested, since in rmas:
        b._row("rmas.outstanding", case_id, rma_id, part, qty, status, owner,
               b.time(requested), round(end - requested))  # fmt: skip
        if status == "delivered" and end - since > 86_400:
            b._row("rmas.delivered_not_installed", case_id, rma_id, part, owner,
                   b.time(since), round(end - since))  # fmt: skip


class Seen:
    """What a breach row reads of a quiet case (a `View`'s fields)."""

    __slots__ = ("id", "customer", "status", "waiting")

    def __init__(self, case_id: str, customer: str, waiting: Any) -> None:
        self.id, self.customer, self.status, self.waiting = case_id, customer, "open", waiting


def _counted(kind: str, by: str, f: dict[str, Any]) -> bool:
    """Whether a step the state does not see is listed or counted when in the period
    (`Builder._event`): all but a sweep's notes that change nothing it reports."""
    if f.get("alert"):
        return True
    if kind == "met-late":
        return False
    if kind in ("check", "overdue"):
        return by == "sweep" and "due" in f
    return True


def _history(
    versions: list[tuple[float, str | None]], met: float | None
) -> tuple[tuple[float, str | None], ...]:
    """A deadline's owners by the start of each version, where the one it is charged to
    may not be its last version's: met before that version began, by someone else."""
    if met is None or met >= versions[-1][0] or len({who for _, who in versions}) == 1:
        return ()  # charged at its due time or when met, both after its last version began
    return tuple(versions)


def _owner(history: tuple[tuple[float, str | None], ...], at: float, last: str | None) -> Any:
    """Who owed the deadline at `at` (`numbers._owner_at`, from its history)."""
    owner = last
    for since, who in history:
        if since > at:
            break
        owner = who
    return owner


def _slots(events: Any, standing: list[Any], cut: float) -> tuple[tuple[float, float], ...]:
    """Per opening or reopening, (its first callback clock's start, its first callback),
    where that callback may fall in a quiet period (`Builder._customer_wait`)."""
    cycles = [at for at, kind, _, _ in events if kind in ("open", "reopen")]
    first: dict[int, list[float]] = {}
    for r in standing:
        if r[1] != "callback":
            continue
        slot = first.setdefault(bisect_right(cycles, r[4]) - 1, [math.inf, math.inf])
        slot[0] = min(slot[0], r[4])
        if r[3] is not None:
            slot[1] = min(slot[1], r[3])
    return tuple((b, c) for b, c in first.values() if cut < c < math.inf)
