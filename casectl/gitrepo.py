"""Git: commit exactly the files a step changed, authored by the person who acted."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from os.path import exists, join
from typing import Any

from casectl import state
from casectl.errors import CasectlError
from casectl.i18n import _
from casectl.terminal import safe


def is_repo(root: str) -> bool:
    return exists(join(root, ".git"))


def run(
    root: str, *args: str, env: dict[str, str] | None = None, input: str | bytes | None = None,
    timeout: float | None = None,
) -> Any:  # fmt: skip
    """Run git in the repository; the finished process, whatever its exit status.
    Input given as bytes goes to git as it is; git's output is text either way.
    `timeout` (seconds, for the network): past it git is killed and a CasectlError said."""
    import subprocess  # 2.5 ms of start-up saved for every command that does not commit

    raw = isinstance(input, bytes)
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=not raw,
                              input=input, env=_env(env), timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise CasectlError(
            _("git {command} got no answer within {seconds} seconds; is the remote "
              "reachable?").format(command=args[0], seconds=int(timeout or 0))
        ) from None  # fmt: skip
    if raw:
        done.stdout = done.stdout.decode(errors="replace")
        done.stderr = done.stderr.decode(errors="replace")
    return done


def _env(env: dict[str, str] | None = None) -> dict[str, str]:
    # git's own words are read (`rejected`, `fatal:`): never in the user's language
    return {**os.environ, "LC_ALL": "C", "LANGUAGE": "", **(env or {})}


def _start(root: str, *args: str) -> Any:
    """Start git, reading text from a pipe: it works until it needs it (`_finish`)."""
    import subprocess

    pipe = subprocess.PIPE
    return subprocess.Popen(
        ["git", *args], cwd=root, stdin=pipe, stdout=pipe, stderr=pipe, text=True, env=_env()
    )


def _finish(process: Any, input: str) -> str:
    """Give a started git its input; its output, or a CasectlError as `git` gives."""
    import subprocess

    out, err = process.communicate(input)
    if process.returncode != 0:
        done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        raise CasectlError(
            _("git {command} failed: {reason}").format(
                command=_command(tuple(process.args[1:])), reason=_why(done))
        )  # fmt: skip
    return str(out)


def git(
    root: str,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    input: str | bytes | None = None,
    timeout: float | None = None,
) -> str:
    """Run git; its output, or a CasectlError with git's last line when it fails."""
    result = run(root, *args, env=env, input=input, timeout=timeout)
    if check and result.returncode != 0:
        raise CasectlError(
            _("git {command} failed: {reason}").format(command=_command(args), reason=_why(result))
        )
    return str(result.stdout)


def _command(args: tuple[str, ...]) -> str:
    """The git command's name, past its `-c key=value` options."""
    words = list(args)
    while len(words) > 2 and words[0] == "-c":
        words = words[2:]
    return words[0] if words else "git"


def _why(result: Any) -> str:
    """Git's reason: its `fatal:` or `error:` line (its last line is often only advice,
    `remove the file manually to continue`), else its last line."""
    said = (result.stderr or result.stdout).strip().splitlines()
    reasons = [line for line in said if line.startswith(("fatal:", "error:"))]
    return (reasons or said or [f"exit status {result.returncode}"])[0]


def message(subject: str, body: str, case_ids: list[str]) -> str:
    """A commit message whose structure no user text can forge: the subject on one line,
    the body indented (so no line of it starts with `Case:`), trailers from casectl alone."""
    subject = safe(" ".join(subject.split()))
    lines = [f"    {line}".rstrip() for line in body.rstrip().splitlines()]
    trailers = "".join(f"Case: {case_id}\n" for case_id in case_ids)
    return f"{subject}\n\n" + ("\n".join(lines) + "\n\n" if lines else "") + trailers


BIG_INDEX = 2 << 20  # bytes of shared index, about 20,000 files


def commit(
    root: str,
    paths: list[str],
    author: tuple[str, str],
    message: str,
    say: Callable[[str], object],
    new: bool = False,
) -> None:
    """Commit only `paths` (never `git add .`): others' edits stay out of it. `author`
    is the person who acted; the committer is the clone's own git identity (user.name,
    user.email), or the author where none is configured (casectl.identity).

    `git commit -- PATHS` stages exactly those paths itself; a file git does not
    know yet (`new`) must be added first. In a large repository that command
    stats every tracked file and rebuilds a whole index from HEAD (0.25 s at
    110,000 files), so there the commit is built by `git fast-import`, which reads
    only the trees on the paths' way, and the index is read once, to record the
    paths (`_commit_paths`). A lock file in the way (a git that started meanwhile,
    or one killed since the step began) is settled once and the commit tried again.
    """
    from casectl.identity import committer

    names = [os.path.relpath(p, root) for p in paths]
    identity = _identity(*author, committer=committer(root))  # the clone's own, else the author
    try:
        _commit(root, names, identity, message, new)
    except CasectlError as err:
        if LOCKED not in str(err):
            raise
        settle_locks(root, say)
        _commit(root, names, identity, message, new)


def _commit(root: str, names: list[str], identity: dict[str, str], message: str, new: bool) -> None:
    large = _index_bytes(root) > BIG_INDEX or len(names) > 100
    if large and _commit_paths(root, names, message, identity):
        return  # else something odd (no commit yet...): git commit, however long it takes
    # no auto-maintenance after each step (a second process); sync runs it instead.
    # The message goes on stdin: a sweep's can pass the kernel's limit for one argument.
    commit = ["-c", "maintenance.auto=false", "-c", "gc.auto=0", "commit", "-q", "--no-verify"]
    if not new:
        try:
            git(root, *commit, "-F", "-", "--", *names, env=identity, input=message)
            return
        except CasectlError as err:
            if "did not match any file" not in str(err):  # else: written with --no-commit before
                raise
    git(root, "add", "-A", "--", *names)
    git(root, *commit, "-F", "-", "--", *names, env=identity, input=message)


SCRATCH = "refs/casectl/commit"  # the branch fast-import builds on: reset, never written


def _commit_paths(root: str, names: list[str], message: str, identity: dict[str, str]) -> bool:
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
    indexer = _start(root, "update-index", "--index-info")  # reads the index meanwhile
    try:
        imported = _fast_import(root, names, message, identity)
    except BaseException:
        indexer.communicate("")  # records nothing
        raise
    if imported is None:
        indexer.communicate("")
        return False
    parent, made, entries = imported
    _finish(indexer, "".join(f"{entry}\n" for entry in entries))
    subject = message.splitlines()[0]
    git(root, "update-ref", "-m", f"commit: {subject}", "HEAD", made, parent)
    return True


def _fast_import(
    root: str, names: list[str], message: str, identity: dict[str, str]
) -> tuple[str, str, list[str]] | None:
    """Commit NAMES on HEAD with fast-import, moving no ref: HEAD, the commit, and
    the index entries of NAMES in it (`--index-info`'s); None when it cannot.
    (fast-import commits an empty ref transaction: reference-transaction hooks run.)"""
    parent = _head_commit(root)
    stream = _import_stream(root, names, message, identity, parent)
    if stream is None:
        return None
    command = ["fast-import", "--quiet", "--done", "--date-format=now"]
    said = git(root, *command, env=identity, input=stream).splitlines()
    if len(said) != 1 + len(names):
        raise CasectlError(f"git fast-import answered {len(said)} lines for {len(names)} paths")
    removed = "0 " + "0" * len(parent) + "\t"  # `missing PATH`: not in the commit
    entries = [removed + line[8:] if line.startswith("missing ") else line for line in said[1:]]
    return parent, said[0], entries


def _head_commit(root: str) -> str:
    """The commit HEAD names, read from its ref's file (a git process costs more than
    this whole function); git says it when the ref is packed or anything is odd."""
    gitdir = git_dir(root)
    ref = _head_ref(gitdir)  # HEAD itself when detached
    try:
        with open(join(_common_dir(gitdir) if ref != "HEAD" else gitdir, ref), "rb") as f:
            found = f.read().strip().decode("ascii")
    except (OSError, ValueError):
        found = ""
    if re.fullmatch("[0-9a-f]{40}", found):
        return found
    return git(root, "rev-parse", "-q", "--verify", "HEAD", check=False).strip()


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
    if _may_sign(root):
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


def _may_sign(root: str) -> bool:
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
        join(_common_dir(git_dir(root)), "config"),
        join(git_dir(root), "config.worktree"),
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
        join(_common_dir(git_dir(root)), "info", "attributes"),
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


def _index_bytes(root: str) -> int:
    """The size of this clone's index: the split index's shared part where there is one."""
    gitdir = git_dir(root)
    try:
        shared = [n for n in os.listdir(gitdir) if n.startswith("sharedindex.")]
        return max(os.stat(join(gitdir, n)).st_size for n in shared or ["index"])
    except OSError:
        return 0


def init(root: str) -> None:
    """A git repository whose case files merge through casectl's driver."""
    if not is_repo(root):
        git(root, "init", "-q")
    install_driver(root)
    files = (".gitattributes", ".gitignore", "roster.yaml", "severity.yaml", "holidays-cn.yaml")
    git(root, "add", "--", *files)
    identity = _identity("casectl", "casectl@localhost")
    git(root, "commit", "-q", "--no-verify", "-m", "New case repository", env=identity)
    write_commit_graph(root)


def install_driver(root: str) -> None:
    """Register the merge driver and casectl's settings in this clone's config (git
    never copies config): changed-path filters, index v4 and a split index.

    The driver runs this very Python, so it works whatever PATH git runs with, and
    isolated (`-I`): git runs drivers from the top of the working tree, where a plain
    `python -m casectl` would import a `casectl/` folder anyone could push.
    """
    import shlex

    driver = f"{shlex.quote(sys.executable)} -I -m casectl merge-file %O %A %B %P"
    git(root, "config", "merge.casectl.name", "casectl: union of case events")
    git(root, "config", "merge.casectl.driver", driver)
    # changed-path Bloom filters keep `git log -- <case file>` fast on long histories
    git(root, "config", "core.commitGraph", "true")
    git(root, "config", "fetch.writeCommitGraph", "true")
    # a step rewrites only its share of a large index, not all of it
    git(root, "config", "index.version", "4")
    git(root, "config", "core.splitIndex", "true")


def has_driver(root: str) -> bool:
    try:
        with open(join(root, ".git", "config"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return True  # a worktree or odd layout: say nothing rather than cry wolf
    return '[merge "casectl"]' in text


def warn_if_no_driver(root: str, say: Callable[..., object]) -> None:
    """Git silently merges case files as text in a clone without the driver: say so."""
    if exists(join(root, ".gitattributes")) and not has_driver(root):
        say(
            "warning: this clone has no casectl merge driver; git would merge case files "
            "as text. Run `casectl sync` (or `casectl setup-git`) once.",
            err=True,
        )


def write_commit_graph(root: str) -> None:
    git(root, "commit-graph", "write", "--reachable", "--changed-paths", "--split", check=False)


def maintain(root: str, state_dir: str | None = None, if_moved: bool = False) -> None:
    """What git would do after each commit (casectl's steps skip it): pack loose objects
    when there are many (in the background), keep the commit-graph current, and the
    split index split. Run by sync and sweep.

    `if_moved` (cron's sweep that committed nothing): only when commits came since the
    last maintenance, which HEAD's reflog tells; `state_dir` keeps its stamp.
    """
    mark = join(state_dir, "maintained") if state_dir else None
    stamp = _reflog_stamp(root)
    if if_moved and mark:
        try:
            with open(mark, encoding="utf-8") as f:
                if f.read() == stamp:
                    return
        except OSError:
            pass
    # gc --auto, not `maintenance run --auto`: the same gc, but detached (gc.autoDetach),
    # so the sweep that starts it does not wait the minute a repack of 110,000 files takes
    git(root, "gc", "--auto", "--quiet", check=False)
    write_commit_graph(root)
    _split_index_again(root)
    if mark and stamp:
        tmp = f"{mark}.{os.getpid()}.tmp"
        with suppress(OSError), open(tmp, "w", encoding="utf-8") as f:
            f.write(_reflog_stamp(root))
        with suppress(OSError):
            os.replace(tmp, mark)


def _split_index_again(root: str) -> None:
    """Write a new shared index when the split index's own part has grown past a quarter
    of it. Git does that for entries added (splitIndex.maxPercentChange), not for those
    whose stat data it refreshed: after every file's changed (a copy of the repository,
    a chmod -R) each step would write all 110,000 entries again, 20 ms more a commit."""
    try:
        own = os.stat(join(git_dir(root), "index")).st_size
    except OSError:
        return
    if own > BIG_INDEX // 4 and own * 4 > _index_bytes(root):
        git(root, "update-index", "--split-index", check=False)


def _reflog_stamp(root: str) -> str:
    """HEAD's reflog's size and mtime: it grows with every commit."""
    try:
        st = os.stat(join(git_dir(root), "logs", "HEAD"))
    except OSError:
        return ""
    return f"{st.st_size} {st.st_mtime_ns}"


EventIds = Callable[[str, bytes], "set[str] | None"]
NETWORK_WAIT = 30.0  # seconds one fetch or push may take before the remote counts as down


def sync(
    root: str, identity: tuple[str, str], events: EventIds, after: Callable[[], object],
    locked: Callable[[], AbstractContextManager[object]], timeout: float = NETWORK_WAIT,
    housekeeping: bool = True,
) -> str:  # fmt: skip
    """Pull (merging case files with the driver), check the merge lost nothing, push.

    `events(case_id, data)` reads the event ids of a version of a case file (None: not
    a case file); a merge that drops a case or an event is undone and refused. `after`
    runs after each pull (it converts the old layout). A push rejected because someone
    pushed first is retried after another pull. `locked()` holds the repository's lock
    while the working tree changes (the merge, `after`), never while waiting on the
    network; each network step gives up after `timeout` seconds.
    """
    install_driver(root)
    env = _identity(*identity)
    with locked():
        _mergeable(root)
    branch = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    remote = git(root, "config", f"branch.{branch}.remote", check=False).strip() or "origin"
    for _attempt in range(5):
        if _network(root, timeout, "ls-remote", "--heads", remote, branch).strip():
            _network(root, timeout, "fetch", "-q", remote, branch)
            with locked():
                _pull(root, remote, branch, env, events)
        with locked():
            after()
        pushed = run(root, "push", "-q", "-u", remote, f"HEAD:{branch}", timeout=timeout)
        if pushed.returncode == 0:
            if housekeeping:  # a step's background share leaves it to sync and the sweep
                maintain(root)
            return f"synced with {remote}/{branch}"
        if "rejected" not in pushed.stderr and "fetch first" not in pushed.stderr:
            raise CasectlError(
                _("push to {remote} failed: {reason}").format(remote=remote, reason=_why(pushed))
            )
    raise CasectlError(
        _("push to {remote} was rejected five times; try again").format(remote=remote)
    )


def _network(root: str, timeout: float, *args: str) -> str:
    """A git command that talks to the remote: its output, or one line saying why not."""
    done = run(root, *args, timeout=timeout)
    if done.returncode != 0:
        raise CasectlError(
            _("git {command} failed: {reason}").format(command=args[0], reason=_why(done))
        )
    return str(done.stdout)


def _mergeable(root: str) -> None:
    """Refuse while a merge is in progress, conflicts are unresolved or markers are left."""
    if exists(join(git_dir(root), "MERGE_HEAD")):
        raise CasectlError(_("a merge is in progress; finish it (git commit) or git merge --abort"))
    unmerged = git(root, "diff", "--name-only", "--diff-filter=U").split()
    if unmerged:
        raise CasectlError(
            _("unresolved merge conflicts in {paths}; resolve them first").format(
                paths=", ".join(unmerged)
            )
        )
    marked = git(root, "grep", "-l", "-E", "^(<<<<<<<|>>>>>>>)( |$)", "--", "cases", check=False)
    if marked.strip():
        raise CasectlError(
            _("conflict markers in {paths}; resolve them first").format(
                paths=", ".join(marked.split())
            )
        )


def _pull(root: str, remote: str, branch: str, env: dict[str, str], events: EventIds) -> None:
    """Merge what was fetched; undo a merge that fails or loses a case or an event."""
    ours = git(root, "rev-parse", "HEAD").strip()
    theirs = git(root, "rev-parse", "FETCH_HEAD").strip()
    refused = foreign(root, theirs, ours)
    if refused:
        path, commit, why = refused
        raise CasectlError(
            _("sync refused: {remote}/{branch} adds {path} (commit {commit}), {why}; "
              "nothing was changed").format(remote=remote, branch=branch, path=safe(path),
                                            commit=commit, why=why)
        )  # fmt: skip
    trust = _guard_trust_root(root, remote, branch, ours, theirs)
    said = _merge_message(root, remote, ours, theirs)
    merged = run(root, "merge", "--no-edit", "-q", "-m", said, theirs, env=env)
    if merged.returncode != 0:
        if exists(join(root, ".git", "MERGE_HEAD")):
            git(root, "merge", "--abort", check=False)
        said = (merged.stderr or merged.stdout).strip().splitlines()
        # the driver's own words say more than git's last line
        lines = [line for line in said if "casectl merge-file:" in line] or said[-1:]
        raise CasectlError(
            _("pull from {remote} failed, nothing was changed: {reason}").format(
                remote=remote, reason="; ".join(lines)
            )
        )
    lost = _lost(root, ours, "HEAD", events) or _lost(root, theirs, "HEAD", events)
    if lost:
        git(root, "reset", "-q", "--merge", ours)
        raise CasectlError(
            _(
                "sync refused: merging {remote}/{branch} would lose {lost}; nothing was changed"
            ).format(remote=remote, branch=branch, lost=lost)
        )
    if trust is not None:
        from casectl import signing

        signing.set_trusted(root, trust)  # an accepted change of the roster moves the trust


def _guard_trust_root(root: str, remote: str, branch: str, ours: str, theirs: str) -> list | None:
    """Refuse a pull that changes roster.yaml or severity.yaml in a commit no key this
    clone trusts signed (casectl.signing); the pinned keys after the pull when it changes
    them, else None. Without pinned keys and without `signed:`, nothing is checked."""
    from casectl import signing

    pinned = signing.trusted(root)
    if not pinned and not signing.policy_on(root):
        return None
    from casectl.store import Store

    judged = signing.guard_pull(root, Store(root), ours, theirs, pinned)
    if judged is None:
        return None
    commit, why, keys = judged
    if commit:
        said = (
            _("sync refused: {remote}/{branch} changes roster.yaml or severity.yaml in commit "
              "{commit}, which is not signed; nothing was changed") if why == "unsigned" else
            _("sync refused: {remote}/{branch} changes roster.yaml or severity.yaml in commit "
              "{commit}, which is not signed by a trusted manager's key; nothing was changed")
        )  # fmt: skip
        raise CasectlError(said.format(remote=remote, branch=branch, commit=commit[:12]))
    return keys if pinned and keys != pinned else None


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
STATE = ".casectl"  # what an older casectl kept in the working tree: never crosses the remote


def foreign(root: str, theirs: str, ours: str | None = None) -> tuple[str, str, str] | None:
    """The first path `theirs` brings (since the common base with `ours`) that casectl
    never takes from a push, as (path, the commit that brought it, why); None when there
    is none. Read from git's objects, before anything is checked out."""
    base = run(root, "merge-base", ours, theirs).stdout.strip() if ours else ""
    for path, why in refused_paths(git(root, "diff", "--raw", "--no-renames", "-z",
                                       base or EMPTY_TREE, theirs)):  # fmt: skip
        return path, brought_by(root, path, theirs, ours), why
    return None


def refused_paths(raw: str) -> list[tuple[str, str]]:
    """The paths of `git diff --raw -z` output that casectl never takes from a push, with
    why: a symbolic link anywhere could lead a write or a read outside the repository,
    and anything under `.casectl/` is one clone's own state."""
    fields = raw.split("\0")
    found = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        mode, status = meta.split()[1], meta.split()[-1]
        if status == "D":
            continue
        if mode == "120000":
            found.append((path, _("a symbolic link, which casectl never takes from a push")))
        elif path == STATE or path.startswith(f"{STATE}/"):
            found.append((path, _("a clone's own state, which never crosses the remote")))
    return found


def brought_by(root: str, path: str, tip: str, since: str | None = None) -> str:
    """The (short) commit that first brought `path` into `tip`'s history, after `since`."""
    after = ["--not", since] if since else []
    found = git(root, "log", "--format=%h", "--reverse", tip, *after, "--", path, check=False)
    return (found.split() or [tip[:12]])[0]


def _merge_message(root: str, remote: str, ours: str, theirs: str) -> str:
    """`sync: 3 steps from origin (cases 261126-K7Q3M, 261127-9MM76)`: what a manager
    reading `git log` needs of a merge, not `Merge commit '<hash>'`."""
    steps = int(git(root, "rev-list", "--count", "--no-merges", f"{ours}..{theirs}").strip())
    changed = git(root, "diff", "--name-only", f"{ours}...{theirs}", "--", "cases").split()
    cases = sorted({os.path.basename(p)[:-5] for p in changed if p.endswith(".yaml")})
    shown = ", ".join(cases[:5]) + (f" and {len(cases) - 5} more" if len(cases) > 5 else "")
    noun = "step" if steps == 1 else "steps"
    return f"sync: {steps} {noun} from {remote}" + (f" (cases {shown})" if cases else "")


def _lost(root: str, side: str, merged: str, events: EventIds) -> str | None:
    """What `side` has that `merged` lost: a case file, or events of one; None if nothing.
    Reads only the case files that differ between the two."""
    changes = git(root, "diff", "--no-renames", "--name-status", "-z", side, merged, "--", "cases")
    fields = changes.split("\0")
    status = dict(zip(fields[1::2], fields[0::2], strict=False))  # a trailing NUL: one more
    now_at = {os.path.basename(p): p for p, kind in status.items() if kind != "D"}
    for path, kind in sorted(status.items()):
        name = os.path.basename(path)
        if kind == "A" or not name.endswith(".yaml"):
            continue
        before = events(name[:-5], _blob(root, f"{side}:{path}"))
        if before is None:
            continue  # not a case file on that side either
        moved = now_at.get(name)  # the old layout's path converted to the new one
        after = events(name[:-5], _blob(root, f"{merged}:{moved}")) if moved else None
        if after is None:
            return f"case {name[:-5]} ({path})"
        if not before <= after:
            return f"{len(before - after)} event(s) of case {name[:-5]}"
    return None


def as_committed(root: str, path: str, event_id: str) -> bytes | None:
    """The file `path` (relative to `root`) as the commit that first recorded the event
    `event_id` left it: the case as its author's clone had it then (another clone's steps
    merged in later are not in it). None when no commit of that file recorded it."""
    merging = ["MERGE_HEAD"] if os.path.exists(join(git_dir(root), "MERGE_HEAD")) else []
    tips = ["HEAD", *merging]  # while a merge is concluded, the other side's commits too
    search = ["log", "--no-merges", "--format=%H", "-S", event_id, *tips, "--", path]
    found = git(root, *search, check=False)
    for commit in reversed(found.split()):  # oldest first; a later one may have removed it
        data = _blob(root, f"{commit}:{path}")
        if event_id.encode() in data:
            return data
    return None


def _blob(root: str, spec: str) -> bytes:
    import subprocess

    found = subprocess.run(["git", "cat-file", "blob", spec], cwd=root, capture_output=True)
    return found.stdout


# --- what a killed git leaves: lock files, and a step written but not committed ----------

STALE_AFTER = 60.0  # seconds: longer than any git command a step runs takes
LOCK_WAIT = 3.0  # seconds a step waits for a running git to let go of its lock
LOCKED = ".lock': File exists"  # how git says a lock file stopped it
# lock files below the git folder that git takes besides `*.lock` at its top
DEEP_LOCKS = (
    "objects/maintenance.lock",
    "objects/info/commit-graph.lock",
    "objects/info/commit-graphs/commit-graph-chain.lock",
)


def git_dir(root: str) -> str:
    """The repository's git folder: `.git`, or where a worktree's `.git` file points."""
    return state.git_dir(root) or join(root, ".git")


def _common_dir(gitdir: str) -> str:
    """Where refs and objects live: the git folder itself, or a worktree's main one."""
    return state.common_dir(gitdir)


def lock_files(root: str) -> list[str]:
    """The lock files in this repository now: `index.lock`, `HEAD.lock`,
    `next-index-*.lock`, `packed-refs.lock`, `config.lock`, the current branch's ref
    lock, and maintenance's and the commit-graph's. A git killed at work leaves them."""
    gitdir = git_dir(root)
    common = _common_dir(gitdir)
    found = []
    for folder in dict.fromkeys((gitdir, common)):
        found += [join(folder, n) for n in _names(folder) if n.endswith(".lock")]
    deep = [*DEEP_LOCKS, f"{_head_ref(gitdir)}.lock"]
    return found + [join(common, p) for p in deep if os.path.lexists(join(common, p))]


def _names(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _head_ref(gitdir: str) -> str:
    """The ref HEAD points at (`refs/heads/main`), or HEAD itself when detached."""
    try:
        with open(join(gitdir, "HEAD"), encoding="utf-8") as f:
            head = f.read().strip()
    except OSError:
        return "HEAD"
    return head.removeprefix("ref:").strip() if head.startswith("ref:") else "HEAD"


def gits_running(root: str) -> list[int] | None:
    """The pids of live git processes working in this repository (git works from the
    top of the working tree); None where the system cannot tell (no /proc)."""
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    inside = (root, root + os.sep)
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
                if not f.read().startswith("git"):
                    continue
            folder = os.readlink(f"/proc/{pid}/cwd")  # fails for a zombie: it is dead
        except OSError:
            continue
        if folder == root or folder.startswith(inside[1]):
            found.append(int(pid))
    return found


def settle_locks(root: str, say: Callable[[str], object], wait: float = LOCK_WAIT) -> bool:
    """Remove the lock files a dead git left, each with a one-line notice; wait up to
    `wait` seconds for those a running git holds, then refuse naming the file. True
    when a lock was removed: a git was killed here.

    A lock is left by a dead git when no git process works in this repository, or when
    it is older than any git command takes (STALE_AFTER; the only test where the
    system cannot list processes).
    """
    import time

    until = time.monotonic() + wait
    removed = False
    while True:
        held = lock_files(root)
        if not held:
            return removed
        gits = gits_running(root)
        kept = [path for path in held if not _remove_if_stale(root, path, gits, say)]
        removed = removed or len(kept) < len(held)
        if not kept:
            return removed
        if time.monotonic() >= until:
            raise CasectlError(_held(root, kept[0], gits))
        time.sleep(0.05)


def remove_temporary(root: str) -> None:
    """Remove the temporary files a killed git left in its object store (`tmp_obj_*`,
    `tmp_pack_*`, `tmp_graph_*`...), unless a git works here now and may be writing one.
    Git itself would only prune them weeks later."""
    if gits_running(root) != []:
        return
    objects = join(_common_dir(git_dir(root)), "objects")
    for folder, _dirs, files in os.walk(objects):
        for name in files:
            if name.startswith(("tmp_", ".tmp-")):
                with suppress(FileNotFoundError):
                    os.unlink(join(folder, name))


def _remove_if_stale(
    root: str, path: str, gits: list[int] | None, say: Callable[[str], object]
) -> bool:
    """Remove `path` if no live git can hold it; True when it is gone."""
    import time

    try:
        if gits != [] and time.time() - os.lstat(path).st_mtime <= STALE_AFTER:
            return False
        os.unlink(path)
    except FileNotFoundError:
        return True  # its git finished meanwhile
    say(f"casectl: removed {os.path.relpath(path, root)}, left by a git no longer running")
    return True


def _held(root: str, path: str, gits: list[int] | None) -> str:
    name = os.path.relpath(path, root)
    who = f"git (pid {', '.join(map(str, gits))})" if gits else "a git"
    return (
        f"{name} is held by {who} running in this repository; wait for it to finish and "
        f"run the command again (if no git is running here, remove {name})"
    )


def uncommitted(root: str, names: list[str]) -> tuple[list[str], list[str]]:
    """Of the files `names`, those whose content differs from HEAD's, and which of
    those HEAD lacks (new files). The index is first put back to HEAD for them: a git
    killed between moving HEAD and writing its index leaves it stale."""
    git(root, "reset", "-q", "--", *names, check=False)
    listed = git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", *names)
    committed = set(listed.split("\0"))
    changed = set(git(root, "diff", "--name-only", "-z", "HEAD", "--", *names).split("\0"))
    new = [n for n in names if n not in committed and exists(join(root, n))]
    return sorted((changed - {""}) | set(new)), new


def committed_blob(root: str, name: str, commit: str = "HEAD") -> bytes:
    """The file `name` as `commit` has it; empty when it lacks it."""
    return _blob(root, f"{commit}:{name}")


def log_case(root: str, paths: list[str]) -> str:
    """The commits that touched a case file, with their diffs."""
    form = "--format=commit %h%nAuthor: %an <%ae>%nCommit: %cn <%ce>%nDate:   %ad%n%n    %s%n"
    return git(root, "log", "-p", form, "--date=iso", "--", *paths)


def _identity(name: str, email: str, committer: tuple[str, str] | None = None) -> dict[str, str]:
    """Git's environment for a commit authored by (name, email) and committed by
    `committer`: the clone's own identity; the author too when there is none."""
    committer_name, committer_email = committer or (name, email)
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": committer_name,
        "GIT_COMMITTER_EMAIL": committer_email,
    }
