"""`.git` bytes per committed step at an alarm storm's day density (issue 29, target 4).

python bench/gitbytes.py
  (BENCH_GB_STEPS=300, BENCH_GB_DAY=5000, BENCH_GB_OTHERS=3000, BENCH_GB_PACE=30 seconds)

A repository of BENCH_GB_OTHERS cases over other days (a third open) and one day folder
holding BENCH_GB_DAY cases opened that day, committed in one commit and packed, as a
clone is (made once in bench/out/gitbytes-*, copied for each run). Then BENCH_GB_STEPS
`casectl log ID TEXT` steps, each committed as a user's is (CASECTL_PUSH=0, its own
CASECTL_NOW, PACE seconds after the last, and text), on random cases of that day, with
cron's `casectl sweep` every 10 steps (its commits, of what fell due meanwhile, count
too: a smaller PACE leaves less to fall due). Prints:
- `.git` growth per step: the bytes of `.git` after the last sweep's housekeeping ended,
  less those before the first step, divided by the steps; and of `.git/objects` alone
  (the rest: the split index's shared files, kept two weeks; reflogs; casectl's state);
- the median of the loose-object bytes each step adds (a step's own writes, before any
  housekeeping packs them);
- a step's median wall time and the sweeps' (housekeeping included, detached or not).
The repository's objects are counted after the detached housekeeping of the last sweep
ended (its gc.pid or the repack it started is gone).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
NOW = "2026-11-26T14:05:00+08:00"
STEPS = int(os.environ.get("BENCH_GB_STEPS", "300"))
DAY = int(os.environ.get("BENCH_GB_DAY", "5000"))
OTHERS = int(os.environ.get("BENCH_GB_OTHERS", "3000"))
PACE = float(os.environ.get("BENCH_GB_PACE", "30"))  # seconds of CASECTL_NOW between steps
CASECTL = str(Path(sys.executable).parent / "casectl")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return done.stdout.decode()


def storm_repository(day: int, others: int) -> tuple[Path, list[str]]:
    """Cases over other days, and `day` cases opened on NOW's day: committed, packed."""
    sys.path.insert(0, str(HERE))
    import generate  # bench/generate.py

    from casectl import config, yamlio
    from casectl.model import Case
    from casectl.store import relative_path
    from casectl.sweep import sweep_case

    root = OUT / f"gitbytes-{day}-{others}"
    listed = Path(f"{root}.day")
    if (root / ".bench-committed").exists():
        return root, listed.read_text(encoding="utf-8").split()
    print(f"generating {root.name} ...", file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.fromisoformat(NOW)
    generate.generate(root, others // 3, others - others // 3, now)
    cfg = config.load(str(root))
    rng = random.Random(29)
    midnight = now.replace(hour=0, minute=0, second=0)
    ids: list[str] = []
    while len(ids) < day:
        opened = midnight + timedelta(minutes=rng.uniform(0, 600))
        case_id, document = generate.case(opened, now, False, rng)
        path = root / relative_path(case_id)
        if not case_id.startswith(f"{now:%y%m%d}") or path.exists():
            continue  # another day, or an id drawn twice
        swept = Case(case_id, document["events"])
        sweep_case(swept, cfg, swept.events[-1]["at"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(yamlio.dump(swept.to_document()))
        ids.append(case_id)
    git(root, "config", "gc.auto", "0")  # the repository stays as made
    git(root, "add", "-A", "--", "cases")
    who = ["-c", "user.name=bench", "-c", "user.email=bench@casectl"]
    git(root, *who, "commit", "-q", "--no-verify", "-m", "cases as generated")
    git(root, "gc", "-q")
    git(root, "commit-graph", "write", "--reachable", "--changed-paths", "--split")
    listed.write_text("\n".join(ids) + "\n", encoding="utf-8")
    (root / ".bench-committed").touch()  # ignored by casectl: not under cases/
    return root, ids


def bytes_under(folder: Path, loose_only: bool = False) -> int:
    total = 0
    for top, _, names in os.walk(folder):
        if loose_only and len(os.path.basename(top)) != 2:
            continue
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # packed away meanwhile
                total += os.lstat(os.path.join(top, name)).st_size
    return total


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()}")
    return elapsed


def housekeeping_done(gitdir: Path) -> None:
    """Wait for the detached housekeeping the last sweep started: git gc's gc.pid, any
    git at work in this repository (casectl.repair.gits_running), casectl's own."""
    from casectl import gitrepo, repair

    repacking = getattr(gitrepo, "_repacking", lambda _root: False)  # casectl's, once it has it
    root = str(gitdir.parent)
    time.sleep(0.25)
    for _ in range(1200):
        busy = (gitdir / "gc.pid").exists() or repair.gits_running(root) or repacking(root)
        if not busy:
            return
        time.sleep(0.25)


def git_bytes_per_step(
    steps: int = STEPS, day: int = DAY, others: int = OTHERS
) -> dict[str, float]:
    """The measurements (bytes, seconds) of `steps` committed steps at `day` cases in
    the day's folder; also printed."""
    made, ids = storm_repository(day, others)
    work = OUT / f"{made.name}-steps"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["cp", "-a", str(made), str(work)], check=True)
    git(work, "config", "--unset", "gc.auto")  # git's own default, as in a user's clone
    start = datetime.fromisoformat(NOW)
    env = {**os.environ, "CASECTL_REPO": str(work), "CASECTL_PUSH": "0",
           "CASECTL_USER": "zhang.wei", "CASECTL_NOW": NOW}  # fmt: skip
    wall([CASECTL, "sweep"], env)  # the index, warm; what was due, on record
    housekeeping_done(work / ".git")
    before = bytes_under(work / ".git")
    objects_before = bytes_under(work / ".git" / "objects")
    first = int(git(work, "rev-list", "--count", "HEAD"))
    head = git(work, "rev-parse", "HEAD").strip()
    old_packs = set((work / ".git" / "objects" / "pack").glob("*.idx"))
    rng = random.Random(4)
    loose, logs, sweeps = [], [], []
    for i in range(steps):
        env["CASECTL_NOW"] = (start + timedelta(seconds=PACE * (i + 1))).isoformat()
        was = bytes_under(work / ".git" / "objects", loose_only=True)
        logs.append(wall([CASECTL, "log", rng.choice(ids), f"已联系客户，第 {i} 次跟进"], env))
        grown = bytes_under(work / ".git" / "objects", loose_only=True) - was
        if grown >= 0:  # else housekeeping packed some meanwhile
            loose.append(grown)
        if i % 10 == 9:
            sweeps.append(wall([CASECTL, "sweep"], env))  # cron: every 5 minutes
    housekeeping_done(work / ".git")
    after = bytes_under(work / ".git")
    objects_after = bytes_under(work / ".git" / "objects")
    commits = int(git(work, "rev-list", "--count", "HEAD")) - first
    swept = sweeps_case_bytes(work, head, old_packs)
    found = {
        "git_bytes_per_step": (after - before) / steps,
        "object_bytes_per_step": (objects_after - objects_before) / steps,
        "bytes_per_step_sweeps_cases_aside": (after - before - swept) / steps,
        "loose_bytes_median": statistics.median(loose),
        "log_seconds_median": statistics.median(logs),
        "sweep_seconds_median": statistics.median(sweeps),
        "sweep_seconds_max": max(sweeps),
        "git_mb_before": before / 2**20,
        "git_mb_after": after / 2**20,
    }
    packs = len(list((work / ".git" / "objects" / "pack").glob("*.pack")))
    print(f"{steps} committed steps ({commits} commits) on a day of {day} cases "
          f"(+{others} on other days):\n"
          f"  .git grew {found['git_bytes_per_step'] / 1024:.1f} KB per step "
          f"({found['git_mb_before']:.1f} MB -> {found['git_mb_after']:.1f} MB, {packs} packs), "
          f"objects/ {found['object_bytes_per_step'] / 1024:.1f} KB\n"
          f"  the case files the sweeps changed aside: "
          f"{found['bytes_per_step_sweeps_cases_aside'] / 1024:.1f} KB per step "
          f"(they take {swept / 2**20:.1f} MB)\n"
          f"  loose objects a step writes: median {found['loose_bytes_median'] / 1024:.1f} KB\n"
          f"  a step (log, committed): median {found['log_seconds_median'] * 1000:.0f} ms\n"
          f"  cron's sweep every 10 steps: median {found['sweep_seconds_median'] * 1000:.0f} ms,"
          f" slowest {found['sweep_seconds_max'] * 1000:.0f} ms")  # fmt: skip
    return found


def sweeps_case_bytes(work: Path, since: str, old_packs: set[Path]) -> int:
    """The bytes the case files cron's sweeps changed since `since` take in `.git`: each
    new version's size in the packs made since (a delta's, where it is one), or its
    loose object's. The sweeps' trees and commits are not in it."""
    sizes: dict[str, int] = {}
    for idx in set((work / ".git" / "objects" / "pack").glob("*.idx")) - old_packs:
        for line in git(work, "verify-pack", "-v", str(idx.resolve())).splitlines():
            fields = line.split()
            if len(fields) >= 5 and fields[1] in ("blob", "tree", "commit", "tag"):
                sizes[fields[0]] = int(fields[3])
    total = 0
    for line in git(work, "log", "--format=%H %s", f"{since}..HEAD").splitlines():
        commit, subject = line.split(" ", 1)
        if not subject.startswith("sweep:"):
            continue
        for change in git(work, "diff-tree", "-r", "--no-commit-id", commit).splitlines():
            oid = change.split()[3]
            loose = work / ".git" / "objects" / oid[:2] / oid[2:]
            total += sizes.get(oid) or (loose.stat().st_size if loose.exists() else 0)
    return total


if __name__ == "__main__":
    git_bytes_per_step()
