"""roster.yaml and severity.yaml, checked once at start into immutable records.

Every mistake is a ConfigError naming the file, the key and what was expected.
"""

from __future__ import annotations

import errno
import marshal
import os
import re
from datetime import date, timedelta
from os.path import join
from typing import Any, TypeGuard

from casectl import state, yamlio
from casectl.calendars import Calendar, Interval, parse_hours
from casectl.durations import parse_duration
from casectl.errors import CasectlError, ConfigError
from casectl.i18n import LANGUAGES, _
from casectl.records import Record

ROLES = ("manager", "duty", "first-line", "senior", "field", "sales", "sales-manager")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEADLINE_KINDS = ("callback", "reply", "update", "escalation")
RECIPIENTS = ("assignee", "duty", "manager", "escalation")


class Person(Record):
    id: str
    name: str
    roles: tuple[str, ...]
    phone: str
    email: str
    duty_hours: Calendar | None  # None: always on duty
    notify: tuple[str, ...] | None = None  # channel names; None: e-mail when there is one
    signing_key: str | None = None  # "ssh-ed25519 AAAA...": the key their signed steps carry

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def on_duty(self, at: Any) -> bool:
        return self.duty_hours is None or self.duty_hours.is_working(at)


class Level(Record):
    number: int
    name: str
    calendar: Calendar
    callback: timedelta
    checks: tuple[timedelta, ...]
    reassigned_callback: timedelta
    reply: timedelta
    update: timedelta | None
    escalate_senior: timedelta | None
    escalate_manager: timedelta | None
    pause: frozenset[str]
    notify: dict[str, tuple[str, ...]]
    onsite_approval: timedelta = timedelta(minutes=30)  # a request waits for the manager


class Config(Record):
    root: str
    zone: Any  # a tzinfo
    people: tuple[Person, ...]
    levels: dict[int, Level]
    commit: bool
    bot_name: str
    bot_email: str
    due_soon: timedelta
    managers: frozenset[str]  # ids of everyone with the role manager
    calendars: dict[str, Calendar] = {}  # by name, 24x7 included
    off_duty_open: str = "warn"  # a duty engineer off duty opening a case: warn or refuse
    alerts: Any = None  # the `alerts:` section as written: casectl.intake.rules checks it
    signed: Any = None  # casectl.signing.Policy: the steps that must be signed; None: off

    @property
    def manager(self) -> Person:
        """The manager to tell: the first in roster order."""
        return next(p for p in self.people if p.id in self.managers)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def with_role(self, *roles: str) -> list[Person]:
        return [p for p in self.people if p.has(*roles)]


class _Reader:
    """Walks one file's mapping, naming `file: key.path` in every error."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.file}: {where}: {expected}")

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, _("expected a mapping, got {value}").format(value=_shown(value)))
        for key in value:
            if allowed is not None and key not in allowed:
                raise self.fail(
                    f"{where}.{key}",
                    _("unknown key; expected one of {known}").format(known=", ".join(allowed)),
                )
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, _("expected text, got {value}").format(value=_shown(value)))
        return value

    def duration(self, value: Any, where: str) -> timedelta:
        try:
            return parse_duration(value if isinstance(value, str) else repr(value))
        except ValueError as err:
            raise self.fail(where, str(err)) from None

    def limit(self, value: Any, where: str) -> timedelta:
        """A duration a deadline waits: zero would make every deadline due at once."""
        amount = self.duration(value, where)
        if not amount:
            raise self.fail(
                where, _("expected a limit longer than zero, got {value!r}").format(value=value)
            )
        return amount

    def items(self, value: Any, where: str) -> list:
        if not isinstance(value, list):
            raise self.fail(where, _("expected a list, got {value}").format(value=_shown(value)))
        return value

    def dates(self, value: Any, where: str) -> frozenset[date]:
        result = set()
        for i, item in enumerate(self.items(value, where)):
            try:
                result.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
            except ValueError:
                raise self.fail(
                    f"{where}[{i}]", _("expected a date YYYY-MM-DD, got {item!r}").format(item=item)
                ) from None
        return frozenset(result)

    def hours(self, value: Any, where: str) -> tuple[Interval, ...]:
        try:
            return parse_hours(self.items(value, where))
        except ValueError as err:
            raise self.fail(where, str(err)) from None


def _shown(value: Any) -> str:
    return _("nothing") if value is None else f"{type(value).__name__} {value!r}"


TOP_KEYS = (
    "timezone", "calendars", "levels", "git", "due_soon", "off_duty_open", "alerts", "signed"
)  # fmt: skip


def load(root: str) -> Config:
    """Read and check both files of the repository at `root`."""
    severity, roster, files = _read_all(root)
    r = _Reader("severity.yaml")
    language = severity.pop("language", "en") if isinstance(severity, dict) else "en"
    if language not in LANGUAGES:  # read by casectl.i18n (without parsing), checked here
        raise r.fail("language", _("expected one of {known}").format(known=", ".join(LANGUAGES)))
    top = r.mapping(severity, "top level", TOP_KEYS)
    off_duty_open = top.get("off_duty_open", "warn")
    if off_duty_open not in ("warn", "refuse"):
        raise r.fail("off_duty_open", _("expected warn or refuse, got {value!r}").format(
            value=off_duty_open))  # fmt: skip
    zone = _zone(r, top.get("timezone", "UTC"), "timezone")
    calendars = _calendars(r, top.get("calendars", {}), zone, files)
    levels = _levels(r, top.get("levels"), calendars)
    git = r.mapping(top.get("git", {}), "git", ("commit", "bot_name", "bot_email"))
    if not isinstance(git.get("commit", True), bool):
        raise r.fail("git.commit", _("expected true or false"))
    people = _people(_Reader("roster.yaml"), roster, calendars)
    return Config(
        root=root,
        zone=zone,
        people=people,
        levels=levels,
        commit=git.get("commit", True),
        bot_name=str(git.get("bot_name", "casectl sweep")),
        bot_email=str(git.get("bot_email", "casectl@localhost")),
        due_soon=r.duration(top.get("due_soon", "30m"), "due_soon"),
        managers=frozenset(p.id for p in people if p.has("manager")),
        calendars=calendars,
        off_duty_open=off_duty_open,
        alerts=top.get("alerts"),
        signed=_signed(r, top["signed"]) if top.get("signed") else None,
    )


def _signed(r: _Reader, spec: Any) -> Any:
    """`signed:` in severity.yaml (casectl.signing reads it, only when it is there)."""
    from casectl import signing

    try:
        return signing.policy(spec)
    except ValueError as err:
        raise r.fail("signed", str(err)) from None


def _read_all(root: str) -> tuple[Any, Any, dict[str, Any]]:
    """severity.yaml, roster.yaml and the holiday files severity.yaml names (those that
    exist), from a derived cache while none of them changed.

    libyaml spends 3-4 ms building these documents, every command pays it, and
    `marshal` loads them in microseconds. Dates are kept as ISO text, which the
    checks accept just as well.
    """
    folders = state.folders(root)
    cache = join(folders[0], "config-cache")
    try:
        names, stamp, documents = marshal.loads(state.read(cache))
        if _stamp(root, names) == stamp:
            return documents  # type: ignore[no-any-return]
    except (OSError, EOFError, ValueError, TypeError):
        pass
    names = ["severity.yaml", "roster.yaml"]
    stamp = _stamp(root, names)
    severity, roster = (_plain(_read(join(root, n), n)) for n in names)
    extra = _holiday_file_names(severity)
    stamp += _stamp(root, extra)
    files = {
        n: _plain(_read(join(root, n), n)) for n, st in zip(extra, stamp[2:], strict=True) if st
    }
    documents = (severity, roster, files)
    try:
        state.make(root, *folders)
        with open(f"{cache}.{os.getpid()}", "wb") as f:
            f.write(marshal.dumps((names + extra, stamp, documents)))
        os.replace(f"{cache}.{os.getpid()}", cache)
    except (OSError, ValueError, CasectlError):
        pass  # a read-only repository, or YAML marshal cannot hold: read the files each time
    return documents


def _stamp(root: str, names: list[str]) -> list[tuple[int, int, int] | None]:
    """Each file's inode, size and mtime; None for a file that does not exist."""
    stamp: list[tuple[int, int, int] | None] = []
    for name in names:
        try:
            st = os.stat(join(root, name))
            stamp.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            stamp.append(None)
    return stamp


def _holiday_file_names(severity: Any) -> list[str]:
    """The holiday files the calendars name, unchecked but for a safe shape."""
    calendars = severity.get("calendars") if isinstance(severity, dict) else None
    bodies = calendars.values() if isinstance(calendars, dict) else []
    names = [b.get("holiday_file") for b in bodies if isinstance(b, dict)]
    return sorted({n for n in names if _safe_file_name(n)})


def _safe_file_name(name: Any) -> TypeGuard[str]:
    """A YAML file inside the repository: relative, normalized, never above the root."""
    return (
        isinstance(name, str)
        and name.endswith((".yaml", ".yml"))
        and os.path.normpath(name) == name
        and not name.startswith(("/", ".."))
        and "\\" not in name
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def _read(path: str, name: str) -> Any:
    try:
        return yamlio.load(yamlio.read(path))
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ConfigError(
                _(
                    "{file}: is a symbolic link; casectl never follows links inside the repository"
                ).format(file=name)
            ) from None
        raise ConfigError(
            _("{file}: cannot read: {reason}").format(file=name, reason=err.strerror)
        ) from None
    except ValueError as err:
        raise ConfigError(
            _("{file}: not valid YAML: {error}").format(file=name, error=err)
        ) from None


def _zone(r: _Reader, name: Any, where: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(r.text(name, where))
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(
            where,
            _("expected an IANA timezone such as Asia/Shanghai, got {name!r}").format(name=name),
        ) from None


def _calendars(r: _Reader, spec: Any, zone: Any, files: dict[str, Any]) -> dict[str, Calendar]:
    calendars = {"24x7": Calendar(name="24x7", zone=zone, always=True)}
    keys = ("timezone", "hours", "holidays", "workdays", "makeup_hours", "holiday_file")
    for name, body in r.mapping(spec, "calendars").items():
        where = f"calendars.{name}"
        if body == "24x7":
            calendars[str(name)] = Calendar(name=str(name), zone=zone, always=True)
            continue
        body = r.mapping(body, where, keys)
        hours = r.mapping(body.get("hours"), f"{where}.hours", WEEKDAYS)
        week = tuple(r.hours(hours.get(day, []), f"{where}.hours.{day}") for day in WEEKDAYS)
        if not any(week):
            raise r.fail(f"{where}.hours", _("expected working hours on at least one weekday"))
        file, listed_holidays, listed_workdays = _holiday_file(r, body, where, files)
        workdays = r.dates(body.get("workdays", []), f"{where}.workdays") | listed_workdays
        calendars[str(name)] = Calendar(
            name=str(name),
            zone=_zone(r, body["timezone"], f"{where}.timezone") if "timezone" in body else zone,
            week=week,
            holidays=r.dates(body.get("holidays", []), f"{where}.holidays") | listed_holidays,
            workdays=workdays,
            makeup_hours=_makeup_hours(r, body, where, week[0], bool(workdays)),
            holiday_file=file,
        )
    return calendars


Dates = frozenset[date]


def _holiday_file(
    r: _Reader, body: dict, where: str, files: dict[str, Any]
) -> tuple[str | None, Dates, Dates]:
    """The calendar's `holiday_file`, and the holidays and make-up workdays it lists."""
    if "holiday_file" not in body:
        return None, frozenset(), frozenset()
    name, key = body["holiday_file"], f"{where}.holiday_file"
    if not _safe_file_name(name):
        raise r.fail(
            key, _("expected a .yaml file inside the repository, got {name!r}").format(name=name)
        )
    if name not in files:
        raise r.fail(
            key,
            _(
                "{name} does not exist; expected a file of holidays per year (it may start "
                "empty: casectl calendar holidays --year YYYY fills it)"
            ).format(name=name),
        )
    return (name, *_holiday_years(_Reader(name), files[name]))


def _holiday_years(h: _Reader, document: Any) -> tuple[Dates, Dates]:
    """`{2026: {holidays: [...], workdays: [...]}, ...}`, each date in its year's block."""
    found: dict[str, set[date]] = {"holidays": set(), "workdays": set()}
    for year, body in h.mapping(document if document is not None else {}, "top level").items():
        if not isinstance(year, int) or not 2000 <= year < 2100:
            raise h.fail(str(year), _("expected a year from 2000 to 2099"))
        for key, days in h.mapping(body, str(year), ("holidays", "workdays")).items():
            dates = h.dates(days, f"{year}.{key}")
            stray = sorted(d.isoformat() for d in dates if d.year != year)
            if stray:
                raise h.fail(
                    f"{year}.{key}",
                    _("expected dates in {year}, got {date}").format(year=year, date=stray[0]),
                )
            found[key] |= dates
    return frozenset(found["holidays"]), frozenset(found["workdays"])


def _makeup_hours(
    r: _Reader, body: dict, where: str, monday: tuple[Interval, ...], needed: bool
) -> tuple[Interval, ...]:
    """The hours of a make-up workday (a weekend day worked in place of a holiday):
    `makeup_hours`, else Monday's; a calendar that lists such days must give them hours."""
    key = f"{where}.makeup_hours"
    if "makeup_hours" in body:
        hours, missing = r.hours(body["makeup_hours"], key), _("it gives none")
    else:
        hours, missing = monday, _("without it they get Monday's hours, and Monday has none")
    if needed and not hours:
        raise r.fail(
            key,
            _("expected the working hours of the make-up workdays; {missing}").format(
                missing=missing
            ),
        )
    return hours


_LEVEL_KEYS = (
    "name",
    "calendar",
    "callback",
    "checks",
    "reassigned_callback",
    "reply",
    "update",
    "escalate_senior",
    "escalate_manager",
    "pause",
    "notify",
    "onsite_approval",
)
# how long an on-site request may wait for the manager before the sweep says so, by level;
# 8h of working time is one working day on the business calendar
ONSITE_APPROVAL = {1: "30m", 2: "2h"}
ONSITE_APPROVAL_OTHER = "8h"


def _levels(r: _Reader, spec: Any, calendars: dict[str, Calendar]) -> dict[int, Level]:
    levels = {}
    for number, body in r.mapping(spec, "levels").items():
        where = f"levels.{number}"
        if not isinstance(number, int) or not 1 <= number <= 9:
            raise r.fail(where, _("expected a severity number from 1 to 9"))
        body = r.mapping(body, where, _LEVEL_KEYS)
        calendar_name = body.get("calendar", "24x7")
        if calendar_name not in calendars:
            known = ", ".join(calendars)
            raise r.fail(
                f"{where}.calendar",
                _("unknown calendar {name!r}; known: {known}").format(
                    name=calendar_name, known=known
                ),
            )

        def optional(key: str, where: str = where, body: dict = body) -> timedelta | None:
            return r.limit(body[key], f"{where}.{key}") if body.get(key) is not None else None

        callback = r.limit(body.get("callback", "45m"), f"{where}.callback")
        checks = tuple(
            r.limit(c, f"{where}.checks[{i}]")
            for i, c in enumerate(r.items(body.get("checks", ["15m", "30m"]), f"{where}.checks"))
        )
        if any(c >= callback for c in checks):
            raise r.fail(f"{where}.checks", _("expected checks shorter than the callback limit"))
        pause = [str(k) for k in r.items(body.get("pause", []), f"{where}.pause")]
        for kind in pause:
            if kind not in DEADLINE_KINDS:
                raise r.fail(
                    f"{where}.pause",
                    _("unknown deadline {kind!r}; expected {known}").format(
                        kind=kind, known=DEADLINE_KINDS
                    ),
                )
        levels[number] = Level(
            number=number,
            name=r.text(body.get("name", f"severity {number}"), f"{where}.name"),
            calendar=calendars[calendar_name],
            callback=callback,
            checks=checks,
            reassigned_callback=r.limit(
                body.get("reassigned_callback", "15m"), f"{where}.reassigned_callback"
            ),
            reply=r.limit(body.get("reply", "1h"), f"{where}.reply"),
            update=optional("update"),
            escalate_senior=optional("escalate_senior"),
            escalate_manager=optional("escalate_manager"),
            pause=frozenset(pause),
            notify=_notify(r, body.get("notify", {}), f"{where}.notify"),
            onsite_approval=r.limit(
                body.get("onsite_approval", ONSITE_APPROVAL.get(number, ONSITE_APPROVAL_OTHER)),
                f"{where}.onsite_approval",
            ),
        )
    if not levels:
        raise r.fail("levels", _("expected at least one severity level"))
    return levels


def _notify(r: _Reader, spec: Any, where: str) -> dict[str, tuple[str, ...]]:
    spec = r.mapping(spec, where, DEADLINE_KINDS)
    result = {
        "callback": ("manager",),
        "reply": ("assignee", "manager"),
        "update": ("assignee",),
        "escalation": ("manager",),
    }
    for kind, who in spec.items():
        for i, name in enumerate(r.items(who, f"{where}.{kind}")):
            if name not in RECIPIENTS:
                raise r.fail(
                    f"{where}.{kind}[{i}]",
                    _("expected one of {known}").format(known=", ".join(RECIPIENTS)),
                )
        result[kind] = tuple(who)
    return result


def _people(r: _Reader, spec: Any, calendars: dict[str, Calendar]) -> tuple[Person, ...]:
    top = r.mapping(spec, "top level", ("engineers",))
    people: list[Person] = []
    keys = ("id", "name", "roles", "phone", "email", "duty_hours", "notify", "signing_key")
    for i, body in enumerate(r.items(top.get("engineers"), "engineers")):
        where = f"engineers[{i}]"
        pid = r.text(r.mapping(body, where).get("id"), f"{where}.id")
        where = f"engineers[{i}] ({pid})"
        r.mapping(body, where, keys)
        if any(p.id == pid for p in people):
            raise r.fail(f"{where}.id", _("duplicate id; expected each engineer once"))
        roles = _roles(r, body, where)
        phone, email = _reach(r, body, where)
        duty = body.get("duty_hours")
        if duty is not None and duty not in calendars:
            known = ", ".join(calendars)
            raise r.fail(
                f"{where}.duty_hours",
                _("unknown calendar {name!r}; known: {known}").format(name=duty, known=known),
            )
        people.append(
            Person(
                id=pid,
                name=r.text(body.get("name"), f"{where}.name"),
                roles=roles,
                phone=phone,
                email=email,
                duty_hours=calendars[duty] if duty else None,
                notify=_channel_names(r, body, where),
                signing_key=_signing_key(r, body, where),
            )
        )
    if not any(p.has("manager") for p in people):
        raise r.fail("engineers", _("expected a manager: someone with the role manager"))
    return tuple(people)


def _roles(r: _Reader, body: dict[str, Any], where: str) -> tuple[str, ...]:
    """An engineer's roles: at least one, each a known one."""
    roles = tuple(str(x) for x in r.items(body.get("roles"), f"{where}.roles"))
    for role in roles:
        if role not in ROLES:
            raise r.fail(
                f"{where}.roles",
                _("unknown role {role!r}; expected {known}").format(
                    role=role, known=", ".join(ROLES)
                ),
            )
    if not roles:
        raise r.fail(f"{where}.roles", _("expected at least one role"))
    return roles


def _reach(r: _Reader, body: dict[str, Any], where: str) -> tuple[str, str]:
    """An engineer's phone and e-mail, each one plain value; at least one of them."""
    phone, email = str(body.get("phone") or ""), str(body.get("email") or "")
    if phone and not _PHONE.fullmatch(phone):
        raise r.fail(
            f"{where}.phone",
            _("expected one phone number such as +86 138 0101 0004, got {phone!r}").format(
                phone=phone
            ),
        )
    if email and not _EMAIL.fullmatch(email):
        raise r.fail(
            f"{where}.email",
            _("expected one e-mail address such as name@example.com, got {email!r}").format(
                email=email
            ),
        )
    if not phone and not email:
        raise r.fail(where, _("expected a phone or an e-mail: nobody could reach this engineer"))
    return phone, email


# one number: digits, spaces, dashes, parentheses, a leading +; one plain address (the
# notifications mention and mail exactly these; a comma list or a line break is refused)
_PHONE = re.compile(r"\+?[0-9](?:[0-9 ()-]{0,30}[0-9])?")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}\Z)(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
    r"(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*"
)


def _signing_key(r: _Reader, body: dict, where: str) -> str | None:
    """`signing_key: ssh-ed25519 AAAA... comment`: one SSH public key, checked here."""
    if body.get("signing_key") is None:
        return None
    from casectl import signing

    key = signing.public_key(body["signing_key"])
    if key is None:
        raise r.fail(
            f"{where}.signing_key",
            _("expected one SSH public key on one line, such as ssh-ed25519 AAAA... (the "
              "contents of a .pub file)"),
        )  # fmt: skip
    return key


def _channel_names(r: _Reader, body: dict, where: str) -> tuple[str, ...] | None:
    """`notify: [email, wecom]`: the channels (named in each clone's settings) that reach
    the person; without the key, e-mail when they have an address."""
    if "notify" not in body:
        return None
    names = tuple(str(n) for n in r.items(body["notify"], f"{where}.notify"))
    for name in names:
        if not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
            raise r.fail(
                f"{where}.notify",
                _("expected channel names such as email or wecom, got {name!r}").format(name=name),
            )
    return names
