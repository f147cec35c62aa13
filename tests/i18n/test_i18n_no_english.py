"""Under LANG=zh_CN.UTF-8 nothing casectl says is left in English (issue 28): the steps,
refusals, sweeps, tables and help pages the i18n tests drive (tests/i18n/),
each line checked for an English word outside ids, names, commands, options, file
names and what the user typed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import T0, Repo, git
from test_bad_input import CLOSED, OPEN, ROWS, pristine  # noqa: F401 (a fixture)

from casectl.cli import COMMANDS, HIDDEN, cli

ZH = {"LANG": "zh_CN.UTF-8"}
# what stays as it is in Chinese: ids, options, files, commands, codes, the tool's words
KEPT = re.compile(
    r"(?<=\.yaml: )[^：:]+(?=[:：])|YAML 语法错误（[^）]*）|"  # a key's path; libyaml's words
    r"CASE(?![A-Z_])|\b(?=\w*\d)(?=\w*[A-Z])[0-9A-Z]{6,}\b|\bgit [a-z-]+(?: [\w.-]+)?|--[\w-]+|-h\b|\$\w+|`[^`]*`|'[^']*'|\"[^\"]*\"|\S+\.(?:yaml|html|txt|py|mo|po|md|conf)\b"
    r"|\b\d{6}-[0-9A-Z]{5}\b|\b(?:RMA|OS)-[0-9A-Z]{4}\b|\b[a-z]+\.[a-z]+\b|\bcasectl(?: \w+)?"
    r"|cases/\S*|<[^>]*>|\w+://\S+|\S+@\S+|[\w./-]*/[\w./-]+|\b[A-Z][A-Z0-9_-]+\b"
    r"|\bISO 8601\b|\bPT\d+M\b|\b\d+[dhms]\b|\b\d+h\d+m\b|“[^”]*”|\b\w+_\w+\b|\bpre-commit\b"
    r"|\b\w+/|\bCtrl-\w\b|README\.md"
)
WORDS = {  # names and terms a Chinese support center writes as they are
    "git", "cron", "sync", "sweep", "snmptrapd", "chinese_calendar", "chinesecalendar", "pip",
    "install", "wecom", "email", "dingtalk", "feishu", "commit", "push", "pull", "merge",
    "hook", "stderr", "stdout", "json", "yaml", "utf", "html", "readme", "trap", "sim",
    "hitachi", "netapp", "autosupport", "vsp", "asia", "shanghai", "utc", "id", "ids", "ok",
    "reason", "text", "hm", "dkc", "ctl", "crontab", "maildir",
    "cli",  # click's CliRunner names the program so (casectl on a terminal)
    # --json keys `history --help` lists
    "author", "committer", "date", "subject", "diff",
}  # fmt: skip


def _command_words() -> set[str]:
    """Every command and subcommand name and every value an option takes (a choice)."""
    import click

    from casectl.cli import cli

    found: set[str] = set()
    context = click.Context(cli)
    todo = [c for name in COMMANDS if (c := cli.get_command(context, name))]
    while todo:
        command = todo.pop()
        found.add(command.name or "")
        todo += getattr(command, "commands", {}).values()
        for param in command.params:
            if isinstance(param.type, click.Choice):
                found |= {str(c) for c in param.type.choices}
    return {w.lower() for name in found for w in [name, *re.split(r"[-_]", name)] if w}


def _file_words() -> set[str]:
    """The keys and values people write in roster.yaml and severity.yaml, and the YAML
    types a schema message names (`实际为 str 'x'`): the files' own words."""
    from casectl import config, model

    words = {*config.ROLES, *config.WEEKDAYS, *config.DEADLINE_KINDS, *config.RECIPIENTS,
             *config.TOP_KEYS, *config._LEVEL_KEYS, "engineers", "name", "roles", "phone",
             "duty_hours", *model.EVENT_KEYS, "mib", "str", "int", "bool", "float", "list", "true", "false", "business"}  # fmt: skip
    return {w.lower() for name in words for w in [name, *re.split(r"[-_]", name)] if w}


COMMAND_WORDS = _command_words() | _file_words()


def english(line: str, typed: set[str]) -> list[str]:
    """The English words of `line` that are none of those kept."""
    for text in sorted((t for t in typed if len(t) > 2), key=len, reverse=True):
        line = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", " ", line)
    line = KEPT.sub(" ", re.sub(r"示例[^：]*：.*", " ", line))  # an example is a command line
    return [w for w in re.findall(r"[A-Za-z]{2,}", line)
            if w.lower() not in WORDS and w.lower() not in COMMAND_WORDS]  # fmt: skip


TYPED = {  # what the scenario types: customer text, kept as typed
    "招商银行", "刘先生 13800000000", "HT-2026-031", "阵列控制器离线", "已电话联系客户",
    "DKC-CTL-F", "SN9", "换控制器", "需要现场更换控制器", "某公司", "赵女士", "bogus", "NOPE",
    "X1", "好了", "更换", "业务恢复", "客户同意", "故障复现", "等客户日志", "HT-9",
}  # fmt: skip


def said(repo: Repo, *args: str, by: str | None = "li.na", now: str | None = None) -> str:
    result = repo.run(*args, by=by, now=now, env=ZH)
    return result.stdout + result.stderr


@pytest.fixture
def lines(repo: Repo) -> list[tuple[str, str]]:
    """(command, line) of everything a day of steps, refusals and reports says in Chinese."""
    out: list[tuple[str, str]] = []

    def run(*args: str, **kw: object) -> None:
        out.extend((" ".join(args), line) for line in said(repo, *args, **kw).splitlines())  # type: ignore[arg-type]

    case = repo.open_case()
    quiet = repo.open_case(severity=2, assign="liu.yang")
    run("sweep", now="2026-11-26 14:36")  # checks of both cases
    rma = repo.ok("rma", case, "--part", "DKC-CTL-F", by="zhang.wei", now="2026-11-26 14:40")
    repo.now = "2026-11-26 14:45"
    run("rma", case, rma, "--status", "shipped", "--new-serial", "SN9", by="zhang.wei")
    run("onsite", case, "--request", "--reason", "需要现场更换控制器", by="zhang.wei")
    run("onsite", case, "--approve", by="zhang.wei")  # only the manager
    run("onsite", case, "--arrive", by="zhang.wei")  # still pending
    run("log", case, "已电话联系客户", "--callback", by="zhang.wei")
    run("log", case, "已电话联系客户", "--callback", by="zhang.wei")  # a retry
    run("log", case, "等客户日志", "--type", "wait-customer", "--alert-manager", by="zhang.wei")
    run("escalate", case, "--to", "zhou.qiang", by="wang.jianguo")
    repo.now = "2026-11-26 15:45"
    run("sweep")  # a reassignment of the quiet case, a late first reply
    run("severity", case, "2", "--reason", "业务恢复", by="li.na")  # not on the case
    run("severity", case, "9", "--reason", "业务恢复", by="zhou.qiang")  # not configured
    run("close", case, "--resolution", "好了", by="li.na")  # not on the case
    run("close", case, "--resolution", "好了", by="zhou.qiang")  # the RMA is open
    run("show", "NOPE")
    run("show", "261126-K7Q3M")
    run("log", case, "x", "--at", "2099-01-01 10:00", by="zhang.wei")
    run("list", "--severity", "9")
    run("list", "--status", "bogus")
    run("open", "--contact", "赵女士")
    price = repo.ok("open", "--no-contract", "--inquiry", "price", "--customer", "某公司",
                    "--contact", "赵女士")  # fmt: skip
    run("rma", price, "--part", "X1", by="wang.jianguo")
    run("show", price)
    run("sweep", now="2026-11-26 18:00")  # the manager alert, the pending visit
    for args in (["list"], ["list", "--status", "all"], ["show", case], ["history", case],
                 ["show", quiet], ["history", quiet], ["roster"], ["check"]):  # fmt: skip
        run(*args, now="2026-11-26 18:05")
    run("amend", case, "--contact", "赵女士", "--reason", "客户同意", by="zhou.qiang")
    run("rma", case, rma, "--status", "installed", by="zhang.wei", now="2026-11-26 18:10")
    run("close", case, "--resolution", "更换", by="zhou.qiang", now="2026-11-26 18:15")
    run("reopen", case, "--reason", "故障复现", by="li.na", now="2026-11-26 18:20")
    for args in (["show", case], ["report", "--date", "2026-11-26"], ["board", "--once"],
                 ["roster", "--on-duty"], ["status"], ["notify", "status"], ["whoami"],
                 ["intake", "log"], ["calendar", "show"], ["list", "--overdue"]):  # fmt: skip
        run(*args, now="2026-11-26 18:25")
    roster = repo.root / "roster.yaml"  # sun.li leaves with a case of theirs
    git(repo.root, "config", "user.name", "t")
    repo.ok("assign", quiet, "sun.li", by="wang.jianguo")
    roster.write_text(roster.read_text(encoding="utf-8").replace("sun.li", "sun.lee"), "utf-8")
    run("list", now="2026-11-26 18:06")
    for name in sorted(set(COMMANDS) - HIDDEN):
        run(name, "--help")
    return out


@pytest.mark.slow
def test_nothing_is_left_in_english(lines: list[tuple[str, str]]) -> None:
    assert len(lines) > 500  # the scenario ran
    left = [f"{command}: {line.strip()}  <- {words}" for command, line in lines
            if (words := english(line, TYPED))]  # fmt: skip
    assert not left, f"{len(left)} lines carry English:\n" + "\n".join(left[:80])


def test_the_check_catches_english() -> None:
    assert english("错误：no case 261126-K7Q3M", set()) == ["no", "case"]
    assert english("错误：zhang.wei 无权批准现场服务：只有中心经理可以", set()) == []
    assert english("  --severity N  只看这一故障级别的 CASE。", set()) == []


@pytest.mark.slow
def test_no_refusal_the_suite_drives_is_left_in_english(
    pristine: tuple[Path, dict[str, str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Each row of tests/cli/test_bad_input.py's catalogue of refusals, said in Chinese."""
    source, ids = pristine
    left = []
    for number, row in enumerate(ROWS):
        root = tmp_path / str(number)
        shutil.copytree(source, root, symlinks=True)
        if row.setup:
            row.setup(root, ids)
        args = [a.replace(OPEN, ids[OPEN]).replace(CLOSED, ids[CLOSED]) for a in row.args]
        env = {"CASECTL_NOW": T0, "CASECTL_USER": row.by} | row.env | ZH
        result = CliRunner().invoke(cli, ["--repo", str(root), *args], env=env)
        typed = TYPED | {a for a in args if not a.startswith("-")}
        left += [f"{row.name}: {line}  <- {words}" for line in result.stderr.splitlines()
                 if (words := english(line, typed))]  # fmt: skip
        shutil.rmtree(root)
    assert not left, f"{len(left)} lines carry English:\n" + "\n".join(left)
