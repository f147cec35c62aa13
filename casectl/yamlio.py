"""YAML in and out through libyaml, in the shape case files keep in `git diff`.

Block style, keys in the order given, UTF-8 text as text, multi-line text as
literal blocks, times as ISO 8601 with their offset, no line folding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from casectl.errors import CasectlError

try:
    from yaml import CSafeDumper, CSafeLoader
except ImportError:  # PyYAML built without libyaml: the pure-Python loader is 8x slower
    CSafeLoader = CSafeDumper = None  # type: ignore[assignment,misc]

_NO_LIBYAML = (
    "PyYAML was built without libyaml; install libyaml (e.g. apt-get install libyaml-dev) "
    "and reinstall PyYAML"
)


def load(data: bytes | str) -> Any:
    """Parse YAML; a syntax error is a ValueError with its line."""
    if CSafeLoader is None:
        raise CasectlError(_NO_LIBYAML)
    try:
        return yaml.load(data, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        raise ValueError(" ".join(str(err).split())) from None


def dump(document: Any) -> bytes:
    if CSafeDumper is None:
        raise CasectlError(_NO_LIBYAML)
    return yaml.dump(  # type: ignore[no-any-return]
        document,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1 << 16,
        encoding="utf-8",
    )


if CSafeLoader is not None:

    class _Loader(CSafeLoader):  # type: ignore[misc,valid-type]
        pass

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

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


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
