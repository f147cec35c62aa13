"""`make bench`: casectl's speed and memory targets, measured side by side.

Builds two repositories once (bench/out/, never committed): 10,000 open cases,
and the same 10,000 open plus 100,000 closed. Runs each command several times
and prints the median wall time and the peak memory (max RSS) of each. Targets,
on the 2-core machines this project is built on:
- open and log within 1.25x of `python -c "import click, yaml"`;
- a warm sweep and list with 10,000 open cases at most 150 ms;
- a cold sweep at most 1.1x the time libyaml needs to parse the open files;
- 100,000 closed cases move neither by more than 10%;
- the sweep's peak memory at most 64 MiB.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
NOW = "2026-11-26T14:05:00+08:00"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
BIN = Path(sys.executable).parent
CASECTL = str(BIN / "casectl")


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS in KiB of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0,) and "cases shown" not in err:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err}")
    return elapsed, usage.ru_maxrss


def measure(
    argv: list[str], env: dict[str, str], before=None, runs: int = RUNS
) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times, peaks = [], []
    for _ in range(runs):
        if before:
            before()
        seconds, peak = run(argv, env)
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def repository(name: str, n_open: int, n_closed: int) -> Path:
    root = OUT / name
    if not (root / "severity.yaml").exists():
        print(f"generating {name}: {n_open} open, {n_closed} closed ...", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(root), "--open", str(n_open),
                        "--closed", str(n_closed), "--now", NOW], check=True)  # fmt: skip
        subprocess.run(["git", "-C", str(root), "config", "gc.auto", "0"], check=True)
    return root


def settle(root: Path) -> None:
    """Age cases/open/ as if its last change were an hour ago, and let the index see it."""
    past = time.time() - 3600
    os.utime(root / "cases" / "open", (past, past))
    run([CASECTL, "list"], {**os.environ, "CASECTL_REPO": str(root), "CASECTL_NOW": NOW})


def parse_open(root: Path) -> float:
    """How long libyaml alone takes to parse every open case file (median of 3)."""
    code = (
        "import glob, time, yaml\n"
        f"files = glob.glob('{root}/cases/open/*.yaml')\n"
        "t = time.perf_counter()\n"
        "for f in files:\n"
        "    yaml.load(open(f, 'rb').read(), Loader=yaml.CSafeLoader)\n"
        "print(time.perf_counter() - t)\n"
    )
    out = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(3)]
    return statistics.median(out)


def main() -> None:
    small = repository("open-10k", 10_000, 0)
    large = repository("open-10k-closed-100k", 10_000, 100_000)
    rows: list[tuple[str, float, int, str]] = []

    def add(label: str, result: tuple[float, int], target: str) -> None:
        rows.append((label, result[0], result[1], target))

    base_env = {**os.environ, "CASECTL_NOW": NOW, "CASECTL_USER": "zhang.wei"}
    baseline = measure([sys.executable, "-c", "import click, yaml"], base_env, runs=RUNS * 2)
    add('python -c "import click, yaml"', baseline, "baseline")
    limit = f"<= {1.25 * baseline[0] * 1000:.0f} ms"
    for root, tag in ((small, "10k open"), (large, "10k open + 100k closed")):
        env = {**base_env, "CASECTL_REPO": str(root)}
        case_id = sorted(os.listdir(root / "cases" / "open"))[0][:-5]
        index = root / ".casectl" / "open-index"
        cold = measure(
            [CASECTL, "sweep", "--dry-run"],
            env,
            before=lambda i=index: i.unlink(missing_ok=True),
            runs=3,
        )
        add(f"sweep, cold: no index ({tag})", cold, "<= 1.1x parse")
        # warm, as on a cron host: the last sweep acted, the folder has not changed since
        run([CASECTL, "sweep", "--no-commit"], env)
        settle(root)
        add(
            f"sweep, warm ({tag})",
            measure([CASECTL, "sweep", "--no-commit"], env),
            "<= 150 ms, 64 MiB",
        )
        add(f"list, warm ({tag})", measure([CASECTL, "list"], env), "<= 150 ms")
        add(f"list --json, warm ({tag})", measure([CASECTL, "list", "--json"], env), "")
        add(f"show ({tag})", measure([CASECTL, "show", case_id], env), "")
        add(
            f"log --no-commit ({tag})",
            measure([CASECTL, "log", case_id, "检查", "--no-commit"], env),
            limit,
        )
        opening = [CASECTL, "open", "--customer", "某客户", "--contact", "王工", "--contract",
                   "HT-1", "--severity", "3", "--description", "基准测试", "--no-commit"]  # fmt: skip
        add(f"open --no-commit ({tag})", measure(opening, {**env, "CASECTL_USER": "li.na"}), limit)
        parse = parse_open(root)
        rows.append((f"libyaml parse of the open files ({tag})", parse, 0, "reference"))
        cold_ratio = cold[0] / parse
        rows.append((f"  cold sweep / parse ({tag})", cold_ratio, 0, "ratio"))
    print(render(rows))


def render(rows: list[tuple[str, float, int, str]]) -> str:
    lines = ["| measurement | median | peak RSS | target |", "|---|---:|---:|---|"]
    for label, seconds, peak, target in rows:
        value = f"{seconds:.2f}x" if target == "ratio" else f"{seconds * 1000:.0f} ms"
        memory = f"{peak / 1024:.0f} MiB" if peak else ""
        lines.append(f"| {label} | {value} | {memory} | {target} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
