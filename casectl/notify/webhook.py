"""The group-robot channel: WeCom, DingTalk and Feishu custom robots, and plain JSON.

Each platform's text message, with the person's mobile number in its mention list
(WeCom `mentioned_mobile_list`, DingTalk `at.atMobiles`, whose text must also say
`@mobile`; a Feishu custom robot mentions by user id only, so it gets the name in
the text). DingTalk signs with the query's `timestamp` (ms) and `sign`, an
HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret; Feishu with `timestamp`
(s) and `sign` in the body, an HMAC-SHA256 of nothing keyed by "timestamp\\nsecret".
A `json` robot gets the message as one JSON document, for a relay of your own.
Connecting gives up after 5 seconds.

Each platform's limits (`LIMITS`): a longer text is split on line boundaries into
parts marked "(1/3)", and a `Pacer` spaces the posts to each robot under its rate,
over every command of this clone (it records when it posted, in the outbox). Text
never mentions anyone: a platform's mention syntax in it (Feishu `<at ...>`, WeCom
`<@id>`, `@all`) is shown as plain text; only the person's roster mobile is mentioned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote_plus, urlsplit

from casectl.notify import DeliveryError
from casectl.notify.settings import Robot

CONNECT_TIMEOUT = 5.0
ANSWER_TIMEOUT = 20.0


class Limit(NamedTuple):
    content: int | None  # bytes of the message's text, as JSON-encoded in the request
    per_minute: int | None  # messages a minute per robot
    per_second: int | None  # messages a second per robot


LIMITS = {
    # WeCom group robot (developer.work.weixin.qq.com/document/path/91770): text.content
    # at most 2048 bytes of UTF-8 (markdown 4096), else errcode 40058; each robot at most
    # 20 messages a minute, else errcode 45009.
    "wecom": Limit(2048, 20, None),
    # DingTalk custom robot (open.dingtalk.com/document/orgapp/custom-robots-send-group-
    # messages): each robot at most 20 messages a minute, else errcode 130101 and the robot
    # blocked for 10 minutes; the request body at most 20,000 bytes (kept well under).
    "dingtalk": Limit(18000, 20, None),
    # Feishu custom bot (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): 100
    # requests a minute and 5 a second per bot (code 11232 beyond); the request body at
    # most 20 KB, its signature and envelope included (kept well under).
    "feishu": Limit(18000, 100, 5),
    "json": Limit(None, None, None),  # a relay of your own
}
TOO_FAST = (45009, 130101, 11232)  # WeCom, DingTalk, Feishu: over the rate
LABEL_ROOM = len("(99/99) ")
PACE_MAX = 5.0  # seconds a command waits for a robot's rate; a longer wait is the next run's


def cost(text: str) -> int:
    """Bytes the text takes in the request's JSON (what the platforms' limits count, or more)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def split(text: str, budget: int) -> list[str]:
    """The text in pieces of at most `budget` bytes, cut at line ends (a longer line is cut
    at a character)."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while cost(line) > budget:  # one line longer than a piece: cut it
            size = len(line)
            while cost(line[:size]) > budget:
                size = max(1, size * budget // max(cost(line[:size]), 1) - 1)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:size])
            line = line[size:]
        if current and cost(current + line) > budget:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces]


def labelled(texts: list[str]) -> list[str]:
    """ "(1/3) ..." on each of several messages; one message stays as it is."""
    if len(texts) < 2:
        return texts
    return [f"({i}/{len(texts)}) {t}" for i, t in enumerate(texts, 1)]


_MENTION = re.compile(r"<(?=\s*/?\s*at\b)|<(?=@)|@(?=(?:all|所有人)\b)", re.IGNORECASE)


def plain(text: str) -> str:
    """Text that mentions nobody: `<at user_id="all">`, `<@id>` and `@all` shown as typed
    (a full-width < and a word joiner after @), never parsed as a mention."""
    return _MENTION.sub(lambda m: "＜" if m.group() == "<" else "@\u2060", text)


class RateHeld(Exception):
    """The robot's rate allows no post before the run's deadline: the rest waits."""


class Pacer:
    """Spaces posts to one robot under its platform's rate, across this clone's commands:
    the times of the last minute's posts are kept in the outbox (`rate/NAME`)."""

    def __init__(self, outbox: Any, robot: Robot, remaining: Callable[[], float]) -> None:
        self.limit = LIMITS.get(robot.kind, LIMITS["json"])
        self.path = os.path.join(outbox.folder, f"rate-{robot.name}")
        self.outbox = outbox
        self.remaining = remaining
        self.times = self._read()

    def _read(self) -> list[float]:
        from casectl.notify.outbox import SMALL_CAP, Unsafe, read_capped

        try:
            found = json.loads(read_capped(self.path, SMALL_CAP * 8))
        except FileNotFoundError:
            return []
        except (Unsafe, ValueError) as err:
            self.outbox.quarantine(self.path, str(err))
            return []
        if not isinstance(found, list) or not all(isinstance(t, float) for t in found):
            self.outbox.quarantine(self.path, "not a list of times")
            return []
        return found

    def wait(self) -> None:
        """Sleep until a post keeps within the rate; RateHeld if that is past the deadline."""
        now = time.time()
        self.times = [t for t in self.times if now - 60 < t <= now + 1]
        wait = 0.0
        minute, second = self.limit.per_minute, self.limit.per_second
        if minute and len(self.times) >= minute:
            wait = self.times[-minute] + 60 - now
        recent = [t for t in self.times if now - 1 < t]
        if second and len(recent) >= second:
            wait = max(wait, recent[-second] + 1 - now)
        if wait > 0:
            wait += 0.05
            if wait > min(PACE_MAX, self.remaining()):
                raise RateHeld(f"{minute} a minute" if minute else f"{second} a second")
            time.sleep(wait)

    def posted(self) -> None:
        self.times.append(time.time())
        self.outbox.write_small(self.path, json.dumps(self.times[-100:]).encode())


class Message(NamedTuple):
    person: str
    name: str
    email: str
    mobile: str
    subject: str
    text: str
    cases: list[str]
    events: list[str]


def mobile(phone: str) -> str:
    """`+86 138 0101 0004` -> `13801010004`: what the platforms match their members on."""
    digits = "".join(c for c in phone if c.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def dingtalk_sign(secret: str, millis: int) -> str:
    digest = hmac.new(secret.encode(), f"{millis}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, seconds: int) -> str:
    digest = hmac.new(f"{seconds}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def mention_room(robot: Robot, msg: Message) -> int:
    """Bytes the mention adds to the text (DingTalk's " @mobile")."""
    return len(f" @{msg.mobile}") if robot.kind == "dingtalk" and msg.mobile else 0


def request(robot: Robot, msg: Message, clock: Callable[[], float]) -> tuple[str, dict[str, Any]]:
    """The URL to post to and the JSON document, for the robot's platform."""
    url, mobiles = robot.url, [msg.mobile] if msg.mobile.isdigit() else []
    text = plain(msg.text)
    if robot.kind == "wecom":
        content = {"content": text, "mentioned_mobile_list": mobiles}
        return url, {"msgtype": "text", "text": content}
    if robot.kind == "dingtalk":
        mentions = "".join(f" @{m}" for m in mobiles)
        document = {
            "msgtype": "text",
            "text": {"content": text + mentions},
            "at": {"atMobiles": mobiles, "isAtAll": False},
        }
        if robot.secret:
            millis = int(clock() * 1000)
            sign = quote_plus(dingtalk_sign(robot.secret, millis))
            url += f"{'&' if '?' in url else '?'}timestamp={millis}&sign={sign}"
        return url, document
    if robot.kind == "feishu":
        document = {"msg_type": "text", "content": {"text": text}}
        if robot.secret:
            seconds = int(clock())
            document |= {"timestamp": str(seconds), "sign": feishu_sign(robot.secret, seconds)}
        return url, document
    return url, msg._asdict() | {"text": text}


def post(robot: Robot, msg: Message, clock: Callable[[], float] = time.time) -> None:
    """Deliver, or a DeliveryError (down=True when the robot's server cannot be reached)."""
    url, document = request(robot, msg, clock)
    status, answer = _post_json(robot.name, url, document)
    if not 200 <= status < 300:
        raise DeliveryError(
            f"{robot.name}: HTTP {status} {answer[:200]}", down=status >= 500, answered=True
        )
    if robot.kind == "json":
        return
    try:
        reply = json.loads(answer or "{}")
    except ValueError:
        raise DeliveryError(
            f"{robot.name}: not a JSON answer: {answer[:200]}", answered=True
        ) from None
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode", 0)))
    if code != 0:
        detail = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
        # over the rate: the rest of this run would only be refused (and DingTalk's block
        # lengthened), so the robot counts as down until the next run
        raise DeliveryError(
            f"{robot.name}: refused: {code} {detail}", down=code in TOO_FAST, answered=True
        )


def _post_json(name: str, url: str, document: dict[str, Any]) -> tuple[int, str]:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=CONNECT_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = json.dumps(document, ensure_ascii=False).encode()
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(ANSWER_TIMEOUT)
        connection.request("POST", path, body, {"Content-Type": "application/json; charset=utf-8"})
        response = connection.getresponse()
        return response.status, response.read(65536).decode(errors="replace")
    except (OSError, http.client.HTTPException) as err:
        where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        raise DeliveryError(f"{name}: {where}: {err or type(err).__name__}", down=True) from None
    finally:
        connection.close()
