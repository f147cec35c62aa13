"""No function in casectl/ is over 60 lines (from its `def` to its last line) unless its
docstring says why, with the words "Long because" (issue 27: a long function is split
into well-named helpers, or left whole where splitting would read worse)."""

from __future__ import annotations

import ast
from pathlib import Path

LIMIT = 60
MARKER = "Long because"
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
PACKAGE = ROOT / "casectl"


def too_long(source: str, name: str) -> list[str]:
    """`file:line function (N lines)` for each function over LIMIT lines without a reason."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > LIMIT and MARKER not in (ast.get_docstring(node) or ""):
            found.append(f"{name}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_every_long_function_says_why_it_is_long() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50 and PACKAGE / "model.py" in files
    found = [
        line
        for path in files
        for line in too_long(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    ]
    assert not found, f"over {LIMIT} lines, with no {MARKER!r} in the docstring: {found}"


def test_the_count_runs_from_def_to_the_last_line_and_the_reason_must_be_given() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT - 2))
    at_limit = f"def f():\n    '''Short.'''\n{body}"
    over = f"def g():\n    '''Short.'''\n{body}    return x0\n"
    said = f"def h():\n    '''{MARKER} it is a table.'''\n{body}    return x0\n"
    nested = f"class C:\n    def m(self):\n        '''Short.'''\n{body.replace('    ', '        ')}        return 1\n"  # noqa: E501
    assert too_long(at_limit, "a.py") == []
    assert too_long(over, "a.py") == [f"a.py:1 g ({LIMIT + 1} lines)"]
    assert too_long(said, "a.py") == []
    assert too_long(nested, "a.py") == [f"a.py:2 m ({LIMIT + 1} lines)"]
