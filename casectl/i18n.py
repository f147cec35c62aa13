"""The language people read: English (the source) or Simplified Chinese, and its catalog.

The language comes from the repository's `language:` in severity.yaml (so a cron host
with LANG=C still mails in Chinese), else from the environment the way GNU gettext
reads it: LC_ALL, LC_MESSAGES, LANG name the locale, and LANGUAGE (a list) chooses
among translations unless that locale is C/POSIX. English loads nothing; Chinese
loads one compiled catalog (casectl/locale/zh_CN/LC_MESSAGES/casectl.mo), once.

Only what people read is translated: command names, options, --json keys and values,
event types, what case files record and commit messages never change with the language.
click's own messages (usage errors, help headings) call the stdlib's gettext, which
click ships no Chinese for: while Chinese is chosen, casectl's catalog answers them.
"""

from __future__ import annotations

import os
from typing import Any

DOMAIN = "casectl"
LANGUAGES = ("en", "zh_CN")  # the values `language:` in severity.yaml may take
LOCALE_DIR = os.path.join(os.path.dirname(__file__), "locale")
_ENVIRONMENT = ("LC_ALL", "LC_MESSAGES", "LANG")

_root: str | None = None  # the repository whose setting applies, once it is known
_chosen: dict[tuple[Any, ...], str] = {}  # the environment -> its language
_setting: dict[str, str | None] = {}  # severity.yaml's path and stamp -> its `language:`
_catalogs: dict[str, Any] = {}  # language -> gettext.GNUTranslations
_click_bound: str | None = None  # the language click's messages answer in (None: gettext's)
_forced: list[str] = []  # `english()` in force: what --json and case files say


def N_(message: str) -> str:
    """Marks a message for the catalog where it cannot be translated yet (a constant)."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural form for the catalog (Chinese uses one form)."""
    return singular, plural


def Nc_(context: str, message: str) -> str:
    """Marks a message whose translation depends on where it is shown (`pgettext`'s
    context): the report's column `opened` counts cases, `show`'s is a time."""
    return message


def pgettext(context: str, message: str) -> str:
    """`message` in the language chosen, translated in `context`."""
    language = current()
    if language == "en":
        return message
    return str(_catalog(language).pgettext(context, message))


def _(message: str) -> str:
    """`message` in the language chosen; English returns it as it is, loading nothing."""
    language = current()
    if language == "en":
        return message
    return str(_catalog(language).gettext(message))


def use_repository(root: str | None) -> None:
    """The repository's `language:` applies from now on (None: the environment alone);
    click's own messages follow."""
    global _root
    _root = root
    bind_click()


def current() -> str:
    """The language chosen now: the repository's setting, else the environment's."""
    if _forced:
        return _forced[-1]
    key = tuple(os.environ.get(name) for name in ("LANGUAGE", *_ENVIRONMENT))
    found = _chosen.get(key)
    if found is None:
        found = _chosen[key] = from_environment(os.environ)
    return _repository_language(_root) or found


class english:  # noqa: N801 (used as `with i18n.english():`)
    """Within it, `_()` returns the English source: for what never changes with the
    language (--json documents, caches) computed by code that translates as it goes."""

    def __enter__(self) -> None:
        _forced.append("en")

    def __exit__(self, *exc: object) -> None:
        _forced.pop()


def from_environment(environ: Any) -> str:
    """What GNU gettext would choose: LANGUAGE's first supported entry, unless the
    locale (LC_ALL, else LC_MESSAGES, else LANG) is C or POSIX; then the locale's."""
    locale = next((environ[name] for name in _ENVIRONMENT if environ.get(name)), "C")
    if locale.split(".")[0] in ("C", "POSIX"):
        return "en"
    for wanted in environ.get("LANGUAGE", "").split(":"):
        language = supported(wanted)
        if language:
            return language
    return supported(locale) or "en"


def supported(name: str) -> str | None:
    """The language of ours a locale name means (`zh_CN.UTF-8`, `zh`, `en_US`), if any."""
    base = name.split(".")[0].split("@")[0].replace("-", "_")
    if base in ("zh", "zh_CN", "zh_SG", "zh_Hans", "zh_Hans_CN"):
        return "zh_CN"
    if base == "en" or base.startswith("en_"):
        return "en"
    return None


def _repository_language(root: str | None) -> str | None:
    """severity.yaml's top-level `language:` (config.py checks its value), found without
    parsing the YAML: a few microseconds, paid by every command; read again if it changed."""
    if root is None:
        return None
    path = os.path.join(root, "severity.yaml")
    try:
        stamp = os.stat(path)
    except OSError:
        return None
    key = f"{path}:{stamp.st_mtime_ns}:{stamp.st_size}"
    if key not in _setting:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            text = ""
        found = None
        if "language:" in text:  # most files have none: their pattern is never compiled
            import re

            found = re.search(r"^language:[ \t]*[\"']?([A-Za-z_]+)", text, re.M)
        _setting[key] = found.group(1) if found and found.group(1) in LANGUAGES else None
    return _setting[key]


def _catalog(language: str) -> Any:
    """The compiled catalog of `language`, loaded on first use."""
    catalog = _catalogs.get(language)
    if catalog is None:
        from gettext import GNUTranslations

        path = os.path.join(LOCALE_DIR, language, "LC_MESSAGES", f"{DOMAIN}.mo")
        with open(path, "rb") as f:
            catalog = _catalogs[language] = GNUTranslations(f)
    return catalog


def bind_click(language: str | None = None) -> None:
    """click's modules call gettext's `gettext` and `ngettext` (imported by name): while
    Chinese is chosen they answer from casectl's catalog, in English with the source.

    English never asks the stdlib: its lookup of a `messages` catalog stats files and
    imports `locale` on every call, about 1 ms a command for text it leaves as it is.
    `language` binds that one (cli binds English before its decorators call click's `_`).
    """
    global _click_bound
    language = language or current()
    if language == _click_bound:
        return
    import sys

    if language == "en":
        functions: dict[str, Any] = {"_": _source, "ngettext": _source_plural}
    else:
        catalog = _catalog(language)
        functions = {"_": catalog.gettext, "ngettext": catalog.ngettext}
        _stop_click_sentences()
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            for attribute, function in functions.items():
                if attribute in vars(module):
                    setattr(module, attribute, function)
    _click_bound = language


def _stop_click_sentences() -> None:
    """click ends `Missing option '--customer'.` with a full stop of its own, outside any
    message: in Chinese it is the full-width 。 (English keeps click's own method)."""
    from click.exceptions import MissingParameter

    original = MissingParameter.format_message
    if getattr(original, "_casectl", False):
        return

    def format_message(self: Any) -> str:
        text = original(self)
        if _click_bound in (None, "en"):
            return text
        import re

        return re.sub(r"\.(?: |$)", "。", text, count=1)

    format_message._casectl = True  # type: ignore[attr-defined]
    MissingParameter.format_message = format_message  # type: ignore[method-assign]
    _wrap_by_columns()


def _wrap_by_columns() -> None:
    """click fills a paragraph (an option's help) by counting characters: a Chinese line
    comes out twice as wide as the terminal. While Chinese is chosen, a paragraph with CJK
    in it is filled by display columns instead, breaking between CJK characters (and
    never before a closing punctuation mark); English keeps click's own wrapping."""
    import click.formatting

    original = click.formatting.wrap_text
    if getattr(original, "_casectl", False):
        return

    def wrap_text(
        text: str,
        width: int = 78,
        initial_indent: str = "",
        subsequent_indent: str = "",
        preserve_paragraphs: bool = False,
    ) -> str:
        import re

        if _click_bound in (None, "en") or not re.search(f"[{_WIDE}]", text):
            return original(text, width, initial_indent, subsequent_indent, preserve_paragraphs)
        paragraphs = text.split("\n\n") if preserve_paragraphs else [text]
        return "\n\n".join(
            _kept(p, initial_indent, subsequent_indent)
            if p.startswith("\b")
            else _fill(p, width, initial_indent, subsequent_indent)
            for p in paragraphs
        )

    wrap_text._casectl = True  # type: ignore[attr-defined]
    click.formatting.wrap_text = wrap_text
    formatter = click.formatting.HelpFormatter
    usage, heading = formatter.write_usage, formatter.write_heading

    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        """`用法：casectl list`: a full-width colon needs no space after it."""
        if prefix is None and _click_bound not in (None, "en"):
            prefix = _catalog(_click_bound).gettext("Usage:")
        usage(self, prog, args, prefix)

    def write_heading(self: Any, heading_text: str) -> None:
        """`选项：`, with the full-width colon."""
        if _click_bound in (None, "en"):
            return heading(self, heading_text)
        self.write(f"{'':>{self.current_indent}}{heading_text}：\n")

    formatter.write_usage = write_usage  # type: ignore[method-assign,assignment]
    formatter.write_heading = write_heading  # type: ignore[method-assign,assignment]


def _kept(paragraph: str, initial: str, subsequent: str) -> str:
    """A paragraph marked `\\b`: its lines as written, indented."""
    lines = paragraph.split("\n")[1:]
    return "\n".join((subsequent if i else initial) + line for i, line in enumerate(lines))


_CLOSING = "，。、；：？！）」』》〉】"
_OPENING = "（「『《〈【"


def _fill(text: str, width: int, initial: str, subsequent: str) -> str:
    """`text` in lines of at most `width` display columns (a closing mark may hang over)."""
    import re

    from casectl.terminal import columns

    lines: list[str] = []
    line = indent = initial
    text = re.sub(f"(?<=[{_WIDE}])\n(?=[{_WIDE}])", "", text.strip("\n"))
    for token in re.findall(rf"[{_WIDE}]|[^\s{_WIDE}]+|\s+", text):
        if token.isspace():
            if line == indent:
                continue
            token = " "
        overflows = columns(line + token.rstrip()) > width and line.strip()
        if overflows and token not in _CLOSING:
            carried = line[-1] if line[-1] in _OPENING else ""  # never ends a line
            lines.append(line[: len(line) - len(carried)].rstrip())
            line = indent = subsequent + carried
            token = token.lstrip()
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def _source(message: str) -> str:
    return message


def _source_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def localize(command: Any) -> Any:
    """A click command (and its subcommands) with its help and its options' help in the
    language chosen now; the English source is kept on the command to translate again."""
    import inspect

    source = command.__dict__.setdefault("_casectl_source", {})
    if not source:
        source["help"] = inspect.cleandoc(command.help) if command.help else None
        source["short_help"] = command.short_help
    command.help = _help(source["help"]) if source["help"] else None
    command.short_help = _(source["short_help"]) if source["short_help"] else None
    for param in command.params:  # keyed by the object: one added later is kept too
        text = source.setdefault(param, getattr(param, "help", None))
        if text:
            param.help = _help(text)
    command._help_option = None  # click makes it once, in the language of that moment
    for sub in getattr(command, "commands", {}).values():
        localize(sub)
    return command


_WIDE = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"  # CJK and its punctuation


def _help(text: str) -> str:
    """A help text in the language chosen. click rewraps a paragraph, joining its lines
    with spaces: a Chinese paragraph's lines are joined without one between CJK (click's
    wrapping, bound below, then fills it by display columns)."""
    said = _(text)
    if current() == "en" or said == text:
        return said
    import re

    return re.sub(f"(?<=[{_WIDE}])\n(?=[{_WIDE}])", "", said)


# click's messages a user meets, for the catalog (click marks them with its own `_`)
CLICK_MESSAGES = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("%(prog)s, version %(version)s"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("Missing command."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Choose from:\n\t{choices}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("Option {name!r} does not take a value."),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("env var: {var}"),
    N_("default: {default}"),
    N_("required"),
    N_("Aborted!"),
    Np_("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    Np_("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
    Np_("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    Np_("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
)
