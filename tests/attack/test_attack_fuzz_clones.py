"""Three clones, every kind of step, sweeps at random moments, random syncs.

tests/attack/test_fuzz_clones.py covers open, log, assign, close, reopen, escalate and sweep;
this one adds severity changes, RMAs and their progress, on-site service (request,
approval, arrival, work, departure), forced closes, and sweeps run at random times in
any clone (the cron host is not special). After everyone syncs twice: every clone
byte-identical, every acknowledged event exactly once, no case lost, no conflict
markers, a clean tree, a refused step changed nothing, and `casectl check` finds
nothing that the steps themselves did not put there.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest
from conftest import Repo, assert_converged, events_of

pytestmark = pytest.mark.slow

STEPS = 160
ENGINEERS = ["zhang.wei", "liu.yang", "zhao.lei"]
MANAGER = "wang.jianguo"


def state(repo: Repo, case_id: str, at: str) -> dict:
    result = repo.run("show", case_id, "--json", now=at)
    return json.loads(result.stdout) if result.exit_code == 0 else {}


def random_step(
    rng: random.Random, here: Repo, cases: list[str], at: str
) -> tuple[list[str], str | None]:
    """(arguments, acting person) of a random step; many are refused, as in real life."""
    if cases and rng.random() < 0.04:  # a price inquiry, for sales
        return ["open", "--no-contract", "--inquiry", "price", "--customer",
                f"询价{rng.randrange(99)}", "--contact", "y", "--description",
                f"报价 {rng.random():.8f}"], "li.na"  # fmt: skip
    if not cases or rng.random() < 0.12:
        return [
            "open", "--customer", f"客户{rng.randrange(99)}", "--contact", "x", "--contract",
            "HT-1", "--severity", str(rng.randint(1, 4)), "--description", f"故障 {rng.random():.8f}",
            "--assign", rng.choice(ENGINEERS),
        ], "li.na"  # fmt: skip
    case = rng.choice(cases)
    doc = state(here, case, at)
    who = doc.get("assignee") or rng.choice(ENGINEERS)  # sales, for a price inquiry
    note = f"{rng.random():.8f}"
    kind = rng.choice(
        ["log", "log", "callback", "assign", "severity", "escalate", "rma", "rma-status",
         "onsite", "close", "reopen", "sweep", "sweep"]
    )  # fmt: skip
    if kind == "log":
        return ["log", case, f"记录 {note}", *rng.choice([[], ["--type", "wait-customer"],
                ["--type", "resume"], ["--alert-manager"]])], who  # fmt: skip
    if kind == "callback":
        return ["log", case, f"回电 {note}", "--callback"], who
    if kind == "assign":
        return ["assign", case, rng.choice([*ENGINEERS, "--next"])], "li.na"
    if kind == "severity":
        return ["severity", case, str(rng.randint(1, 4)), "--reason", f"调整 {note}"], who
    if kind == "escalate":
        return ["escalate", case, "--to", rng.choice(["zhou.qiang", "wu.min"])], MANAGER
    if kind == "rma":
        return ["rma", case, "--part", f"P-{rng.randrange(5)}", "--qty", "1", "--serial",
                note], who  # fmt: skip
    if kind == "rma-status":
        rmas = doc.get("rmas") or [{"id": "RMA-0000"}]
        status = rng.choice(["shipped", "delivered", "installed", "returned", "cancelled"])
        return ["rma", case, rng.choice(rmas)["id"], "--status", status], who
    if kind == "onsite":
        visits = doc.get("onsite") or []
        stage = visits[-1]["stage"] if visits else None
        if stage == "pending":
            if rng.random() < 0.2:
                return ["onsite", case, "--cancel", "--reason", f"取消 {note}"], MANAGER
            return ["onsite", case, "--approve", "--engineer", "zheng.hao"], MANAGER
        if stage == "approved":
            return ["onsite", case, "--arrive"], "zheng.hao"
        if stage == "on site":
            if rng.random() < 0.5:
                return ["onsite", case, "--work", f"更换 {note}", "--part", "SPARE-1"], "zheng.hao"
            return ["onsite", case, "--depart", "--summary", f"s {note}", "--solution", "ok"], (
                "zheng.hao"
            )
        return ["onsite", case, "--request", "--reason", f"上门 {note}"], who
    if kind == "close":
        forced = ["--force", "--reason", f"强制 {note}"] if rng.random() < 0.3 else []
        return ["close", case, "--resolution", f"客户同意 {note}", *forced], MANAGER
    if kind == "reopen":
        return ["reopen", case, "--reason", f"复发 {note}"], MANAGER
    return ["sweep"], None


@pytest.mark.parametrize("seed", [11, 404])
def test_three_clones_with_every_kind_of_step(team: tuple[Repo, Repo, Repo], seed: int) -> None:
    rng = random.Random(seed)
    clones = list(team)
    acknowledged: set[str] = set()
    cases: list[str] = []
    kinds: dict[str, int] = {}
    now = datetime(2026, 11, 26, 8, 0)
    for _ in range(STEPS):
        now += timedelta(minutes=rng.choice([1, 3, 7, 16, 31, 46, 90, 600]))
        at = now.strftime("%Y-%m-%d %H:%M")
        here = rng.choice(clones)
        if rng.random() < 0.2:
            result = here.run("sync", by=None, now=at)
            assert result.exit_code == 0, result.output
            continue
        args, by = random_step(rng, here, cases, at)
        before = events_of(here)
        result = here.run(*args, by=by, now=at)
        assert result.exit_code in (0, 1), (args, result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        after = events_of(here)
        if result.exit_code == 1:
            assert after == before, (args, result.output)  # a refusal writes nothing
            continue
        kinds[args[0]] = kinds.get(args[0], 0) + 1
        for flag in {"--inquiry"} & set(args):
            kinds[flag] = kinds.get(flag, 0) + 1
        if args[0] == "open":
            cases.append(result.stdout.strip().splitlines()[0])
        for case_id, ids in after.items():
            acknowledged |= set(ids) - set(before.get(case_id, []))
    for _ in range(2):
        for c in clones:
            result = c.run("sync", by=None, now=at)
            assert result.exit_code == 0, result.output
    assert {"open", "log", "rma", "onsite", "severity", "sweep", "--inquiry"} <= set(kinds), kinds
    assert_converged(clones, cases, acknowledged)
    # every step was allowed where it was made: check finds nothing in the merged record
    checked = clones[0].run("check", by=None, now=at)
    assert checked.exit_code == 0, checked.stdout
    final = events_of(clones[0])
    for c in clones:  # every case still reads: show, list, sweep and report see them all
        for case_id in final:
            assert c.run("show", case_id, "--json", now=at).exit_code == 0, case_id
        listed = json.loads(c.ok("list", "--status", "all", "--limit", "0", "--json", now=at))
        assert len(listed) == len(final)
        assert c.run("sweep", "--dry-run", now=at, by=None).exit_code == 0
