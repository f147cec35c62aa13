"""`sync` (and the share a step starts in the background) registers the merge driver on
every run: once it is there, nothing is written, so two of them never fight over git's
config lock ("could not lock config file")."""

from __future__ import annotations

import os
import subprocess

from conftest import Repo


def test_the_driver_is_registered_once_then_left(repo: Repo) -> None:
    from casectl import gitrepo

    config = repo.root / ".git" / "config"
    gitrepo.install_driver(str(repo.root))
    before = os.stat(config)
    lock = config.with_name("config.lock")
    lock.write_text("")  # another git is writing the config right now
    try:
        gitrepo.install_driver(str(repo.root))  # nothing to write: no lock needed
    finally:
        lock.unlink()
    assert os.stat(config).st_mtime_ns == before.st_mtime_ns
    subprocess.run(["git", "-C", str(repo.root), "config", "--unset", "index.version"], check=True)
    gitrepo.install_driver(str(repo.root))
    said = subprocess.run(["git", "-C", str(repo.root), "config", "index.version"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert said.stdout.strip() == "4"
