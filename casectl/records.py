"""Immutable records: typing.NamedTuple's class syntax at collections.namedtuple's cost.

`class Person(Record)` with annotated fields, defaults and methods makes the same
named tuple that `class Person(NamedTuple)` makes (mypy sees a NamedTuple), without
typing's check of every annotation, which compiles each one (this package's are
strings) and costs about 0.1 ms a class on every command's start-up.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    _KEPT = frozenset({"__module__", "__annotations__"})  # namedtuple sets its own

    class _Maker(type):
        """Builds `collections.namedtuple` from a class body: fields from its annotations
        (in order), defaults from their values, everything else (methods, docstring,
        properties) set on the tuple class as it is."""

        def __new__(mcls, name: str, bases: tuple[type, ...], body: dict[str, Any]) -> Any:
            if not bases:  # the base below itself
                return super().__new__(mcls, name, bases, body)
            fields = list(body.get("__annotations__", {}))
            defaults = [body[field] for field in fields if field in body]
            made = namedtuple(name, fields, defaults=defaults, module=body["__module__"])  # noqa: PYI024
            for key, value in body.items():
                if key not in _KEPT and key not in fields:
                    setattr(made, key, value)
            made.__annotations__ = body.get("__annotations__", {})
            return made

    class _RecordBase(metaclass=_Maker):
        pass

    def Record(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - named as the class it stands for
        raise TypeError("Record is a base class: class Name(Record): field: type ...")

    Record.__mro_entries__ = lambda bases: (_RecordBase,)
