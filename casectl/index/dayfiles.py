"""Every case file the index knows, one file per day folder, with a head per day in the
small index file.

`index-files/<yyyy>-<mm>-<dd>`: each case file of that day with its signature (inode,
size, mtime), its status, and for a closed case its summary and until when it matters to
a report. It does not depend on the rules, so closed cases are never parsed again when
the rules change. Each day's head (kept in the small index file, saved with the folder
stamps: one writer at a time sees them agree) names the day's file by a token, and says
until when its closed cases matter, how many there are and the newest: a report reads
only the days whose closed cases matter to its period, `list --status closed` only the
newest days, and a step rewrites only its own day.
"""

from __future__ import annotations

import contextlib
import marshal
import os

from casectl.index.disk import FORMAT, Signature, file_name, load, write
from casectl.index.summary import newest_key

# a case file's entry: (signature, status, summary when closed, until when it matters to
# a report when closed: its last event, forever while an RMA is outstanding) or an error
FileEntry = tuple[Signature, str, tuple | None, float | None]
Files = dict[str, FileEntry | str]  # by file name
# a day's head: (token of its file, until when its closed cases matter, how many closed
# cases, the newest of them)
Head = tuple[bytes, float, int, tuple[str, str]]


class DayFiles:
    def __init__(self, folder: str, heads: dict[str, Head]) -> None:
        self.folder = folder
        self.heads = heads  # by day: every day folder with files
        self.loaded: dict[str, Files] = {}
        self.stale: set[str] = set()  # days whose file is not the one their head names
        self.touched: set[str] = set()  # days to save

    def get(self, day: str) -> Files:
        """The day's entries as saved (entries of a stale file are still checked one by one
        by their signature; the day is marked `stale` so that its folder is read again)."""
        if day not in self.loaded:
            head = self.heads.get(day)
            saved = load(os.path.join(self.folder, file_name(day)))
            token, files = None, {}
            if isinstance(saved, tuple) and len(saved) == 3 and saved[0] == FORMAT:
                token, files = saved[1], saved[2] if isinstance(saved[2], dict) else {}
            if (head or files) and (head is None or token != head[0]):
                self.stale.add(day)
            self.loaded[day] = files
        return self.loaded[day]

    def put(self, day: str, files: Files) -> None:
        self.loaded[day] = files
        self.stale.discard(day)
        self.touched.add(day)

    def closed(self, day: str) -> list[tuple]:
        """The summaries of a day's closed cases."""
        return [e[2] for e in self.get(day).values() if isinstance(e, tuple) and e[2]]

    def save(self) -> None:
        """Write the changed days and their heads (the caller saves the small index file)."""
        if self.touched:
            os.makedirs(self.folder, exist_ok=True)
        for day in sorted(self.touched):
            files = self.loaded[day]
            path = os.path.join(self.folder, file_name(day))
            if not files:
                self.heads.pop(day, None)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                continue
            token = os.urandom(8)
            write(path, marshal.dumps((FORMAT, token, files)))
            self.heads[day] = (token, *head(files))
        self.touched = set()


def head(files: Files) -> tuple[float, int, tuple[str, str]]:
    """(the latest time any closed case of the day matters to a report, how many closed
    cases there are, the newest of them)."""
    latest, count, newest = float("-inf"), 0, ("", "")
    for e in files.values():
        if isinstance(e, tuple) and e[1] == "closed":
            count += 1
            if e[3] is not None and e[3] > latest:
                latest = e[3]
            if e[2]:
                newest = max(newest, newest_key(e[2]))
    return latest, count, newest
