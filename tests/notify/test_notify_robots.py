# ruff: noqa: F811 - the servers are fixtures, imported by name
"""Group robots (WeCom, DingTalk, Feishu, JSON) against a real HTTP server, and the settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
from collections.abc import Callable

import pytest
from conftest import Repo
from notify_servers import Robots, git_config, robots  # noqa: F401

pytestmark = pytest.mark.slow

SECRET_DING, SECRET_FEISHU = "SEC-ding-0123456789", "feishu-secret-42"


def use_robots(repo: Repo, robots: Robots) -> dict[str, str]:
    """Four robot channels reach zhang.wei; the environment their settings name."""
    git_config(
        repo,
        ("casectl.wecom.url-env", "CASECTL_WECOM_URL"),
        ("casectl.dingtalk.url-env", "CASECTL_DINGTALK_URL"),
        ("casectl.dingtalk.secret-env", "CASECTL_DINGTALK_SECRET"),
        ("casectl.feishu.url-env", "CASECTL_FEISHU_URL"),
        ("casectl.feishu.secret-env", "CASECTL_FEISHU_SECRET"),
        ("casectl.relay.kind", "json"),
        ("casectl.relay.url-env", "CASECTL_RELAY_URL"),
        *(
            (f"casectl.{name}.allow-http", "true")
            for name in ("wecom", "dingtalk", "feishu", "relay")
        ),
    )
    robots.secrets = {"dingtalk": SECRET_DING, "feishu": SECRET_FEISHU}
    roster = repo.root / "roster.yaml"
    text = roster.read_text(encoding="utf-8")
    text = text.replace(
        "  email: zhang.wei@example.com\n",
        "  email: zhang.wei@example.com\n  notify: [wecom, dingtalk, feishu, relay]\n",
    )
    roster.write_text(text, encoding="utf-8")
    return {
        "CASECTL_WECOM_URL": robots.url("wecom", "?key=wecom-key-693a"),
        "CASECTL_DINGTALK_URL": robots.url("dingtalk", "?access_token=ding-token-77"),
        "CASECTL_DINGTALK_SECRET": SECRET_DING,
        "CASECTL_FEISHU_URL": robots.url("feishu"),
        "CASECTL_FEISHU_SECRET": SECRET_FEISHU,
        "CASECTL_RELAY_URL": robots.url("relay"),
    }


def test_each_platform_gets_its_shape_mentions_and_signature(repo: Repo, robots: Robots) -> None:
    env = use_robots(repo, robots)
    case_id = repo.open_case(env=env)
    assert sorted(name for name, _, _ in robots.posts) == ["dingtalk", "feishu", "relay", "wecom"]

    (wecom,) = robots.of("wecom")
    assert wecom["msgtype"] == "text"
    assert wecom["text"]["mentioned_mobile_list"] == ["13801010004"]
    assert f"{case_id} 分配给你" in wecom["text"]["content"]
    assert "刘先生 13800000000" in wecom["text"]["content"]

    ((_, query, ding),) = [p for p in robots.posts if p[0] == "dingtalk"]
    assert ding["msgtype"] == "text"
    assert ding["at"] == {"atMobiles": ["13801010004"], "isAtAll": False}
    assert ding["text"]["content"].endswith(" @13801010004")
    assert query["access_token"] == ["ding-token-77"]
    stamp = query["timestamp"][0]
    expected = hmac.new(SECRET_DING.encode(), f"{stamp}\n{SECRET_DING}".encode(), hashlib.sha256)
    assert query["sign"] == [base64.b64encode(expected.digest()).decode()]

    (feishu,) = robots.of("feishu")
    assert feishu["msg_type"] == "text" and case_id in feishu["content"]["text"]
    key = f"{feishu['timestamp']}\n{SECRET_FEISHU}".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    (relay,) = robots.of("relay")
    assert relay["person"] == "zhang.wei" and relay["mobile"] == "13801010004"
    assert relay["cases"] == [case_id] and len(relay["events"]) == 1


def test_a_dead_robot_leaves_the_others_delivered_and_retries(repo: Repo, robots: Robots) -> None:
    env = use_robots(repo, robots) | {"CASECTL_WECOM_URL": "http://127.0.0.1:9/wecom/send?key=k"}
    result = repo.run("open", "--customer", "c", "--contact", "p", "--contract", "H", "--severity", "1",
                      "--description", "d", "--assign", "zhang.wei", env=env)  # fmt: skip
    assert result.exit_code == 3
    assert "1 of 4 messages not delivered (wecom: 127.0.0.1:9:" in result.stderr
    assert "wecom-key" not in result.stderr and "k" not in result.stderr.split("127.0.0.1:9")[1][:3]
    assert len(robots.posts) == 3
    env["CASECTL_WECOM_URL"] = robots.url("wecom", "?key=k")
    repo.ok("notify", "flush", env=env, now="2026-11-26 14:06")
    repo.ok("notify", "flush", env=env, now="2026-11-26 14:08")
    assert len(robots.of("wecom")) == 1 and len(robots.posts) == 4


def test_settings_mistakes_refuse_before_anything_is_written(
    repo: Repo,
    robots: Robots,
    refused: Callable[..., str],
) -> None:
    case_id = repo.open_case(assign=None)
    env = use_robots(repo, robots)
    del env["CASECTL_DINGTALK_SECRET"]
    assert refused("assign", case_id, "zhang.wei", env=env) == (
        "git config casectl.dingtalk.secret-env: names CASECTL_DINGTALK_SECRET, "
        "which is not set in the environment"
    )
    git_config(repo, ("casectl.dingtalk.secret", "x"))
    assert refused("sweep", env=env).startswith(
        "git config casectl.dingtalk.secret: secrets are never kept in settings"
    )


def test_each_email_setting_is_checked(repo: Repo, refused: Callable[..., str]) -> None:
    case_id = repo.open_case(assign=None)
    git_config(repo, ("casectl.email.host", "127.0.0.1"))
    assert refused("assign", case_id, "zhang.wei") == (
        "git config casectl.email.from: missing: expected the sender address"
    )
    git_config(repo, ("casectl.email.from", "casectl@example.com"), ("casectl.email.port", "99999"))
    assert refused("assign", case_id, "zhang.wei") == (
        "git config casectl.email.port: expected a port number, got '99999'"
    )
    git_config(repo, ("casectl.email.port", "25"), ("casectl.email.security", "ssl"))
    assert "expected tls, starttls or none, got 'ssl'" in refused("assign", case_id, "zhang.wei")
    git_config(repo, ("casectl.email.security", "none"), ("casectl.email.hots", "x"))
    assert refused("assign", case_id, "zhang.wei").startswith(
        "git config casectl.email.hots: unknown setting; expected kind, host"
    )
    subprocess.run(
        ["git", "-C", str(repo.root), "config", "--unset", "casectl.email.hots"], check=True
    )
    git_config(repo, ("casectl.pager.kind", "sms"))
    assert "casectl.pager.kind: expected one of email, wecom" in refused("notify", "flush")


def test_the_roster_names_channels_by_name(repo: Repo, refused: Callable[..., str]) -> None:
    roster = repo.root / "roster.yaml"
    roster.write_text(
        roster.read_text(encoding="utf-8").replace(
            "  email: zhang.wei@example.com\n", "  email: zhang.wei@example.com\n  notify: wecom\n"
        ),
        encoding="utf-8",
    )
    assert refused("log", "261126-AAAAA", "x").startswith(
        "roster.yaml: engineers[3] (zhang.wei).notify: expected a list"
    )


def test_notify_status_lists_the_pending_and_the_unreachable(repo: Repo, robots: Robots) -> None:
    env = use_robots(repo, robots) | {"CASECTL_RELAY_URL": "http://127.0.0.1:9/relay"}
    repo.run(*_open_args(), env=env)
    status = json.loads(repo.ok("notify", "status", "--json", env=env))
    assert [(p["person"], p["channel"], p["attempts"]) for p in status["pending"]] == [
        ("zhang.wei", "relay", 1)
    ]
    assert status["interval"] == 60 and status["expiry"] == 86400
    assert "li.na (no e-mail channel here)" in status["unreachable"]
    assert "zhang.wei" not in " ".join(status["unreachable"])
    text = repo.ok("notify", "status", env=env)
    assert "pending: 1" in text and "relay" in text


def _open_args() -> list[str]:
    return ["open", "--customer", "c", "--contact", "p", "--contract", "H", "--severity", "1",
            "--description", "d", "--assign", "zhang.wei"]  # fmt: skip
