"""A step's commit in a large repository: git fast-import, without reading the index twice.

`git commit -- PATH` reads and writes the whole index, which at 110,000 files is
most of a step's time. `commit_paths` writes the objects with `git fast-import`
on a scratch ref, records exactly what was committed with `update-index
--index-info` and moves HEAD by compare-and-swap (`update-ref`), so a commit made
meanwhile is never overwritten. It declines (and `git commit` runs) where git
must do the work itself: no commit yet, an odd name or identity, signing asked
for, attributes that filter or convert the files.
"""

from __future__ import annotations

import os
import re
import stat
from os.path import join

from casectl import gitrepo
from casectl.errors import CasectlError

SCRATCH = "refs/casectl/commit"  # the branch fast-import builds on: reset, never written


def commit_paths(root: str, names: list[str], message: str, identity: dict[str, str]) -> bool:
    """`git commit -- NAMES` in three git processes, one of which reads the index.

    `git fast-import` writes the files' blobs, the trees on their way and a commit on
    HEAD (loose objects, as git commit writes them, for a step: fewer than its
    unpackLimit), and says what it committed at each name; `update-index`, started
    first so that it reads the index meanwhile, records exactly that; `update-ref`
    then moves HEAD, with git commit's reflog entry, only if HEAD still is the parent
    (a commit made meanwhile is never overwritten). Someone's other staged changes
    stay staged and out of the commit: its tree is HEAD's with NAMES changed. Paths
    and message go on stdin, so a sweep of thousands of cases fits. False, having
    committed nothing, where fast-import would not commit what `git commit` does:
    no commit yet, an odd name, file or identity.
    """
    indexer = gitrepo._start(root, "update-index", "--index-info")  # reads the index meanwhile
    try:
        imported = _fast_import(root, names, message, identity)
    except BaseException:
        indexer.communicate("")  # records nothing
        raise
    if imported is None:
        indexer.communicate("")
        return False
    parent, made, entries = imported
    gitrepo._finish(indexer, "".join(f"{entry}\n" for entry in entries))
    subject = message.splitlines()[0]
    gitrepo.git(root, "update-ref", "-m", f"commit: {subject}", "HEAD", made, parent)
    return True


def _fast_import(
    root: str, names: list[str], message: str, identity: dict[str, str]
) -> tuple[str, str, list[str]] | None:
    """Commit NAMES on HEAD with fast-import, moving no ref: HEAD, the commit, and
    the index entries of NAMES in it (`--index-info`'s); None when it cannot.
    (fast-import commits an empty ref transaction: reference-transaction hooks run.)"""
    parent = head_commit(root)
    stream = _import_stream(root, names, message, identity, parent)
    if stream is None:
        return None
    command = ["fast-import", "--quiet", "--done", "--date-format=now"]
    said = gitrepo.git(root, *command, env=identity, input=stream).splitlines()
    if len(said) != 1 + len(names):
        raise CasectlError(f"git fast-import answered {len(said)} lines for {len(names)} paths")
    removed = "0 " + "0" * len(parent) + "\t"  # `missing PATH`: not in the commit
    entries = [removed + line[8:] if line.startswith("missing ") else line for line in said[1:]]
    return parent, said[0], entries


def head_commit(root: str) -> str:
    """The commit HEAD names, read from its ref's file (a git process costs more than
    this whole function); git says it when the ref is packed or anything is odd."""
    gitdir = gitrepo.git_dir(root)
    ref = gitrepo._head_ref(gitdir)  # HEAD itself when detached
    try:
        with open(join(gitrepo._common_dir(gitdir) if ref != "HEAD" else gitdir, ref), "rb") as f:
            found = f.read().strip().decode("ascii")
    except (OSError, ValueError):
        found = ""
    if re.fullmatch("[0-9a-f]{40}", found):
        return found
    return gitrepo.git(root, "rev-parse", "-q", "--verify", "HEAD", check=False).strip()


PLAIN_NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*")
CRUD = " .,:;<>\"\\'"  # what git strips from both ends of a name or e-mail


def _import_stream(
    root: str, names: list[str], message: str, identity: dict[str, str], parent: str
) -> bytes | None:
    """fast-import's input: a commit of NAMES as they are on disk, on `parent`, then
    its id and what it holds at each name. None where `git commit` would commit other
    bytes or another identity: no parent (or not SHA-1), a name to quote, a file
    that is not a plain regular file, a CR byte (git's line-ending conversion),
    an identity git would trim, or a date set in the environment."""
    if len(parent) != 40 or "GIT_AUTHOR_DATE" in os.environ or "GIT_COMMITTER_DATE" in os.environ:
        return None
    if may_sign(root):
        return None  # fast-import never signs: git commit does, where asked to
    if _may_convert(root, names):
        return None  # fast-import stores the bytes given: git add runs clean filters
    people = []
    for role in ("AUTHOR", "COMMITTER"):
        name, email = identity[f"GIT_{role}_NAME"], identity[f"GIT_{role}_EMAIL"]
        if not all(v and v == v.strip(CRUD) and v.isprintable() and "<" not in v and ">" not in v
                   for v in (name, email)):  # fmt: skip
            return None
        people.append(f"{role.lower()} {name} <{email}> now\n".encode())
    text = message.encode()
    chunks = [f"commit {SCRATCH}\nmark :1\n".encode(), *people, b"data %d\n" % len(text), text]
    chunks.append(f"\nfrom {parent}\n".encode())
    for name in names:
        change = _file_change(root, name) if PLAIN_NAME.fullmatch(name) else None
        if change is None:
            return None
        chunks.append(change)
    chunks.append(b"\nget-mark :1\n")
    chunks += [f"ls :1 {name}\n".encode() for name in names]
    chunks.append(f"reset {SCRATCH}\ndone\n".encode())  # the scratch branch is never written
    return b"".join(chunks)


def may_sign(root: str) -> bool:
    """Whether git's configuration may ask for signed commits (`commit.gpgSign`): a plain
    read of the files git reads it from, which errs on the side of `git commit` (any
    mention of gpgsign, any include, any configuration given in the environment)."""
    if any(k in os.environ for k in ("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")):
        return True
    return any(b"gpgsign" in text or b"[include" in text for text in _config_texts(root))


def _config_texts(root: str) -> list[bytes]:
    """The lower-cased text of each configuration file git reads, where there is one."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or join(home, ".config")
    files = [
        join(gitrepo._common_dir(gitrepo.git_dir(root)), "config"),
        join(gitrepo.git_dir(root), "config.worktree"),
        os.environ.get("GIT_CONFIG_GLOBAL") or join(home, ".gitconfig"),
        join(xdg, "git", "config"),
        os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig",
    ]
    return [text for text in map(_read_lower, files) if text is not None]


def _read_lower(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read().lower()
    except OSError:
        return None


CONVERTING = (b"filter", b"ident", b"encoding")  # attributes that change a file's blob


def _may_convert(root: str, names: list[str]) -> bool:
    """Whether an attribute may make `git add` store other bytes than the file's: a clean
    filter (git-crypt, git-lfs), `ident`, `working-tree-encoding`, in any attributes file
    git reads for NAMES (line endings need a CR byte, which `_file_change` refuses)."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or join(home, ".config")
    files = {
        join(gitrepo._common_dir(gitrepo.git_dir(root)), "info", "attributes"),
        join(xdg, "git", "attributes"),
        "/etc/gitattributes",
    }
    for folder in {os.path.dirname(name) for name in names}:
        while True:
            files.add(join(root, folder, ".gitattributes"))
            if not folder:
                break
            folder = os.path.dirname(folder)
    if any(b"attributesfile" in text for text in _config_texts(root)):
        return True
    texts = [text for text in map(_read_lower, files) if text is not None]
    return any(word in text for text in texts for word in CONVERTING)


def _file_change(root: str, name: str) -> bytes | None:
    """fast-import's change for a file: its bytes, or its removal when it is not
    there; None unless it is a plain regular file (not executable, no CR byte)."""
    try:
        mode = os.lstat(join(root, name)).st_mode
        if not stat.S_ISREG(mode) or mode & 0o111:
            return None
        with open(join(root, name), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return f"D {name}\n".encode()
    if b"\r" in data:
        return None
    return f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n"


def index_bytes(root: str) -> int:
    """The size of this clone's index: the split index's shared part where there is one."""
    gitdir = gitrepo.git_dir(root)
    try:
        shared = [n for n in os.listdir(gitdir) if n.startswith("sharedindex.")]
        return max(os.stat(join(gitdir, n)).st_size for n in shared or ["index"])
    except OSError:
        return 0
