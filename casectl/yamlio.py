"""YAML in and out through libyaml, in the shape case files keep in `git diff`.

Block style, keys in the order given, UTF-8 text as text, multi-line text as
literal blocks, times as ISO 8601 with their offset, no line folding. What is
read is untrusted (anyone may push a file): at most MAX_BYTES, no anchors or
aliases (an alias bomb expands 1 KB into gigabytes), no tags that build objects.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from casectl.errors import CasectlError
from casectl.i18n import _

try:
    from yaml import CSafeDumper, CSafeLoader
except ImportError:  # PyYAML built without libyaml: the pure-Python loader is 8x slower
    CSafeLoader = CSafeDumper = None  # type: ignore[assignment,misc]

_NO_LIBYAML = (
    "PyYAML was built without libyaml; install libyaml (e.g. apt-get install libyaml-dev) "
    "and reinstall PyYAML"
)


MAX_BYTES = 4 << 20  # a case file is a few KB; the roster of a large center, some 100 KB


def read(path: str) -> bytes:
    """A file's bytes, reading no more than one byte past the cap (`load` refuses those).
    A symbolic link is refused (ELOOP): files in a case repository are other people's
    input, and a pushed link must not make casectl read what it points to."""
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as f:
        return f.read(MAX_BYTES + 1)


def load(data: bytes | str) -> Any:
    """Parse YAML; a syntax error, a file over the cap, an anchor, an alias or a tag that
    would build an object is a ValueError of one line."""
    if CSafeLoader is None:
        raise CasectlError(_NO_LIBYAML)
    if len(data) > MAX_BYTES:
        raise ValueError(
            _("larger than {size} MiB, the most casectl reads").format(size=MAX_BYTES >> 20)
        )
    try:
        # anchors need `&` and aliases `*`: only a file holding either pays for the scan
        if ("&" in data or "*" in data) if isinstance(data, str) else _has_marks(data):
            _refuse_anchors(data)
        return yaml.load(data, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.constructor.ConstructorError as err:
        raise ValueError(_constructor_problem(err)) from None
    except yaml.YAMLError as err:
        raise ValueError(_syntax_problem(err)) from None


def _has_marks(data: bytes) -> bool:
    return data.find(b"&") >= 0 or data.find(b"*") >= 0


def _refuse_anchors(data: bytes | str) -> None:
    """Walk libyaml's events (no document is built) and refuse the first anchor or alias."""
    for event in yaml.parse(data, Loader=CSafeLoader):
        name = getattr(event, "anchor", None)
        if name is not None:
            mark = "*" if isinstance(event, yaml.AliasEvent) else "&"
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise ValueError(
                _("line {line}: YAML anchors and aliases ({mark}) are not allowed: casectl "
                  "files never need them").format(line=line, mark=f"{mark}{name}")
            )  # fmt: skip


def _constructor_problem(err: yaml.constructor.ConstructorError) -> str:
    """`!!python/object...` and other tags the safe loader has no constructor for."""
    problem = err.problem or ""
    line = f"line {err.problem_mark.line + 1}: " if err.problem_mark else ""
    if "constructor for the tag" in problem:
        tag = problem.split("'")[1] if "'" in problem else problem
        tag = tag.replace("tag:yaml.org,2002:", "!!")
        if err.problem_mark is None:
            return _("the tag {tag} is not allowed: casectl files hold plain data").format(tag=tag)
        return _("line {line}: the tag {tag} is not allowed: casectl files hold plain data").format(
            line=err.problem_mark.line + 1, tag=tag)  # fmt: skip
    return line + " ".join(problem.split())


def _syntax_problem(err: yaml.YAMLError) -> str:
    """libyaml's words (`while parsing a flow node ... line 2, column 1`); in Chinese,
    where it is, with libyaml's own words in brackets."""
    from casectl import i18n

    said = " ".join(str(err).split())
    mark = getattr(err, "problem_mark", None)
    if i18n.current() == "en":
        return said
    if isinstance(err, yaml.reader.ReaderError):
        return _("byte {position} is not UTF-8 text").format(position=err.position)
    if mark is None:
        return said
    problem = " ".join(str(getattr(err, "problem", "") or "").split())
    return _("YAML syntax error at line {line}, column {column} ({problem})").format(
        line=mark.line + 1, column=mark.column + 1, problem=problem or said
    )


def dump(document: Any) -> bytes:
    if CSafeDumper is None:
        raise CasectlError(_NO_LIBYAML)
    try:
        return yaml.dump(  # type: ignore[no-any-return]
            document,
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=1 << 16,
            encoding="utf-8",
        )
    except RecursionError:  # a pushed file may nest lists 999 deep; PyYAML's writer recurses
        raise CasectlError(
            _("a value nested too deep to write back (hundreds of levels)")
        ) from None


if CSafeLoader is not None:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    _STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq"))
    _SCALARS = frozenset(
        f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "binary", "timestamp")
    )  # the tags whose constructors build a scalar from a scalar node, and nothing else
    _ODD_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")

    class _Loader(CSafeLoader):  # type: ignore[misc,valid-type]
        """libyaml's safe loader, building the plain trees case files are in half the time.

        PyYAML's constructor keeps a graph of every node (for anchors, which `load` refuses
        beforehand) and builds each mapping through a generator; `_tree` builds strings,
        mappings and lists directly and hands everything else (other tags, merge keys,
        odd node kinds) to PyYAML's own constructor, so what it returns is the same.
        The resolver is PyYAML's, with its path resolvers (never used) left out."""

        def construct_document(self, node: Any) -> Any:
            try:
                return self._tree(node)
            except RecursionError:  # libyaml nests 1,000 deep; PyYAML's constructor loops
                return self._pyyaml(node)

        def _tree(self, node: Any) -> Any:
            tag, kind = node.tag, type(node)
            if kind is ScalarNode and tag == _STR:
                return node.value
            if kind is MappingNode and tag == _MAP:
                data = {}
                for key_node, value_node in node.value:
                    # `<<` merges, `=` is a key named "=", a list or mapping is no key
                    if key_node.tag in _ODD_KEYS or type(key_node) is not ScalarNode:
                        return self._pyyaml(node)
                    data[self._tree(key_node)] = self._tree(value_node)
                return data
            if kind is SequenceNode and tag == _SEQ:
                return [self._tree(child) for child in node.value]
            if kind is ScalarNode and tag in _SCALARS:
                return self.yaml_constructors[tag](self, node)
            return self._pyyaml(node)

        def _pyyaml(self, node: Any) -> Any:
            return CSafeLoader.construct_document(self, node)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, pattern in _IMPLICIT.get(value[:1], _ANY_FIRST):
                        if pattern.match(value):
                            return tag  # type: ignore[no-any-return]
                return _STR
            return _SEQ if kind is SequenceNode else _MAP

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    # the implicit resolvers by a plain scalar's first character, those for any added
    _ANY_FIRST = tuple(_Loader.yaml_implicit_resolvers.get(None, ()))
    _IMPLICIT = {
        first: (*found, *_ANY_FIRST)
        for first, found in _Loader.yaml_implicit_resolvers.items()
        if first is not None
    }

    def _timestamp(loader: Any, node: Any) -> Any:
        """Times as casectl writes them (`isoformat()`) through C's fromisoformat: PyYAML's
        own constructor runs a Python regex per time, a tenth of loading a case."""
        text = loader.construct_scalar(node)
        if "T" in text:
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        return SafeConstructor.construct_yaml_timestamp(loader, node)

    def _strict(construct: Any) -> Any:
        """PyYAML's scalar constructors, refusing `!!bool foo`, `!!int ''`, `!!timestamp x`
        (a KeyError, IndexError or AttributeError of theirs) as a ConstructorError."""

        def build(loader: Any, node: Any) -> Any:
            try:
                return construct(loader, node)
            except (KeyError, IndexError, AttributeError):
                tag = node.tag.replace("tag:yaml.org,2002:", "!!")
                problem = f"{node.value!r} is not a value of {tag}"
                raise yaml.constructor.ConstructorError(
                    None, None, problem, node.start_mark
                ) from None

        return build

    for _tag in ("bool", "int", "float"):
        _Loader.add_constructor(
            f"tag:yaml.org,2002:{_tag}",
            _strict(_Loader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]),
        )
    _Loader.add_constructor("tag:yaml.org,2002:timestamp", _strict(_timestamp))


if CSafeDumper is not None:

    class _Dumper(CSafeDumper):  # type: ignore[misc,valid-type]
        def ignore_aliases(self, data: Any) -> bool:
            return True  # never `&id001`: each event stands whole in a diff

    def _text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    def _time(dumper: Any, value: datetime) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())

    _Dumper.add_representer(str, _text)
    _Dumper.add_representer(datetime, _time)
