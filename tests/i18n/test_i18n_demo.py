"""`LANG=zh_CN.UTF-8 make demo` narrates in Chinese: examples/demo.sh chooses its language
the way casectl does (casectl/i18n.py), and every narration line goes through `say`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from casectl import i18n

DEMO = Path(__file__).parents[2] / "examples" / "demo.sh"


def demo_language(environ: dict[str, str]) -> str:
    """What the script's `language` function answers in `environ`."""
    function = re.search(r"^language\(\) \{.*?^\}", DEMO.read_text(), re.S | re.M)
    assert function
    script = f"set -euo pipefail\n{function.group(0)}\nlanguage"
    done = subprocess.run(["bash", "-c", script], env=environ, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    "environ",
    [
        {"LANG": "zh_CN.UTF-8"},
        {"LANG": "C"},
        {"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"},
        {"LANG": "zh_CN.UTF-8", "LANGUAGE": "fr:en"},
        {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"},
        {"LC_MESSAGES": "zh_CN.utf8", "LANG": "en_US.UTF-8"},
        {"LANG": "zh_TW.UTF-8"},
        {},
    ],
)
def test_the_demo_chooses_the_language_casectl_chooses(environ: dict[str, str]) -> None:
    expected = {"zh_CN": "zh", "en": "en"}[i18n.from_environment(environ)]
    assert demo_language(environ) == expected


def test_every_narration_line_has_both_languages() -> None:
    text = DEMO.read_text(encoding="utf-8").replace("\\\n", " ")
    narration = [line for line in text.splitlines()
                 if re.search(r"\b(echo|say) \"", line) and not line.startswith("say()")]  # fmt: skip
    assert narration, "the demo narrates"
    for line in narration:
        assert not re.search(r"\becho \"", line), f"not through say: {line}"
        said = re.findall(r'"([^"]*)"', line.split("say ", 1)[1])
        assert len(said) == 2 and re.search("[\u4e00-\u9fff]", said[0]), line
        assert not re.search("[\u4e00-\u9fff]", said[1]), line
