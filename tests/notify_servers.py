"""Real servers for the notification tests: aiosmtpd on 127.0.0.1, and an HTTP server
standing in for the WeCom, DingTalk and Feishu robots. No mocks: casectl talks to them
over sockets exactly as it would to the real ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
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
        self.bad_subjects: list[str] = []
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
        self.check_subject(envelope.original_content)
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        if self.kill:
            os.kill(self.kill, signal.SIGKILL)
            self.kill = None
        return "250 Message accepted for delivery"

    def check_subject(self, raw: bytes) -> None:
        """Every subject the suite receives is encoded words alone, folded only between
        them: no space of the text can sit at a fold and be lost in decoding ("toyou")."""
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        unfolded = re.sub(r"\r\n[ \t]", " ", head)
        subject = next(
            (line[9:] for line in unfolded.split("\r\n") if line.startswith("Subject: ")), ""
        )
        words = subject.split(" ")
        if not all(re.fullmatch(r"=\?utf-8\?[bq]\?[^?\s]*\?=", w) for w in words):
            self.bad_subjects.append(subject)

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
    assert not server.box.bad_subjects, server.box.bad_subjects  # each subject folds safely


# What each platform enforces, from its published contract (see casectl/notify/webhook.py):
# the byte limit and what it counts, messages a minute and a second, the errcode answered
# (in an HTTP 200) when a request breaks a limit or its signature does not match.
PLATFORMS: dict[str, dict[str, Any]] = {
    "wecom": {"bytes": 2048, "counts": "content", "minute": 20, "second": None,
              "too_long": 40058, "too_fast": 45009},
    "dingtalk": {"bytes": 20000, "counts": "body", "minute": 20, "second": None,
                 "too_long": 460101, "too_fast": 130101, "bad_sign": 310000},
    "feishu": {"bytes": 20 * 1024, "counts": "body", "minute": 100, "second": 5,
               "too_long": 9499, "too_fast": 11232, "bad_sign": 19021},
}  # fmt: skip


class Robots:
    """Every accepted POST as (platform, query, document); answers as each platform does,
    enforcing its byte limit, its rate and (with `secrets`) its signature: a request that
    breaks one gets the vendor's errcode in an HTTP 200, and is kept in `refused`."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = []
        self.refused: list[tuple[str, int]] = []
        self.secrets: dict[str, str] = {}
        self.fail_at: dict[str, int] = {}  # platform: refuse its Nth post from now (errcode 93000)
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                document = json.loads(raw.decode("utf-8"))
                platform = parts.path.strip("/").split("/")[0]
                query = parse_qs(parts.query)
                with robots.lock:
                    code = robots.judge(platform, query, document, raw)
                    if code:
                        robots.refused.append((platform, code))
                    else:
                        robots.posts.append((platform, query, document))
                answer: dict[str, Any] = {"errcode": code, "errmsg": "ok" if not code else "no"}
                if platform == "feishu":
                    answer = {"code": code, "msg": "success" if not code else "no", "data": {}}
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

    def judge(
        self, platform: str, query: dict[str, list[str]], document: dict[str, Any], raw: bytes
    ) -> int:
        """0, or the errcode the platform answers this request with."""
        rules = PLATFORMS.get(platform)
        if rules is None:
            return 0
        if platform in self.fail_at:
            self.fail_at[platform] -= 1
            if self.fail_at[platform] == 0:
                del self.fail_at[platform]
                return 93000  # WeCom: invalid webhook URL (a server's bad moment)
        secret = self.secrets.get(platform)
        if secret and platform == "dingtalk":
            stamp = (query.get("timestamp") or ["0"])[0]
            good = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
            fresh = abs(time.time() * 1000 - int(stamp)) < 3600_000
            if query.get("sign") != [base64.b64encode(good.digest()).decode()] or not fresh:
                return int(rules["bad_sign"])
        if secret and platform == "feishu":
            stamp = str(document.get("timestamp", "0"))
            key = f"{stamp}\n{secret}".encode()
            good = hmac.new(key, b"", hashlib.sha256)
            fresh = abs(time.time() - int(stamp)) < 3600
            if document.get("sign") != base64.b64encode(good.digest()).decode() or not fresh:
                return int(rules["bad_sign"])
        if rules["counts"] == "content":
            size = len(document["text"]["content"].encode())
        else:
            size = len(raw)
        if size > rules["bytes"]:
            return int(rules["too_long"])
        now = time.time()
        times = [t for t in self.times.get(platform, []) if now - t < 60]
        if len(times) >= rules["minute"] or (
            rules["second"] and len([t for t in times if now - t < 1]) >= rules["second"]
        ):
            return int(rules["too_fast"])  # refused, and (as the vendors do) counted
        self.times[platform] = [*times, now]
        return 0

    def url(self, platform: str, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{platform}/send{query}"

    def of(self, platform: str) -> list[dict[str, Any]]:
        return [document for name, _, document in self.posts if name == platform]


class Trickle:
    """A server that accepts and then answers one byte every `every` seconds, for ever:
    `smtp` sends "220-slow\\r\\n" over and over; `smtp-data` answers at once until the
    message is sent, then trickles the answer to it; `http` reads a request and trickles
    an HTTP answer's head."""

    def __init__(self, kind: str, every: float = 1.0) -> None:
        self.kind, self.every = kind, every
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)  # the accepting thread sees `stop` (never a reused fd)
        self.port = int(self.listener.getsockname()[1])
        self.stopped = threading.Event()
        self.connections = 0
        self.messages = 0
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if self.kind == "smtp-data":  # a polite server until the message is sent
            with suppress(OSError):
                self._converse(conn)
        if self.kind == "http":
            with suppress(OSError):
                conn.recv(65536)
        text = {"smtp": b"220-slow\r\n", "smtp-data": b"250-slow\r\n"}.get(self.kind, b"")
        head = b"HTTP/1.1 200 OK\r\nX-Slow: "
        i = 0
        while not self.stopped.wait(self.every):
            if text:
                byte = text[i % len(text) : i % len(text) + 1]
            else:
                byte = head[i : i + 1] if i < len(head) else b"a"
            try:
                conn.sendall(byte)
            except OSError:
                break
            i += 1
        conn.close()

    def _converse(self, conn: socket.socket) -> None:
        """Greeting, EHLO, MAIL, RCPT and DATA answered at once; the message read."""
        conn.sendall(b"220 polite ESMTP\r\n")
        reader = conn.makefile("rb")
        while line := reader.readline():
            if line[:4].upper() == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                while (line := reader.readline()) and line != b".\r\n":
                    pass
                self.messages += 1
                return  # and the answer to the message trickles
            conn.sendall(b"250 ok\r\n")

    def stop(self) -> None:
        self.stopped.set()
        self.accepting.join()
        self.listener.close()


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


@pytest.fixture
def trickle_smtp() -> Iterator[Trickle]:
    server = Trickle("smtp")
    yield server
    server.stop()


@pytest.fixture
def trickle_http() -> Iterator[Trickle]:
    server = Trickle("http")
    yield server
    server.stop()
