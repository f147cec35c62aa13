"""Git: commit exactly the files a step changed, authored by the person who acted.

Also here: running git, the merge driver's registration, housekeeping, blobs. Apart:
the fast-import commit path (casectl.fastimport), sync and what a pull may not bring
(casectl.remote), what a killed git or step leaves (casectl.repair)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import suppress
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
    paths (casectl.fastimport). A lock file in the way (a git that started meanwhile,
    or one killed since the step began) is settled once and the commit tried again.
    """
    from casectl.identity import committer

    names = [os.path.relpath(p, root) for p in paths]
    identity = _identity(*author, committer=committer(root))  # the clone's own, else the author
    try:
        _commit(root, names, identity, message, new)
    except CasectlError as err:
        from casectl import repair

        if repair.LOCKED not in str(err):
            raise
        repair.settle_locks(root, say)
        _commit(root, names, identity, message, new)


def _commit(root: str, names: list[str], identity: dict[str, str], message: str, new: bool) -> None:
    from casectl import fastimport

    large = fastimport.index_bytes(root) > BIG_INDEX or len(names) > 100
    if large and fastimport.commit_paths(root, names, message, identity):
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

    from casectl import identity

    driver = f"{shlex.quote(sys.executable)} -I -m casectl merge-file %O %A %B %P"
    wanted = {
        "merge.casectl.name": "casectl: union of case events",
        "merge.casectl.driver": driver,
        # changed-path Bloom filters keep `git log -- <case file>` fast on long histories
        "core.commitgraph": "true",
        "fetch.writecommitgraph": "true",
        # a step rewrites only its share of a large index, not all of it
        "index.version": "4",
        "core.splitindex": "true",
    }
    have = {k.lower(): v for k, v in identity.local_settings(root)}
    for key, value in wanted.items():
        if have.get(key.lower()) != value:  # written only when missing: git's config lock
            git(root, "config", key, value)  # is one writer at a time, and sync is frequent


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
    """What git would do after each commit (casectl's steps skip it): pack the loose
    objects (`housekeeping`), keep the commit-graph current, and the split index split.
    Run by sync and sweep.

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
    housekeeping(root)
    write_commit_graph(root)
    _split_index_again(root)
    if mark and stamp:
        tmp = f"{mark}.{os.getpid()}.tmp"
        with suppress(OSError), open(tmp, "w", encoding="utf-8") as f:
            f.write(_reflog_stamp(root))
        with suppress(OSError):
            os.replace(tmp, mark)


# the loose objects and the small packs rolled up (see `housekeeping`), then git's gc,
# which now rarely finds anything to do: run by `sh` in the background, one after the other
HOUSEKEEPING = 'cd "$1" && git repack -d -l -q --geometric=2; exec git gc --auto --quiet'
REPACK_PAST = 256 << 10  # bytes of loose objects: two steps' on a day of 5,000 cases


def housekeeping(root: str) -> None:
    """Past REPACK_PAST bytes of loose objects, pack them and then `git gc --auto`, in
    the background (detached: nothing waits for it); else only `git gc --auto` (which
    detaches itself when it has work). Nothing while a gc or the last one runs.

    Each step writes a new tree for every folder on its case's way, loose: one of the
    day's folder, which holds every case of that day, is about 27 bytes a case (135 KB
    at an alarm storm's 5,000). Git's gc packs them only past 6,700 loose objects, a
    thousand steps. Packed by the next sweep (`git repack --geometric=2`, 40 ms at
    5,000), the versions of a tree are deltas of each other (about 120 bytes each); the
    small packs roll up into packs whose object counts at least double, so there are
    few of them, and the large pack of a clone is left alone until the packs since come
    to half its size (a repack of the whole repository, which may take a minute). It
    takes no lock a step takes, so no step waits for it. Its pid is kept (`repacking`,
    in the clone's state folder): a sweep leaves git alone while it runs."""
    common = _common_dir(git_dir(root))
    if exists(join(common, "gc.pid")) or _repacking(root):
        return  # a gc or the last sweep's housekeeping is at it (gc says when one died)
    if _loose_bytes(join(common, "objects"), REPACK_PAST) < REPACK_PAST:
        # gc --auto, not `maintenance run --auto`: the same gc, but detached (gc.autoDetach),
        # so the sweep that starts it does not wait the minute a repack of 110,000 files takes
        git(root, "gc", "--auto", "--quiet", check=False)
        return
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    try:  # posix_spawn, not Popen: no process object to warn, left running, that it runs
        pid = os.posix_spawnp("sh", ["sh", "-c", HOUSEKEEPING, "sh", root], _env(),
                              file_actions=quiet, setsid=True)  # fmt: skip
    except OSError:
        return
    mark = _repack_mark(root)
    tmp = f"{mark}.{os.getpid()}.tmp"
    with suppress(OSError):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(str(pid))
        os.replace(tmp, mark)


def _loose_bytes(objects: str, enough: int) -> int:
    """About the bytes of the loose objects in `objects`, from a quarter of them (those
    whose names start 0-3: hashes spread evenly), counted until there are `enough`. A
    quarter, not gc's 1/256: a few large trees are what matters, and 1,000 small
    objects (as many as come to 256 KB) take 3 ms to count whole."""
    total = 0
    for prefix in range(64):
        with suppress(OSError), os.scandir(join(objects, f"{prefix:02x}")) as files:
            for file in files:
                total += file.stat().st_size * 4
                if total >= enough:
                    return total
    return total


def _repacking(root: str) -> bool:
    """Whether the housekeeping a sweep started still runs."""
    try:
        with open(_repack_mark(root), encoding="utf-8") as f:
            pid = int(f.read())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False  # none started, or it ended
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"--geometric" in f.read()  # not another process given its pid since
    except OSError:
        return not exists("/proc/self")  # it ended; no /proc to tell: say it runs


def _repack_mark(root: str) -> str:
    return join(state.folders(root)[1], "repacking")


def _split_index_again(root: str) -> None:
    """Write a new shared index when the split index's own part has grown past a quarter
    of it. Git does that for entries added (splitIndex.maxPercentChange), not for those
    whose stat data it refreshed: after every file's changed (a copy of the repository,
    a chmod -R) each step would write all 110,000 entries again, 20 ms more a commit."""
    try:
        own = os.stat(join(git_dir(root), "index")).st_size
    except OSError:
        return
    from casectl.fastimport import index_bytes

    if own > BIG_INDEX // 4 and own * 4 > index_bytes(root):
        git(root, "update-index", "--split-index", check=False)


def _reflog_stamp(root: str) -> str:
    """HEAD's reflog's size and mtime: it grows with every commit."""
    try:
        st = os.stat(join(git_dir(root), "logs", "HEAD"))
    except OSError:
        return ""
    return f"{st.st_size} {st.st_mtime_ns}"


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


def git_dir(root: str) -> str:
    """The repository's git folder: `.git`, or where a worktree's `.git` file points."""
    return state.git_dir(root) or join(root, ".git")


def _common_dir(gitdir: str) -> str:
    """Where refs and objects live: the git folder itself, or a worktree's main one."""
    return state.common_dir(gitdir)


def _head_ref(gitdir: str) -> str:
    """The ref HEAD points at (`refs/heads/main`), or HEAD itself when detached."""
    try:
        with open(join(gitdir, "HEAD"), encoding="utf-8") as f:
            head = f.read().strip()
    except OSError:
        return "HEAD"
    return head.removeprefix("ref:").strip() if head.startswith("ref:") else "HEAD"


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
