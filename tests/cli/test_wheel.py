"""The package a user installs: the sdist and wheel build cleanly, and the wheel runs.

`pip install -e` hides packaging mistakes (a subpackage missing from the wheel works
in the checkout and fails for every user), so these tests build from a copy of the
checkout, install the wheel into a fresh venv outside it, and run it from elsewhere.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


class Built(NamedTuple):
    source: Path  # the copy of the checkout the sdist was built from
    wheel: Path
    sdist: Path
    output: str  # everything the build printed


def checkout_files() -> list[str]:
    """What a clone holds, plus files not committed yet (so a new module is tested too)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and os.path.lexists(ROOT / name)]


def package_files(top: Path) -> set[str]:
    """Every file of the casectl package under `top`, as a path like `casectl/cli/app.py`."""
    return {
        path.relative_to(top).as_posix()
        for path in (top / "casectl").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the checkout's venv, Python paths or casectl settings."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("CASECTL")}
    return env | extra


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`python -m build` (sdist, then the wheel from the sdist) on a copy of the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in checkout_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(ROOT / name):
            target.symlink_to(os.readlink(ROOT / name))
        else:
            target.write_bytes((ROOT / name).read_bytes())
    dist = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return Built(source, *(next(dist.glob(p)) for p in ("*.whl", "*.tar.gz")), output)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the wheel and its dependencies: its bin/."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--disable-pip-version-check", str(built.wheel)],
        env=clean_env(),
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


def test_wheel_holds_every_file_of_the_package(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        shipped = {name for name in wheel.namelist() if name.startswith("casectl/")}
    expected = package_files(built.source)
    assert "casectl/cli/__init__.py" in expected
    assert "casectl/example/severity.yaml" in expected
    assert sorted(expected - shipped) == []


def test_sdist_holds_every_file_of_the_package(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = sdist.getnames()
    top = names[0].split("/")[0]
    shipped = {name.removeprefix(top + "/") for name in names}
    assert sorted(package_files(built.source) - shipped) == []


def test_build_prints_no_setuptools_warning(built: Built) -> None:
    # setuptools warns as `SetuptoolsDeprecationWarning`, `warning: ...` or `!!` banners;
    # pip's own `WARNING:` lines about this machine's index settings are not ours.
    warnings = [
        line
        for line in built.output.splitlines()
        if re.search(r"warning:|Warning\b|^\s*!!", line) and not line.startswith("WARNING:")
    ]
    assert warnings == [], built.output


def test_installed_wheel_runs_from_another_folder(installed: Path, tmp_path: Path) -> None:
    def casectl(*args: str, now: str = "2026-11-26 14:05") -> str:
        env = clean_env(CASECTL_NOW=now, CASECTL_USER="li.na")
        done = subprocess.run(
            [str(installed / "casectl"), *args], cwd=tmp_path, env=env, capture_output=True,
            text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()

    where = subprocess.run(
        [str(installed / "python"), "-c", "import casectl.cli; print(casectl.cli.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where).is_relative_to(installed.parent), where
    assert casectl("--version") == "casectl, version 0.1.0"
    assert "Initialized case repository" in casectl("init", "cases")
    case_id = casectl(
        "--repo", "cases", "open", "--customer", "招商银行", "--contact", "刘先生 13800000000",
        "--contract", "HT-2026-031", "--severity", "1", "--description", "阵列控制器离线",
        "--auto-assign",
    )  # fmt: skip
    assert re.fullmatch(r"261126-[0-9A-Z]{5}", case_id), case_id
    assert "招商银行" in casectl("--repo", "cases", "show", case_id)
    swept = casectl("--repo", "cases", "sweep", now="2026-11-26 14:21")
    assert case_id in swept and "check" in swept
