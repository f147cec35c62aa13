"""casectl in Chinese: the catalog is complete and current, the language is chosen from
the environment or the repository, and only what people read changes with it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo
from wcwidth import wcswidth

from casectl import i18n
from casectl.cli import COMMANDS, HIDDEN

PO = Path(i18n.LOCALE_DIR) / "zh_CN" / "LC_MESSAGES" / "casectl.po"
MO = PO.with_suffix(".mo")
ZH = {"LANG": "zh_CN.UTF-8"}
C = {"LANG": "C"}
CJK = re.compile("[\u4e00-\u9fff]")


def extracted() -> set[str | tuple[str, str]]:
    """Every message the code marks, as `make messages` extracts it."""
    from babel.messages.extract import extract_from_dir

    from casectl.locale.extract import extract

    found = extract_from_dir(
        str(Path(i18n.__file__).parent),
        method_map=[("**.py", "casectl.locale.extract:extract")],
        keywords={"_": None, "N_": None, "Np_": (1, 2), "Nc_": ((1, "c"), 2)},
        options_map={"**.py": {}},
    )
    assert extract  # the extractor babel.cfg names is importable
    return {(context, message) if context else message  # type: ignore[misc]
            for _file, _line, message, _comments, context in found}  # fmt: skip


def catalog() -> dict[str | tuple[str, str], object]:
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        return {((m.context, m.id) if m.context else m.id): m for m in read_po(f) if m.id}


@pytest.mark.slow
def test_every_marked_message_has_a_chinese_translation_and_none_is_stale() -> None:
    marked, po = extracted(), catalog()
    missing = sorted(map(str, marked - set(po)))
    stale = sorted(map(str, set(po) - marked))
    assert not missing, f"not in the .po (run make messages, translate): {missing[:5]}"
    assert not stale, f"in the .po, no longer in the code (run make messages): {stale[:5]}"
    untranslated = [
        str(m.id)
        for m in po.values()
        if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert not untranslated, f"untranslated or fuzzy: {untranslated[:5]}"


def test_the_committed_mo_is_the_po_compiled() -> None:
    from gettext import GNUTranslations

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = io.BytesIO()
    with PO.open("rb") as f:
        write_mo(compiled, read_po(f))
    compiled.seek(0)
    with MO.open("rb") as f:
        assert GNUTranslations(f)._catalog == GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]


def test_placeholders_survive_translation() -> None:
    fields = re.compile(r"\{[^}]*\}|%\(\w+\)s")
    for message in catalog().values():
        source = message.id if isinstance(message.id, str) else message.id[0]  # type: ignore[attr-defined]
        text = message.string if isinstance(message.string, str) else message.string[0]  # type: ignore[attr-defined]
        assert sorted(fields.findall(source)) == sorted(fields.findall(text)), source


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_CN.utf8"}, "zh_CN"),
        ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}, "zh_CN"),
        ({"LANG": "zh_CN.UTF-8", "LANGUAGE": "fr:en"}, "en"),
        ({"LANG": "C", "LANGUAGE": "zh_CN"}, "en"),  # GNU gettext: C ignores LANGUAGE
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "zh_TW.UTF-8"}, "en"),  # traditional Chinese: not ours
        ({"LANG": "POSIX"}, "en"),
        ({}, "en"),
    ],
)
def test_language_from_the_environment(environ: dict[str, str], language: str) -> None:
    assert i18n.from_environment(environ) == language


def chinese(text: str) -> bool:
    return bool(CJK.search(text))


@pytest.fixture
def busy(repo: Repo) -> tuple[Repo, str]:
    """A case whose callback is missed and whose RMA is open, at T0 + 2 hours."""
    case_id = repo.open_case()
    repo.ok("rma", case_id, "--part", "DKC-CTL-F", by="zhang.wei")
    repo.now = "2026-11-26 16:05"
    return repo, case_id


@pytest.mark.slow
def test_each_commands_help_in_chinese_and_in_english(repo: Repo) -> None:
    for name in sorted(set(COMMANDS) - HIDDEN):
        zh = repo.run(name, "--help", env=ZH)
        assert zh.exit_code == 0 and "用法：" in zh.stdout and "显示此帮助并退出" in zh.stdout
        summary = zh.stdout.split("\n\n")[1]
        assert chinese(summary), (name, summary)
        en = repo.run(name, "--help", env=C)
        assert "Usage:" in en.stdout and "Show this message and exit." in en.stdout
        assert not chinese(en.stdout.split("\n\n")[1]), name
    top = repo.run("--help", env=ZH).stdout
    assert "技术支持中心的 CASE 跟踪工具" in top and "命令" in top


def test_click_usage_errors_follow_the_language(repo: Repo) -> None:
    zh = repo.run("list", "--bogus", env=ZH)
    assert zh.exit_code == 2 and "错误：没有选项 '--bogus'。" in zh.stderr
    en = repo.run("list", "--bogus", env=C)
    assert en.exit_code == 2 and "Error: No such option '--bogus'." in en.stderr


def test_a_refusal_in_chinese_and_in_english(busy: tuple[Repo, str], refused) -> None:  # type: ignore[no-untyped-def]
    repo, case_id = busy
    said = refused("close", case_id, "--resolution", "好了", by="li.na", env=ZH)
    assert said == (
        f"错误：li.na 无权关闭 CASE {case_id}：只有指定工程师（zhang.wei）、"
        "升级工程师（none）或中心经理可以"
    ).replace("（none）", "（无）")
    said = refused("close", case_id, "--resolution", "done", by="li.na", env=C)
    assert said.startswith(f"li.na may not close case {case_id}: only the assigned engineer")


def test_list_show_and_sweep_in_chinese_then_english(busy: tuple[Repo, str]) -> None:
    repo, case_id = busy
    listed = repo.ok("list", env=ZH)
    assert listed.splitlines()[0].split()[:3] == ["CASE", "状态", "级别"]
    assert "已逾期" in listed and "检查" in listed
    shown = repo.ok("show", case_id, env=ZH)
    for words in ("值班工程师：", "指定工程师：", "故障级别：", "时限：", "过程记录：", "首次答复"):
        assert words in shown
    swept = repo.ok("sweep", env=ZH)
    assert "改派" in swept and "回呼超时；改派给" in swept
    assert "Deadlines:" in repo.ok("show", case_id, env=C)
    assert "no longer" not in repo.ok("list", env=C) and "next deadline" in repo.ok("list", env=C)


def test_the_repository_setting_wins_over_lang_c(busy: tuple[Repo, str]) -> None:
    repo, case_id = busy
    severity = repo.root / "severity.yaml"
    severity.write_text(severity.read_text() + "language: zh_CN\n", encoding="utf-8")
    assert "过程记录：" in repo.ok("show", case_id, env=C)
    assert "用法：" in repo.run("list", "--help", env=C).stdout
    assert "改派" in repo.ok("sweep", "--dry-run", env=C)
    severity.write_text(severity.read_text().replace("zh_CN", "en"), encoding="utf-8")
    assert "Process record:" in repo.ok("show", case_id, env=ZH)


def test_a_language_casectl_lacks_is_refused_in_severity_yaml(repo: Repo) -> None:
    severity = repo.root / "severity.yaml"
    severity.write_text(severity.read_text() + "language: fr\n", encoding="utf-8")
    result = repo.run("list", env=C)
    assert result.exit_code == 1
    assert "severity.yaml: language: expected one of en, zh_CN" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["list", "--json"], ["show", "CASE", "--json"], ["roster", "--json"],
     ["sweep", "--dry-run", "--json"], ["history", "CASE", "--json"]],
)  # fmt: skip
def test_json_is_byte_identical_in_both_languages(busy: tuple[Repo, str], args: list[str]) -> None:
    repo, case_id = busy
    args = [case_id if a == "CASE" else a for a in args]
    english = repo.run(*args, env=C)
    assert english.exit_code == 0
    assert repo.run(*args, env=ZH).stdout_bytes == english.stdout_bytes


def test_chinese_cells_line_up(busy: tuple[Repo, str]) -> None:
    repo, case_id = busy
    repo.ok(
        "open",
        "--customer",
        "中国工商银行 数据中心",
        "--contact",
        "王先生",
        "--contract",
        "HT-9",
        "--severity",
        "2",
        "--description",
        "盘柜告警",
        "--assign",
        "zhang.wei",
    )
    lines = repo.ok("list", env=ZH).splitlines()
    starts = {wcswidth(line[: line.index("zhang.wei")]) for line in lines[2:]}
    assert len(starts) == 1, lines
    header = lines[0]
    assert wcswidth(header[: header.index("指定工程师")]) in starts
    fields = [line for line in repo.ok("show", case_id, env=ZH).splitlines()[:14]]
    assert len({wcswidth(line.split("：", 1)[0] + "：") + _spaces(line) for line in fields}) == 1


def _spaces(line: str) -> int:
    rest = line.split("：", 1)[1]
    return len(rest) - len(rest.lstrip(" "))


@pytest.mark.slow
def test_english_loads_no_catalog_and_chinese_loads_it_fast(busy: tuple[Repo, str]) -> None:
    repo, _case = busy
    probe = (
        "import sys, time; from casectl import i18n; from casectl.cli import cli\n"
        "cli.main(sys.argv[1:], standalone_mode=False)\n"
        "print('catalog', sorted(i18n._catalogs), file=sys.stderr)\n"
    )
    for lang, loaded in (("C", "catalog []"), ("zh_CN.UTF-8", "catalog ['zh_CN']")):
        env = {"LANG": lang, "CASECTL_NOW": repo.now, "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-c", probe, "--repo", str(repo.root), "list"],
                              capture_output=True, text=True, env=env)  # fmt: skip
        assert loaded in done.stderr, done.stderr
    timing = (
        "import click, yaml, time; from casectl import i18n; t = time.perf_counter()\n"
        "i18n._catalog('zh_CN'); print((time.perf_counter() - t) * 1000)"
    )
    best = min(
        float(
            subprocess.run(
                [sys.executable, "-c", timing], capture_output=True, text=True, check=True
            ).stdout
        )  # fmt: skip
        for _ in range(5)
    )
    assert best < 5, f"loading the catalog took {best:.2f} ms"  # about 1 ms; the machine is shared


def test_chinese_help_has_no_stray_space_and_fits_the_terminal(repo: Repo) -> None:
    """click joins a paragraph's lines with spaces and fills it by characters: Chinese
    keeps the catalog's lines and fills an option's help by display columns (issue 28.5)."""
    stray = re.compile("[\u4e00-\u9fff，。、；：）] [\u4e00-\u9fff（]")
    for name in sorted(set(COMMANDS) - HIDDEN):
        said = repo.run(name, "--help", env=ZH | {"COLUMNS": "80"}).stdout
        assert not stray.findall(said), (name, stray.findall(said))
        wide = [line for line in said.splitlines() if wcswidth(line) > 84 and "示例" not in line]
        assert not wide, (name, wide)
