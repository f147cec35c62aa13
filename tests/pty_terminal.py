"""A real pseudo-terminal of a given size running the installed `casectl`: what it wrote."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

CASECTL = str(Path(sys.executable).parent / "casectl")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RED, AMBER, DIM = "\x1b[31m", "\x1b[33m", "\x1b[2m"


def environment(repo: Path, now: str, **extra: str) -> dict[str, str]:
    """The environment of a person at a terminal: no COLUMNS or LINES to override the
    terminal's own size, no NO_COLOR unless given."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    return env | {"TERM": "xterm-256color", "CASECTL_REPO": str(repo), "CASECTL_NOW": now,
                  "LANG": "C"} | extra  # fmt: skip


class Terminal:
    """`casectl ARGS` with a pseudo-terminal of `columns` x `lines` as its stdin, stdout
    and stderr (and controlling terminal: Ctrl-C reaches it as SIGINT)."""

    def __init__(self, args: list[str], env: dict[str, str], columns: int, lines: int) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, become casectl
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
                # as a shell at a terminal starts it: a test run in the background (`&`)
                # ignores SIGINT, which would pass to casectl and make Ctrl-C do nothing
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.execve(CASECTL, [CASECTL, *args], env)
            finally:
                os._exit(127)
        self.pid, self.fd, self.raw = pid, fd, b""
        self.status: int | None = None

    @property
    def text(self) -> str:
        return self.raw.decode(errors="replace")

    def _read(self, seconds: float) -> bool:
        """Read what arrives within `seconds`; False at the end of the output."""
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed its side
            return False
        self.raw += data
        return bool(data)

    def until(self, done: Callable[[str], bool], timeout: float = 30) -> str:
        """Read until `done(text so far)`; fails with what was read after `timeout`."""
        end = time.monotonic() + timeout
        while not done(self.text):
            if time.monotonic() > end or not self._read(0.2) and not done(self.text):
                raise AssertionError(f"not seen in time; the terminal shows:\n{self.text!r}")
        return self.text

    def finish(self, timeout: float = 30) -> int:
        """Read to the end; the exit status. A program still running after `timeout` is
        killed (its status says so): waiting for it without reading could hang for ever,
        the program blocked writing to a terminal nobody reads."""
        end = time.monotonic() + timeout
        while self._read(0.2) and time.monotonic() < end:
            pass
        done, status = os.waitpid(self.pid, os.WNOHANG)
        if not done:
            with_suppressed(lambda: os.kill(self.pid, signal.SIGKILL))
            _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def resize(self, columns: int, lines: int) -> None:
        """As a window resized: the terminal's new size, and SIGWINCH to the program."""
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))

    def interrupt(self) -> None:
        os.write(self.fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT

    def close(self) -> None:
        if self.status is None:
            with_suppressed(lambda: os.kill(self.pid, signal.SIGKILL))
            with_suppressed(lambda: self.finish(5))


def with_suppressed(action: Callable[[], object]) -> None:
    with contextlib.suppress(OSError):
        action()


def run(args: list[str], env: dict[str, str], columns: int = 80, lines: int = 24) -> str:
    """`casectl ARGS` run to its end in a terminal: what it wrote (CR LF as LF)."""
    terminal = Terminal(args, env, columns, lines)
    status = terminal.finish()
    assert status == 0, terminal.text
    return terminal.text.replace("\r\n", "\n")


def plain(text: str) -> str:
    return ESCAPES.sub("", text)


def frames(text: str) -> list[list[str]]:
    """The board's complete frames, each its lines without colour (a frame starts at the
    cursor's home and ends by clearing the rest of the screen)."""
    found = re.findall(r"\x1b\[H(.*?)\x1b\[J", text, re.S)
    return [plain(f).replace("\r\n", "\n").split("\n") for f in found]


def width(line: str) -> int:
    from casectl.terminal import columns

    return columns(line)
