"""`index-facts/<yyyy>-<mm>-<dd>`: the report's facts of the day's cases a report has read,
each with the file's signature, the rules it was computed under and a slim record (what a
report needs of a case quiet in its period); the full facts, as marshal bytes, are in
`<yyyy>-<mm>-<dd>.full` beside it, read one case at a time and only for a case the report
cannot judge from its slim record. Only `report` loads them, so list and sweep never pay
for them; a report holds one day at a time."""

from __future__ import annotations

import contextlib
import marshal
import os
import re
from collections.abc import Iterable
from typing import Any

from casectl.index.disk import FORMAT, Signature, file_name, load, write

# (signature, the rules' key, the slim record, where the full facts are: (offset, size) in
# the day's .full file, or their marshal bytes when not saved yet)
FactsEntry = tuple[Signature, str, Any, Any]
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}(\.full)?")
TOKEN = 8  # bytes: the .full file begins with the token its day's file names it by


class Facts:
    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.days: dict[str, dict[str, FactsEntry]] = {}  # by day folder, then case id
        self.files: dict[str, int | None] = {}  # by day: its .full file, open
        self.touched: set[str] = set()

    def day(self, day: str) -> dict[str, FactsEntry]:
        if day not in self.days:
            path = os.path.join(self.folder, file_name(day))
            saved = load(path)
            ok = isinstance(saved, tuple) and len(saved) == 3 and saved[0] == FORMAT
            found = saved[2] if ok and isinstance(saved[2], dict) else {}
            fd = None
            if found:
                with contextlib.suppress(OSError):
                    fd = os.open(f"{path}.full", os.O_RDONLY)
                if fd is None or os.pread(fd, TOKEN, 0) != saved[1]:
                    found = {}  # the two files were not saved together: computed again
            self.days[day], self.files[day] = found, fd
        return self.days[day]

    def get(self, day: str, case_id: str, sig: Signature, key: str) -> FactsEntry | None:
        """The entry kept of a case file with this signature under these rules, or None."""
        cached = self.day(day).get(case_id)
        return cached if cached and cached[0] == sig and cached[1] == key else None

    def full(self, day: str, entry: FactsEntry) -> Any:
        """The full facts of an entry of `day` (while that day is held)."""
        return marshal.loads(self._bytes(day, entry))

    def _bytes(self, day: str, entry: FactsEntry) -> bytes:
        where = entry[3]
        if isinstance(where, bytes):
            return where
        fd = self.files.get(day)
        data = os.pread(fd, where[1], where[0]) if fd is not None else b""
        if len(data) != where[1]:
            raise OSError(f"index-facts/{file_name(day)}.full is cut short")
        return data

    def put(self, day: str, case_id: str, entry: FactsEntry) -> None:
        self.day(day)[case_id] = entry
        self.touched.add(day)

    def drop(self, day: str) -> None:
        """Forget a day read and not changed: a report holds one day at a time."""
        if day not in self.touched:
            self.days.pop(day, None)
            fd = self.files.pop(day, None)
            if fd is not None:
                os.close(fd)

    def save(self, kept: dict[str, Iterable[str]]) -> None:
        """The facts of the days changed, less those of cases not among `kept` (by day):
        the .full file first, then the day's file naming it by its token; files of older
        formats (one per month) are removed."""
        if self.touched:
            os.makedirs(self.folder, exist_ok=True)
            for name in os.listdir(self.folder):
                if not DAY_FILE.fullmatch(name) and not name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(self.folder, name))
        for day in sorted(self.touched):
            ids = set(kept.get(day, ()))
            token = os.urandom(TOKEN)
            chunks, entries, offset = [token], {}, TOKEN
            for case_id, entry in self.days[day].items():
                if case_id in ids:
                    data = self._bytes(day, entry)
                    chunks.append(data)
                    entries[case_id] = (*entry[:3], (offset, len(data)))
                    offset += len(data)
            path = os.path.join(self.folder, file_name(day))
            write(f"{path}.full", b"".join(chunks))
            write(path, marshal.dumps((FORMAT, token, entries)))
            self.days.pop(day)
            fd = self.files.pop(day, None)
            if fd is not None:
                os.close(fd)
        self.touched = set()
