"""Text for a terminal: control characters in other people's text are shown, never run."""

from __future__ import annotations

import re

# C0 but newline and tab, DEL, and C1: ESC starts sequences that clear the screen,
# retitle the window or rewrite what was printed; CR and backspace overwrite a line
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """`text` with each control character written out as `\\x1b`; JSON output skips this."""
    return _CONTROL.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"
