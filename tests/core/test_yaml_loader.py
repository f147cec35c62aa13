"""casectl's YAML loader builds plain trees itself, faster than PyYAML's constructor: it must
load every document exactly as PyYAML's safe loader does (the same data; what one refuses,
so does the other)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from casectl import yamlio

ROOT = Path(__file__).parents[2]


class PyYAMLLoader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
    """The reference: libyaml's safe loader with casectl's one constructor (times)."""


PyYAMLLoader.add_constructor("tag:yaml.org,2002:timestamp", yamlio._timestamp)


def outcome(text: str, loader: type) -> Any:
    """The data loaded, or that it could not be: of a document with two faults, PyYAML
    (which fills nested mappings last) and casectl (first to last) may name another."""
    try:
        return ("data", _comparable(yaml.load(text, Loader=loader)))  # noqa: S506 - safe loaders
    except Exception:  # noqa: BLE001
        return ("error",)


def _comparable(value: Any) -> Any:
    """NaN equal to NaN; types kept (True and 1 are equal in Python, not in YAML)."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, dict):
        return ("map", [(_comparable(k), _comparable(v)) for k, v in value.items()])
    if isinstance(value, list | tuple | set):
        items = sorted(value, key=repr) if isinstance(value, set) else value
        return (type(value).__name__, [_comparable(v) for v in items])
    return (type(value).__name__, value)


SCALARS = [
    "", "=", "<<", "~", "null", "Null", "yes", "No", "on", "OFF", "true", "y", "0", "017",
    "0o17", "0x1F", "0b101", "1_000", "+12", "-3", "1e3", "6.8523015e+5", "-.inf", ".NaN",
    "190:20:30", "2026-11-26", "2026-11-26T14:05:00+08:00", "2026-11-26 14:05:00",
    "2026-11-26T14:05:00.123456Z", "2026-13-40T99:99", "text", "阵列控制器离线", "'quoted'",
    '"dq \\u00e9"', "!!str 1", '!!int "5"', "!!float 1", "!!binary aGVsbG8=", "!!null ''",
    "!!bool yes", "!!timestamp 2026-11-26", "!!python/name:os.system", "!foo bar", "! 12",
    "!!map a", "!!seq a", "!!str [a]", "!!set {a, b}", "!!omap [a: 1, b: 2]",
    "!!pairs [a: 1]", "[1, yes, ~]", "{a: 1, b: [x]}", "{<<: {x: 1}, y: 2}", "{=: 3}",
    "{[a]: 1}", "{{a: 1}: 2}", "|\n  block\n  text", "&a 1", "*a", "- x", "a: b: c", "'", "{",
]  # fmt: skip
KEYS = ["id", "at", "type", "<<", "=", "1", "yes", "~", "2026-11-26", "'k'", "中文", "? [a]"]


def block(depth: int) -> st.SearchStrategy[str]:
    """A block mapping or sequence, as text, `depth` levels deep at most."""
    leaf = st.sampled_from(SCALARS)
    value = leaf if depth == 0 else st.one_of(leaf, leaf, st.deferred(lambda: block(depth - 1)))

    def indent(text: str) -> str:
        return (
            "\n" + "\n".join("  " + line for line in text.splitlines())
            if "\n" in text or (text[:1] in "-" or ": " in text)
            else " " + text
        )

    mapping = st.lists(st.tuples(st.sampled_from(KEYS), value), min_size=1, max_size=5).map(
        lambda pairs: "\n".join(f"{k}:{indent(v)}" for k, v in pairs)
    )
    sequence = st.lists(value, min_size=1, max_size=4).map(
        lambda items: "\n".join(f"-{indent(v)}" for v in items)
    )
    return st.one_of(mapping, sequence)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(block(3))
def test_any_document_loads_as_pyyaml_loads_it(text: str) -> None:
    assert outcome(text, yamlio._Loader) == outcome(text, PyYAMLLoader)


def test_each_tricky_scalar_loads_as_pyyaml_loads_it() -> None:
    """One fault at most: the same data, or the same error, word for word."""
    for scalar in SCALARS:
        for text in (scalar, f"k: {scalar}", f"- {scalar}", f"{{k: {scalar}}}"):
            assert error(text, yamlio._Loader) == error(text, PyYAMLLoader), text
            assert outcome(text, yamlio._Loader) == outcome(text, PyYAMLLoader), text


def error(text: str, loader: type) -> str | None:
    try:
        yaml.load(text, Loader=loader)  # noqa: S506 - safe loaders
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {err}"
    return None


def test_every_shipped_yaml_file_loads_as_pyyaml_loads_it() -> None:
    files = [*ROOT.glob("*.yaml"), *ROOT.glob("cases/**/*.yaml"), *ROOT.glob("casectl/**/*.yaml")]
    assert len(files) > 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert outcome(text, yamlio._Loader) == outcome(text, PyYAMLLoader), path


def test_the_loader_still_refuses_what_it_refused() -> None:
    import pytest

    for text, why in [
        ("a: !!python/object:os.system x", "is not allowed"),
        ("a: &x 1\nb: *x", "anchors and aliases"),
    ]:
        with pytest.raises(ValueError, match=why):
            yamlio.load(text)
