"""`index-facts/<yyyy>-<mm>`: the report's facts of the month's cases a report has read,
each with the file's signature and the rules it was computed under; only `report` loads
them, so list and sweep never pay for them."""

from __future__ import annotations

import marshal
import os
from collections.abc import Iterable
from typing import Any

from casectl.index.disk import FORMAT, Signature, load, write

FactsEntry = tuple[Signature, str, Any]  # (signature, the rules' key, what `make` gave)


class Facts:
    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.months: dict[str, dict[str, FactsEntry]] = {}  # by month, then case id
        self.touched: set[str] = set()

    def month(self, month: str) -> dict[str, FactsEntry]:
        if month not in self.months:
            saved = load(os.path.join(self.folder, month))
            ok = isinstance(saved, tuple) and len(saved) == 2 and saved[0] == FORMAT
            self.months[month] = saved[1] if ok and isinstance(saved[1], dict) else {}
        return self.months[month]

    def get(self, month: str, case_id: str, sig: Signature, key: str) -> Any:
        """The facts kept of a case file with this signature under these rules, or None."""
        cached = self.month(month).get(case_id)
        return cached[2] if cached and cached[0] == sig and cached[1] == key else None

    def put(self, month: str, case_id: str, sig: Signature, key: str, made: Any) -> None:
        self.month(month)[case_id] = (sig, key, made)
        self.touched.add(month)

    def save(self, kept: Iterable[str]) -> None:
        """The facts of the months changed, less those of cases not among `kept`."""
        if self.touched:
            os.makedirs(self.folder, exist_ok=True)
        ids = set(kept)
        for month in sorted(self.touched):
            facts = {i: f for i, f in self.months[month].items() if i in ids}
            write(os.path.join(self.folder, month), marshal.dumps((FORMAT, facts)))
        self.touched = set()
