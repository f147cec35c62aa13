"""This clone's notification settings: the channels, from git config; secrets from the environment.

Why git config (`git config casectl.NAME.KEY`): it belongs to one clone and is never
committed or pushed, so nobody who can push to the case repository can point the
cron host's mail at their own server and collect its password; it is where the
merge driver's registration already lives; and cron and people reading the same
clone see the same settings without an environment variable in every shell. Not
the state folder, a cache anyone may delete. Secrets (an SMTP password, a robot's URL
with its key, a signing secret) are never written there: a setting names the
environment variable that holds each one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import NamedTuple

from casectl.config import Config, Person
from casectl.durations import parse_duration
from casectl.errors import ConfigError
from casectl.i18n import _

ROBOTS = ("wecom", "dingtalk", "feishu", "json")
KINDS = ("email", *ROBOTS)
SECURITY = {"tls": 465, "starttls": 587, "none": 25}
EMAIL_KEYS = ("kind", "host", "port", "security", "from", "user", "password-env")
ROBOT_KEYS = ("kind", "url-env", "secret-env", "allow-http")
TOP_KEYS = ("notify-interval", "notify-expiry", "notify-message-deadline", "notify-run-deadline")
OTHER_KEYS = ("user", "board-html", "push", "lease", "signer", "trust")  # casectl's other settings
SECRETS = {"password": "password-env", "url": "url-env", "secret": "secret-env"}


class Email(NamedTuple):
    name: str
    host: str
    port: int
    security: str  # tls, starttls, none
    sender: str  # the From address
    user: str | None
    password: str | None
    kind: str = "email"


class Robot(NamedTuple):
    name: str
    kind: str  # wecom, dingtalk, feishu, json
    url: str
    secret: str | None  # signing secret (dingtalk, feishu)


Channel = Email | Robot


class Settings(NamedTuple):
    channels: dict[str, Channel]
    interval: timedelta  # per person and channel: what comes sooner waits for one digest
    expiry: timedelta  # a message failing this long is reported to the manager and dropped
    message_deadline: float = 20.0  # seconds one message may take, whatever the server does
    run_deadline: float = 60.0  # seconds one command may spend delivering

    def channels_of(self, person: Person) -> list[Channel]:
        """The configured channels that reach the person: those the roster lists for them,
        else every e-mail channel when they have an address."""
        if person.notify is None:
            return [c for c in self.channels.values() if c.kind == "email" and person.email]
        found = [self.channels[n] for n in person.notify if n in self.channels]
        return [c for c in found if c.kind != "email" or person.email]

    def unreachable(self, cfg: Config) -> list[str]:
        """People no configured channel reaches, and why: `id (lists wecom)`."""
        return [f"{p.id} ({_why_unreached(p)})" for p in cfg.people if not self.channels_of(p)]


def _why_unreached(person: Person) -> str:
    if person.notify is not None:
        return f"lists {', '.join(person.notify) or 'no channel'}"
    return "no e-mail channel here" if person.email else "no e-mail address"


def load(root: str, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check `casectl.*` of the clone's git config; a ConfigError names the key."""
    environ = os.environ if environ is None else environ
    raw = read_git_config(root)
    top = {k: v for (sub, k), v in raw.items() if sub is None}
    for key in top:
        if key not in TOP_KEYS + OTHER_KEYS:
            raise _fail(
                f"casectl.{key}",
                _("unknown setting; expected {known}").format(known=", ".join(TOP_KEYS)),
            )
    by_channel: dict[str, dict[str, str]] = {}
    for (sub, key), value in raw.items():
        if sub is not None:
            by_channel.setdefault(sub, {})[key] = value
    for (sub, key), value in raw.items():
        if _CONTROL.search(value):
            where = f"casectl.{sub}.{key}" if sub else f"casectl.{key}"
            raise _fail(where, _("holds a control character (a line break?); expected one line"))
    channels = {name: _channel(name, keys, environ) for name, keys in by_channel.items()}
    return Settings(
        channels,
        _duration(top, "notify-interval", "1m"),
        _duration(top, "notify-expiry", "24h"),
        _seconds(top, "notify-message-deadline", "20s"),
        _seconds(top, "notify-run-deadline", "60s"),
    )


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def _seconds(top: dict[str, str], key: str, default: str) -> float:
    amount = _duration(top, key, default).total_seconds()
    if not 0 < amount <= 3600:
        raise _fail(f"casectl.{key}", _("expected a duration from 1s to 1h, such as 20s"))
    return amount


def host_problem(host: str) -> str | None:
    """Why `host` is no host name or IP address, or None."""
    import ipaddress

    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return None
    except ValueError:
        if bare is not host:
            return _("{host} is not an IPv6 address").format(host=host)
    labels = host.rstrip(".").split(".")
    if not host or len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return _("{host!r} is not a host name").format(host=host)
    return None


def url_problem(url: str, allow_http: bool) -> str | None:
    """Why `url` is not a robot URL casectl posts to, or None: http(s), a host, a valid
    port; https unless `allow_http` (a relay on this machine or network)."""
    from urllib.parse import urlsplit

    if _CONTROL.search(url) or " " in url:
        return _("holds a space or a control character")
    try:
        parts = urlsplit(url)
    except ValueError as err:
        return _("cannot be parsed as a URL: {reason}").format(reason=err)
    if parts.scheme not in ("http", "https"):
        return _("not an http(s) URL")
    if parts.scheme == "http" and not allow_http:
        return _(
            "http:// sends the robot's key in clear: use https://, or set allow-http true for "
            "a relay on this network"
        )
    host = parts.netloc.rpartition("@")[2]
    if host.startswith("["):
        inside, _close, rest = host[1:].partition("]")
        hostname, port = f"[{inside}]", rest[1:] if rest.startswith(":") else None
        if rest and not rest.startswith(":"):
            return _("{host!r} is not a host name").format(host=host)
    else:
        hostname, colon, after = host.partition(":")
        port = after if colon else None
    if not hostname:
        return _("names no host")
    problem = host_problem(hostname)
    if problem:
        return problem
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return _("expected a port from 1 to 65535, got {port!r}").format(port=port)
    return None


def address_problem(text: str, named: bool) -> str | None:
    """Why `text` is not one e-mail address (`named`: `Name <addr>` allowed), or None."""
    from email.errors import HeaderParseError
    from email.headerregistry import Address, HeaderRegistry

    if _CONTROL.search(text) or not text.strip():
        return _("expected one address on one line")
    try:
        if named:
            header = HeaderRegistry()("From", text)
            found = list(header.addresses)  # type: ignore[attr-defined]
            if len(found) != 1 or header.defects:
                return _("expected one address")
            address = found[0]
        else:
            address = Address(addr_spec=text.strip())
    except (ValueError, IndexError, HeaderParseError):
        return _("expected an address such as name@example.com")
    if not address.username or not address.domain or host_problem(address.domain):
        return _("expected an address such as name@example.com")
    return None


def read_git_config(root: str) -> dict[tuple[str | None, str], str]:
    """`casectl.*` of this clone's own config, parsed by git itself (quoting, includes)."""
    from casectl import gitrepo

    result = gitrepo.run(root, "config", "--local", "-z", "--get-regexp", r"^casectl\.")
    found: dict[tuple[str | None, str], str] = {}
    for entry in str(result.stdout).split("\0"):
        if not entry:
            continue
        name, _, value = entry.partition("\n")
        parts = name.split(".")
        sub = ".".join(parts[1:-1]) or None
        found[(sub, parts[-1])] = value
    return found


def _fail(key: str, expected: str) -> ConfigError:
    return ConfigError(_("git config {key}: {expected}").format(key=key, expected=expected))


def _duration(top: dict[str, str], key: str, default: str) -> timedelta:
    try:
        amount = parse_duration(top.get(key, default))
    except ValueError as err:
        raise _fail(f"casectl.{key}", str(err)) from None
    if key == "notify-expiry" and not amount:
        raise _fail(f"casectl.{key}", _("expected a duration longer than zero, such as 24h"))
    return amount


def _channel(name: str, keys: dict[str, str], environ: Mapping[str, str]) -> Channel:
    where = f"casectl.{name}"
    if not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
        raise _fail(where, _("expected a channel name of letters, digits, - and _"))
    for secret, instead in SECRETS.items():
        if secret in keys:
            raise _fail(
                f"{where}.{secret}",
                _(
                    "secrets are never kept in settings: put it in an environment variable "
                    "and name that with {key}"
                ).format(key=f"{where}.{instead}"),
            )
    kind = keys.get("kind", name if name in KINDS else "")
    if kind not in KINDS:
        raise _fail(
            f"{where}.kind",
            _("expected one of {known}, got {kind!r}").format(known=", ".join(KINDS), kind=kind),
        )
    allowed = EMAIL_KEYS if kind == "email" else ROBOT_KEYS
    for key in keys:
        if key not in allowed:
            raise _fail(
                f"{where}.{key}",
                _("unknown setting; expected {known}").format(known=", ".join(allowed)),
            )

    def from_env(key: str, required: bool) -> str | None:
        variable = keys.get(key)
        if variable is None:
            if required:
                raise _fail(f"{where}.{key}", _("missing: name the environment variable to read"))
            return None
        value = environ.get(variable)
        if not value:
            raise _fail(
                f"{where}.{key}",
                _("names {variable}, which is not set in the environment").format(
                    variable=variable
                ),
            )
        return value

    if kind != "email":
        url = from_env("url-env", True) or ""
        allow = keys.get("allow-http", "false").lower()
        if allow not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            raise _fail(f"{where}.allow-http", _("expected true or false"))
        problem = url_problem(url, allow in ("true", "yes", "1", "on"))
        if problem:
            raise _fail(
                f"{where}.url-env",
                _("{variable}: {problem}").format(variable=keys["url-env"], problem=problem),
            )
        if "secret-env" in keys and kind not in ("dingtalk", "feishu"):
            raise _fail(f"{where}.secret-env", _("only dingtalk and feishu robots sign messages"))
        return Robot(name, kind, url, from_env("secret-env", False))
    return _email(name, where, keys, from_env)


def _email(
    name: str, where: str, keys: dict[str, str], from_env: Callable[[str, bool], str | None]
) -> Email:
    for key, what in (("host", _("missing: expected the SMTP server's host name")),
                      ("from", _("missing: expected the sender address"))):  # fmt: skip
        if not keys.get(key, "").strip():
            raise _fail(f"{where}.{key}", what)
    security = keys.get("security", "starttls")
    if security not in SECURITY:
        raise _fail(
            f"{where}.security",
            _("expected tls, starttls or none, got {security!r}").format(security=security),
        )
    port_text = keys.get("port", str(SECURITY[security]))
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise _fail(
            f"{where}.port", _("expected a port number, got {port!r}").format(port=port_text)
        )
    problem = host_problem(keys["host"].strip())
    if problem:
        raise _fail(f"{where}.host", problem)
    if address_problem(keys["from"], True):
        raise _fail(
            f"{where}.from",
            _("expected an address such as casectl@example.com, got {sender!r}").format(
                sender=keys["from"]
            ),
        )
    user = keys.get("user")
    password = from_env("password-env", user is not None)
    return Email(name, keys["host"].strip(), int(port_text), security, keys["from"], user, password)
