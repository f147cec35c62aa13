"""`python bench/board.py`: the board at 10,000 open cases against a warm `list` (issue 26).

Target: a redraw within 1.5x a warm `list`. Uses `make bench`'s repository of 10,000 open
cases (bench/out/open-10k, made by bench/run.py once and reused). Rows, each the median
of BENCH_RUNS runs (7), the board's runs alternated with `list`'s (the machine drifts):
- `board --once` with COLUMNS=200 LINES=50: a new process drawing one 200x50 frame,
  what a wall screen shows (the target);
- `board --once` into a pipe without LINES: every open case in one frame (for scale);
- a live redraw, timed inside one process as `board --interval` makes it each time:
  the rules and a fresh index read again, every open summary sorted, a 200x50 frame.
"""

from __future__ import annotations

import os
import subprocess
import sys

from run import CASECTL, NOW, RUNS, measure, repository, run, settle

TARGET = 1.5
# one live redraw, timed in a process that already runs (its start-up is paid once)
PROBE = """
import os, shutil, statistics, sys, time
from casectl import clock, config
from casectl.cli.app import App
from casectl.cli.board import draw

app = App(os.environ["CASECTL_REPO"])
times = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    cfg = config.load(app.root)
    draw(app, cfg, clock.now(cfg.zone), shutil.get_terminal_size(), live=True)
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""


def main() -> None:
    root = repository("open-10k", 10_000, 0)
    env = {**os.environ, "CASECTL_REPO": str(root), "CASECTL_NOW": NOW,
           "COLUMNS": "200", "LINES": "50"}  # fmt: skip
    run([CASECTL, "sweep", "--no-commit"], env)  # warm, as on a cron host
    settle(root)
    listing = [CASECTL, "list"]
    board, _, ref, _ = measure([CASECTL, "board", "--once"], env, reference=listing)
    assert ref is not None
    whole = {k: v for k, v in env.items() if k != "LINES"}
    every, _, whole_ref, _ = measure([CASECTL, "board", "--once"], whole, reference=listing)
    assert whole_ref is not None
    redraw = float(
        subprocess.check_output([sys.executable, "-c", PROBE, str(RUNS)], env=env, text=True)
    )
    rows = [
        ("list, warm (10k open)", ref, ""),
        ("board --once, a 200x50 frame (10k open)", board, f"{board / ref:.2f}x of list"),
        ("board --once, every case (10k open)", every, f"{every / whole_ref:.2f}x of list"),
        ("board, one live redraw in process", redraw, f"{redraw / ref:.2f}x of list"),
    ]
    for label, seconds, ratio in rows:
        print(f"{label:<42} {seconds * 1000:7.0f} ms  {ratio}")
    worst = max(board, redraw) / ref
    verdict = "meets" if worst <= TARGET else "MISSES"
    print(f"\n{verdict} the target: a redraw within {TARGET}x a warm list ({worst:.2f}x)")


if __name__ == "__main__":
    main()
