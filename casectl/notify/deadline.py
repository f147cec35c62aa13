"""An overall deadline on a delivery, whatever the server does.

A socket timeout bounds each read; a server that trickles one byte every few seconds
never trips it. `within(seconds)` arms a real-time interval timer whose signal raises
`TimeUp` in the middle of whatever blocking call is waiting, so a message (connect,
greeting, EHLO, DATA, an HTTP answer) takes at most its share of the deadline. Outside
the main thread (no signals there) only the per-read timeouts apply.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TimeUp(Exception):
    """The delivery's deadline passed (not an OSError: nothing on the way swallows it)."""


class Budget:
    """The time one command may spend delivering, and each message's share of it."""

    def __init__(self, per_message: float, per_run: float) -> None:
        self.per_message, self.per_run = per_message, per_run
        self.end = time.monotonic() + per_run

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def message(self) -> float:
        return min(self.per_message, self.remaining())


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Run the block; TimeUp if it takes longer than `seconds` (at least a few ms)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TimeUp(f"{seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
