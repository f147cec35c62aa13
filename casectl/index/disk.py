"""The index's files: their format stamp, how a case file is recognised unchanged, and
how a file is read and replaced whole."""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any

from casectl import state

FORMAT = ("casectl-index", 11, sys.version_info[:2])  # 11: counts per day; 10: files by day
Signature = tuple[int, int, int]  # a file's inode, size and mtime


def signature(st: os.stat_result) -> Signature:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def load(path: str) -> Any:
    """What a marshal file holds, or None when it is missing, garbled or not a file."""
    try:
        return marshal.loads(state.read(path))  # load(f): slower
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write(path: str, data: bytes) -> None:
    """Replace the file at `path` whole; a folder in its place (the index is derived:
    nothing of anyone's is in the state folder) is removed first."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        os.replace(tmp, path)
    except IsADirectoryError:
        import shutil

        shutil.rmtree(path)
        os.replace(tmp, path)


def day_of(case_id: str) -> str:
    """The folder of a case relative to `cases/`: `2026/11/27`."""
    return f"20{case_id[:2]}/{case_id[2:4]}/{case_id[4:6]}"


def file_name(day: str) -> str:
    """A day's file name in the state folder: `2026/11/27` -> `2026-11-27`."""
    return day.replace("/", "-")
