"""`index-facts/<yyyy>-<mm>-<dd>`: the report's facts of the day's cases a report has read,
each with the file's signature, the rules it was computed under, a slim record (what a
report needs of a case quiet in its period, or None) and the full facts as marshal bytes,
decoded only for a case the report cannot judge from its slim record. Only `report` loads
them, so list and sweep never pay for them; a report holds one day's file at a time."""

from __future__ import annotations

import contextlib
import marshal
import os
import re
from collections.abc import Iterable
from typing import Any

from casectl.index.disk import FORMAT, Signature, file_name, load, write

# (signature, the rules' key, the slim record or None, marshal bytes of what `make` gave)
FactsEntry = tuple[Signature, str, Any, bytes]
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Facts:
    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.days: dict[str, dict[str, FactsEntry]] = {}  # by day folder, then case id
        self.touched: set[str] = set()

    def day(self, day: str) -> dict[str, FactsEntry]:
        if day not in self.days:
            saved = load(os.path.join(self.folder, file_name(day)))
            ok = isinstance(saved, tuple) and len(saved) == 2 and saved[0] == FORMAT
            self.days[day] = saved[1] if ok and isinstance(saved[1], dict) else {}
        return self.days[day]

    def get(self, day: str, case_id: str, sig: Signature, key: str) -> FactsEntry | None:
        """The entry kept of a case file with this signature under these rules, or None."""
        cached = self.day(day).get(case_id)
        return cached if cached and cached[0] == sig and cached[1] == key else None

    def put(self, day: str, case_id: str, entry: FactsEntry) -> None:
        self.day(day)[case_id] = entry
        self.touched.add(day)

    def drop(self, day: str) -> None:
        """Forget a day read and not changed: a report holds one day at a time."""
        if day not in self.touched:
            self.days.pop(day, None)

    def save(self, kept: dict[str, Iterable[str]]) -> None:
        """The facts of the days changed, less those of cases not among `kept` (by day);
        files of older formats (one per month) are removed."""
        if self.touched:
            os.makedirs(self.folder, exist_ok=True)
            for name in os.listdir(self.folder):
                if not DAY_FILE.fullmatch(name) and not name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(self.folder, name))
        for day in sorted(self.touched):
            ids = set(kept.get(day, ()))
            facts = {i: f for i, f in self.days[day].items() if i in ids}
            write(os.path.join(self.folder, file_name(day)), marshal.dumps((FORMAT, facts)))
        self.touched = set()


def decode(entry: FactsEntry) -> Any:
    return marshal.loads(entry[3])
