"""Signed decisions: the steps severity.yaml names are believed only from their taker's key.

`signed:` in severity.yaml names steps (event types, and `noncontract-approve`,
`customer-request`) or roles whose every step must be committed in a commit signed
with the SSH key the roster gives the person who decided (`signing_key:`). A clone
configured with `casectl setup-git --sign` signs its commits (git, `gpg.format ssh`);
one that is not refuses such a step. Every clone verifies the steps it reads with
git's own verification against an allowed-signers file made from the roster of the
commit that added the step, once per step: the verdict is kept in the state folder.
A step not verified is not acted on.

roster.yaml and severity.yaml are the trust root: `sync` takes a change to them only
when it is signed by a key the clone trusts (`casectl.trust` in its git config,
pinned by `setup-git --trust`); an accepted change moves that trust along (a
manager's key the change removes is no longer trusted, one it adds is).

With no `signed:` and no key pinned, nothing here runs: no git process, no file read.
"""

from __future__ import annotations

import base64
import binascii
import os
from os.path import join
from typing import Any

from casectl import fastimport, gitrepo, identity, remote, state, yamlio
from casectl.errors import CasectlError, RefusedError
from casectl.i18n import _
from casectl.records import Record

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
# what `signed:` may name besides an event type: an opening approved for a customer
# without a contract (signed by the approver), and a step the customer asked the manager for
DECISIONS = ("noncontract-approve", "customer-request")
STEPS = (
    "open", "assign", "severity", "escalate", "rma", "rma-status", "close", "reopen",
    "onsite-request", "onsite-approve", "onsite-deny", "onsite-cancel", "onsite-arrive",
    "onsite-work", "onsite-depart", "note", "contact", "callback", "onsite", "wait-customer",
    "wait-parts", "resume",
)  # fmt: skip
GUARDED = ("roster.yaml", "severity.yaml")  # the trust root
CACHE = "signatures"  # in the state folder: one verdict per step, and the commit scanned
TRUST = "casectl.trust"  # git config: the keys this clone trusts for the trust root
SIGNER = "casectl.signer"  # git config: whose key this clone signs with


class Policy(Record):
    steps: frozenset[str]
    roles: frozenset[str]


def policy(spec: Any) -> Policy:
    """`signed: [onsite-approve, ...]` or `signed: {steps: [...], roles: [manager]}`."""
    from casectl.config import ROLES

    if isinstance(spec, list):
        spec = {"steps": spec}
    if not isinstance(spec, dict) or not set(spec) <= {"steps", "roles"}:
        raise ValueError(_("expected a list of steps, or a mapping with steps: and roles:"))
    steps, roles = spec.get("steps") or [], spec.get("roles") or []
    if not isinstance(steps, list) or not isinstance(roles, list):
        raise ValueError(_("expected a list of steps, or a mapping with steps: and roles:"))
    for step in steps:
        if step not in STEPS + DECISIONS:
            raise ValueError(
                _("unknown step {step!r}; expected some of {known}").format(
                    step=step, known=", ".join(DECISIONS + STEPS))
            )  # fmt: skip
    for role in roles:
        if role not in ROLES:
            raise ValueError(
                _("unknown role {role!r}; expected {known}").format(
                    role=role, known=", ".join(ROLES))
            )  # fmt: skip
    return Policy(steps=frozenset(map(str, steps)), roles=frozenset(map(str, roles)))


def public_key(text: Any) -> str | None:
    """`type base64` of one SSH public key line (its comment dropped); None if it is not."""
    if not isinstance(text, str) or "\n" in text.strip() or "\r" in text:
        return None
    words = text.split()
    if len(words) < 2 or words[0] not in KEY_TYPES:
        return None
    try:
        blob = base64.b64decode(words[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    name = words[0].encode()
    if blob[:4] != len(name).to_bytes(4, "big") or blob[4 : 4 + len(name)] != name:
        return None
    return f"{words[0]} {words[1]}"


def decider(cfg: Any, event: dict[str, Any]) -> str | None:
    """Whose signature the event needs under the policy; None when it needs none."""
    if cfg.signed is None:
        return None

    def roles(person_id: str) -> tuple[str, ...]:
        person = cfg.person(person_id)
        return person.roles if person is not None else ()

    return _decider(cfg.signed, roles, event)


def _decider(rules: Policy, roles: Any, event: dict[str, Any]) -> str | None:
    """`decider` under `rules`, with `roles(person id)` the roles the roster gives."""
    kind, by = event.get("type"), str(event.get("by"))
    approved = kind == "open" and event.get("approved_by") and not event.get("contract")
    if approved and "noncontract-approve" in rules.steps:
        return str(event["approved_by"])
    if event.get("customer_request") and "customer-request" in rules.steps:
        return by
    if kind in rules.steps:
        return by
    return by if rules.roles and set(roles(by)) & rules.roles else None


# --- this clone's own steps ---------------------------------------------------------


def signs_as(root: str) -> str | None:
    """Whom this clone signs its commits as (`setup-git --sign`), read from its config
    file; None when it does not sign."""
    on = (identity.local(root, "commit.gpgsign") or "").lower() in ("true", "yes", "on", "1")
    if not on or not identity.local(root, "user.signingkey"):
        return None
    return identity.local(root, SIGNER)


def require(root: str, cfg: Any, events: list[dict[str, Any]]) -> None:
    """Refuse, before anything is written, a step the policy names that this clone would
    not sign with the decider's key."""
    if cfg.signed is None:
        return
    for event in events:
        who = decider(cfg, event)
        if who is None:
            continue
        signer = signs_as(root)
        if signer is None:
            raise RefusedError(
                _("{step} must be signed by {person} (severity.yaml: signed) and this clone "
                  "does not sign: run casectl setup-git --sign --key PATH --as {person}; "
                  "nothing was written").format(step=event["type"], person=who)
            )  # fmt: skip
        if signer != who:
            raise RefusedError(
                _("{step} must be signed by {person} (severity.yaml: signed), and this clone "
                  "signs as {signer}: take it in {person}'s clone; nothing was written").format(
                    step=event["type"], person=who, signer=signer)
            )  # fmt: skip


def committed(store: Any, cfg: Any, case_id: str, events: list[dict[str, Any]]) -> None:
    """Record as verified the policy's steps this clone has just committed, signed."""
    if cfg.signed is None:
        return
    lines = [f"{key(e)} {case_id} ok -\n" for e in events if decider(cfg, e)]
    if lines:
        with _quiet():
            state.append(join(store.state_folder(), CACHE), "".join(lines))


# --- verifying what others committed ----------------------------------------------------


class Verdict(Record):
    case: str
    verdict: str  # ok, unsigned, signer:<who>, bad, changed (since the commit that added it)
    commit: str

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def why(self) -> str:
        if self.commit == "-":
            return _("it is not committed")
        if self.verdict == "changed":
            return _("commit {commit} changed it after it was recorded").format(
                commit=self.commit[:12])  # fmt: skip
        if self.verdict == "unsigned":
            return _("commit {commit} is not signed").format(commit=self.commit[:12])
        if self.verdict.startswith("signer:"):
            return _("commit {commit} is signed by {signer}").format(
                commit=self.commit[:12], signer=self.verdict[7:] or _("a key not in the roster")
            )
        return _("commit {commit} has a signature git does not accept").format(
            commit=self.commit[:12])  # fmt: skip


class Cache:
    """The verdicts kept in the state folder, and the commit whose cases were scanned."""

    def __init__(self, store: Any) -> None:
        self.path = join(store.state_dir, CACHE)
        self.store = store
        self.verdicts: dict[str, Verdict] = {}
        self.head = ""
        try:
            text = state.read(self.path, 16 << 20).decode("utf-8", "replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            words = line.split(" ")
            if len(words) == 2 and words[0] == "head":
                self.head = words[1]
            elif len(words) == 4:
                self.verdicts[words[0]] = Verdict(case=words[1], verdict=words[2], commit=words[3])
        self.new: list[str] = []

    def add(self, event_id: str, verdict: Verdict) -> None:
        self.verdicts[event_id] = verdict
        self.new.append(f"{event_id} {verdict.case} {verdict.verdict} {verdict.commit}\n")

    def save(self, head: str | None = None) -> None:
        if head:
            self.new.append(f"head {head}\n")
        if self.new:
            with _quiet():
                state.append(join(self.store.state_folder(), CACHE), "".join(self.new))
            self.new = []


def unverified_in(
    store: Any, cfg: Any, case: Any, cache: Cache | None = None
) -> dict[str, Verdict]:
    """The events of `case` the policy names that are not verified, by id, with why
    (each verified once, then read from the state folder)."""
    if cfg.signed is None:
        return {}
    cache = cache or Cache(store)
    bad = {}
    for event in case.events:
        who = decider(cfg, event)
        if who is None:
            continue
        found = cache.verdicts.get(key(event))
        if found is None:
            found = _verify(store.root, cache, case.id, event, who)
        if found is not None and not found.ok:
            bad[event["id"]] = found
        elif found is None:  # not committed yet: written here, by hand or with --no-commit
            bad[event["id"]] = Verdict(case=case.id, verdict="unsigned", commit="-")
    cache.save()
    return bad


def unverified(store: Any, cfg: Any) -> dict[str, dict[str, Verdict]]:
    """Every case with a step the policy names that is not verified: {case: {event: why}}.
    The cases that changed since the last scan are read and their new steps verified;
    with nothing new, this reads one file of the state folder and runs nothing."""
    if cfg.signed is None:
        return {}
    from casectl.store import id_of, read_case

    root = store.root
    cache = Cache(store)
    head = fastimport.head_commit(root)
    stamp = f"{head}:{_policy_stamp(cfg.signed)}" if head else ""
    if stamp and stamp != cache.head:
        if cache.head.partition(":")[2] != stamp.partition(":")[2]:
            cache.head = ""  # another policy names other steps: every case is read again
        cache.head = cache.head.partition(":")[0]
        since = cache.head if cache.head and _exists(root, cache.head) else remote.EMPTY_TREE
        changed = gitrepo.git(root, "diff", "--name-only", "--no-renames", "-z", since, head,
                              "--", "cases", check=False)  # fmt: skip
        for path in changed.split("\0"):
            if not id_of(os.path.basename(path)) or not os.path.isfile(join(root, path)):
                continue
            try:
                case = read_case(join(root, path))
            except CasectlError:
                continue  # check names it
            unverified_in(store, cfg, case, cache)
        cache.save(stamp)
    found: dict[str, dict[str, Verdict]] = {}
    for held, verdict in cache.verdicts.items():
        if not verdict.ok:
            found.setdefault(verdict.case, {})[held.partition(":")[0]] = verdict
    return found


def _policy_stamp(rules: Policy) -> str:
    return ",".join(sorted(rules.steps)) + "/" + ",".join(sorted(rules.roles))


def _exists(root: str, commit: str) -> bool:
    return gitrepo.run(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def _verify(root: str, cache: Cache, case_id: str, event: dict[str, Any], who: str
            ) -> Verdict | None:  # fmt: skip
    """Find the commit that added the event and judge it by the policy and the roster that
    commit has (a step taken before the policy named it stands); None when no commit
    added it (not committed yet)."""
    event_id = str(event["id"])
    from casectl.store import relative_path

    paths = [relative_path(case_id), f"cases/open/{case_id}.yaml", f"cases/closed/{case_id}.yaml"]
    search = ["log", "--format=%H", "-S", event_id, "HEAD", "--", *paths]
    found = gitrepo.git(root, *search[:1], "--no-merges", *search[1:],
                        check=False).split()  # fmt: skip
    if not found:  # brought in by a merge's own change, or not committed at all
        found = gitrepo.git(root, *search[:1], "-m", *search[1:], check=False).split()
    if not found:
        return None
    commit = found[-1]  # the oldest: the one that added it
    signed = _event_then(root, commit, paths, case_id, event_id)
    if signed != digest(event):  # rewritten since: name the commit that did it
        later = gitrepo.git(root, "log", "--reverse", "--format=%H", f"{commit}..HEAD", "--",
                            *paths, check=False).split()  # fmt: skip
        changer = next(
            (c for c in later if _event_then(root, c, paths, case_id, event_id) != signed), commit
        )
        result = Verdict(case=case_id, verdict="changed", commit=changer)
        cache.add(key(event), result)
        return result
    if not _named_then(root, commit, event):
        result = Verdict(case=case_id, verdict="ok", commit=commit)  # taken before the policy
        cache.add(key(event), result)
        return result
    signers = _signers_file(root, cache.store, _roster_keys(root, commit))
    said = gitrepo.run(root, "-c", f"gpg.ssh.allowedSignersFile={signers}", "log", "-1",
                       "--format=%G?%x00%GS", commit).stdout.strip()  # fmt: skip
    status, _sep, signer = said.partition("\0")
    if status == "G" and signer == who:
        verdict = "ok"
    elif status == "N" or not status:
        verdict = "unsigned"
    elif status in ("G", "U", "E") and signer != who:
        verdict = f"signer:{signer}"
    else:
        verdict = "bad"
    result = Verdict(case=case_id, verdict=verdict, commit=commit)
    cache.add(key(event), result)
    return result


def digest(event: dict[str, Any]) -> str:
    """A digest of the event's content: a verdict holds for the step as it was signed."""
    try:
        from _blake2 import blake2b  # hashlib's own, without OpenSSL's 4 ms of import
    except ImportError:  # pragma: no cover - another Python
        from hashlib import blake2b

    fields = sorted((str(k), v.isoformat() if hasattr(v, "isoformat") else repr(v))
                    for k, v in event.items() if v is not None)  # fmt: skip
    return blake2b(repr(fields).encode(), digest_size=8).hexdigest()


def key(event: dict[str, Any]) -> str:
    """What a verdict is kept under: the event's id and its content's digest."""
    return f"{event['id']}:{digest(event)}"


def _event_then(root: str, commit: str, paths: list[str], case_id: str, event_id: str
                ) -> str | None:  # fmt: skip
    """The digest of the event as `commit` recorded it (None: not found there)."""
    from casectl.store import case_from_document

    for path in paths:
        data = gitrepo.committed_blob(root, path, commit)
        if event_id.encode() not in data:
            continue
        try:
            case = case_from_document(yamlio.load(data), path, case_id)
        except (ValueError, CasectlError):
            return None
        return next((digest(e) for e in case.events if str(e["id"]) == event_id), None)
    return None


def _named_then(root: str, commit: str, event: dict[str, Any]) -> bool:
    """Whether severity.yaml as `commit` has it names the event (unreadable: it does)."""
    try:
        document = yamlio.load(gitrepo.committed_blob(root, "severity.yaml", commit) or b"{}")
        spec = document.get("signed") if isinstance(document, dict) else None
        if not spec:
            return False
        rules = policy(spec)
    except ValueError:
        return True
    try:
        roster = yamlio.load(gitrepo.committed_blob(root, "roster.yaml", commit) or b"{}")
    except ValueError:
        return True
    people = roster.get("engineers") if isinstance(roster, dict) else None
    held = {str(p.get("id")): p.get("roles") for p in people or [] if isinstance(p, dict)}

    def roles(person_id: str) -> tuple[str, ...]:
        found = held.get(person_id)
        return tuple(map(str, found)) if isinstance(found, list) else ()

    return _decider(rules, roles, event) is not None


def _roster_keys(root: str, commit: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, key, roles) of each person with a valid signing key in `commit`'s roster."""
    data = gitrepo.committed_blob(root, "roster.yaml", commit)
    return roster_keys(data)


def roster_keys(data: bytes) -> list[tuple[str, str, tuple[str, ...]]]:
    try:
        document = yamlio.load(data) if data else None
    except ValueError:
        return []
    people = document.get("engineers") if isinstance(document, dict) else None
    found = []
    for body in people if isinstance(people, list) else []:
        if not isinstance(body, dict):
            continue
        key, pid = public_key(body.get("signing_key")), body.get("id")
        roles = body.get("roles")
        roles = roles if isinstance(roles, list) else []
        if key and isinstance(pid, str) and _principal(pid):
            found.append((pid, key, tuple(str(r) for r in roles)))
    return found


def _principal(name: str) -> bool:
    """A name git's allowed-signers file can hold as it is (no pattern, no blank)."""
    return bool(name) and name.isprintable() and not any(c in name for c in ' \t,*?!"#')


def _signers_file(root: str, store: Any, people: list[tuple[str, str, tuple[str, ...]]]) -> str:
    """git's allowed-signers file for these people, in the state folder (by content)."""
    import hashlib

    text = "".join(f"{pid} {key}\n" for pid, key, _roles in people)
    folder = join(store.state_folder(), "signers")
    os.makedirs(folder, exist_ok=True)
    path = join(folder, hashlib.sha1(text.encode()).hexdigest()[:16])
    if not os.path.isfile(path):
        with open(f"{path}.{os.getpid()}", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(f"{path}.{os.getpid()}", path)
    return path


def screened(case: Any, bad: dict[str, Any]) -> Any:
    """The case as the rules see it: without its unverified steps (never saved as it is)."""
    from casectl.model import Case

    return Case(case.id, [e for e in case.events if e["id"] not in bad], case.extra)


def shown(case: Any, bad: dict[str, Verdict]) -> list[str]:
    """`show`'s lines for the unverified steps."""
    from casectl.render import when

    lines = ["", _("Unverified steps (not acted on):")]
    for e in case.events:
        if e["id"] in bad:
            lines.append(
                _("  {at}  {by} {step}: unverified, {why}").format(
                    at=when(e["at"]), by=e["by"], step=e["type"], why=bad[e["id"]].why())
            )  # fmt: skip
    return lines


def documents(bad: dict[str, Verdict]) -> list[dict[str, str]]:
    """`show --json`'s `unverified`: each step's id, the commit that added it, and why."""
    return [{"event": event_id, "commit": v.commit, "verdict": v.verdict, "why": v.why()}
            for event_id, v in bad.items()]  # fmt: skip


def notices(store: Any, cfg: Any, bad: dict[str, dict[str, Verdict]], now: Any,
            dry_run: bool) -> list[Any]:  # fmt: skip
    """The sweep's notices to the manager of unverified steps, each once (this clone keeps
    what it told in its state folder's `notices`)."""
    if not bad:
        return []
    from casectl.sweep import Action

    path = join(store.shared_folder(), "notices")
    try:
        told = set(state.read(path, 1 << 20).decode("utf-8", "replace").splitlines())
    except OSError:
        told = set()
    actions, new = [], []
    for case_id, steps in sorted(bad.items()):
        for event_id, verdict in sorted(steps.items()):
            key = f"unverified {event_id}"
            if key in told or verdict.commit == "-":
                continue
            new.append(key)
            what = _("{case}: step {event} not verified, {why}").format(
                case=case_id, event=event_id, why=verdict.why()
            )
            actions.append(Action("", "unverified_step", now, what, (cfg.manager.id,)))
    if new and not dry_run:
        state.append(path, "".join(f"{key}\n" for key in new))
    return actions


def findings(root: str, store: Any, cfg: Any) -> list[tuple[str, str]]:
    """`check`'s problems: (file, problem) for each unverified step and each change of
    the trust root not signed by a manager of the roster it changed or a pinned key."""
    from casectl.store import relative_path

    found = []
    if cfg.signed is not None:
        for case_id, steps in sorted(unverified(store, cfg).items()):
            for event_id, verdict in sorted(steps.items()):
                found.append((relative_path(case_id), _(
                    "step {event} is not verified: {why} (severity.yaml: signed)").format(
                        event=event_id, why=verdict.why())))  # fmt: skip
    if cfg.signed is not None or trusted(root):
        for commit, why in unsigned_root_changes(root, store):
            said = (_("commit {commit} changes the roster or the rules and is not signed")
                    if why == "unsigned" else
                    _("commit {commit} changes the roster or the rules and is not signed by a "
                      "trusted manager's key"))  # fmt: skip
            found.append(("roster.yaml", said.format(commit=commit[:12])))
    return found


# --- the trust root: roster.yaml and severity.yaml -----------------------------------


def trusted(root: str) -> list[str]:
    """The keys this clone trusts to change the roster and the rules (its git config)."""
    config = join(gitrepo._common_dir(gitrepo.git_dir(root)), "config")
    try:
        with open(config, encoding="utf-8", errors="replace") as f:
            text = f.read().lower()
        if "[casectl" not in text or "trust" not in text:
            return []
    except OSError:
        return []
    said = gitrepo.run(root, "config", "--local", "--get-all", TRUST).stdout
    return [k for k in (public_key(line) for line in said.splitlines()) if k]


def set_trusted(root: str, keys: list[str]) -> None:
    gitrepo.git(root, "config", "--local", "--unset-all", TRUST, check=False)
    for key in dict.fromkeys(keys):
        gitrepo.git(root, "config", "--local", "--add", TRUST, key)


def _judge(root: str, store: Any, commit: str, keys: list[str]) -> str | None:
    """Why `commit` is not signed by one of `keys` (unsigned, untrusted); None when it is."""
    people = [(f"trusted-{i}", key, ()) for i, key in enumerate(keys)]
    signers = _signers_file(root, store, people)  # type: ignore[arg-type]
    said = gitrepo.run(root, "-c", f"gpg.ssh.allowedSignersFile={signers}", "log", "-1",
                       "--format=%G?", commit).stdout.strip()  # fmt: skip
    if said == "G":
        return None
    return "unsigned" if said in ("N", "") else "untrusted"


def _managers(root: str, commit: str) -> list[str]:
    return [key for _pid, key, roles in _roster_keys(root, commit) if "manager" in roles]


def policy_on(root: str) -> bool:
    """Whether the working tree's severity.yaml says `signed:` (read through the config's
    cache; a file that does not load errs on the side of checking)."""
    from casectl import config

    try:
        return config.load(root).signed is not None
    except CasectlError:
        return True


def guard_pull(root: str, store: Any, ours: str, theirs: str, pinned: list[str]
               ) -> tuple[str, str, list[str]] | None:  # fmt: skip
    """Judge the commits `theirs` brings that change roster.yaml or severity.yaml, oldest
    first, against the keys this clone trusts (those pinned, else the keys of the managers
    in our roster), moving the trust with each accepted one. (commit, why) of the first
    refused, with the trust so far; else ("", "", the trust after them all). None when
    no key is trusted (no manager has a key yet): nothing is checked."""
    keys = pinned or _managers(root, ours)
    if not keys:
        return None
    changes = gitrepo.git(root, "rev-list", "--reverse", "--topo-order", theirs, "--not", ours,
                          "--", *GUARDED).split()  # fmt: skip
    for commit in changes:
        why = _judge(root, store, commit, keys)
        if why is not None:
            return commit, why, keys
        before = _managers(root, f"{commit}^") if _has_parent(root, commit) else []
        after = _managers(root, commit)
        if after:  # a roster without a manager's key carries no trust: the keys stay
            keys = list(dict.fromkeys([k for k in keys if k not in before or k in after] + after))
    return "", "", keys


def _has_parent(root: str, commit: str) -> bool:
    return gitrepo.run(root, "rev-parse", "-q", "--verify", f"{commit}^").returncode == 0


def unsigned_root_changes(root: str, store: Any) -> list[tuple[str, str]]:
    """The commits in HEAD's history that change roster.yaml or severity.yaml, not signed
    by a manager of the roster before them nor by a key this clone pins; those made
    while no manager had a key (the first, which sets the keys) are not judged. Each
    commit is judged once per set of pinned keys (kept in the state folder)."""
    import hashlib

    pinned = trusted(root)
    pins = hashlib.sha1("".join(sorted(pinned)).encode()).hexdigest()[:12]
    path = join(store.state_dir, "trust-verdicts")
    try:
        lines = state.read(path, 4 << 20).decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    known = {f"{w[0]} {w[1]}": w[2] for w in (line.split(" ") for line in lines) if len(w) == 3}
    found, new = [], []
    for commit in gitrepo.git(root, "rev-list", "HEAD", "--", *GUARDED, check=False).split():
        why = known.get(f"{commit} {pins}")
        if why is None:
            why = _judge_change(root, store, commit, pinned)
            new.append(f"{commit} {pins} {why}\n")
        if why != "ok":
            found.append((commit, why))
    if new:
        with _quiet():
            state.append(join(store.state_folder(), "trust-verdicts"), "".join(new))
    return found


def _judge_change(root: str, store: Any, commit: str, pinned: list[str]) -> str:
    """ok, unsigned or untrusted: `unsigned_root_changes`' verdict on one commit."""
    if not _has_parent(root, commit):
        return "ok"
    before = _managers(root, f"{commit}^")
    if not before:
        return "ok"  # no manager had a key yet: the roster's trust starts after it
    return _judge(root, store, commit, pinned + before) or "ok"


# --- setup-git --sign and --trust ---------------------------------------------------


def setup_sign(root: str, cfg: Any, person_id: str | None, key_path: str | None) -> str:
    """Configure this clone to sign its commits with `person_id`'s key; what was done."""
    who = person_id or identity.local(root, "casectl.user")
    if not who:
        raise CasectlError(
            _("setup-git --sign: whose key? give --as ID, or bind this clone with casectl "
              "whoami ID")
        )  # fmt: skip
    person = cfg.person(who)
    if person is None:
        raise CasectlError(_("setup-git --sign: {person} is not in roster.yaml").format(person=who))
    if person.signing_key is None:
        raise CasectlError(
            _("setup-git --sign: {person} has no signing_key in roster.yaml; add their public "
              "key there first").format(person=who)
        )  # fmt: skip
    if not key_path:
        raise CasectlError(_("setup-git --sign: give --key PATH, the private key to sign with"))
    key_path = os.path.abspath(os.path.expanduser(key_path))
    mine = _public_of(key_path)
    if mine != person.signing_key:
        raise CasectlError(
            _("setup-git --sign: {path} is not the key roster.yaml gives {person}; nothing "
              "was changed").format(path=key_path, person=who)
        )  # fmt: skip
    from casectl.store import Store

    signers = _signers_file(root, Store(root), [(p.id, p.signing_key, p.roles) for p in cfg.people
                                               if p.signing_key and _principal(p.id)])  # fmt: skip
    for name, value in (("gpg.format", "ssh"), ("user.signingKey", key_path),
                        ("commit.gpgSign", "true"), ("gpg.ssh.allowedSignersFile", signers),
                        (SIGNER, who)):  # fmt: skip
        gitrepo.git(root, "config", "--local", name, value)
    return _("this clone signs its commits as {person} with {path}").format(
        person=who, path=key_path
    )


def _public_of(key_path: str) -> str | None:
    """The public key of a private key file (its .pub beside it, else ssh-keygen -y)."""
    try:
        with open(f"{key_path}.pub", encoding="utf-8") as f:
            found = public_key(f.readline())
        if found:
            return found
    except OSError:
        pass
    import subprocess

    try:
        done = subprocess.run(["ssh-keygen", "-y", "-f", key_path], capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return public_key(done.stdout) if done.returncode == 0 else None


def setup_trust(root: str, cfg: Any, key_file: str | None, from_roster: bool) -> str:
    """Pin keys this clone trusts for the roster and the rules; what was done."""
    keys = trusted(root)
    if from_roster:
        managers = [p.signing_key for p in cfg.people if p.has("manager") and p.signing_key]
        if not managers:
            raise CasectlError(
                _("setup-git --trust-roster: no manager in roster.yaml has a signing_key")
            )
        keys = managers
    if key_file:
        try:
            with open(os.path.expanduser(key_file), encoding="utf-8") as f:
                key = public_key(f.readline(4096))
        except (OSError, UnicodeDecodeError):
            key = None
        if key is None:
            raise CasectlError(
                _("setup-git --trust: {file} is not an SSH public key file").format(file=key_file)
            )
        keys = [*keys, key]
    set_trusted(root, keys)
    return _("this clone trusts {count} key(s) to change roster.yaml and severity.yaml").format(
        count=len(dict.fromkeys(keys))
    )


class _quiet:
    """Ignore an OSError: a verdict not kept is verified again, nothing worse."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, value: Any, tb: Any) -> bool:
        return kind is not None and issubclass(kind, OSError)
