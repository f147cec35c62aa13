"""`make bench`: casectl's speed, memory and repository-growth targets, measured side by side.

Builds its repositories once (bench/out/, never committed; delete it to start again):
10,000 open cases; the same 10,000 open plus 100,000 closed; 50,000 open. Each is
committed in one commit and packed, like a fresh clone. Runs each command several
times, alternating it run by run with its reference (`python -c "import click, yaml"`,
the floor every command pays, unless a row says otherwise) because these shared
machines drift, and prints the median wall time, the peak memory (max RSS) and the
ratio of the medians. Targets (issue 14), on the 2-core machines this project is
built on:
- `open` and `log` without commit within 1.2x of the floor;
- a warm sweep with nothing due within 1.3x at 10,000 open and 1.5x at 50,000, under
  64 MiB; a warm `list` within 2x at 10,000 open and 3.5x at 50,000;
  `list --status closed` at 100,000 closed within 5x;
- a cold sweep at most 1.1x the time libyaml needs to parse the files it reads;
- a catch-up sweep of about 2,500 actions at 10,000 open, with its commit, under 5 s;
- over 1,000 committed steps at 110,000 cases: at most 10 KB of loose objects per
  step, a step's commit at most 1.1x a commit of one file in a small repository, and
  `.git` within 2x of its packed size with only cron's sweep doing housekeeping;
- `history --diff` on a case with 50 commits, with a commit-graph, under 0.5 s;
- a day's report with 10,000 open and 100,000 closed cases under 1 s warm;
- a signed step's commit (issue 23) at most one `ssh-keygen -Y sign` slower than unsigned.

BENCH_RUNS sets the runs per row (7), BENCH_STEPS the committed steps (1000), and
BENCH_ONLY measures only the rows whose label holds it.
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
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from casectl.store import Store

HERE = Path(__file__).parent
OUT = HERE / "out"
NOW = "2026-11-26T14:05:00+08:00"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
STEPS = int(os.environ.get("BENCH_STEPS", "1000"))
ONLY = os.environ.get("BENCH_ONLY", "")  # measure only the rows whose label holds this
BIN = Path(sys.executable).parent
CASECTL = str(BIN / "casectl")
BASELINE = [sys.executable, "-c", "import click, yaml"]
Row = tuple[str, str, str, str]


Argv = list[str] | Callable[[int], list[str]]  # a command, or one per run (distinct steps)


def run(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,) and b"cases shown" not in err:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode()}")
    return elapsed


def peak_rss(argv: list[str], env: dict[str, str]) -> int:
    """Peak RSS in KiB of the measured process alone: GNU time forks it from its own small
    process (a child forked from this bench would count the bench's pages until exec)."""
    with open(OUT / "rss", "w+") as out:
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        timed = ["/usr/bin/time", "-f", "%M", "-o", out.name, *argv]
        subprocess.run(timed, env=env, check=False, **quiet)  # type: ignore[call-overload]
        out.seek(0)
        return int(out.read().split()[-1])


def measure(
    argv: Argv,
    env: dict[str, str],
    reference: list[str] | None = None,
    runs: int = RUNS,
    before: Callable[[], object] | None = None,
) -> tuple[float, int, float | None, float]:
    """Median seconds and peak KiB of `argv`; with `reference`, alternated with it run by
    run (this VM's speed drifts), the reference's median, and how much the reference's
    own runs spread (max/min), which says how noisy the machine was. `argv` may give each
    run its own command, so that no run times a retry of the one before."""
    command = argv if callable(argv) else (lambda _i: argv)
    times, ref_times = [], []
    for i in range(runs):
        if reference:
            ref_times.append(run(reference, env))
        if before:
            before()
        times.append(run(command(i), env))
    if before:
        before()
    peak = peak_rss(command(runs), env)
    ref = statistics.median(ref_times) if ref_times else None
    spread = max(ref_times) / min(ref_times) if ref_times else 1.0
    return statistics.median(times), peak, ref, spread


def git(root: Path, *args: str, capture: bool = False) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=capture)
    return done.stdout.decode() if capture else ""


def repository(name: str, n_open: int, n_closed: int, commit: bool = True) -> Path:
    """The generated repository, committed in one commit and packed (made once); without
    `commit`, its cases are left uncommitted (what is timed in it runs no git)."""
    root = OUT / name
    if not (root / "severity.yaml").exists():
        print(f"generating {name}: {n_open} open, {n_closed} closed ...", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        generate = [sys.executable, str(HERE / "generate.py"), str(root)]
        options = ["--open", str(n_open), "--closed", str(n_closed), "--now", NOW]
        subprocess.run([*generate, *options], check=True)
    if commit and not (root / ".bench-committed").exists():
        print(f"committing and packing {name} ...", file=sys.stderr)
        git(root, "config", "gc.auto", "0")  # the repositories measured stay as made
        commit_cases(root)
        git(root, "gc", "-q")
        git(root, "commit-graph", "write", "--reachable", "--changed-paths", "--split")
        (root / ".bench-committed").touch()  # ignored by casectl: not under cases/
    return root


def commit_cases(root: Path) -> None:
    """Commit every case file as generated, in one commit (unless that is done)."""
    git(root, "add", "-A", "--", "cases")
    staged = subprocess.run(["git", "-C", str(root), "diff", "--cached", "--quiet"])
    if staged.returncode:
        identity = ["-c", "user.name=bench", "-c", "user.email=bench@casectl"]
        git(root, *identity, "commit", "-q", "--no-verify", "-m", "cases as generated")


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
    """libyaml alone parsing the open case files (or all of them): a cold run's reference.
    The paths go in a file: as one argument they pass the kernel's limit."""
    from casectl.store import relative_path

    if only_open:
        listed = Path(f"{root}.paths")
        listed.write_text("\n".join(str(root / relative_path(i)) for i in open_ids(root)))
        paths = f"open({str(listed)!r}).read().split()"
    else:
        paths = f"glob.glob('{root}/cases/*/*/*/*.yaml')"
    code = (
        "import glob, yaml\n"
        f"for f in {paths}:\n"
        "    yaml.load(open(f, 'rb').read(), Loader=yaml.CSafeLoader)\n"
    )
    return [sys.executable, "-c", code]


def later(minutes: int) -> str:
    return (datetime.fromisoformat(NOW) + timedelta(minutes=minutes)).isoformat()


class Bench:
    """The table's rows, and how noisy the floor was while they were measured."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.spreads: list[float] = []
        self.floors: list[float] = []

    def add(self, label: str, argv: Argv, env: dict[str, str], target: str, **kw: Any
            ) -> float:  # fmt: skip
        if ONLY not in label:
            return 0.0
        reference = kw.pop("reference", BASELINE)
        seconds, peak, ref, spread = measure(argv, env, reference=reference, **kw)
        if reference is BASELINE and ref:
            self.spreads.append(spread)
            self.floors.append(ref)
        ratio = f"{seconds / ref:.2f}x" if ref else ""
        self.row(label, f"{seconds * 1000:.0f} ms", f"{peak / 1024:.0f} MiB", f"{ratio}  {target}")
        return seconds

    def row(self, label: str, median: str, peak: str, ratio_target: str) -> None:
        self.rows.append((label, median, peak, ratio_target.strip()))
        print(f"  {label}: {median} {peak} {ratio_target}", file=sys.stderr)


def main() -> None:
    check_bytecode()
    small = repository("open-10k", 10_000, 0)
    large = repository("open-10k-closed-100k", 10_000, 100_000)
    many = repository("open-50k", 50_000, 0)
    bench = Bench()
    base_env = {**os.environ, "CASECTL_NOW": NOW, "CASECTL_USER": "zhang.wei"}
    for root, tag in ((small, "10k open"), (large, "10k open + 100k closed")):
        env = {**base_env, "CASECTL_REPO": str(root)}
        cold_and_warm(bench, root, tag, env, "1.3x", "2x")
        if root == large:
            bench.add("list --status closed, warm (100k closed)",
                      [CASECTL, "list", "--status", "closed"], env, "target <= 5x")  # fmt: skip
        day_report = [CASECTL, "report", "--json"]  # yesterday: the morning's cron job
        bench.add(f"report, a day, first run ({tag})", day_report, env, "builds its facts",
                  runs=1, before=lambda r=root: forget_facts(r))  # fmt: skip
        bench.add(f"report, a day, warm ({tag})", day_report, env, "target < 1 s")
        steps_without_commit(bench, root, tag, env)
    env = {**base_env, "CASECTL_REPO": str(many)}
    if ONLY in "sweep, warm (50k open) list, warm (50k open)":
        run([CASECTL, "sweep", "--no-commit"], env)
        settle(many)
    bench.add("sweep, warm (50k open)", [CASECTL, "sweep", "--no-commit"], env,
              "target <= 1.5x, 64 MiB")  # fmt: skip
    bench.add("list, warm (50k open)", [CASECTL, "list"], env, "target <= 3.5x")
    if not ONLY or "100k" in ONLY or "after a step" in ONLY:  # issue 29: a busy center
        at_100k(bench, base_env)
    if ONLY in "sweep, catch-up":
        catch_up(bench, small, base_env)
    if ONLY in "committed steps, history --diff":
        committed_steps(bench, large, base_env)
    if ONLY in "a step with its push":
        step_with_push(bench, large, base_env)
    if ONLY in "a signed step's commit":  # issue 23
        signed_steps(bench, base_env)
    if ONLY in "catalog load, zh_CN":  # issue 15: the .mo's load alone, timed inside a process
        probe = "import time; from casectl import i18n; t = time.perf_counter(); "
        probe += "i18n._catalog('zh_CN'); print(time.perf_counter() - t)"
        timed = [sys.executable, "-c", probe]
        loads = [float(subprocess.check_output(timed, text=True)) for _ in range(RUNS)]
        ms = statistics.median(loads) * 1000
        bench.row("catalog load, zh_CN (in process)", f"{ms:.2f} ms", "", "target <= 2 ms")
    floor = bench.floors or [0.0]
    floors = ", ".join(f"{f * 1000:.0f}" for f in (min(floor), max(floor)))
    noise = max(bench.spreads) if bench.spreads else 1.0
    print(f"\nfloor: {' '.join(BASELINE[1:])}, run alternately with each command; its median")
    print(f"ranged {floors} ms between rows, and within one row up to {noise:.2f}x.\n")
    print(render(bench.rows))


def cold_and_warm(
    bench: Bench, root: Path, tag: str, env: dict[str, str], sweep: str, listing: str
) -> None:
    state = Path(Store(str(root)).state_dir)  # the clone's index, in its git directory
    bench.add(
        f"sweep, first run after a clone: no index ({tag})",
        [CASECTL, "sweep", "--dry-run"],
        env,
        "of libyaml's parse of every file; target <= 1.1x",
        reference=parse_command(root, only_open=False),
        runs=3,
        before=lambda s=state: shutil.rmtree(s, ignore_errors=True),
    )
    index = state / "index"
    bench.add(
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
    warm_sweep = [CASECTL, "sweep", "--no-commit"]
    bench.add(f"sweep, warm ({tag})", warm_sweep, env, f"target <= {sweep}, 64 MiB")
    bench.add(f"list, warm ({tag})", [CASECTL, "list"], env, f"target <= {listing}")
    bench.add(f"list --json, warm ({tag})", [CASECTL, "list", "--json"], env, "")


def steps_without_commit(bench: Bench, root: Path, tag: str, env: dict[str, str]) -> None:
    from casectl.store import relative_path

    names = sorted(open_ids(root))
    case_id = names[len(names) // 2]  # a generated case, as the generator made it
    bench.add(f"show ({tag})", [CASECTL, "show", case_id], env, "")
    bench.add(  # issue 15: the catalog's load and lookups, against the same show in English
        f"show in Chinese, LANG=zh_CN.UTF-8 ({tag})",
        ["env", "LANG=zh_CN.UTF-8", CASECTL, "show", case_id],
        env,
        "of show with LANG=C; target: + <= 2 ms",
        reference=["env", "LANG=C", CASECTL, "show", case_id],
    )
    # the same realistic case each run: restore it, or every run would grow it
    target = root / relative_path(case_id)
    original = target.read_bytes()
    bench.add(
        f"log --no-commit ({tag})",
        [CASECTL, "log", case_id, "检查", "--no-commit"],
        env,
        "target <= 1.2x",
        before=lambda t=target, o=original: t.write_bytes(o),
    )
    target.write_bytes(original)

    def opening(i: int) -> list[str]:  # each run its own case: none is a retry of the last
        intake = ["--customer", "某客户", "--contact", "王工", "--contract", "HT-1"]
        return [CASECTL, "open", *intake, "--severity", "3", "--description", f"基准测试 {i}",
                "--no-commit"]  # fmt: skip

    bench.add(
        f"open --no-commit ({tag})", opening, {**env, "CASECTL_USER": "li.na"}, "target <= 1.2x"
    )
    for made in (root / "cases").glob(f"{NOW[2:4]}/{NOW[5:7]}/{NOW[8:10]}/*.yaml"):
        if made.stem not in names and not git(root, "ls-files", str(made), capture=True):
            made.unlink()  # the cases `open` made: the next run starts as generated


def at_100k(bench: Bench, base_env: dict[str, str]) -> None:
    """100,000 open cases and 1,000,000 closed ones (uncommitted: nothing timed here runs
    git): the first sweep and list after a step, list's filters, the day's report."""
    huge = repository("open-100k-closed-1m", 100_000, 1_000_000, commit=False)
    tag = "100k open + 1M closed"
    env = {**base_env, "CASECTL_REPO": str(huge)}
    run([CASECTL, "sweep", "--no-commit"], env)  # what was due at NOW, acted on
    settle(huge)
    ids, steps = sorted(open_ids(huge)), iter(range(10**6))
    rng = random.Random(29)

    def step() -> None:  # each a distinct note on a random open case, as engineers make
        run([CASECTL, "log", rng.choice(ids), f"基准 {next(steps)}", "--no-commit"], env)

    bench.add(f"sweep, first after a step ({tag})", [CASECTL, "sweep", "--no-commit"], env,
              "target <= 1.5x", before=step)  # fmt: skip
    bench.add(f"list, first after a step ({tag})", [CASECTL, "list"], env, "target <= 1.5x",
              before=step)  # fmt: skip
    bench.add(f"sweep, warm ({tag})", [CASECTL, "sweep", "--no-commit"], env, "")
    bench.add(f"list, warm ({tag})", [CASECTL, "list"], env, "")
    for wanted in (["--assignee", "zhang.wei"], ["--severity", "2"], ["--overdue"],
                   ["--mine"], ["--customer", "招商"], ["--due-within", "1h"]):  # fmt: skip
        bench.add(f"list {' '.join(wanted)} ({tag})", [CASECTL, "list", *wanted], env,
                  "target <= 2x")  # fmt: skip
    day_report = [CASECTL, "report", "--json"]
    bench.add(f"report, a day, first run ({tag})", day_report, env, "builds its facts",
              runs=1, before=lambda: forget_facts(huge))  # fmt: skip
    bench.add(f"report, a day, warm ({tag})", day_report, env, "target < 1 s, 200 MiB")
    bench.add(f"report --rows 0 (every row of every list), warm ({tag})",
              [*day_report, "--rows", "0"], env, "")  # fmt: skip


def forget_facts(root: Path) -> None:
    """The report's facts gone from the index, as before a clone's first report."""
    shutil.rmtree(Path(Store(str(root)).state_dir) / "index-facts", ignore_errors=True)


def catch_up(bench: Bench, small: Path, base_env: dict[str, str]) -> None:
    """A sweep two hours after the last one, at 10,000 open cases, with its commit."""
    work = OUT / "catch-up-10k"
    env = {**base_env, "CASECTL_REPO": str(work)}
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["cp", "-a", str(small), str(work)], check=True)
    shutil.copy(f"{small}.open", f"{work}.open")
    run([CASECTL, "sweep"], env)  # the sweep at NOW, as cron ran it
    settle(work)
    base = git(work, "rev-parse", "HEAD", capture=True).strip()

    def restore() -> None:  # the files as they were, and an index that knows them
        git(work, "reset", "-q", "--hard", base)
        settle(work)

    catch = {**env, "CASECTL_NOW": later(120)}
    seconds = bench.add("sweep, catch-up after 2 h, committed (10k open)", [CASECTL, "sweep"],
                        catch, "target < 5 s", runs=3, before=restore)  # fmt: skip
    if seconds:
        subject = git(work, "log", "-1", "--format=%s", capture=True).strip()
        last = bench.rows[-1]
        bench.rows[-1] = (f"{last[0]}: {subject.split(': ', 1)[-1]}", *last[1:])


def loose_bytes(root: Path) -> int:
    """The bytes of the loose objects; git's gc may be packing them meanwhile."""
    total = 0
    for folder, _, names in os.walk(root / ".git" / "objects"):
        if len(os.path.basename(folder)) == 2:
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    total += os.lstat(os.path.join(folder, name)).st_size
    return total


def tree_bytes(folder: Path) -> int:
    return sum(
        os.lstat(os.path.join(d, n)).st_size for d, _, names in os.walk(folder) for n in names
    )


def small_repository(base_env: dict[str, str]) -> tuple[Path, list[str]]:
    """A small case repository (20 open cases, committed): the reference commit's home."""
    root = OUT / "steps-small"
    shutil.rmtree(root, ignore_errors=True)
    generate = [sys.executable, str(HERE / "generate.py"), str(root)]
    subprocess.run([*generate, "--open", "20", "--closed", "0", "--now", NOW], check=True)
    commit_cases(root)
    run([CASECTL, "list"], {**base_env, "CASECTL_REPO": str(root)})
    return root, open_ids(root)


def committed_steps(bench: Bench, large: Path, base_env: dict[str, str]) -> None:
    """1,000 `log` steps at 110,000 cases, each committed; cron's sweep every ten steps.

    Each step writes its case with `log --no-commit`, then is committed by
    `gitrepo.commit`, what `log` itself calls, timed in this process; one commit in a
    small repository is timed alternately with it. Every twentieth step is on one case,
    so it ends with 50 commits for `history --diff`.
    """
    from casectl import gitrepo

    work = OUT / "steps-110k"
    shutil.rmtree(work, ignore_errors=True)
    print(f"copying {large.name} for {STEPS} committed steps ...", file=sys.stderr)
    subprocess.run(["cp", "-a", str(large), str(work)], check=True)
    git(work, "config", "--unset", "gc.auto")  # git's own default, as in a user's clone
    settle(work)  # the copy's folders have new inodes: index them first, as a clone would
    little, little_ids = small_repository(base_env)
    env = {**base_env, "CASECTL_REPO": str(work)}
    little_env = {**base_env, "CASECTL_REPO": str(little)}
    ids = sorted(open_ids(large))
    followed = ids[len(ids) // 3]
    rng = random.Random(3)
    packed = tree_bytes(work / ".git")
    author = ("张伟", "zhang.wei@example.com")
    grown, big_commits, small_commits, floors, sweeps = [], [], [], [], []
    for i in range(STEPS):
        for root, cases, timings, step_env in (
            (work, ids, big_commits, env),
            (little, little_ids, small_commits, little_env),
        ):
            case_id = followed if root == work and i % 20 == 0 else rng.choice(cases)
            text = f"已联系客户，第 {i} 次跟进"
            run([CASECTL, "log", case_id, text, "--no-commit"], step_env)
            before = loose_bytes(root) if root == work else 0
            path = str(root / relative(case_id))
            message = gitrepo.message(f"{case_id}: note (zhang.wei)", text, [case_id])
            start = time.perf_counter()
            gitrepo.commit(str(root), [path], author, message, print)
            timings.append(time.perf_counter() - start)
            after = loose_bytes(root) if root == work else 0
            if root == work and after >= before:  # else git's gc packed them meanwhile
                grown.append(after - before)
        floors.append(run(BASELINE, env))
        if i % 10 == 9:
            sweeps.append(run([CASECTL, "sweep"], env))  # cron: every 5 minutes
    while (work / ".git" / "gc.pid").exists():  # a gc the last sweep started, detached
        time.sleep(0.5)
    end = tree_bytes(work / ".git")
    per_step = statistics.median(grown)
    big, small = statistics.median(big_commits), statistics.median(small_commits)
    tag = f"110k cases, {STEPS} steps"
    bench.row(f".git loose objects per committed step ({tag})", f"{per_step / 1024:.1f} KB", "",
              f"mean {statistics.mean(grown) / 1024:.1f} KB; target <= 10 KB")  # fmt: skip
    bench.row(f"a step's commit of one file ({tag})", f"{big * 1000:.0f} ms", "",
              f"{big / small:.2f}x of one in a small repository ({small * 1000:.0f} ms); "
              "target <= 1.1x")  # fmt: skip
    bench.row(f"cron's sweep every 10 steps, nothing due ({tag})",
              f"{statistics.median(sweeps) * 1000:.0f} ms", "",
              f"{statistics.median(sweeps) / statistics.median(floors):.2f}x; "
              f"slowest {max(sweeps) * 1000:.0f} ms (housekeeping)")  # fmt: skip
    graph = work / ".git" / "objects" / "info" / "commit-graphs"
    if not graph.exists():
        gitrepo.write_commit_graph(str(work))
    bench.add(f"history --diff, a case with 50 commits ({tag})",
              [CASECTL, "history", followed, "--diff"], env, "target < 0.5 s")  # fmt: skip
    git(work, "gc", "-q", "--prune=now")
    repacked = tree_bytes(work / ".git")
    bench.row(f".git after the steps, housekeeping by cron's sweep only ({tag})",
              f"{end / 2**20:.0f} MB", "",
              f"{end / repacked:.2f}x of packed ({repacked / 2**20:.0f} MB; "
              f"{packed / 2**20:.0f} MB before the steps); target <= 2x")  # fmt: skip


def step_with_push(bench: Bench, large: Path, base_env: dict[str, str]) -> None:
    """A committed step in a clone of the 110,000-file repository with a remote (a bare
    repository on this machine): the step's own time, then until the remote has it (the
    step shares it in the background), against a plain `git push` of one commit there."""
    work, remote = OUT / "push-110k", OUT / "push-110k.git"
    for folder in (work, remote):
        shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(large), str(remote)], check=True)
    subprocess.run(["git", "clone", "-q", str(remote), str(work)], check=True)
    subprocess.run([CASECTL, "--repo", str(work), "setup-git"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    shutil.copy(f"{large}.open", f"{work}.open")
    case_id = sorted(open_ids(work))[0]
    env = {**base_env, "CASECTL_REPO": str(work), "CASECTL_USER": "zhang.wei"}
    run([CASECTL, "list"], env)  # the index, warm
    alone, shared, pushes = [], [], []
    for i in range(RUNS):
        step = [CASECTL, "log", case_id, f"推送基准 {i}"]
        alone.append(run(step, {**env, "CASECTL_PUSH": "0"}))
        start = time.perf_counter()
        subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD"], check=True)
        pushes.append(time.perf_counter() - start)
        start = time.perf_counter()
        run([*step[:-1], f"推送基准 {i} 共享"], {**env, "CASECTL_PUSH": "1"})
        prompt = time.perf_counter() - start
        head = git(work, "rev-parse", "HEAD", capture=True).strip()
        while git(remote, "rev-parse", "HEAD", capture=True).strip() != head:
            time.sleep(0.002)
        shared.append((prompt, time.perf_counter() - start))
    step_s, push_s = statistics.median(alone), statistics.median(pushes)
    prompt_s = statistics.median(p for p, _ in shared)
    total_s = statistics.median(t for _, t in shared)
    bench.row("a step with its push, until the remote has it (110k files)",
              f"{total_s * 1000:.0f} ms", "",
              f"{(total_s - step_s) / push_s:.2f}x of a plain push ({push_s * 1000:.0f} ms) over "
              f"the step alone ({step_s * 1000:.0f} ms); the prompt back after "
              f"{prompt_s * 1000:.0f} ms; target <= step + 1.5x push")  # fmt: skip


def signed_steps(bench: Bench, base_env: dict[str, str], steps: int = 50) -> None:
    """A `log` step committed with signing on (`setup-git --sign`: git commit, one
    `ssh-keygen -Y sign`) against the same step unsigned, alternately, in two copies of
    a small repository; and `ssh-keygen -Y sign` of a message alone, the target's unit."""
    from casectl import gitrepo

    plain, ids = small_repository(base_env)
    signed = OUT / "steps-signed"
    shutil.rmtree(signed, ignore_errors=True)
    subprocess.run(["cp", "-a", str(plain), str(signed)], check=True)
    key = OUT / "bench-signing-key"
    key.unlink(missing_ok=True)
    key.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    for name, value in (("gpg.format", "ssh"), ("user.signingKey", str(key)),
                        ("commit.gpgSign", "true")):  # fmt: skip
        git(signed, "config", name, value)
    author = ("张伟", "zhang.wei@example.com")
    timings: dict[Path, list[float]] = {plain: [], signed: []}
    rng = random.Random(23)
    for i in range(steps):
        case_id = rng.choice(ids)
        for root in (plain, signed):
            env = {**base_env, "CASECTL_REPO": str(root)}
            run([CASECTL, "log", case_id, f"第 {i} 次跟进", "--no-commit"], env)
            message = gitrepo.message(f"{case_id}: note (zhang.wei)", "跟进", [case_id])
            start = time.perf_counter()
            gitrepo.commit(str(root), [str(root / relative(case_id))], author, message, print)
            timings[root].append(time.perf_counter() - start)
    if "\ngpgsig -----BEGIN SSH SIGNATURE" not in git(signed, "cat-file", "commit", "HEAD",
                                                      capture=True):  # fmt: skip
        raise SystemExit("bench: the signed repository's commits are not signed")
    alone = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", str(key)],
                       input=b"x" * 300, capture_output=True, check=True)  # fmt: skip
        alone.append(time.perf_counter() - start)
    one, other = statistics.median(timings[signed]), statistics.median(timings[plain])
    once = statistics.median(alone)
    bench.row("a signed step's commit (20 cases)", f"{one * 1000:.0f} ms", "",
              f"unsigned {other * 1000:.0f} ms; +{(one - other) * 1000:.0f} ms, one ssh-keygen "
              f"-Y sign alone {once * 1000:.0f} ms; target: + at most one sign")  # fmt: skip


def relative(case_id: str) -> str:
    from casectl.store import relative_path

    return relative_path(case_id)


def check_bytecode() -> None:
    """Warn when casectl's modules have no current .pyc: every run would compile them
    (12 ms more a command), which is not what a user's install pays."""
    import importlib.util

    package = HERE.parent / "casectl"
    stale = []
    for source in package.rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.exists() or cached.stat().st_mtime < source.stat().st_mtime:
            stale.append(source.relative_to(HERE.parent))
    if stale:
        print(f"warning: {len(stale)} modules without a current .pyc (such as {stale[0]}); "
              "run `python -m compileall casectl` (make bench does)", file=sys.stderr)  # fmt: skip


def render(rows: list[Row]) -> str:
    lines = ["| measurement | median | peak RSS | ratio, target |", "|---|---:|---:|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
