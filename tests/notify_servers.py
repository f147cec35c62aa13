"""Real servers for the notification tests: aiosmtpd on 127.0.0.1, and an HTTP server
standing in for the WeCom, DingTalk and Feishu robots. No mocks: casectl talks to them
over sockets exactly as it would to the real ones."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from conftest import Repo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """What the SMTP server accepted; `refuse` addresses get 550 at RCPT; `kill` a pid
    (SIGKILL) after a message is received and before it is acknowledged."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()
        self.kill: int | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        if self.kill:
            os.kill(self.kill, signal.SIGKILL)
            self.kill = None
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]

    def body(self, msg: EmailMessage) -> str:
        part = msg.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.box = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class Robots:
    """Every POST as (platform, query, document); answers as each platform does."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = []
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                document = json.loads(self.rfile.read(length).decode("utf-8"))
                platform = parts.path.strip("/").split("/")[0]
                robots.posts.append((platform, parse_qs(parts.query), document))
                answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
                if platform == "feishu":
                    answer = {"code": 0, "msg": "success", "data": {}}
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, platform: str, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{platform}/send{query}"

    def of(self, platform: str) -> list[dict[str, Any]]:
        return [document for name, _, document in self.posts if name == platform]


@pytest.fixture
def robots() -> Iterator[Robots]:
    found = Robots()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def git_config(repo: Repo, *pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        subprocess.run(["git", "-C", str(repo.root), "config", key, value], check=True)


def use_email(repo: Repo, smtp: SmtpServer, interval: str = "1m") -> None:
    """This clone mails through the test server, plain SMTP, no login."""
    git_config(
        repo,
        ("casectl.email.host", "127.0.0.1"),
        ("casectl.email.port", str(smtp.port)),
        ("casectl.email.security", "none"),
        ("casectl.email.from", "casectl <casectl@support.example.com>"),
        ("casectl.notify-interval", interval),
    )


def tracked_files(root: Path) -> list[Path]:
    names = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    return [root / n for n in names if n]
