"""`casectl board`: the open cases for a wall screen, live in a terminal or as a page."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING

import click

from casectl.cli.app import App, as_json, pass_app
from casectl.errors import CasectlError
from casectl.i18n import _

if TYPE_CHECKING:
    from casectl.config import Config

SETTING = "casectl.board-html"  # the page each sweep rewrites, in this clone's git config
PAGE_REFRESH = 60  # seconds: how often a browser reloads the page, unless --interval says
# a full-screen view of its own (the alternate screen), without a cursor; left as found
ENTER, LEAVE = "\x1b[?1049h\x1b[?25l", "\x1b[?25h\x1b[?1049l"
HOME, CLEAR_LINE, CLEAR_BELOW = "\x1b[H", "\x1b[K", "\x1b[J"


@click.command()
@click.option(
    "--interval",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Seconds between redraws (default 5); with --html, how often the page reloads "
    "itself (default 60).",
)
@click.option("--once", is_flag=True, help="Print one frame and exit (for scripts and tests).")
@click.option("--html", "html_file", metavar="FILE", help="Write the board as a page and exit.")
@as_json
@pass_app
def board(
    app: App, interval: int | None, once: bool, html_file: str | None, json_out: bool
) -> None:
    """A live board of the open cases for a wall screen or a spare terminal.

    Most urgent first: each case's countdown to its next deadline (`-25m`:
    missed 25 minutes ago), severity, next step, who owes it and when it is
    due; missed in red and due soon in amber. Redrawn every few seconds as
    the repository changes, fitted to the terminal's width and height; Ctrl-C
    quits. With --once, or into a pipe, one frame (into a pipe with every case,
    unless $LINES says how many lines).

    --html FILE writes the same as a page that reloads itself (no script), for
    any web server; `git config casectl.board-html FILE` has every sweep
    rewrite it. --json: the counts and every case in the board's order.

    Example: casectl board --interval 10
    """
    if html_file:
        write_page(app, os.path.abspath(html_file), interval or PAGE_REFRESH)
        return
    if json_out:
        from casectl import board as boards
        from casectl.render import to_json

        index = app.index()
        found = boards.gather(index.open_summaries(), app.now, app.cfg.due_soon.total_seconds())
        click.echo(to_json(boards.document(found, app.cfg)))
        for problem in index.broken:
            click.echo(_("casectl board: skipped {problem}").format(problem=problem), err=True)
        if index.broken:
            raise SystemExit(1)
        return
    if once or not sys.stdout.isatty():
        import shutil

        size = shutil.get_terminal_size()  # $COLUMNS and $LINES first: a pipe has no size
        text, problems = draw(app, app.cfg, app.now, size, live=False)
        click.echo(text)  # escaped by board.frame cell by cell, so its colours survive
        for problem in problems:
            click.echo(_("casectl board: skipped {problem}").format(problem=problem), err=True)
        if problems:
            raise SystemExit(1)
        return
    live(app, interval or 5)


def draw(
    app: App, cfg: Config, now: datetime, size: os.terminal_size, live: bool
) -> tuple[str, list[str]]:
    """One frame of the board as the index has it now (live: from a fresh index) in a
    terminal of `size`, as many cases as its height holds (into a pipe: every case,
    unless $LINES says), and the unreadable case files."""
    from casectl import board, terminal
    from casectl.index import Index

    index = Index(app.store, cfg) if live else app.index()
    found = board.gather(index.open_summaries(), now, cfg.due_soon.total_seconds())
    height = size.lines if live or sys.stdout.isatty() or "LINES" in os.environ else None
    colour = terminal.colour_wanted(sys.stdout)
    broken = index.broken
    return board.frame(found, cfg, size.columns, height, colour, len(broken)), broken


def live(app: App, interval: int) -> None:
    """Redraw until Ctrl-C: every `interval` seconds, and at once when the terminal is
    resized. Each frame reads the rules and the index again (a warm index only stats the
    folders), so a step taken anywhere shows at the next frame."""
    import shutil
    import signal

    from casectl import clock, config, terminal

    signal.signal(signal.SIGTERM, _stop)
    out = sys.stdout
    out.write(ENTER)
    try:
        while True:
            size = shutil.get_terminal_size()  # the frame's: a resize from now on redraws
            try:
                cfg = config.load(app.root)
                text = draw(app, cfg, clock.now(cfg.zone), size, live=True)[0]
            except CasectlError as err:  # a rules file half edited: say so, keep watching
                text = terminal.safe(str(err))
            out.write(HOME + text.replace("\n", CLEAR_LINE + "\n") + CLEAR_LINE + CLEAR_BELOW)
            out.flush()
            until = time.monotonic() + interval
            while time.monotonic() < until and shutil.get_terminal_size() == size:
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        out.write(LEAVE)
        out.flush()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def write_page(app: App, target: str, refresh: int) -> None:
    """The board as a page at `target`, written whole and swapped in."""
    from casectl import board

    index = app.index()
    found = board.gather(index.open_summaries(), app.now, app.cfg.due_soon.total_seconds())
    text = board.page(found, app.cfg, refresh, len(index.broken))
    try:
        board.write_page(target, text)
    except OSError as err:
        raise CasectlError(
            _("the board page {path} was not written: {reason}").format(
                path=target, reason=err.strerror or err
            )
        ) from None


def rewrite_page(app: App) -> str | None:
    """The sweep's part: rewrite the page `git config casectl.board-html` names (relative
    to the repository), if any; why it could not be written, or None. Unset, this costs
    one read of the clone's git config file."""
    from casectl import identity

    path = identity.local(app.root, SETTING)
    if not path:
        return None
    try:
        write_page(app, os.path.join(app.root, os.path.expanduser(path)), PAGE_REFRESH)
    except CasectlError as err:
        return str(err)
    return None
