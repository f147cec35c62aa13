"""`casectl intake` of 1,000 alerts: the time per alert, for the lead to wire into `make bench`.

A fresh repository with a contract register for 100 arrays; 1,000 distinct HM800 SIM
traps (each array raises 2 codes, each 5 times, at distinct times, so no alert is an
exact repeat that the dedupe shortcut would skip): about 200 new cases,
the rest appended. Measured two ways:
- `--maildir`: all 1,000 in one run (cron's way), committed every 200;
- stdin: one process per trap (snmptrapd's traphandle way), the first BENCH_TRAPS (50).
Prints one line per way: total wall time and milliseconds per alert.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALERTS = int(os.environ.get("BENCH_ALERTS", "1000"))
TRAPS = int(os.environ.get("BENCH_TRAPS", "50"))
CASECTL = str(Path(sys.executable).parent / "casectl")
NOW = "2026-11-26T14:05:00+08:00"
SIM = "1.3.6.1.4.1.116.3.11.4.1.1.0."
VAR = "1.3.6.1.4.1.116.5.11.4.2."


def trap(n: int) -> bytes:
    serial, code = f"{410000 + n % 100}", f"3E{(n // 100) % 2:04d}"
    clock = f"{8 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
    lines = ["localhost", "UDP: [192.0.2.10]:161->[192.0.2.1]:162",
             f".1.3.6.1.6.3.1.1.4.1.0 .{SIM}{1 + n % 4}", f".{VAR}1 {serial}",
             f'.{VAR}3 "{code}"', f'.{VAR}5 "2026/11/26"', f'.{VAR}6 "{clock}"',
             f'.{VAR}7 "bench alert {n}"']  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def repository(root: Path) -> Path:
    repo = root / "cases"
    subprocess.run([CASECTL, "init", str(repo)], check=True, capture_output=True)
    serials = ", ".join(f'"{410000 + n}"' for n in range(100))
    (repo / "contracts.yaml").write_text(
        "contracts:\n  HT-BENCH-1:\n    customer: bench\n    contacts: [bench]\n"
        f"    start: 2026-01-01\n    end: 2027-12-31\n    serials: [{serials}]\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@x"]
    subprocess.run([*git, "add", "contracts.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "register"], check=True)
    return repo


def main() -> None:
    env = os.environ | {"CASECTL_NOW": NOW, "LANG": "C"}
    with tempfile.TemporaryDirectory() as folder:
        repo = repository(Path(folder))
        box = Path(folder) / "Maildir"
        for sub in ("new", "cur", "tmp"):
            (box / sub).mkdir(parents=True)
        for n in range(ALERTS):
            (box / "new" / f"{n:05d}.trap").write_bytes(trap(n))
        start = time.perf_counter()
        subprocess.run([CASECTL, "--repo", str(repo), "intake", "--maildir", str(box)],
                       check=True, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
        wall = time.perf_counter() - start
        print(f"intake --maildir, {ALERTS} alerts: {wall:.2f} s, "
              f"{1000 * wall / ALERTS:.1f} ms per alert")  # fmt: skip
        start = time.perf_counter()
        for n in range(ALERTS, ALERTS + TRAPS):
            subprocess.run([CASECTL, "--repo", str(repo), "intake"], input=trap(n), check=True,
                           env=env, stdout=subprocess.DEVNULL)  # fmt: skip
        wall = time.perf_counter() - start
        print(f"intake from stdin, one process per trap, {TRAPS} traps: {wall:.2f} s, "
              f"{1000 * wall / TRAPS:.1f} ms per alert")  # fmt: skip


if __name__ == "__main__":
    main()
