"""The report's slim path (casectl/report/quiet.py): a case quiet in the period, counted
from its slim record, gives the same document as its full facts replayed. A varied
repository is reported for every day, week, month and a run of days, once with every case
through the full path and once with the slim path; then any facts at all (hypothesis)."""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casectl import config
from casectl.index import Index
from casectl.report import facts, numbers, period, quiet
from casectl.report.period import Period
from casectl.store import Store

pytestmark = pytest.mark.slow  # a repository built over eleven days, and hypothesis

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENGINEERS = ["zhang.wei", "liu.yang", "zhao.lei", "sun.li"]
FIRST, LAST = 16, 26  # the days of November the world below is built over
NOW = "2026-11-27 15:00"  # today's report is not over yet


def world(repo: Repo, seed: int = 7) -> list[str]:
    """Three or four cases opened each day, of every severity, source and kind of caller,
    and on each later day a few steps on the open ones: contacts, waits, RMAs,
    escalations, severity changes, alerts, closes and reopenings; sweeps at odd hours
    (missed callbacks reassigned, overdue updates noted)."""
    rng = random.Random(seed)
    cases: list[str] = []
    closed: list[str] = []
    steps = 0
    for day in range(FIRST, LAST + 1):
        at = f"2026-11-{day:02d}"
        for n in range(rng.randint(3, 4)):
            cases.append(opened(repo, rng, f"{at} {9 + 2 * n:02d}:{rng.randint(0, 59):02d}"))
        for n, case in enumerate(rng.sample(cases, min(len(cases), 6))):
            when = f"{at} {10 + n:02d}:{rng.randint(0, 59):02d}"
            if case in closed:
                if rng.random() < 0.3:
                    repo.run("reopen", case, "--reason", "问题复现", by="li.na", now=when)
                    closed.remove(case)
                continue
            steps += 1
            if step(repo, rng, case, when, STEPS[steps % len(STEPS)]):
                closed.append(case)
        if closed and day % 3 == 0:
            repo.ok("reopen", closed.pop(0), "--reason", "问题复现", by="li.na", now=f"{at} 17:30")
        repo.ok("sweep", by=None, now=f"{at} {rng.choice(['08', '13', '18', '23'])}:40")
    return cases


def opened(repo: Repo, rng: random.Random, when: str) -> str:
    severity = str(rng.randint(1, 4))
    kind = rng.random()
    args = ["open", "--customer", rng.choice(["招商银行", "国家电网", "某研究所"]),
            "--contact", "刘先生 13800000000", "--severity", severity,
            "--description", f"阵列告警 {when}", "--source", rng.choice(["phone", "email", "alarm"])]  # fmt: skip
    if kind < 0.1:
        args = ["open", "--no-contract", "--inquiry", "price", "--customer", "某贸易公司",
                "--contact", "赵女士", "--description", f"询问报价 {when}"]  # fmt: skip
    elif kind < 0.2:
        args += ["--no-contract", "--inquiry", "technical", "--approved-by", "feng.xue"]
    else:
        args += ["--contract", rng.choice(["HT-2026-031", "HT-2026-032"])]
    if rng.random() < 0.8 and kind >= 0.1:
        args += ["--assign", rng.choice(ENGINEERS)]
    return repo.ok(*args, by="li.na", now=when).split()[0]


STEPS = ["callback", "contact", "wait", "rma", "escalate", "contact", "severity", "alert",
         "resume", "close", "assign", "amend", "contact", "nothing"]  # fmt: skip


def step(repo: Repo, rng: random.Random, case: str, when: str, choice: str) -> bool:
    """One step on an open case (some are refused, as a person's would be); True when it
    closed the case."""
    who = rng.choice(ENGINEERS)
    if choice == "callback":
        repo.run("log", case, "已回电", "--callback", by=who, now=when)
    elif choice == "contact":
        repo.run("log", case, "已联系客户", "--type", "contact", by=who, now=when)
    elif choice == "wait":
        kind = rng.choice(["wait-customer", "wait-parts"])
        repo.run("log", case, "等待", "--type", kind, by=who, now=when)
    elif choice == "resume":
        repo.run("log", case, "继续处理", "--type", "resume", by=who, now=when)
    elif choice == "rma":
        made = repo.run("rma", case, "--part", "HDD-4T", "--owner", "zheng.hao", by="wang.jianguo",
                        now=when)  # fmt: skip
        if made.exit_code == 0 and rng.random() < 0.5:
            rma = made.stdout.split()[0]
            repo.run("rma", case, rma, "--status", "delivered", by="zheng.hao", now=when)
    elif choice == "escalate":
        to = rng.choice(["zhou.qiang", "wang.jianguo"])
        repo.run("escalate", case, "--to", to, "--reason", "硬件故障", by="wang.jianguo",
                 now=when)  # fmt: skip
    elif choice == "severity":
        repo.run("severity", case, str(rng.randint(1, 4)), "--reason", "影响变化",
                 by="wang.jianguo", now=when)  # fmt: skip
    elif choice == "alert":
        repo.run("log", case, "客户投诉", "--alert-manager", by="wang.jianguo", now=when)
    elif choice == "close":
        done = repo.run("close", case, "--resolution", "已解决", by=who, now=when)
        if done.exit_code != 0:
            done = repo.run("close", case, "--resolution", "已解决", "--force", "--reason",
                            "客户要求", by="wang.jianguo", now=when)  # fmt: skip
        return done.exit_code == 0
    elif choice == "assign":
        repo.run("assign", case, rng.choice(ENGINEERS), by="li.na", now=when)
    elif choice == "amend":
        repo.run("amend", case, "--contract", "HT-2026-033", "--reason", "合同号更正",
                 by="li.na", now=when)  # fmt: skip
    return False


def periods() -> list[Period]:
    now = _now(NOW)
    days = [period.choose(now, SHANGHAI, day=date(2026, 11, d)) for d in range(FIRST, 28)]
    return [
        *days,
        period.choose(now, SHANGHAI, day=date(2026, 11, 20), week=True),
        period.choose(now, SHANGHAI, day=date(2026, 11, 26), week=True),
        period.choose(now, SHANGHAI, day=date(2026, 11, 26), month=True),
        period.choose(now, SHANGHAI, first=date(2026, 11, 22), last=date(2026, 11, 27)),
        period.choose(now, SHANGHAI, day=date(2026, 10, 31)),  # before any case
    ]


def _now(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def documents(root: Path, chosen: Period, now: datetime) -> tuple[dict, dict, int]:
    """(the document through the full path, through the slim path, how many cases the
    slim path counted); the slim records made here, not taken from the index."""
    cfg, store = config.load(str(root)), Store(str(root))
    key = facts.rules_key(str(root))
    since = chosen.start.timestamp()
    cases = Index(store, cfg).facts(since, lambda case: facts.of(case, cfg), key)
    found = [(f[1], quiet.thin(f), (lambda f=f: f)) for f in cases]

    def through(slim: bool) -> tuple[dict, int]:
        counted = [0]
        add = quiet.add

        def counting(*args: Any) -> None:
            counted[0] += 1
            add(*args)

        quiet.add = counting  # type: ignore[assignment]
        try:
            return numbers.build_cases(found, chosen, now, cfg, slim=slim), counted[0]
        finally:
            quiet.add = add  # type: ignore[assignment]

    full, none = through(False)
    assert none == 0
    slim, counted = through(True)
    return full, slim, counted


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    from click.testing import CliRunner

    from casectl.cli import cli

    root = tmp_path_factory.mktemp("quiet") / "cases-repo"
    result = CliRunner().invoke(cli, ["init", str(root)])
    assert result.exit_code == 0, result.output
    repo = Repo(root)
    world(repo)
    return repo


@pytest.mark.parametrize("window", [quiet.WINDOW, math.inf])
def test_every_period_the_same_through_either_path(
    built: Repo, window: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the slim records as kept (they serve recent periods) and with records that
    serve any period after the case's last change of state."""
    from casectl.report import render

    monkeypatch.setattr(quiet, "WINDOW", window)
    now, quiet_days = _now(NOW), 0
    for chosen in periods():
        full, slim, counted = documents(built.root, chosen, now)
        assert slim == full, chosen.label
        assert render.to_json(slim) == json.dumps(full, ensure_ascii=False, indent=2) + "\n"
        quiet_days += counted > 0
    assert quiet_days >= (8 if window == math.inf else 3)  # the slim path was taken


def test_a_report_is_the_same_whenever_the_facts_were_built(built: Repo) -> None:
    """The command (slim path, facts cached by an earlier run) prints what the full path
    gives, for yesterday, today so far, and a week."""
    from casectl.report import render

    for args in ((), ("--date", "2026-11-27"), ("--week",), ("--date", "2026-11-24")):
        printed = built.ok("report", "--json", *args, by=None, now=NOW)
        now = _now(NOW)
        day = date.fromisoformat(args[1]) if args[:1] == ("--date",) else None
        chosen = period.choose(now, SHANGHAI, day=day, week="--week" in args)
        full, _, _ = documents(built.root, chosen, now)
        assert printed == render.to_json(full).strip()


def test_the_world_is_varied(built: Repo) -> None:
    """The equivalence above is only as good as the cases it saw."""
    month = json.loads(built.ok("report", "--json", "--month", "--date", "2026-11-20",
                                by=None, now=NOW))  # fmt: skip
    for section, table in (("lists", "breaches"), ("lists", "at_risk"), ("lists", "alerts"),
                           ("lists", "reopens"), ("lists", "sales"), ("rmas", "outstanding"),
                           ("events", "escalations"), ("events", "severity_changes"),
                           ("events", "forced_closes"), ("events", "reassignments"),
                           ("attention", "waiting"), ("attention", "no_update")):  # fmt: skip
        assert month[section][table], f"{section}.{table}"
    states = {r["state"] for r in month["lists"]["breaches"]}
    assert states == {"missed", "met_late"}


# --- any facts at all ------------------------------------------------------------------

BASE = datetime(2026, 11, 20, tzinfo=SHANGHAI).timestamp()
H = 3600.0
KINDS_OF_STEP = ["amend", "assign", "reassign", "severity", "escalate", "close", "reopen",
                 "rma", "rma-status", "wait-customer", "wait-parts", "resume", "check",
                 "overdue", "met-late", "withdraw", "onsite-request"]  # fmt: skip
PEOPLE = [None, "zhang.wei", "liu.yang", "sweep"]


@st.composite
def case_facts(draw: Any, case_id: str) -> Any:
    """Events in time order (an opening first) and deadline versions between the steps
    that cut them, met or not, before, in or after any period."""
    times = sorted(draw(st.lists(st.floats(0, 240), min_size=1, max_size=12)))
    events: list[Any] = [(BASE + times[0] * H, "open", "li.na", {
        "customer": "招商银行", "severity": draw(st.integers(1, 4)),
        "source": draw(st.sampled_from(["phone", "alarm"])),
        "contract": draw(st.sampled_from([None, "HT-1"])),
        "inquiry": draw(st.sampled_from([None, None, None, "price", "technical"]))})]  # fmt: skip
    for t in times[1:]:
        kind = draw(st.sampled_from(KINDS_OF_STEP))
        by = draw(st.sampled_from(["sweep", "zhang.wei"]))
        f: dict[str, Any] = {}
        if kind in ("assign", "reassign", "escalate"):
            f["to"] = draw(st.sampled_from(["zhang.wei", "liu.yang", "zhou.qiang"]))
        if kind in ("reassign", "check", "overdue", "met-late") and draw(st.booleans()):
            f["due"] = BASE + (t - draw(st.floats(0, 3))) * H
        if kind == "severity":
            f["severity"] = draw(st.integers(1, 4))
        if kind in ("rma", "rma-status"):
            f["rma"] = draw(st.sampled_from(["R1", "R2"]))
            f["status"] = draw(st.sampled_from(["delivered", "installed", "requested"]))
        if draw(st.integers(0, 9)) == 0:
            f["alert"], f["text"] = True, "客户投诉"
        events.append((BASE + t * H, kind, by, f))
    cuts = [e[0] for e in events if e[1] in ("assign", "reassign", "severity", "close",
                                             "reopen")]  # fmt: skip
    bounds = [events[0][0], *cuts]
    records = []
    for n in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["callback", "reply", "update", "escalate_senior"]))
        first = draw(st.integers(0, len(bounds) - 1))
        last = draw(st.integers(first, len(bounds) - 1))
        for v in range(first, last + 1):
            until = bounds[v + 1] if v + 1 < len(bounds) else None
            if v == last and draw(st.booleans()):
                until = None if v + 1 >= len(bounds) else until
            due = BASE + draw(st.floats(-24, 300)) * H
            met = draw(st.one_of(st.none(), st.floats(-24, 300).map(lambda x: BASE + x * H)))
            begin = min(due, BASE + draw(st.floats(-24, 300)) * H)
            records.append((f"{kind}@{n}", kind, due, met, begin, draw(st.integers(1, 4)),
                            draw(st.sampled_from(PEOPLE)), bounds[v], until))  # fmt: skip
    return (facts.FORMAT, case_id, tuple(events), tuple(records))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([quiet.WINDOW, 86_400.0, math.inf]))
def test_any_facts_the_same_through_either_path(data: Any, window: float) -> None:
    quiet_window = quiet.WINDOW
    quiet.WINDOW = window  # type: ignore[misc]
    try:
        _any_facts(data)
    finally:
        quiet.WINDOW = quiet_window  # type: ignore[misc]


def _any_facts(data: Any) -> None:
    from casectl.report import render

    cfg = config.load(str(Path(__file__).parents[2]))
    ids = [f"261120-{n:05d}" for n in range(data.draw(st.integers(1, 6)))]
    cases = [data.draw(case_facts(i)) for i in ids]
    day = data.draw(st.integers(18, 30))
    now = datetime(2026, 11, 1, tzinfo=SHANGHAI).timestamp() + data.draw(st.floats(17, 31)) * 86400
    as_now = datetime.fromtimestamp(now, SHANGHAI)
    span = data.draw(st.sampled_from(["day", "week", "month"]))
    chosen = period.choose(as_now, SHANGHAI, day=date(2026, 11, day), week=span == "week",
                           month=span == "month")  # fmt: skip
    items = [(f[1], quiet.thin(f), (lambda f=f: f)) for f in cases]
    full = numbers.build_cases(items, chosen, as_now, cfg, slim=False)
    slim = numbers.build_cases(items, chosen, as_now, cfg, slim=True)
    assert slim == full
    assert full == numbers.build(cases, chosen, as_now, cfg)
    assert render.to_json(slim) == json.dumps(full, ensure_ascii=False, indent=2) + "\n"
    limit = data.draw(st.integers(1, 3))
    cut = numbers.build_cases(items, chosen, as_now, cfg, limit=limit)
    _a_prefix_of(cut, full, limit)


def _a_prefix_of(cut: dict, full: dict, limit: int) -> None:
    """A report cut to `limit` rows a list: each list the first rows of the whole one,
    `cut` naming exactly the lists that had more, with their lengths; all else the same."""
    lengths = {}
    for section, tables in full.items():
        for name, rows in tables.items() if isinstance(tables, dict) else ():
            if isinstance(rows, list) and section not in ("headline", "volume", "compliance",
                                                          "trend"):  # fmt: skip
                longest = name == "open_longest"  # the ten longest by design: never cut
                lengths[f"{section}.{name}"] = 0 if longest else len(rows)
                assert cut[section][name] == (rows if longest else rows[:limit]), name
    assert cut["cut"] == {k: n for k, n in lengths.items() if n > limit}
    untouched = [k for k in full if k not in ("lists", "checker", "events", "rmas", "attention",
                                              "cut")]  # fmt: skip
    assert {k: cut[k] for k in untouched} == {k: full[k] for k in untouched}


def test_a_deadline_met_before_its_owner_changed_is_charged_to_who_met_it() -> None:
    """A first reply made early, the case reassigned, the reply's due time in the quiet
    period: it counts as met by the engineer who owed it then, through either path."""
    cfg = config.load(str(Path(__file__).parents[2]))
    opened, met, moved = BASE, BASE + 1 * H, BASE + 2 * H
    due = BASE + 30 * H  # the next day
    events = ((opened, "open", "li.na", {"customer": "招商银行", "severity": 3}),
              (opened + 60, "assign", "li.na", {"to": "zhang.wei"}),
              (moved, "reassign", "li.na", {"from": "zhang.wei", "to": "liu.yang"}))  # fmt: skip
    records = (("reply@o", "reply", due, met, opened, 3, "zhang.wei", opened + 60, moved),
               ("reply@o", "reply", due, met, opened, 3, "liu.yang", moved, None))  # fmt: skip
    case = (facts.FORMAT, "261120-00001", events, records)
    now = datetime(2026, 11, 22, 9, tzinfo=SHANGHAI)
    chosen = period.choose(now, SHANGHAI, day=date(2026, 11, 21))
    items = [(case[1], quiet.thin(case), lambda: case)]
    assert quiet.is_quiet(items[0][1], chosen.start.timestamp(), chosen.end.timestamp())
    full = numbers.build_cases(items, chosen, now, cfg, slim=False)
    assert numbers.build_cases(items, chosen, now, cfg) == full
    assert full["compliance"]["by_engineer"] == [
        {"engineer": "zhang.wei", "kind": "reply", "met": 1, "met_late": 0, "missed": 0,
         "on_time_share": 1.0}]  # fmt: skip


def test_facts_files_out_of_step_are_made_again(repo: Repo) -> None:
    """A day's .full file gone, cut short or of another save: the facts are made again
    from the case files, and the report is the same."""
    from test_report_day import MORNING, scripted_day

    scripted_day(repo)
    before = repo.ok("report", "--json", "--week", by=None, now=MORNING)
    folder = Path(Store(str(repo.root)).state_dir) / "index-facts"
    fulls = sorted(folder.glob("*.full"))
    assert fulls
    for n, path in enumerate(fulls):
        data = path.read_bytes()
        if n % 3 == 0:
            path.write_bytes(data[: len(data) // 2])  # cut short
        elif n % 3 == 1:
            path.write_bytes(b"x" * 8 + data[8:])  # not the save its day's file names
        else:
            path.unlink()
    assert repo.ok("report", "--json", "--week", by=None, now=MORNING) == before
    assert repo.ok("report", "--json", "--week", by=None, now=MORNING) == before
    assert sorted(folder.glob("*.full")) == fulls
