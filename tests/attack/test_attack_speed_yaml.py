"""Attacks on the fast YAML loader (issue 14): documents the differential test does not
generate must load as PyYAML's safe loader loads them, or be refused in one line."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import Repo
from test_yaml_loader import PyYAMLLoader, outcome

from casectl import yamlio


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "text",
    [
        nested_list(600),
        nested_list(999),
        "".join(" " * i + "-\n" for i in range(999)),
        "{a: " * 999 + "1" + "}" * 999,
        "k: " + "[{a: " * 400 + "1" + "}]" * 400,
    ],
    ids=["flow-600", "flow-999", "block-999", "map-999", "mixed-800"],
)
def test_deep_nesting_libyaml_accepts_loads_as_pyyaml_does(text: str) -> None:
    """libyaml allows 1,000 levels; PyYAML's constructor builds them without recursing."""
    expected = _flat(yaml.load(text, Loader=PyYAMLLoader))  # noqa: S506 - a safe loader
    assert _flat(yamlio.load(text)) == expected
    assert _flat(yamlio.load(text.encode())) == expected


def _flat(value: Any) -> list[Any]:
    """A tree as a flat list of tokens, walked without recursion (== on 999 levels recurses)."""
    tokens: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            tokens.append(("map", len(item)))
            for key, child in reversed(list(item.items())):
                stack += [child, key]
        elif isinstance(item, list):
            tokens.append(("list", len(item)))
            stack += reversed(item)
        else:
            tokens.append((type(item).__name__, item))
    return tokens


@pytest.mark.parametrize(
    "text",
    [
        "a: !!bool foo",
        "a: !!int ''",
        "a: !!float ''",
        "a: !!timestamp foo",
        "a: !!timestamp ''",
        "{<<: {a: !!bool maybe}}",
        "!!set {!!int '': null}",
    ],
)
def test_a_tagged_scalar_not_of_its_form_is_one_line_refusal(text: str) -> None:
    assert outcome(text, yamlio._Loader) == outcome(text, PyYAMLLoader) == ("error",)
    with pytest.raises(ValueError) as caught:
        yamlio.load(text)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("line 1: ")


def _push(repo: Repo, case_id: str, old: str, new: str) -> None:
    from conftest import git

    path = repo.case_path(case_id)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    git(repo.root, "commit", "-qam", "someone's push")


@pytest.mark.parametrize("value", [nested_list(600), "!!bool foo", "!!timestamp foo", "!!int ''"])
def test_a_pushed_odd_case_file_is_named_not_a_traceback(repo: Repo, value: str) -> None:
    case_id = repo.open_case()
    _push(repo, case_id, "\n  text: ", f"\n  extra: {value}\n  text: ")
    for args in (["show", case_id], ["check"], ["log", case_id, f"after {value[:4]}"]):
        result = repo.run(*args)
        assert result.exit_code in (0, 1) if "[" in value else result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert "Traceback" not in result.stderr


def _same(text: str) -> Any:
    return outcome(text, yamlio._Loader) == outcome(text, PyYAMLLoader)


@pytest.mark.parametrize(
    "text",
    [
        "!!set {a, b}",
        "!!omap [a: 1, b: 2]",
        "!!pairs [a: 1, a: 2]",
        "- <<: {a: 1}\n  b: 2\n- <<: [{x: 1}, {y: 2}]\n  x: 3",
        "a:\n  <<: {x: 1}\n  y: [1, {<<: {z: 2}, =: 4}]",
        "? !!value x\n: 1",
        "!!merge <<: {a: 1}",
        "!!binary aGk=: 1\n2026-11-26: 2\n1.5: 3\n~: 4\nyes: 5",
        "? {a: 1}\n: 2",
        "? [a, b]\n: 2",
        "!!map {a: [b, {c: d}]}",
        "!!seq [a, !!map {b: c}]",
        "! [1, ! {a: 1}, ! 2]",
        "a: 1\na: 2\nb: {x: 1, x: 2}",
        "a: " + "9" * 4000,
        "a: " + "9" * 5000,
        "a: 2026-11-26T14:05:00.1234567+08:00",
        "a: 2026-11-26T14:05:00.\nb: 2026-11-26 1:05:00 +8",
        "a: |\n  x\n  y\nb: >\n  folded\n  text\n",
        "- [a, {b: [c, {d: e}]}]\n- {f: [g, h], i: {j: k}}",
    ],
)
def test_documents_the_generator_never_makes_load_as_pyyaml_does(text: str) -> None:
    assert _same(text), text
