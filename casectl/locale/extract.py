"""pybabel's extractor for casectl: `_()`, `N_()`, `Np_()`, and click's help texts.

click takes a command's help from its docstring and an option's from `help="..."`;
both stay English in the code and are translated when the command is handed out
(`i18n.localize`), so they are extracted here as click cleans them (`inspect.cleandoc`).
Imported only by pybabel and the catalog's test, never by casectl.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from typing import IO, Any

Found = tuple[Any, ...]  # (line, keyword, message, comments), as babel reads it


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Found]:
    from babel.messages.extract import extract_python

    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    yield from click_help(ast.parse(source))


def click_help(tree: ast.AST) -> Iterator[Found]:
    """The docstrings of click commands and groups, and every `help="..."` argument."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(map(_is_command, node.decorator_list)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, None, doc, []
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                text = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
                if keyword.arg == "help" and isinstance(text, str) and text.strip():
                    yield keyword.value.lineno, None, inspect.cleandoc(text), []


def _is_command(decorator: ast.expr) -> bool:
    """`@click.command(...)`, `@click.group(...)`, `@notify.command("test")`..."""
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("command", "group")
