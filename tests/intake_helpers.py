"""What the intake tests share: a repository with a contract register and alert rules,
HM800 traps and AutoSupport mails as the arrays send them, and the real snmptrapd."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import Repo, git

from casectl.cli import cli

CASECTL = str(Path(sys.executable).parent / "casectl")
CONTRACTS = """\
contracts:
  HT-2026-031:
    customer: 招商银行 数据中心
    contacts: ["刘先生 13800000000"]
    service: 24x7
    start: 2026-01-01
    end: 2027-12-31
    serials: ["411234", "411235", "4511-0007"]
  HT-2025-107:
    customer: 某证券公司
    contacts: ["王女士 13900000000"]
    start: 2025-01-01
    end: 2025-12-31
    serials: ["452001"]
"""
RULES = """
alerts:
  ignore: ["hitachi:7FF102"]
  open_after:
    "hitachi:AC1001": {count: 3, within: 1h}
  storm: {count: 9, within: 1h}
"""
SIM = "1.3.6.1.4.1.116.3.11.4.1.1.0."  # raidRoot.0.N: 1 acute, 2 serious, 3 moderate, 4 service
VAR = "1.3.6.1.4.1.116.5.11.4.2."  # eventTrap*: 1 serial ... 7 description


def with_register(repo: Repo) -> Repo:
    (repo.root / "contracts.yaml").write_text(CONTRACTS, encoding="utf-8")
    severity = (repo.root / "severity.yaml").read_text(encoding="utf-8")
    head, _, rest = severity.partition("\nalerts:\n")  # the shipped section, replaced
    severity = head + (rest[rest.index("\ngit:") :] if "\ngit:" in rest else "")
    (repo.root / "severity.yaml").write_text(severity + RULES, encoding="utf-8")
    git(repo.root, "add", "contracts.yaml", "severity.yaml")
    git(repo.root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "register")
    return repo


def trap_text(serial: str = "411234", code: str = "3E1234", level: int = 1,
              clock: str = "14:00:00", description: str = "Drive blocked") -> bytes:  # fmt: skip
    """A SIM trap as snmptrapd -On hands it to a traphandle."""
    lines = [
        "localhost",
        "UDP: [127.0.0.1]:40000->[127.0.0.1]:162",
        ".1.3.6.1.2.1.1.3.0 0:0:00:00.00",
        f".1.3.6.1.6.3.1.1.4.1.0 .{SIM}{level}",
        f".{VAR}1 {serial}",
        f'.{VAR}2 "VSP-A"',
        f'.{VAR}3 "{code}"',
        f".{VAR}4 .1.3.6.1.4.1.116.5.11.4.3.1",
        f'.{VAR}5 "2026/11/26"',
        f'.{VAR}6 "{clock}"',
        f'.{VAR}7 "{description}"',
    ]
    return ("\n".join(lines) + "\n").encode()


def autosupport(serial: str, message: str, severity: str = "ERROR", n: int = 0) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "autosupport@array.example.com"
    mail["To"] = "alerts@support.example.com"
    mail["Subject"] = f"HA Group Notification from cluster1-01 ({message}) {severity}"
    mail["Date"] = "Thu, 26 Nov 2026 14:00:00 +0800"
    mail["Message-ID"] = f"<asup-{serial}-{n}@array.example.com>"
    mail.set_content(
        f"GENERATED_ON=Thu Nov 26 14:00:00 CST 2026\nVERSION=NetApp Release 9.14.1\n"
        f"SYSTEM_ID=0537000{n}\nSERIAL_NUM={serial}\nHOSTNAME=cluster1-01\nMODEL=AFF-A400\n"
    )
    return mail


def intake(repo: Repo, *args: str, data: bytes | None = None, now: str | None = None) -> Result:
    environ = {"CASECTL_NOW": now or repo.now, "CASECTL_USER": ""}
    return CliRunner().invoke(cli, ["--repo", str(repo.root), "intake", *args], input=data,
                              env=environ)  # fmt: skip


def cases(repo: Repo) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((repo.root / "cases").glob("*/*/*/*.yaml")):
        document = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
        found[document["id"]] = document
    return found


def maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def need(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.skip(f"{program} is missing: apt-get install snmptrapd snmp (make tools does)")
    return found


class Snmptrapd:
    """The real snmptrapd on 127.0.0.1, handing every trap to `casectl intake`."""

    def __init__(self, repo: Repo, folder: Path, port: int, now: str) -> None:
        self.port = port
        conf = folder / "snmptrapd.conf"
        conf.write_text(
            "disableAuthorization yes\n"
            f"traphandle default {CASECTL} --repo {repo.root} intake\n"
        )  # fmt: skip
        env = {"PATH": "/usr/bin:/bin", "CASECTL_NOW": now, "LANG": "C", "HOME": str(folder)}
        self.process = subprocess.Popen(
            [need("snmptrapd"), "-f", "-Lf", str(folder / "snmptrapd.log"), "-C", "-c",
             str(conf), "-On", "-m", "", "-M", str(folder), f"udp:127.0.0.1:{port}"],
            env=env,
        )  # fmt: skip
        log = folder / "snmptrapd.log"  # it says its version once it listens
        started = wait_for(lambda: log.exists() and "NET-SNMP version" in log.read_text(), 15)
        assert started, "snmptrapd did not start"

    def send(self, serial: str, code: str, level: int = 1, clock: str = "14:00:00",
             description: str = "Drive blocked") -> None:  # fmt: skip
        """An HM800 SIM trap, SNMPv1 as the arrays send it (enterprise raidRoot)."""
        subprocess.run(
            [need("snmptrap"), "-v", "1", "-c", "public", "-m", "", f"127.0.0.1:{self.port}",
             SIM[:-3], "127.0.0.1", "6", str(level), "0",
             f"{VAR}1", "i", serial, f"{VAR}2", "s", "VSP-A", f"{VAR}3", "s", code,
             f"{VAR}4", "o", "1.3.6.1.4.1.116.5.11.4.3.1", f"{VAR}5", "s", "2026/11/26",
             f"{VAR}6", "s", clock, f"{VAR}7", "s", description],
            check=True, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
            capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_for(check: Any, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


@pytest.fixture
def trapd(repo: Repo, tmp_path: Path) -> Iterator[Snmptrapd]:
    from notify_servers import free_port

    with_register(repo)
    folder = tmp_path / "snmptrapd"
    folder.mkdir()
    server = Snmptrapd(repo, folder, free_port(), repo.now)
    yield server
    server.stop()
