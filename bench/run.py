"""`make bench`: casectl's speed and memory targets, measured side by side.

Builds two repositories once (bench/out/, never committed): 10,000 open cases,
and the same 10,000 open plus 100,000 closed. Runs each command several times
and prints the median wall time and the peak memory (max RSS) of each. Targets,
on the 2-core machines this project is built on:
- open and log within 1.25x of `python -c "import click, yaml"`;
- a warm sweep and list with 10,000 open cases at most 150 ms;
- a cold sweep at most 1.1x the time libyaml needs to parse the files it reads: every
  file on the first run after a clone, the open ones when the rules changed;
- 100,000 closed cases move neither by more than 10%;
- the sweep's peak memory at most 64 MiB;
- a day's report with 10,000 open and 100,000 closed cases under 1 s warm (its facts
  kept in the month index by an earlier report).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OUT = HERE / "out"
NOW = "2026-11-26T14:05:00+08:00"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
ONLY = os.environ.get("BENCH_ONLY", "")  # measure only the rows whose label holds this
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
    argv: list[str],
    env: dict[str, str],
    reference: list[str] | None = None,
    runs: int = RUNS,
    before=None,  # type: ignore[no-untyped-def]
) -> tuple[float, int, float | None]:
    """Median seconds and peak KiB of `argv`; with `reference`, alternated with it run by
    run (this VM's speed drifts), and the reference's median too."""
    times, peaks, ref_times = [], [], []
    for _ in range(runs):
        if reference:
            ref_times.append(run(reference, env)[0])
        if before:
            before()
        seconds, peak = run(argv, env)
        times.append(seconds)
        peaks.append(peak)
    ref = statistics.median(ref_times) if ref_times else None
    return statistics.median(times), max(peaks), ref


def repository(name: str, n_open: int, n_closed: int) -> Path:
    root = OUT / name
    if not (root / "severity.yaml").exists():
        print(f"generating {name}: {n_open} open, {n_closed} closed ...", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                str(root),
                "--open",
                str(n_open),
                "--closed",
                str(n_closed),
                "--now",
                NOW,
            ],
            check=True,
        )
        subprocess.run(["git", "-C", str(root), "config", "gc.auto", "0"], check=True)
    return root


def settle(root: Path) -> None:
    """Age every folder under cases/ as if its last change were an hour ago, and let the
    index see it."""
    past = time.time() - 3600
    for folder, _, _ in os.walk(root / "cases"):
        os.utime(folder, (past, past))
    run([CASECTL, "list"], {**os.environ, "CASECTL_REPO": str(root), "CASECTL_NOW": NOW})


def open_ids(root: Path) -> list[str]:
    return Path(f"{root}.open").read_text(encoding="utf-8").split()


def parse_command(root: Path, only_open: bool) -> list[str]:
    """libyaml alone parsing the open case files (or all of them): a cold run's reference."""
    from casectl.store import relative_path

    paths = [str(root / relative_path(i)) for i in open_ids(root)] if only_open else None
    listed = f"{paths!r}" if paths else f"glob.glob('{root}/cases/*/*/*/*.yaml')"
    code = (
        "import glob, yaml\n"
        f"for f in {listed}:\n"
        "    yaml.load(open(f, 'rb').read(), Loader=yaml.CSafeLoader)\n"
    )
    return [sys.executable, "-c", code]


def main() -> None:
    small = repository("open-10k", 10_000, 0)
    large = repository("open-10k-closed-100k", 10_000, 100_000)
    rows: list[tuple[str, str, str, str]] = []
    baseline = [sys.executable, "-c", "import click, yaml"]
    base_env = {**os.environ, "CASECTL_NOW": NOW, "CASECTL_USER": "zhang.wei"}

    def add(label: str, argv: list[str], env: dict[str, str], target: str, **kw: Any) -> float:
        if ONLY not in label:
            return 0.0
        seconds, peak, ref = measure(argv, env, reference=kw.pop("reference", baseline), **kw)
        ratio = f"{seconds / ref:.2f}x" if ref else ""
        rows.append(
            (label, f"{seconds * 1000:.0f} ms", f"{peak / 1024:.0f} MiB", f"{ratio}  {target}")
        )
        return seconds

    for root, tag in ((small, "10k open"), (large, "10k open + 100k closed")):
        env = {**base_env, "CASECTL_REPO": str(root)}
        names = sorted(open_ids(root))
        case_id = names[len(names) // 2]  # a generated case, as the generator made it
        state = root / ".casectl"
        add(
            f"sweep, first run after a clone: no index ({tag})",
            [CASECTL, "sweep", "--dry-run"],
            env,
            "of libyaml's parse of every file; target <= 1.1x",
            reference=parse_command(root, only_open=False),
            runs=3,
            before=lambda s=state: shutil.rmtree(s, ignore_errors=True),
        )
        index = state / "index"
        add(
            f"sweep, cold: new rules, open cases parsed again ({tag})",
            [CASECTL, "sweep", "--dry-run"],
            env,
            "of libyaml's parse of the open files; target <= 1.1x",
            reference=parse_command(root, only_open=True),
            runs=3,
            before=lambda i=index: i.unlink(missing_ok=True),
        )
        # warm, as on a cron host: the last sweep acted, the folder has not changed since
        run([CASECTL, "sweep", "--no-commit"], env)
        settle(root)
        add(
            f"sweep, warm ({tag})",
            [CASECTL, "sweep", "--no-commit"],
            env,
            "target <= 150 ms, 64 MiB",
        )
        add(f"list, warm ({tag})", [CASECTL, "list"], env, "target <= 150 ms")
        add(f"list --json, warm ({tag})", [CASECTL, "list", "--json"], env, "")
        day_report = [CASECTL, "report", "--json"]  # yesterday: the morning's cron job
        add(f"report, a day, first run ({tag})", day_report, env, "builds its facts", runs=1)
        add(f"report, a day, warm ({tag})", day_report, env, "target < 1 s")
        add(f"show ({tag})", [CASECTL, "show", case_id], env, "")
        add(  # issue 15: the catalog's load and lookups, against the same show in English
            f"show in Chinese, LANG=zh_CN.UTF-8 ({tag})",
            ["env", "LANG=zh_CN.UTF-8", CASECTL, "show", case_id],
            env,
            "of show with LANG=C; target: + <= 2 ms",
            reference=["env", "LANG=C", CASECTL, "show", case_id],
        )
        # the same realistic case each run: restore it, or every run would grow it
        from casectl.store import relative_path

        target = root / relative_path(case_id)
        original = target.read_bytes()
        add(
            f"log --no-commit ({tag})",
            [CASECTL, "log", case_id, "检查", "--no-commit"],
            env,
            "target <= 1.25x",
            before=lambda t=target, o=original: t.write_bytes(o),
        )
        opening = [
            CASECTL,
            "open",
            "--customer",
            "某客户",
            "--contact",
            "王工",
            "--contract",
            "HT-1",
            "--severity",
            "3",
            "--description",
            "基准测试",
            "--no-commit",
        ]
        add(
            f"open --no-commit ({tag})",
            opening,
            {**env, "CASECTL_USER": "li.na"},
            "target <= 1.25x",
        )
    if ONLY in "catalog load, zh_CN":  # issue 15: the .mo's load alone, timed inside a process
        probe = "import time; from casectl import i18n; t = time.perf_counter(); "
        probe += "i18n._catalog('zh_CN'); print(time.perf_counter() - t)"
        timed = [sys.executable, "-c", probe]
        loads = [float(subprocess.check_output(timed, text=True)) for _ in range(RUNS)]
        ms = statistics.median(loads) * 1000
        rows.append(("catalog load, zh_CN (in process)", f"{ms:.2f} ms", "", "target <= 2 ms"))
    print(f"baseline: {' '.join(baseline[1:])}; ratios are to it, run alternately\n")
    print(render(rows))


def render(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| measurement | median | peak RSS | ratio, target |", "|---|---:|---:|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
