"""The catalogue of bad input: config files, case files and the command line.

Each row breaks one thing, runs one command, and asserts its one-line error (an
exact text or a precise fragment), its exit status, no traceback, and that no byte
of the repository changed, `.git` included (only the clone's derived state folder may).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner
from conftest import T0, Repo, state_dir

from casectl.cli import cli

OPEN, CLOSED = "{open}", "{closed}"  # placeholders: the ids of the repository's two cases
Setup = Callable[[Path, dict[str, str]], None]


class Row(NamedTuple):
    name: str
    args: tuple[str, ...]
    fragment: str  # the error line contains this (a row's whole text where it is exact)
    exit: int = 1
    setup: Setup | None = None
    env: dict[str, str] = {}
    by: str = "li.na"


def path_of(root: Path, ids: dict[str, str], name: str) -> Path:
    from casectl.store import relative_path

    if name in (OPEN, CLOSED):
        return root / relative_path(ids[name])
    return root / name


def replace(name: str, old: str, new: str) -> Setup:
    def setup(root: Path, ids: dict[str, str]) -> None:
        path = path_of(root, ids, name)
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return setup


def write(name: str, data: str | bytes) -> Setup:
    def setup(root: Path, ids: dict[str, str]) -> None:
        path = path_of(root, ids, name)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())

    return setup


def transform(name: str, change: Callable[[bytes], bytes]) -> Setup:
    def setup(root: Path, ids: dict[str, str]) -> None:
        path = path_of(root, ids, name)
        path.write_bytes(change(path.read_bytes()))

    return setup


def append(name: str, text: str) -> Setup:
    return transform(name, lambda data: data + text.encode())


def event(text: str) -> Setup:
    """Append one event (YAML lines, indented as in a case file) to the open case."""
    return append(OPEN, text)


def open_event(old: str, new: str) -> Setup:
    return replace(OPEN, old, new)


BARE = "- id: NOTE0001\n  at: 2026-11-26T14:20:00+08:00\n  by: zhang.wei\n  type: note\n"
NOTE = BARE + "  text: t\n"  # lines 18-22 of the open case
BOMB = "a: &a [x, x]\nb: &b [*a, *a]\n"
LEVEL1 = "    callback: 45m\n"


def big(data: bytes) -> bytes:
    return data + b"# " + b"x" * (4 << 20) + b"\n"


def symlink_case(root: Path, ids: dict[str, str]) -> None:
    path = path_of(root, ids, OPEN)
    target = root / "elsewhere.yaml"
    path.rename(target)
    path.symlink_to(target)


ROWS = [
    # --- roster.yaml ----------------------------------------------------------------
    Row("roster malformed", ("roster",), 'roster.yaml: not valid YAML: while parsing a flow node did '
        'not find expected node content in "<byte string>", line 2, column 1',
        setup=write("roster.yaml", "engineers: [\n")),
    Row("roster truncated", ("roster",), "roster.yaml: not valid YAML: while scanning a quoted "
        'scalar in "<byte string>", line 14, column 10 found unexpected end of stream',
        setup=transform("roster.yaml", lambda d: d[: d.index(b"phone: \"+86 138 0101 0002") + 12])),
    Row("roster empty", ("roster",), "roster.yaml: top level: expected a mapping, got nothing",
        setup=write("roster.yaml", "")),
    Row("roster engineers not a list", ("roster",),
        "roster.yaml: engineers: expected a list, got str 'everyone'",
        setup=write("roster.yaml", "engineers: everyone\n")),
    Row("roster unknown top key", ("roster",),
        "roster.yaml: top level.staff: unknown key; expected one of engineers",
        setup=append("roster.yaml", "staff: []\n")),
    Row("roster unknown engineer key", ("roster",),
        "roster.yaml: engineers[0] (wang.jianguo).pager: unknown key",
        setup=replace("roster.yaml", "  roles: [manager]\n", "  roles: [manager]\n  pager: 1\n")),
    Row("roster unknown role", ("roster",),
        "roster.yaml: engineers[1] (li.na).roles: unknown role 'hotline'",
        setup=replace("roster.yaml", "roles: [duty]", "roles: [hotline]")),
    Row("roster no manager", ("roster",),
        "roster.yaml: engineers: expected a manager: someone with the role manager",
        setup=replace("roster.yaml", "roles: [manager]", "roles: [senior]")),
    Row("roster duplicate id", ("roster",),
        "roster.yaml: engineers[2] (li.na).id: duplicate id; expected each engineer once",
        setup=replace("roster.yaml", "id: chen.jing", "id: li.na")),
    Row("roster unreachable engineer", ("roster",),
        "roster.yaml: engineers[1] (li.na): expected a phone or an e-mail",
        setup=replace("roster.yaml", '  phone: "+86 138 0101 0002"\n  email: li.na@example.com\n', "")),
    Row("roster python tag", ("roster",),
        "roster.yaml: not valid YAML: line 1: the tag !!python/object/apply:os.system is not allowed",
        setup=write("roster.yaml", '!!python/object/apply:os.system ["touch /tmp/pwned"]\n')),
    Row("roster not utf-8", ("roster",), "roster.yaml: not valid YAML: unacceptable character "
        "#x00ff: invalid leading UTF-8 octet",
        setup=transform("roster.yaml", lambda d: d + b"# \xff\n")),
    Row("roster latin-1 bytes", ("roster",), "roster.yaml: not valid YAML: unacceptable character "
        "#x00ff: invalid trailing UTF-8 octet",
        setup=transform("roster.yaml", lambda d: d.replace("李娜".encode(), b"\xc0\xff"))),
    Row("roster anchors", ("roster",),
        "roster.yaml: not valid YAML: line 1: YAML anchors and aliases (&a) are not allowed",
        setup=write("roster.yaml", BOMB)),
    Row("roster unknown duty calendar", ("roster",),
        "roster.yaml: engineers[2] (chen.jing).duty_hours: unknown calendar 'night'",
        setup=replace("roster.yaml", "duty_hours: business", "duty_hours: night")),
    Row("roster empty id", ("roster",), "roster.yaml: engineers[1].id: expected text, got str ''",
        setup=replace("roster.yaml", "id: li.na", 'id: ""')),
    Row("roster name a number", ("roster",),
        "roster.yaml: engineers[1] (li.na).name: expected text, got int 7",
        setup=replace("roster.yaml", "name: 李娜", "name: 7")),
    Row("roster conflict markers", ("roster",),
        "roster.yaml: not valid YAML: did not find expected <document start>",
        setup=transform("roster.yaml", lambda d: b"<<<<<<< HEAD\n" + d + b"=======\n>>>>>>> x\n")),
    Row("roster bom accepted", ("roster", "--json"), "", exit=0,
        setup=transform("roster.yaml", lambda d: b"\xef\xbb\xbf" + d)),
    # --- severity.yaml ----------------------------------------------------------------
    Row("unknown timezone", ("roster",),
        "severity.yaml: timezone: expected an IANA timezone such as Asia/Shanghai, got 'Mars/Olympus'",
        setup=replace("severity.yaml", "timezone: Asia/Shanghai", "timezone: Mars/Olympus")),
    Row("timezone a path", ("roster",), "severity.yaml: timezone: expected an IANA timezone",
        setup=replace("severity.yaml", "timezone: Asia/Shanghai", "timezone: ../../etc/passwd")),
    Row("zero callback", ("roster",),
        "severity.yaml: levels.1.callback: expected a limit longer than zero, got '0m'",
        setup=replace("severity.yaml", LEVEL1, "    callback: 0m\n")),
    Row("zero reply", ("roster",),
        "severity.yaml: levels.1.reply: expected a limit longer than zero, got '0m'",
        setup=replace("severity.yaml", "    reply: 1h\n", "    reply: 0m\n")),
    Row("zero reassigned callback", ("roster",),
        "severity.yaml: levels.1.reassigned_callback: expected a limit longer than zero, got 'PT0S'",
        setup=replace("severity.yaml", "reassigned_callback: 15m", "reassigned_callback: PT0S")),
    Row("huge limit", ("roster",), "severity.yaml: levels.1.callback: expected a duration of at "
        "most one year (365d), got '3000000d'",
        setup=replace("severity.yaml", LEVEL1, "    callback: 3000000d\n")),
    Row("limit without unit", ("roster",),
        "severity.yaml: levels.1.callback: expected a duration such as 45m, 1h30m, 2d or PT45M, got '45'",
        setup=replace("severity.yaml", LEVEL1, "    callback: 45\n")),
    Row("negative limit", ("roster",), "severity.yaml: levels.1.callback: expected a duration",
        setup=replace("severity.yaml", LEVEL1, "    callback: -45m\n")),
    Row("level zero", ("roster",), "severity.yaml: levels.0: expected a severity number from 1 to 9",
        setup=replace("severity.yaml", "  1:\n", "  0:\n")),
    Row("level a word", ("roster",),
        "severity.yaml: levels.high: expected a severity number from 1 to 9",
        setup=replace("severity.yaml", "  1:\n", "  high:\n")),
    Row("no levels", ("roster",), "severity.yaml: levels: expected a mapping, got nothing",
        setup=write("severity.yaml", "timezone: UTC\n")),
    Row("unknown calendar of a level", ("roster",),
        "severity.yaml: levels.1.calendar: unknown calendar 'nights'",
        setup=replace("severity.yaml", "calendar: 24x7", "calendar: nights")),
    Row("checks after callback", ("roster",),
        "severity.yaml: levels.1.checks: expected checks shorter than the callback limit",
        setup=replace("severity.yaml", "checks: [15m, 30m]", "checks: [15m, 50m]")),
    Row("unknown pause", ("roster",), "severity.yaml: levels.1.pause: unknown deadline 'lunch'",
        setup=replace("severity.yaml", "pause: [update, escalation]", "pause: [lunch]")),
    Row("unknown recipient", ("roster",),
        "severity.yaml: levels.1.notify.callback[0]: expected one of assignee, duty, manager",
        setup=replace("severity.yaml", "{callback: [manager]", "{callback: [ceo]")),
    Row("git commit a word", ("roster",), "severity.yaml: git.commit: expected true or false",
        setup=append("severity.yaml", "git: {commit: sometimes}\n")),
    Row("hours malformed", ("roster",), "severity.yaml: calendars.business.hours.mon: expected a "
        "time HH:MM from 00:00 to 24:00, got '9'",
        setup=replace("severity.yaml", 'mon: ["09:00-12:00", "13:00-18:00"]', 'mon: ["9-17"]')),
    Row("hours impossible", ("roster",), "severity.yaml: calendars.business.hours.mon: expected "
        "a time HH:MM from 00:00 to 24:00, got '25:00'",
        setup=replace("severity.yaml", 'mon: ["09:00-12:00", "13:00-18:00"]', 'mon: ["09:00-25:00"]')),
    Row("holiday file outside", ("roster",),
        "severity.yaml: calendars.business.holiday_file: expected a .yaml file inside the repository, "
        "got '../x.yaml'",
        setup=replace("severity.yaml", "holiday_file: holidays-cn.yaml", "holiday_file: ../x.yaml")),
    Row("holiday file missing", ("roster",),
        "severity.yaml: calendars.business.holiday_file: gone.yaml does not exist",
        setup=replace("severity.yaml", "holiday_file: holidays-cn.yaml", "holiday_file: gone.yaml")),
    Row("due_soon huge", ("roster",), "severity.yaml: due_soon: expected a duration of at most "
        "one year (365d), got '3000000d'",
        setup=replace("severity.yaml", "due_soon: 30m", "due_soon: 3000000d")),
    Row("unknown top key", ("roster",),
        "severity.yaml: top level.level: unknown key; expected one of timezone, calendars",
        setup=append("severity.yaml", "level: {}\n")),
    Row("unknown level key", ("roster",), "severity.yaml: levels.1.callbak: unknown key",
        setup=replace("severity.yaml", LEVEL1, LEVEL1 + "    callbak: 30m\n")),
    Row("severity python name tag", ("roster",),
        "severity.yaml: not valid YAML: line 1: the tag !!python/name:os.system is not allowed",
        setup=write("severity.yaml", "!!python/name:os.system\n")),
    Row("severity anchors", ("roster",),
        "severity.yaml: not valid YAML: line 1: YAML anchors and aliases (&a) are not allowed",
        setup=write("severity.yaml", BOMB)),
    Row("calendar timezone unknown", ("roster",),
        "severity.yaml: calendars.business.timezone: expected an IANA timezone",
        setup=replace("severity.yaml", "    holiday_file:", "    timezone: Nowhere/City\n    holiday_file:")),
    Row("holiday year 1999", ("roster",), "holidays-cn.yaml: 1999: expected a year from 2000 to 2099",
        setup=append("holidays-cn.yaml", "1999:\n  holidays: []\n")),
    Row("holiday in the wrong year", ("roster",),
        "holidays-cn.yaml: 2026.holidays: expected dates in 2026, got 2027-01-01",
        setup=replace("holidays-cn.yaml", "  holidays:\n", "  holidays:\n  - 2027-01-01\n")),
    Row("holiday impossible date", ("roster",),
        "holidays-cn.yaml: 2026.holidays[0]: expected a date YYYY-MM-DD, got '2026-02-30'",
        setup=replace("holidays-cn.yaml", "  holidays:\n", "  holidays:\n  - '2026-02-30'\n")),
    # --- case files ---------------------------------------------------------------------
    Row("case malformed", ("show", OPEN), ": cannot read case: while parsing a flow node did not "
        'find expected node content in "<byte string>", line 2, column 1',
        setup=write(OPEN, "events: [\n")),
    Row("case truncated", ("show", OPEN), ": cannot read case: unacceptable character #x-001: "
        "incomplete UTF-8 octet sequence",
        setup=transform(OPEN, lambda d: d[: d.index(b"customer:") + 14] + b'"')),
    Row("case empty", ("show", OPEN), ": not a case file: expected `id` and a list of `events`",
        setup=write(OPEN, "")),
    Row("case a list", ("show", OPEN), ": not a case file: expected `id` and a list of `events`",
        setup=write(OPEN, "- a\n- b\n")),
    Row("case id mismatch", ("show", OPEN), ": its id '261126-AAAAA' does not match its file name",
        setup=transform(OPEN, lambda d: b"id: 261126-AAAAA\n" + d.split(b"\n", 1)[1])),
    Row("case python tag", ("show", OPEN),
        ": cannot read case: line 1: the tag !!python/object/new:os.system is not allowed",
        setup=transform(OPEN, lambda d: b"x: !!python/object/new:os.system [ls]\n" + d)),
    Row("case not utf-8", ("show", OPEN), ": cannot read case: unacceptable character #x00ff: "
        "invalid leading UTF-8 octet",
        setup=transform(OPEN, lambda d: d.replace(b"customer: ", b"customer: \xff\xfe"))),
    Row("case conflict markers", ("show", OPEN),
        ": cannot read case: conflict markers at line 1: resolve the merge",
        setup=transform(OPEN, lambda d: b"<<<<<<< HEAD\n" + d + b"=======\n>>>>>>> x\n")),
    Row("case anchors", ("show", OPEN),
        ": cannot read case: line 19: YAML anchors and aliases (&a) are not allowed",
        setup=event("- &a\n  id: X1\n")),
    Row("case alias bomb", ("list",), "YAML anchors and aliases",
        setup=append(OPEN, "x:\n  " + BOMB.replace("\n", "\n  "))),
    Row("case too big", ("show", OPEN), ": cannot read case: larger than 4 MiB",
        setup=transform(OPEN, big)),
    Row("case a symlink", ("show", OPEN), "is a symbolic link; casectl never follows links",
        setup=symlink_case),
    Row("case bom accepted", ("show", OPEN, "--json"), "", exit=0,
        setup=transform(OPEN, lambda d: b"\xef\xbb\xbf" + d)),
    Row("event without type", ("show", OPEN), ": event 3: no `type`",
        setup=event("- id: E1\n  at: 2026-11-26T14:20:00+08:00\n  by: zhang.wei\n")),
    Row("unknown event type", ("show", OPEN), ":22: event 3: unknown type 'teleport'",
        setup=event(NOTE.replace("type: note", "type: teleport"))),
    Row("assign without to", ("show", OPEN), ":14: event 2 (assign): no `to`",
        setup=open_event("  to: zhang.wei\n", "")),
    Row("open without customer", ("log", OPEN, "x"), ":3: event 1 (open): no `customer`",
        setup=open_event("  customer: 招商银行\n", ""), by="zhang.wei"),
    Row("at not a time", ("show", OPEN), "event 3 (note): `at` expected a time with its offset",
        setup=event(NOTE.replace("2026-11-26T14:20:00+08:00", "soon"))),
    Row("at without offset", ("show", OPEN), "event 3 (note): `at` expected a time with its offset, such as 2026-11-26T14:05:00+08:00, "
        "got 2026-11-26T14:20:00", setup=event(NOTE.replace("+08:00", ""))),
    Row("at a date", ("show", OPEN), "event 3 (note): `at` expected a time with its offset",
        setup=event(NOTE.replace("2026-11-26T14:20:00+08:00", "2026-11-26"))),
    Row("at in year 1", ("show", OPEN), "event 1 (open): `at` expected a time from 2000 to 2099",
        setup=open_event("at: 2026-11-26T14:05:00+08:00", "at: 0001-01-01T00:00:00+14:00")),
    Row("events out of order", ("show", OPEN), ":20: event 3: at 2026-11-26T14:00:00+08:00 is earlier",
        setup=event(NOTE.replace("14:20", "14:00"))),
    Row("duplicate event ids", ("show", OPEN), ":24: event 4: id NOTE0001 is used twice",
        setup=event(NOTE + NOTE)),
    Row("severity a word", ("show", OPEN), "event 1 (open): `severity` expected a severity, 1 to 9, "
        "got str 'high'", setup=open_event("  severity: 1\n", "  severity: high\n")),
    Row("severity a bool", ("show", OPEN), "`severity` expected a severity, 1 to 9, got bool True",
        setup=open_event("  severity: 1\n", "  severity: true\n")),
    Row("text a number", ("show", OPEN), "event 3 (note): `text` expected text, got int 5",
        setup=event(BARE + "  text: 5\n")),
    Row("note without text", ("show", OPEN), ":19: event 3 (note): no `text`", setup=event(BARE)),
    Row("qty zero", ("show", OPEN), "event 3 (rma): `qty` expected a quantity from 1 to 10,000",
        setup=event(NOTE.replace("type: note", "type: rma") + "  rma: RMA-AAAA\n  part: P\n  qty: 0\n")),
    Row("qty huge", ("show", OPEN), "`qty` expected a quantity from 1 to 10,000, got int 10001",
        setup=event(NOTE.replace("type: note", "type: rma") + "  rma: RMA-AAAA\n  part: P\n  qty: 10001\n")),
    Row("rma status unknown", ("show", OPEN), "event 3 (rma-status): `status` expected one of requested",
        setup=event(NOTE.replace("type: note", "type: rma-status") + "  rma: RMA-AAAA\n  status: lost\n")),
    Row("notify not a list", ("show", OPEN), "`notify` expected a list of engineer ids",
        setup=event(NOTE.replace("type: note", "type: check") + "  deadline: d\n  notify: li.na\n")),
    Row("a second opening", ("show", OPEN), "event 3: a second opening; a case is opened once",
        setup=event(NOTE.replace("type: note", "type: open") + "  customer: c\n  contact: c\n  severity: 1\n")),
    Row("no events", ("show", OPEN), ": no events: a case file starts with its opening",
        setup=transform(OPEN, lambda d: d.split(b"\n", 1)[0] + b"\nevents: []\n")),
    Row("event a string", ("show", OPEN), ":19: event 3: expected a mapping of id, at, by and type",
        setup=event("- just words\n")),
    Row("broken case skipped by sweep", ("sweep",), "casectl sweep: skipped ",
        setup=open_event("  to: zhang.wei\n", ""), by=""),
    Row("broken case skipped by list", ("list",), "casectl list: skipped ",
        setup=open_event("  customer: 招商银行\n", "")),
    Row("unconfigured severity named by sweep", ("sweep",),
        "casectl sweep: case {open}: severity 1 is not configured in severity.yaml",
        setup=replace("severity.yaml", "  1:\n", "  7:\n"), by=""),
    # --- the command line -----------------------------------------------------------------
    Row("id with slash", ("show", "a/b"), "'a/b' is not a case id (they look like 261126-K7Q3M)"),
    Row("id with dots", ("show", "../../etc/passwd"), "'../../etc/passwd' is not a case id"),
    Row("id with dots to log", ("log", "..", "x"), "'..' is not a case id"),
    Row("impossible date in id", ("show", "261340-XXXXX"), "no case 261340-XXXXX"),
    Row("unknown case", ("show", "261126-AAAAA"), "no case 261126-AAAAA"),
    Row("empty log text", ("log", OPEN, ""), "the text of the step is empty", by="zhang.wei"),
    Row("blank log text", ("log", OPEN, "  \t "), "the text of the step is empty", by="zhang.wei"),
    Row("at year 1", ("log", OPEN, "x", "--at", "0001-01-01T00:00+08:00"),
        "--at: '0001-01-01T00:00+08:00' is outside the times casectl accepts (2000-01-01 to 2100-01-01)", by="zhang.wei"),
    Row("at year 9999", ("log", OPEN, "x", "--at", "9999-12-31T23:59-10:00"),
        "--at: '9999-12-31T23:59-10:00' is outside the times casectl accepts",
        by="zhang.wei"),
    Row("now year 1", ("roster",), "CASECTL_NOW: '0001-01-01T00:00+14:00' is outside the times", env={"CASECTL_NOW": "0001-01-01T00:00+14:00"}),
    Row("offset +25:00", ("log", OPEN, "x", "--at", "2026-11-26T14:10+25:00"),
        "--at: '2026-11-26T14:10+25:00' has a UTC offset no timezone uses; expected -12:00 to +14:00",
        by="zhang.wei"),
    Row("at in the future", ("log", OPEN, "x", "--at", "2026-11-27 14:05"), "is in the future",
        by="zhang.wei"),
    Row("at garbage", ("log", OPEN, "x", "--at", "whenever"),
        "--at: cannot read 'whenever' as a time (try 2026-11-26 14:05)", by="zhang.wei"),
    Row("at in a spring gap", ("log", OPEN, "x", "--at", "2026-03-29 02:30"),
        "--at: 2026-03-29 02:30 does not exist in Europe/Berlin: the clocks skip from 02:00 to 03:00",
        setup=replace("severity.yaml", "timezone: Asia/Shanghai", "timezone: Europe/Berlin"),
        by="zhang.wei"),
    Row("at before the opening", ("log", OPEN, "x", "--at", "2026-11-26 10:00"),
        "is before case {open} was opened", by="zhang.wei"),
    Row("unknown engineer", ("log", OPEN, "x"), "'zhang.wie' is not in roster.yaml; did you mean "
        "zhang.wei?", by="zhang.wie"),
    Row("nobody acting", ("log", OPEN, "x"), "who is acting? give --by ID or set CASECTL_USER",
        by=""),
    Row("assign to unknown", ("assign", OPEN, "nobody"), "'nobody' is not in roster.yaml"),
    Row("assign to a field engineer", ("assign", OPEN, "zheng.hao"),
        "zheng.hao may not be assigned cases"),
    Row("assign by a first-line engineer", ("assign", OPEN, "liu.yang"),
        "zhang.wei may not assign a case: only duty or manager may", by="zhang.wei"),
    Row("open unknown severity", ("open", "--customer", "a", "--contact", "b", "--contract", "c",
        "--severity", "7", "--description", "d"), "severity 7 is not configured; configured: 1, 2, 3, 4"),
    Row("open severity zero", ("open", "--customer", "a", "--contact", "b", "--contract", "c",
        "--severity", "0", "--description", "d"), "severity 0 is not configured"),
    Row("open blank customer", ("open", "--customer", " ", "--contact", "b", "--contract", "c",
        "--severity", "1", "--description", "d"), "the customer is empty"),
    Row("open blank description", ("open", "--customer", "a", "--contact", "b", "--contract", "c",
        "--severity", "1", "--description", "\n "), "the description is empty"),
    Row("open by a first-line engineer", ("open", "--customer", "a", "--contact", "b", "--contract",
        "c", "--severity", "1", "--description", "d"), "zhang.wei may not open a case", by="zhang.wei"),
    Row("open no contract no approval", ("open", "--customer", "a", "--contact", "b",
        "--no-contract", "--severity", "1", "--description", "d"),
        "a customer without a contract needs --approved-by the manager or a sales manager"),
    Row("rma qty zero", ("rma", OPEN, "--part", "P", "--qty", "0"),
        "the quantity must be from 1 to 10,000, got 0", by="zhang.wei"),
    Row("rma qty huge", ("rma", OPEN, "--part", "P", "--qty", "10001"),
        "the quantity must be from 1 to 10,000, got 10001", by="zhang.wei"),
    Row("rma blank part", ("rma", OPEN, "--part", " "), "the part number is empty", by="zhang.wei"),
    Row("severity blank reason", ("severity", OPEN, "2", "--reason", " "), "the reason is empty",
        by="zhang.wei"),
    Row("severity not configured", ("severity", OPEN, "8", "--reason", "r"),
        "severity 8 is not configured", by="zhang.wei"),
    Row("close by someone not allowed", ("close", OPEN, "--resolution", "r"),
        "liu.yang may not close case {open}", by="liu.yang"),
    Row("escalate to first-line", ("escalate", OPEN, "--to", "liu.yang"),
        "liu.yang may not be the escalation engineer", by="wang.jianguo"),
    Row("step on a closed case", ("log", CLOSED, "x"), "case {closed} is closed; reopen it first",
        by="zhang.wei"),
    Row("reopen an open case", ("reopen", OPEN, "--reason", "r"), "case {open} is open"),
    Row("list unknown severity", ("list", "--severity", "9"), "severity 9 is not configured",
        exit=2),
    Row("list negative limit", ("list", "--limit", "-1"), "-1 is not in the range x>=0", exit=2),
    Row("list unknown assignee", ("list", "--assignee", "nobody"), "'nobody' is not in roster.yaml",
        exit=2),
    Row("list huge window", ("list", "--due-within", "3000000d"),
        "Invalid value for --due-within: expected a duration of at most one year (365d)", exit=2),
    Row("log unknown type", ("log", OPEN, "x", "--type", "teleport"),
        "Invalid value for '--type': 'teleport' is not one of 'note'", exit=2,
        by="zhang.wei"),
    Row("rma unknown status", ("rma", OPEN, "RMA-AAAA", "--status", "lost"),
        "Invalid value for '--status': 'lost' is not one of 'requested'", exit=2,
        by="zhang.wei"),
    Row("repo without severity.yaml", ("--repo", "/nonexistent", "roster"),
        "/nonexistent is not a case repository: it has no severity.yaml"),
    Row("check of a broken case", ("check",), ":14: event 2 (assign): no `to`",
        setup=open_event("  to: zhang.wei\n", "")),
]  # fmt: skip


def fingerprint(root: Path) -> str:
    """Every file's path, mode and bytes (a link's target), `.git` included, the clone's
    state folder not."""
    digest = hashlib.sha256()
    state = state_dir(root)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if Path(folder, d) != state)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]):
            path = os.path.join(folder, name)
            st = os.lstat(path)
            digest.update(f"{os.path.relpath(path, root)}\0{stat.S_IMODE(st.st_mode)}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                digest.update(os.readlink(path).encode())
            else:
                digest.update(Path(path).read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One repository with an open case (assigned to zhang.wei) and a closed one."""
    root = tmp_path_factory.mktemp("pristine") / "repo"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    repo = Repo(root)
    closed = repo.open_case(now="2026-11-26 13:00")
    repo.ok("close", closed, "--resolution", "r", by="zhang.wei", now="2026-11-26 13:10")
    return root, {OPEN: repo.open_case(), CLOSED: closed}


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_bad_input_is_refused_in_one_line(
    row: Row, pristine: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    source, ids = pristine
    root = tmp_path / "repo"
    shutil.copytree(source, root, symlinks=True)
    if row.setup:
        row.setup(root, ids)
    before = fingerprint(root)
    args = [a.replace(OPEN, ids[OPEN]).replace(CLOSED, ids[CLOSED]) for a in row.args]
    env = {"CASECTL_NOW": T0, "CASECTL_USER": row.by} | row.env
    result = CliRunner().invoke(cli, ["--repo", str(root), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == row.exit, result.output
    assert fingerprint(root) == before
    if row.exit == 0:
        return
    lines = result.stderr.strip().splitlines()
    said = (result.stdout + result.stderr).splitlines()
    if row.exit == 1 and args[0] not in ("sweep", "list", "check"):
        assert len(lines) == 1, result.stderr
    expected = row.fragment.replace(OPEN, ids[OPEN]).replace(CLOSED, ids[CLOSED])
    assert any(expected in line for line in said), result.output


def test_the_catalogue_has_at_least_80_rows() -> None:
    assert len(ROWS) >= 80
    assert len({row.name for row in ROWS}) == len(ROWS)
