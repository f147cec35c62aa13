"""The service rules' words in casectl's Chinese: every translation in the zh_CN catalog
uses the term casectl/locale/glossary.yaml names for an English word, never a variant it
forbids (案件 reads as a legal case to a mainland engineer; the rules say CASE)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from casectl import i18n

GLOSSARY = Path(i18n.LOCALE_DIR) / "glossary.yaml"
PO = Path(i18n.LOCALE_DIR) / "zh_CN" / "LC_MESSAGES" / "casectl.po"
# what is never translated: options, file names, placeholders, `code`, commands quoted
_UNTRANSLATED = re.compile(r"--[\w-]+|[\w./-]+\.yaml|\{[^}]*\}|%\(\w+\)s|`[^`]*`|casectl \w+")


def glossary() -> dict[str, dict[str, object]]:
    return yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))


def entries() -> list[tuple[str, str]]:
    """(English, Chinese) of every message, each plural form and context included."""
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        found = []
        for message in read_po(f):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found += [(ids[0], text) for text in strings]
            found += [(source, strings[0]) for source in ids[1:]]
        return found


def test_the_glossary_names_the_rules_terms() -> None:
    terms = glossary()
    assert {"case", "roster", "on duty", "spare part", "callback", "severity", "channel",
            "customer update"} <= set(terms)  # fmt: skip
    for name, term in terms.items():
        assert term["zh"] and isinstance(term["forbidden"], list), name
        re.compile(str(term["en"]))


@pytest.mark.slow
def test_no_translation_uses_a_forbidden_variant() -> None:
    wrong = [
        (variant, source, text)
        for source, text in entries()
        for term in glossary().values()
        for variant in term["forbidden"]  # type: ignore[attr-defined]
        if variant in text
    ]
    assert not wrong, "\n".join(f"{v}: {s!r} -> {t!r}" for v, s, t in wrong[:20])


@pytest.mark.slow
def test_every_translation_of_a_term_uses_the_rules_word() -> None:
    wrong = []
    for source, text in entries():
        english = _UNTRANSLATED.sub(" ", source)
        for name, term in glossary().items():
            accepted = [re.escape(str(term["zh"])), *term.get("accepted", [])]  # type: ignore[misc]
            if re.search(str(term["en"]), english, re.I) and not re.search(
                "|".join(accepted), text
            ):
                wrong.append(f"{name}: {source!r} -> {text!r}")
    assert not wrong, f"{len(wrong)} translations miss the rules' term:\n" + "\n".join(wrong)


def test_the_checks_catch_a_wrong_translation(tmp_path: Path) -> None:
    """The test above fails for a translation that says 案件 (it is no empty check)."""
    terms = glossary()
    assert "案件" in terms["case"]["forbidden"]  # type: ignore[operator]
    assert re.search(str(terms["case"]["en"]), "no such case", re.I)
    assert str(terms["case"]["zh"]) not in "没有这个案件"


def test_the_chinese_readme_and_the_demos_narration_use_the_rules_words() -> None:
    root = Path(__file__).resolve().parents[2]
    texts = {
        "README.zh-CN.md": (root / "README.zh-CN.md").read_text(encoding="utf-8"),
        "examples/demo.sh": "\n".join(
            line
            for line in (root / "examples" / "demo.sh").read_text(encoding="utf-8").splitlines()
            if line.lstrip().startswith(("say ", "echo; say "))
        ),
    }
    wrong = [
        (name, variant)
        for name, text in texts.items()
        for term in glossary().values()
        for variant in term["forbidden"]  # type: ignore[attr-defined]
        if variant in text
    ]
    assert not wrong, wrong
