"""`casectl list`: select cases by status, person, severity, customer and deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from casectl import render
from casectl.config import Config
from casectl.errors import BrokenCaseError
from casectl.index import OpenIndex, Summary, summarize
from casectl.store import Store, read_case


@dataclass(frozen=True)
class Filter:
    status: str  # open, closed, all
    assignee: str | None = None
    severity: int | None = None
    customer: str | None = None
    overdue: bool = False
    due_within: timedelta | None = None

    def keeps(self, s: Summary, now: datetime) -> bool:
        if self.assignee and s.assignee != self.assignee:
            return False
        if self.severity is not None and s.severity != self.severity:
            return False
        if self.customer and self.customer.casefold() not in s.customer.casefold():
            return False
        unmet = [d for d in s.deadlines if d.met is None and d.due is not None]
        if self.overdue and not any(now >= d.due for d in unmet):  # type: ignore[operator]
            return False
        window = self.due_within
        return window is None or any(now <= d.due <= now + window for d in unmet)  # type: ignore[operator]


def rows(store: Store, cfg: Config, index: OpenIndex, wanted: Filter, now: datetime) -> list[dict]:
    found: list[tuple[str, Summary]] = []
    if wanted.status in ("open", "all"):
        found += [("open", s) for s in index.summaries().values()]
    if wanted.status in ("closed", "all"):
        found += [("closed", s) for s in _closed(store, cfg)]
    kept = [(status, s) for status, s in found if wanted.keeps(s, now)]
    kept.sort(key=lambda pair: (pair[1].opened_at, pair[1].id), reverse=True)
    return [_row(status, s, cfg, now) for status, s in kept]


def _closed(store: Store, cfg: Config) -> list[Summary]:
    result = []
    for path in (store.cases / "closed").glob("*/*/*.yaml"):
        try:
            result.append(summarize(read_case(path), cfg))
        except BrokenCaseError:
            continue
    return result


def _row(status: str, s: Summary, cfg: Config, now: datetime) -> dict[str, Any]:
    step = render.next_step(list(s.deadlines), now, cfg.due_soon)
    return {
        "id": s.id,
        "status": status,
        "severity": s.severity,
        "customer": s.customer,
        "assignee": s.assignee,
        "opened_at": render.iso(s.opened_at),
        "next": step.label if step else None,
        "due": render.iso(step.due) if step else None,
        "state": step.state(now, cfg.due_soon) if step else None,
        "owner": step.owner if step else None,
    }


def render_rows(found: list[dict], as_json: bool) -> str:
    if as_json:
        return render.to_json(found)
    if not found:
        return ""
    table = [
        [
            r["id"],
            r["status"],
            r["severity"],
            r["customer"],
            r["assignee"] or "-",
            (r["opened_at"] or "")[:16].replace("T", " "),
            f"{r['next']} {(r['due'] or '')[11:16]} {r['state']}" if r["next"] else "-",
            r["owner"] or "",
        ]
        for r in found
    ]
    return render.table(
        table, ["case", "status", "sev", "customer", "assignee", "opened", "next deadline", "owes"]
    )
