# ruff: noqa: F811 - the servers are fixtures, imported by name
"""Notifications that always arrive (issue 21): each platform's byte limit and rate, a
deadline on every delivery whatever the server does, settings checked before anything is
written, and text that mentions nobody. Against aiosmtpd and an HTTP server enforcing
each platform's contract (tests/notify_servers.py)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo
from notify_servers import (  # noqa: F401
    PLATFORMS,
    Robots,
    SmtpServer,
    Trickle,
    git_config,
    robots,
    smtp,
    trickle_http,
    trickle_smtp,
    use_email,
)
from test_notify_robots import use_robots

pytestmark = pytest.mark.slow

DEAD = "http://127.0.0.1:9/{platform}/send"


def opened(repo: Repo, env: dict[str, str], n: int, description: str, at: str) -> list[str]:
    """`n` cases assigned to zhang.wei, a minute apart from `at` (HH:MM on Nov 26)."""
    hour, minute = (int(x) for x in at.split(":"))
    found = []
    for k in range(n):
        now = f"2026-11-26 {hour + (minute + k) // 60:02d}:{(minute + k) % 60:02d}"
        result = repo.run(
            "open", "--customer", f"客户{k}", "--contact", "刘先生 13800000000", "--contract",
            "H", "--severity", "3", "--description", f"{description} ({k})", "--assign",
            "zhang.wei", now=now, env=env,
        )  # fmt: skip
        assert result.exit_code in (0, 3), result.output
        found.append(result.stdout.strip())
    return found


def down(env: dict[str, str]) -> dict[str, str]:
    return env | {
        "CASECTL_WECOM_URL": DEAD.format(platform="wecom"),
        "CASECTL_DINGTALK_URL": DEAD.format(platform="dingtalk"),
        "CASECTL_FEISHU_URL": DEAD.format(platform="feishu"),
        "CASECTL_RELAY_URL": DEAD.format(platform="relay"),
    }


def content(platform: str, document: dict) -> str:
    if platform == "feishu":
        return str(document["content"]["text"])
    if platform == "relay":
        return str(document["text"])
    return str(document["text"]["content"])


def test_an_outage_digest_goes_out_in_parts_within_each_platforms_limit(
    repo: Repo, robots: Robots
) -> None:
    env = use_robots(repo, robots)
    fault = "阵列控制器离线，业务中断，请尽快处理。" * 20  # 400 characters, 1.2 KB
    cases = opened(repo, down(env), 12, fault, "10:00")
    assert robots.posts == []
    result = repo.run("notify", "flush", now="2026-11-26 14:00", env=env)
    assert result.exit_code == 0, result.output
    assert robots.refused == []  # no limit, rate or signature broken
    for platform in ("wecom", "dingtalk", "feishu"):
        texts = [content(platform, d) for d in robots.of(platform)]
        assert len(texts) > 1
        n = len(texts)
        assert [t.split(" ", 1)[0] for t in texts] == [f"({i}/{n})" for i in range(1, n + 1)]
        whole = "\n".join(texts)
        assert all(whole.count(f"{case_id} 分配给你") == 1 for case_id in cases)  # each once
    wecom = [content("wecom", d).encode() for d in robots.of("wecom")]
    assert max(len(t) for t in wecom) <= 2048 < sum(len(t) for t in wecom)
    assert len(robots.of("relay")) == 1  # a relay of one's own: no limit, one digest
    assert json.loads(repo.ok("notify", "status", "--json", env=env))["pending"] == []
    repo.ok("notify", "flush", now="2026-11-26 14:10", env=env)
    assert len(robots.refused) == 0 and robots.posts == robots.posts[: len(robots.posts)]


def test_each_part_of_a_split_message_is_posted_once(repo: Repo, robots: Robots) -> None:
    """Part 2 of 3 refused: the retry posts parts 2 and 3, never part 1 again."""
    env = use_robots(repo, robots)
    fault = "\n".join(f"第{n}行：控制器日志显示链路抖动，需要更换光模块。" for n in range(70))
    robots.fail_at["wecom"] = 2
    result = repo.run("open", "--customer", "c", "--contact", "p", "--contract", "H",
                      "--severity", "1", "--description", fault, "--assign", "zhang.wei",
                      env=env)  # fmt: skip
    assert result.exit_code == 3 and robots.refused == [("wecom", 93000)]
    first = [content("wecom", d) for d in robots.of("wecom")]
    assert len(first) == 1 and first[0].startswith("(1/")
    repo.ok("notify", "flush", now="2026-11-26 14:07", env=env)
    texts = [content("wecom", d) for d in robots.of("wecom")]
    assert len(texts) >= 3 and texts[0] == first[0]
    assert all(t.split(" ", 1)[1] not in first[0] for t in texts[1:])  # never again
    lines = "\n".join(t.split(" ", 1)[1] for t in texts)
    assert all(f"第{n}行" in lines for n in range(0, 70, 7))  # the whole text arrived
    assert lines.count("第1行：") == 1
    assert json.loads(repo.ok("notify", "status", "--json", env=env))["pending"] == []


def test_robots_are_paced_under_their_rate_and_the_rest_waits(repo: Repo, robots: Robots) -> None:
    """WeCom: 20 messages a minute, then the rest for the next run; Feishu: 5 a second,
    spaced. The server never has to refuse one."""
    env = use_robots(repo, robots)
    fault = "控制器故障" * 380  # 1,900 characters: 5.7 KB, three WeCom parts each
    opened(repo, down(env), 10, fault, "10:00")
    started = time.monotonic()
    result = repo.run("notify", "flush", now="2026-11-26 11:00", env=env)
    assert result.exit_code == 3
    assert "messages wait for the robot's rate limit (wecom: 20 a minute)" in result.stderr
    assert robots.refused == []
    assert len(robots.of("wecom")) == PLATFORMS["wecom"]["minute"]
    assert time.monotonic() - started < 20
    feishu = [t for name, _, d in robots.posts if name == "feishu" for t in [d["timestamp"]]]
    assert len(feishu) >= 2
    again = repo.run("notify", "flush", now="2026-11-26 11:01", env=env)
    assert again.exit_code == 3 and robots.refused == []  # still within the minute: nothing
    assert len(robots.of("wecom")) == 20
    pending = json.loads(repo.ok("notify", "status", "--json", env=env))["pending"]
    assert {p["channel"] for p in pending} == {"wecom"}


def test_feishu_is_spaced_to_five_a_second(repo: Repo, robots: Robots) -> None:
    """Eight people on one Feishu bot, told at once: never more than 5 posts a second."""
    env = use_robots(repo, robots)
    roster = repo.root / "roster.yaml"
    text = roster.read_text(encoding="utf-8").replace(
        "  notify: [wecom, dingtalk, feishu, relay]\n", ""
    )
    text = text.replace("  email: ", "  notify: [feishu]\n  email: ")
    roster.write_text(text, encoding="utf-8")
    repo.ok("open", "--customer", "c", "--contact", "p", "--contract", "H", "--severity", "1",
            "--description", "d", "--assign", "zhang.wei", env=env)  # fmt: skip
    for now in ("2026-11-26 14:20", "2026-11-26 14:35", "2026-11-26 14:50", "2026-11-26 15:05"):
        result = repo.run("sweep", now=now, env=env)
        assert result.exit_code == 0, result.output
    assert robots.refused == []
    assert len(robots.of("feishu")) >= 6


def test_a_huge_customer_name_is_bounded_everywhere(
    repo: Repo, smtp: SmtpServer, robots: Robots
) -> None:
    env = use_robots(repo, robots)
    use_email(repo, smtp)
    roster = repo.root / "roster.yaml"
    text = roster.read_text(encoding="utf-8")
    roster.write_text(
        text.replace("[wecom, dingtalk, feishu, relay]", "[email, wecom, dingtalk, feishu]"),
        encoding="utf-8",
    )
    name = "某某股份有限公司" * 15000  # 117 KiB of UTF-8
    case_id = repo.ok("open", "--customer", name, "--contact", "p", "--contract", "H",
                      "--severity", "1", "--description", "d", "--assign", "zhang.wei",
                      env=env)  # fmt: skip
    (mail,) = smtp.box.to("zhang.wei@example.com")
    subject = str(mail["Subject"])
    assert len(subject) <= 200 and subject.endswith("…")
    body = smtp.box.body(mail)
    assert len(body.encode()) < 16 * 1024 and f"casectl show {case_id}" in body
    assert robots.refused == []
    for platform in ("wecom", "dingtalk", "feishu"):
        for document in robots.of(platform):
            assert len(json.dumps(document, ensure_ascii=False).encode()) < 20 * 1024


def test_text_never_mentions_anyone(repo: Repo, robots: Robots) -> None:
    env = use_robots(repo, robots)
    hostile = '<at user_id="all">所有人</at> @all <@zhangsan> 请所有人注意'
    repo.ok("open", "--customer", hostile, "--contact", "@all", "--contract", "H",
            "--severity", "1", "--description", hostile, "--assign", "zhang.wei",
            env=env)  # fmt: skip
    for platform in ("wecom", "dingtalk", "feishu", "relay"):
        (document,) = robots.of(platform)
        text = content(platform, document)
        assert "<at" not in text and "<@" not in text and "@all" not in text
        assert '＜at user_id="all">所有人＜/at>' in text  # shown, as plain text
    (wecom,) = robots.of("wecom")
    assert wecom["text"]["mentioned_mobile_list"] == ["13801010004"]
    assert "mentioned_list" not in wecom["text"]
    (ding,) = robots.of("dingtalk")
    assert ding["at"] == {"atMobiles": ["13801010004"], "isAtAll": False}


def test_a_wrong_signature_is_a_failure_kept_for_retry(repo: Repo, robots: Robots) -> None:
    env = use_robots(repo, robots) | {"CASECTL_FEISHU_SECRET": "not-the-secret"}
    result = repo.run("open", "--customer", "c", "--contact", "p", "--contract", "H",
                      "--severity", "1", "--description", "d", "--assign", "zhang.wei",
                      env=env)  # fmt: skip
    assert result.exit_code == 3
    assert "feishu: refused: 19021" in result.stderr
    assert robots.refused == [("feishu", 19021)]
    pending = json.loads(repo.ok("notify", "status", "--json", env=env))["pending"]
    assert [p["channel"] for p in pending] == ["feishu"]


# --- a deadline on every delivery --------------------------------------------------------


def cli(repo: Repo, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environ = dict(os.environ, CASECTL_NOW="2026-11-26 14:06", CASECTL_USER="li.na") | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "casectl", "--repo", str(repo.root), *args],
        env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def timed(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    started = time.monotonic()
    _, err = process.communicate(timeout=30)
    return process.returncode, err, time.monotonic() - started


def test_a_trickling_mail_server_ends_the_step_within_its_deadline(
    repo: Repo, trickle_smtp: Trickle
) -> None:
    case_id = repo.open_case(assign=None)
    git_config(
        repo,
        ("casectl.email.host", "127.0.0.1"),
        ("casectl.email.port", str(trickle_smtp.port)),
        ("casectl.email.security", "none"),
        ("casectl.email.from", "casectl@support.example.com"),
        ("casectl.notify-message-deadline", "3s"),
    )
    status, err, took = timed(cli(repo, "assign", case_id, "zhao.lei"))
    assert status == 3 and "Traceback" not in err
    assert "no answer within 3 s" in err
    assert took < 3 + 6
    assert [e["type"] for e in repo.show(case_id)["events"]][-1] == "assign"  # recorded
    pending = json.loads(repo.ok("notify", "status", "--json"))["pending"]
    assert [p["person"] for p in pending] == ["zhao.lei"]  # kept for the next run


def test_a_server_trickling_its_answer_to_the_message_ends_the_sweep_in_time(
    repo: Repo,
) -> None:
    """Greeting, EHLO and DATA answered at once, then the answer to the message one byte
    a second: the sweep ends within the deadline, the message kept (it may come twice)."""
    server = Trickle("smtp-data")
    try:
        repo.open_case(now="2026-11-26 14:05")
        git_config(
            repo,
            ("casectl.email.host", "127.0.0.1"),
            ("casectl.email.port", str(server.port)),
            ("casectl.email.security", "none"),
            ("casectl.email.from", "casectl@support.example.com"),
            ("casectl.notify-message-deadline", "3s"),
        )
        status, err, took = timed(cli(repo, "sweep", env={"CASECTL_NOW": "2026-11-26 14:20"}))
        assert status == 3 and "Traceback" not in err, err
        assert "email: no answer within 3 s" in err and took < 3 + 6
        assert server.messages == 1
        pending = json.loads(repo.ok("notify", "status", "--json"))["pending"]
        assert [p["person"] for p in pending] == ["li.na"]
    finally:
        server.stop()


def test_a_trickling_robot_ends_the_step_within_its_deadline(
    repo: Repo, robots: Robots, trickle_http: Trickle
) -> None:
    env = use_robots(repo, robots) | {
        "CASECTL_WECOM_URL": f"http://127.0.0.1:{trickle_http.port}/wecom/send"
    }
    git_config(
        repo, ("casectl.notify-message-deadline", "2s"), ("casectl.notify-run-deadline", "10s")
    )
    case_id = repo.open_case(assign=None, env=env)
    status, err, took = timed(cli(repo, "assign", case_id, "zhang.wei", env=env))
    assert status == 3 and "Traceback" not in err, err
    assert "wecom: no answer within 2 s" in err
    assert took < 2 + 6
    assert trickle_http.connections == 1
    pending = json.loads(repo.ok("notify", "status", "--json", env=env))["pending"]
    assert [p["channel"] for p in pending] == ["wecom"]
    assert len(robots.of("dingtalk")) == 1  # the other robots were told


def test_a_step_finding_delivery_held_says_so_and_exits_3(
    repo: Repo, trickle_smtp: Trickle
) -> None:
    """A flush stuck on a trickling server holds delivery; a step meanwhile waits a few
    seconds, then says its messages stay in the outbox, exit 3."""
    first, second = repo.open_case(assign=None), repo.open_case(assign=None)
    git_config(
        repo,
        ("casectl.email.host", "127.0.0.1"),
        ("casectl.email.port", str(trickle_smtp.port)),
        ("casectl.email.security", "none"),
        ("casectl.email.from", "casectl@support.example.com"),
        ("casectl.notify-message-deadline", "2s"),
    )
    assert timed(cli(repo, "assign", first, "zhang.wei"))[0] == 3  # queued, not delivered
    git_config(repo, ("casectl.notify-message-deadline", "12s"))
    holder = cli(repo, "notify", "flush")
    time.sleep(1.5)  # the flush holds delivery, waiting on the server
    status, err, took = timed(cli(repo, "assign", second, "zhao.lei"))
    assert status == 3, err
    assert "another casectl process is delivering and did not finish within 5 s" in err
    assert "1 messages of this command stay in the outbox" in err
    assert took < 10
    assert holder.wait(timeout=30) == 3
    pending = json.loads(repo.ok("notify", "status", "--json"))["pending"]
    assert sorted(p["person"] for p in pending) == ["zhang.wei", "zhao.lei"]


# --- settings checked before anything is written -----------------------------------------


def everything(root: Path) -> str:
    """A hash of every file under the repository, .git and state included."""
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


BAD_URLS = {
    "http://127.0.0.1:99999/x": "expected a port from 1 to 65535, got '99999'",
    "http://127.0.0.1:abc/": "expected a port from 1 to 65535, got 'abc'",
    "http://127.0.0.1:²5/": "expected a port from 1 to 65535, got '²5'",
    "http://[::1/x": "cannot be parsed as a URL",
    "http://a..b:1/": "'a..b' is not a host name",
    "https:///x": "names no host",
    "ftp://example.com/x": "not an http(s) URL",
    "https://exa mple.com/x": "holds a space or a control character",
}


@pytest.mark.parametrize("url", list(BAD_URLS))
def test_a_bad_robot_url_is_refused_before_anything_is_written(repo: Repo, url: str) -> None:
    case_id = repo.open_case(assign=None)
    git_config(repo, ("casectl.wecom.url-env", "ROBOT_URL"), ("casectl.wecom.allow-http", "true"))
    before = everything(repo.root)
    result = repo.run("assign", case_id, "zhang.wei", env={"ROBOT_URL": url})
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: git config casectl.wecom.url-env: ROBOT_URL: ")
    assert BAD_URLS[url] in line
    assert everything(repo.root) == before


def test_http_robots_need_allow_http(repo: Repo, refused: Callable[..., str]) -> None:
    case_id = repo.open_case(assign=None)
    git_config(repo, ("casectl.wecom.url-env", "ROBOT_URL"))
    env = {"ROBOT_URL": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
    before = everything(repo.root)
    assert "http:// sends the robot's key in clear" in refused(
        "assign", case_id, "zhang.wei", env=env
    )
    assert everything(repo.root) == before
    git_config(repo, ("casectl.wecom.allow-http", "maybe"))
    assert "casectl.wecom.allow-http: expected true or false" in refused("sweep", env=env)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("casectl.email.from", "casectl@example.com\nBcc: all@example.com", "control character"),
        ("casectl.email.from", "a@example.com, b@example.com", "expected an address"),
        ("casectl.email.host", "mail..example.com", "is not a host name"),
        ("casectl.email.port", "²5", "expected a port number"),
        ("casectl.email.user", "me\rRCPT", "control character"),
        ("casectl.notify-message-deadline", "2h", "expected a duration from 1s to 1h"),
    ],
)
def test_a_bad_email_setting_is_refused_before_anything_is_written(
    repo: Repo, smtp: SmtpServer, key: str, value: str, said: str
) -> None:
    use_email(repo, smtp)
    case_id = repo.open_case(assign=None)
    git_config(repo, (key, value))
    before = everything(repo.root)
    result = repo.run("assign", case_id, "zhang.wei", env={"P": "x"})
    assert result.exit_code == 1 and result.stdout == "", result.output
    [line] = result.stderr.strip().splitlines()
    assert key in line and said in line
    assert everything(repo.root) == before
    assert smtp.box.received[1:] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", '"zhang.wei@example.com\\r\\nBcc: x@evil.example"'),
        ("email", "zhang.wei@example.com, boss@example.com"),
        ("email", '"zhang\\u0007wei@example.com"'),
        ("phone", '"138 0101\\n0004"'),
    ],
)
def test_roster_contacts_are_checked_at_load_and_by_check(
    repo: Repo, refused: Callable[..., str], field: str, value: str
) -> None:
    roster = repo.root / "roster.yaml"
    text = roster.read_text(encoding="utf-8")
    old = (
        "  email: zhang.wei@example.com\n" if field == "email" else '  phone: "+86 138 0101 0004"\n'
    )
    assert old in text
    roster.write_text(text.replace(old, f"  {field}: {value}\n"), encoding="utf-8")
    said = refused("list")
    assert said.startswith(f"roster.yaml: engineers[3] (zhang.wei).{field}: expected one ")
    result = repo.run("check")
    assert result.exit_code == 1
    assert f"(zhang.wei).{field}: expected one" in result.stdout + result.stderr
