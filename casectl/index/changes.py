"""What steps wrote since the index last looked, from `index-changes` in the state folder.

A step (casectl/store.py) appends one line per case file it writes: the day folder, the
folder's stamp before and after the write, and the file's name. A day folder whose stamp
changed from the one the index saved to the one it has now through such lines alone, and
whose names and inode numbers are those the index knows but for the files named there,
changed only by those writes: the next run reads those files, not every file of the day.
Anything else (a git checkout, a hand edit, a line lost) breaks the chain, and the day is
read again whole. The file is started again once it is large; a line lost to that only
costs a rescan.
"""

from __future__ import annotations

import contextlib
import os

from casectl import state
from casectl.store import CHANGES, CHANGES_CAP

Stamp = tuple[int, int]
Line = tuple[Stamp, Stamp, str]  # the folder's stamp before and after, the file's name


def read(state_dir: str) -> dict[str, list[Line]]:
    """The lines by day folder (`2026/11/27`), in the order they were written."""
    try:
        data = state.read(os.path.join(state_dir, CHANGES), 2 * CHANGES_CAP)
    except OSError:
        return {}
    found: dict[str, list[Line]] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split(" ")
        if len(parts) != 6 or not parts[0].startswith("cases/"):
            continue  # a line cut by a kill, or not ours
        try:
            before = (int(parts[1]), int(parts[2]))
            after = (int(parts[3]), int(parts[4]))
        except ValueError:
            continue
        found.setdefault(parts[0][len("cases/") :], []).append((before, after, parts[5]))
    return found


def written(lines: list[Line], saved: Stamp, now: Stamp) -> set[str] | None:
    """The files written in a day folder between the stamp saved and the stamp it has now,
    when lines alone lead from one to the other; else None."""
    at, names = saved, set()
    for before, after, name in lines:
        if before == at:
            at = after
            names.add(name)
    return names if at == now else None


def forget(state_dir: str, cap: int = 64 << 10) -> None:
    """Start the file again once it is large (after the index was saved)."""
    path = os.path.join(state_dir, CHANGES)
    with contextlib.suppress(OSError):
        if os.lstat(path).st_size > cap:
            os.unlink(path)
