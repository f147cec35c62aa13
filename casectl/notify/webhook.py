"""The group-robot channel: WeCom, DingTalk and Feishu custom robots, and plain JSON.

Each platform's text message, with the person's mobile number in its mention list
(WeCom `mentioned_mobile_list`, DingTalk `at.atMobiles`, whose text must also say
`@mobile`; a Feishu custom robot mentions by user id only, so it gets the name in
the text). DingTalk signs with the query's `timestamp` (ms) and `sign`, an
HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret; Feishu with `timestamp`
(s) and `sign` in the body, an HMAC-SHA256 of nothing keyed by "timestamp\\nsecret".
A `json` robot gets the message as one JSON document, for a relay of your own.
Connecting gives up after 5 seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote_plus, urlsplit

from casectl.notify import DeliveryError
from casectl.notify.settings import Robot

CONNECT_TIMEOUT = 5.0
ANSWER_TIMEOUT = 20.0


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


def request(robot: Robot, msg: Message, clock: Callable[[], float]) -> tuple[str, dict[str, Any]]:
    """The URL to post to and the JSON document, for the robot's platform."""
    url, mobiles = robot.url, [msg.mobile] if msg.mobile else []
    if robot.kind == "wecom":
        text = {"content": msg.text, "mentioned_mobile_list": mobiles}
        return url, {"msgtype": "text", "text": text}
    if robot.kind == "dingtalk":
        mentions = "".join(f" @{m}" for m in mobiles)
        document = {
            "msgtype": "text",
            "text": {"content": msg.text + mentions},
            "at": {"atMobiles": mobiles, "isAtAll": False},
        }
        if robot.secret:
            millis = int(clock() * 1000)
            sign = quote_plus(dingtalk_sign(robot.secret, millis))
            url += f"{'&' if '?' in url else '?'}timestamp={millis}&sign={sign}"
        return url, document
    if robot.kind == "feishu":
        document = {"msg_type": "text", "content": {"text": msg.text}}
        if robot.secret:
            seconds = int(clock())
            document |= {"timestamp": str(seconds), "sign": feishu_sign(robot.secret, seconds)}
        return url, document
    return url, msg._asdict()


def post(robot: Robot, msg: Message, clock: Callable[[], float] = time.time) -> None:
    """Deliver, or a DeliveryError (down=True when the robot's server cannot be reached)."""
    url, document = request(robot, msg, clock)
    status, answer = _post_json(robot.name, url, document)
    if not 200 <= status < 300:
        raise DeliveryError(f"{robot.name}: HTTP {status} {answer[:200]}", down=status >= 500)
    if robot.kind == "json":
        return
    try:
        reply = json.loads(answer or "{}")
    except ValueError:
        raise DeliveryError(f"{robot.name}: not a JSON answer: {answer[:200]}") from None
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode", 0)))
    if code != 0:
        detail = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
        raise DeliveryError(f"{robot.name}: refused: {code} {detail}")


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
