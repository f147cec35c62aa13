"""This clone's notification settings: the channels, from git config; secrets from the environment.

Why git config (`git config casectl.NAME.KEY`): it belongs to one clone and is never
committed or pushed, so nobody who can push to the case repository can point the
cron host's mail at their own server and collect its password; it is where the
merge driver's registration already lives; and cron and people reading the same
clone see the same settings without an environment variable in every shell. Not
`.casectl/`, a cache anyone may delete. Secrets (an SMTP password, a robot's URL
with its key, a signing secret) are never written there: a setting names the
environment variable that holds each one.
"""

from __future__ import annotations

import os
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
ROBOT_KEYS = ("kind", "url-env", "secret-env")
TOP_KEYS = ("notify-interval", "notify-expiry")
OTHER_KEYS = ("user", "board-html", "signer", "trust")  # casectl's other settings
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
    channels = {name: _channel(name, keys, environ) for name, keys in by_channel.items()}
    return Settings(
        channels,
        _duration(top, "notify-interval", "1m"),
        _duration(top, "notify-expiry", "24h"),
    )


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
        if not url.startswith(("http://", "https://")):
            raise _fail(
                f"{where}.url-env",
                _("{variable} is not an http(s) URL").format(variable=keys["url-env"]),
            )
        if "secret-env" in keys and kind not in ("dingtalk", "feishu"):
            raise _fail(f"{where}.secret-env", _("only dingtalk and feishu robots sign messages"))
        return Robot(name, kind, url, from_env("secret-env", False))
    return _email(name, where, keys, from_env)


def _email(
    name: str, where: str, keys: dict[str, str], from_env: Callable[[str, bool], str | None]
) -> Email:
    from email.utils import parseaddr

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
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _fail(
            f"{where}.port", _("expected a port number, got {port!r}").format(port=port_text)
        )
    if "@" not in parseaddr(keys["from"])[1]:
        raise _fail(
            f"{where}.from",
            _("expected an address such as casectl@example.com, got {sender!r}").format(
                sender=keys["from"]
            ),
        )
    user = keys.get("user")
    password = from_env("password-env", user is not None)
    return Email(name, keys["host"].strip(), int(port_text), security, keys["from"], user, password)
