"""Who uses this clone, and who commits in it: read from git's config files, cheaply.

A clone may be bound to one roster person (`casectl whoami ID`), kept in the clone's
own git config as `casectl.user`: never in the working tree, so no push can bind a
clone to anyone. A step is then taken only as that person, or with `--for ID` as what
that person records someone else did (`entered_by`).

A step's commit has the person acting as its author and the clone's own git identity
(user.name, user.email; GIT_COMMITTER_NAME/EMAIL first, as git reads them) as its
committer; with no identity configured, the committer is the author, as before.

Both are read on every step, so they are read from the files git reads (a handful of
small files, microseconds), never by starting git: only a configuration that includes
other files, or one given on git's command line (`git -c`), is asked of git itself.
"""

from __future__ import annotations

import os
import re
from os.path import join
from typing import TYPE_CHECKING

from casectl import state

if TYPE_CHECKING:
    from casectl.config import Config, Person

USER = "casectl.user"  # the key of the person this clone is bound to
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}


def parse(text: str) -> list[tuple[str, str]] | None:
    """A git config file's (key, value) pairs in order, keys as git names them
    (`user.name`, `casectl "x".y` as `casectl.x.y`); None where it cannot be read
    as git would (a bad escape, a broken header): ask git."""
    plain = _plain(text)
    if plain is not None:
        return plain
    found: list[tuple[str, str]] = []
    section: str | None = None
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char in " \t\r\n":
            pos += 1
        elif char in "#;":
            pos = _line_end(text, pos)
        elif char == "[":
            close = text.find("]", pos)
            if close < 0:
                return None
            section = _section(text[pos + 1 : close])
            if section is None:
                return None
            pos = close + 1
        else:
            key = _KEY.match(text, pos)
            if key is None or section is None:
                return None
            pos = key.end()
            while pos < end and text[pos] in " \t":
                pos += 1
            name = f"{section}.{key.group().lower()}"
            if pos >= end or text[pos] in "\r\n#;":
                found.append((name, "true"))  # a key alone is a boolean
                continue
            if text[pos] != "=":
                return None
            value = _value(text, pos + 1)
            if value is None:
                return None
            found.append((name, value[0]))
            pos = value[1]
    return found


def _plain(text: str) -> list[tuple[str, str]] | None:
    """`parse` line by line, for a file whose values have no quotes or backslashes (most
    have none); None for any other file, which `parse` reads character by character."""
    found: list[tuple[str, str]] = []
    section: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            header, close, rest = line[1:].partition("]")
            section = _section(header) if close else None
            if section is None or rest.strip()[:1] not in ("", "#", ";"):
                return None  # a key after the header: the careful reading
            continue
        if '"' in line or "\\" in line:
            return None
        key, equals, value = line.partition("=")
        key = key.strip()
        if section is None or not _KEY.fullmatch(key):
            return None
        if not equals:
            found.append((f"{section}.{key.lower()}", "true"))
            continue
        for mark in "#;":
            value = value.partition(mark)[0]
        found.append((f"{section}.{key.lower()}", value.strip()))
    return found


def _line_end(text: str, pos: int) -> int:
    found = text.find("\n", pos)
    return len(text) if found < 0 else found


def _section(header: str) -> str | None:
    """`user` -> user; `casectl "x"` -> casectl.x (the subsection keeps its case)."""
    name, _sep, rest = header.strip().partition('"')
    name = name.strip().lower()
    if not rest:
        return name or None
    if not rest.endswith('"'):
        return None
    return f"{name}.{rest[:-1].replace(chr(92) + chr(34), chr(34))}"


def _value(text: str, pos: int) -> tuple[str, int] | None:
    """A value from `pos` to its line's end: quotes, escapes, continued lines, comments."""
    out: list[str] = []
    space = ""  # whitespace kept only when more of the value follows it
    quoted = False
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == "\n":
            break
        if char == "\\":
            following = text[pos + 1 : pos + 2]
            if following == "\n":
                pos += 2
                continue
            if text[pos + 1 : pos + 3] == "\r\n":
                pos += 3
                continue
            if following not in _ESCAPES:
                return None
            out.append(space + _ESCAPES[following])
            space, pos = "", pos + 2
        elif char == '"':
            out.append(space)
            space, quoted, pos = "", not quoted, pos + 1
        elif not quoted and char in "#;":
            pos = _line_end(text, pos)
            break
        elif not quoted and char in " \t\r":
            if out:
                space += char if char != "\r" else ""
            pos += 1
        else:
            out.append(space + char)
            space, pos = "", pos + 1
    if quoted:
        return None
    return "".join(out), pos


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return None


def clone_config(root: str) -> str | None:
    """The clone's own git config file (a linked worktree's is its main clone's)."""
    gitdir = state.git_dir(root)
    return join(state.common_dir(gitdir), "config") if gitdir else None


def _files(root: str) -> list[str]:
    """Every config file git reads, in its order (the last value wins)."""
    home = os.path.expanduser("~")
    files = []
    if not os.environ.get("GIT_CONFIG_NOSYSTEM"):
        files.append(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")
    if "GIT_CONFIG_GLOBAL" in os.environ:
        files.append(os.environ["GIT_CONFIG_GLOBAL"])
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME") or join(home, ".config")
        files += [join(xdg, "git", "config"), join(home, ".gitconfig")]
    own = clone_config(root)
    if own:
        files.append(own)
        gitdir = state.git_dir(root)
        if gitdir:
            files.append(join(gitdir, "config.worktree"))
    return files


def _values(files: list[str], keys: tuple[str, ...]) -> dict[str, str] | None:
    """The last value of each of `keys` across `files`; None when git must be asked
    (an include, a file that does not parse)."""
    found: dict[str, str] = {}
    sections = {key.split(".", 1)[0] for key in keys}
    for path in files:
        text = _read(path)
        if text is None:
            continue
        lower = text.lower()
        if "include" not in lower and not any(f"[{s}" in lower for s in sections):
            continue  # none of the sections wanted: the usual clone's config
        pairs = parse(text)
        if pairs is None or any(k.startswith(("include.", "includeif.")) for k, _v in pairs):
            return None
        found |= {k: v for k, v in pairs if k in keys}
    return found


def _ask_git(root: str, key: str, local: bool = False) -> str | None:
    from casectl import gitrepo

    scope = ["--local", "--includes"] if local else []  # --local alone skips includes
    said = gitrepo.run(root, "config", *scope, "--get", key)
    return said.stdout.rstrip("\n") if said.returncode == 0 else None


def local(root: str, key: str) -> str | None:
    """One setting of this clone's own git config (`casectl.board-html`, `commit.gpgsign`),
    read from the file; git is asked only where the file includes others or does not
    parse as git would. None when unset."""
    own = clone_config(root)
    if own is None:
        return None
    values = _values([own], (key.lower(),))
    if values is None:
        return _ask_git(root, key, local=True)
    return values.get(key.lower())


def local_settings(root: str) -> list[tuple[str, str]]:
    """Every (key, value) of this clone's own git config, in order (git asked only where
    the file includes others or does not parse as git would)."""
    own = clone_config(root)
    text = _read(own) if own else None
    pairs = parse(text) if text is not None else []
    if pairs is None or any(k.startswith(("include.", "includeif.")) for k, _v in pairs):
        from casectl import gitrepo

        said = gitrepo.run(root, "config", "--local", "--includes", "--list", "-z").stdout
        return [tuple(item.split("\n", 1)) for item in said.split("\0") if "\n" in item]  # type: ignore[misc]
    return pairs


def bound(root: str) -> str | None:
    """The roster id this clone is bound to (`casectl.user` in its own config), or None."""
    own = clone_config(root)
    if own is None:
        return None
    values = _values([own], (USER,))
    if values is None:
        return _ask_git(root, USER, local=True) or None
    return values.get(USER, "").strip() or None


def committer(root: str) -> tuple[str, str] | None:
    """The clone's own git identity (name, e-mail) as git would commit with it; None
    when none is configured (the commit's committer is then its author, as ever)."""
    env = os.environ
    name, email = env.get("GIT_COMMITTER_NAME"), env.get("GIT_COMMITTER_EMAIL")
    if not (name and email):
        if any(k in env for k in ("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")):
            values = None
        else:
            values = _values(_files(root), ("user.name", "user.email"))
        if values is None:
            values = {k: v for k in ("user.name", "user.email")
                      if (v := _ask_git(root, k) or "")}  # fmt: skip
        name = name or values.get("user.name") or None
        email = email or values.get("user.email") or env.get("EMAIL") or None
    if not (name and name.strip() and email and email.strip()):
        return None
    return name.strip(), email.strip()


def bind(root: str, person_id: str | None) -> None:
    """Bind the clone to `person_id` (None: unbind) in its own git config."""
    from casectl import gitrepo

    if person_id is None:
        gitrepo.run(root, "config", "--local", "--unset-all", USER)
    else:
        gitrepo.git(root, "config", "--local", USER, person_id)


def acting(cfg: Config, root: str, by: str | None, for_: str | None) -> tuple[Person, str | None]:
    """Who a step is recorded as, and who typed it when that is someone else.

    Unbound clone: `--by` acts, as ever; with `--for ID`, ID acts and `--by` typed it.
    Bound clone: the bound person acts; `--by` (or CASECTL_USER) naming anyone else is
    refused, unless `--for ID` names the person the bound one records it for (the duty
    engineer entering a callback reported by phone): ID acts, the bound person typed it.
    """
    from casectl import model
    from casectl.errors import RefusedError
    from casectl.i18n import _

    bound_id = bound(root)
    if bound_id is None:
        if for_ and not by:
            raise RefusedError(
                _("who records this for {person}? give --by ID or set CASECTL_USER, or "
                  "bind this clone with casectl whoami ID").format(person=for_)
            )  # fmt: skip
        typist = model.actor(cfg, by)
    else:
        found = cfg.person(bound_id)
        if found is None:
            raise RefusedError(
                _("this clone is bound to {bound}, who is not in roster.yaml: bind it to "
                  "someone with casectl whoami ID").format(bound=bound_id)
            )  # fmt: skip
        typist = found
    person = model.actor(cfg, for_) if for_ else typist
    if bound_id is not None and by:
        named = model.actor(cfg, by)
        if named.id not in (typist.id, person.id):
            raise RefusedError(
                _("this clone is bound to {bound}, not {named}: take the step as {bound}, "
                  "or record what {named} did with --for {named}").format(
                    bound=typist.id, named=named.id)
            )  # fmt: skip
    return person, typist.id if typist.id != person.id else None
