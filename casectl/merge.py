"""Merging two versions of a case: the union of their events, in time order.

Events are immutable and carry unique ids, so two clones' steps merge without
conflict. The order is the same whichever side is "ours": by time, then by each
event's position among its side's events at that same instant (so an opening and
its assignment keep their order), then by id. A real conflict is two different
cases opened under one id; it is reported, never merged.
"""

from __future__ import annotations

from typing import Any

from casectl import yamlio
from casectl.errors import CasectlError


class MergeConflict(CasectlError):
    pass


class HandEdited(MergeConflict):
    """One case's opening, the same event, differs between the sides: someone edited
    it by hand. `side`: "ours" or "theirs" where the base tells which, else None."""

    def __init__(self, case_id: str, side: str | None) -> None:
        super().__init__(f"the opening of case {case_id} was edited by hand")
        self.case_id, self.side = case_id, side


def merge(base: dict | None, ours: dict, theirs: dict) -> dict[str, Any]:
    """The merged case document; raises MergeConflict for two different intakes, and
    HandEdited for one intake that differs (an opening edited by hand)."""
    intakes = [e for doc in (ours, theirs) for e in doc["events"] if e["type"] == "open"]
    ids = {e.get("id") for e in intakes}
    if len(ids) == 1 and len({_key(e) for e in intakes}) > 1 and ours.get("id") == theirs.get("id"):
        raise HandEdited(str(ours.get("id")), _edited_side(base, ours, theirs))
    if len({_key(e) for e in intakes}) > 1 or ours.get("id") != theirs.get("id"):
        customers = " and ".join(sorted({str(e.get("customer")) for e in intakes}))
        raise MergeConflict(
            f"two different cases were opened as {ours.get('id')} ({customers}); "
            "keep one file and open the other case again"
        )
    chosen: dict[str, tuple[Any, ...]] = {}
    for doc in (base or {"events": []}, ours, theirs):
        for rank, event in _ranked(doc["events"]):
            key = (event["at"].timestamp(), rank, event["id"], _key(event))
            # the same id on both sides (a sweep's deterministic event): keep one, the same one
            if event["id"] not in chosen or key < chosen[event["id"]][0]:
                chosen[event["id"]] = (key, event)
    events = [event for _, event in sorted(chosen.values(), key=lambda pair: pair[0])]
    # keys casectl does not know survive too: theirs, then ours where both have one
    extra = {k: v for doc in (theirs, ours) for k, v in doc.items() if k not in ("id", "events")}
    return {"id": ours["id"], "events": events} | extra


def _edited_side(base: dict | None, ours: dict, theirs: dict) -> str | None:
    """Which side changed the opening the base has: "ours", "theirs", or None."""
    opening = [e for e in (base or {}).get("events", []) if e.get("type") == "open"]
    if not opening:
        return None
    first = _key(opening[0])
    mine = [_key(e) for e in ours["events"] if e["type"] == "open"]
    other = [_key(e) for e in theirs["events"] if e["type"] == "open"]
    if other == [first] and mine != [first]:
        return "ours"
    if mine == [first] and other != [first]:
        return "theirs"
    return None


def _ranked(events: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Each event with its position among the events of its list at the same instant."""
    seen: dict[Any, int] = {}
    ranked = []
    for event in events:
        rank = seen.get(event["at"], 0)
        seen[event["at"]] = rank + 1
        ranked.append((rank, event))
    return ranked


def _key(event: dict[str, Any]) -> str:
    return yamlio.dump(event).decode()
