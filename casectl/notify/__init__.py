"""Notifications: the people a recorded event names are told, by e-mail or group robot, once.

The parts, each imported only by a command that has something to send: `settings`
(this clone's channels, from its git config; secrets from the environment),
`compose` (what a person reads), `outbox` (what is not yet delivered, under
the clone's state folder), `deliver` (sending what is due, once), and one module per kind of
channel: `mail` and `webhook`. This file holds only what every command that may
tell someone asks first, cheaply: does this clone configure a channel at all?
"""

from __future__ import annotations

from os.path import isfile, join


class DeliveryError(Exception):
    """A message not delivered; `down`: the channel itself is unreachable (skip its others);
    `permanent`: the server refused this message for good (550 no such user): no retry."""

    def __init__(
        self, message: str, down: bool = False, permanent: bool = False, answered: bool = False
    ) -> None:
        super().__init__(message)
        self.down, self.permanent = down, permanent
        self.answered = answered  # the server answered (a robot counts it towards its rate)


def git_config_file(root: str) -> str | None:
    """The clone's own git config file (a linked worktree's is its main clone's)."""
    from casectl import state

    gitdir = state.git_dir(root)
    return join(state.common_dir(gitdir), "config") if gitdir else None


def configured(root: str) -> bool:
    """Whether this clone's git config has a `[casectl "NAME"]` channel: one file read, no
    git process, so a command with nothing configured pays a few microseconds."""
    path = git_config_file(root)
    if path is None or not isfile(path):
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    for line in text.splitlines():
        head = line.strip().lower()
        if head.startswith(('[casectl "', "[casectl.")):
            return True
    return False
