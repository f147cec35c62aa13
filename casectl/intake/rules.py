"""severity.yaml's `alerts:` section: what an alert becomes.

    alerts:
      severity:                  # the vendor's word -> casectl's severity
        hitachi: {acute: 1, serious: 2, moderate: 3, service: 4}
        netapp: {emergency: 1, alert: 1, critical: 1, error: 2, warning: 3, notice: 4}
      default_severity: 3        # a word no map names
      ignore: ["hitachi:7FF102"] # codes that open nothing: `code` or `vendor:code`
      open_after:                # a code opens only after N alerts within a window
        "hitachi:3E1234": {count: 3, within: 1h}
      storm: {count: 9, within: 1h}   # more than 9 from one array: one storm case

Without the section: every alert opens (or appends), at severity 3 unless mapped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from casectl.config import Config
from casectl.durations import parse_duration
from casectl.errors import CasectlError, ConfigError
from casectl.i18n import _
from casectl.intake import Alert
from casectl.records import Record

_KEYS = ("severity", "default_severity", "ignore", "open_after", "storm")
HITACHI = {"acute": 1, "serious": 2, "moderate": 3, "service": 4}
NETAPP = {"emergency": 1, "alert": 1, "critical": 1, "error": 2, "warning": 3, "notice": 4,
          "info": 4}  # fmt: skip


class Window(Record):
    limit: int  # `count:` in the file
    within: timedelta


class Rules(Record):
    severity: dict[str, dict[str, int]]
    default: int
    ignore: frozenset[str]
    open_after: dict[str, Window]
    storm: Window | None

    def level(self, alert: Alert) -> int:
        words = self.severity.get(alert.vendor, {})
        return words.get(alert.severity.casefold(), self.default)

    def ignored(self, alert: Alert) -> bool:
        return bool(
            {alert.code.casefold(), f"{alert.vendor}:{alert.code}".casefold()} & self.ignore
        )

    def after(self, alert: Alert) -> Window | None:
        for key in (f"{alert.vendor}:{alert.code}", alert.code):
            found = self.open_after.get(key.casefold())
            if found:
                return found
        return None

    @property
    def longest(self) -> timedelta:
        """How far back the log is read: the longest window."""
        windows = [w.within for w in self.open_after.values()]
        if self.storm is not None:
            windows.append(self.storm.within)
        return max([timedelta(hours=1), *windows])


def _fail(where: str, expected: str) -> ConfigError:
    return ConfigError(f"severity.yaml: alerts.{where}: {expected}")


def parse(spec: Any, cfg: Config) -> Rules:
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise ConfigError(f"severity.yaml: alerts: {_('expected a mapping')}")
    for key in spec:
        if key not in _KEYS:
            raise _fail(str(key), _("unknown key; expected one of {known}").format(
                known=", ".join(_KEYS)))  # fmt: skip
    severity = {"hitachi": dict(HITACHI), "netapp": dict(NETAPP)}
    maps = spec.get("severity", {})
    if not isinstance(maps, dict):
        raise _fail("severity", _("expected a mapping of vendors"))
    for vendor, words in maps.items():
        if not isinstance(words, dict):
            raise _fail(f"severity.{vendor}", _("expected a mapping of the vendor's words"))
        severity[str(vendor).casefold()] = {
            str(w).casefold(): _level(n, cfg, f"severity.{vendor}.{w}") for w, n in words.items()
        }
    default = _level(spec.get("default_severity", 3), cfg, "default_severity")
    ignore = spec.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(c, (str, int)) for c in ignore):
        raise _fail("ignore", _("expected a list of codes"))
    after = spec.get("open_after", {})
    if not isinstance(after, dict):
        raise _fail("open_after", _("expected a mapping of codes"))
    storm = spec.get("storm")
    return Rules(
        severity=severity,
        default=default,
        ignore=frozenset(str(c).casefold() for c in ignore),
        open_after={str(c).casefold(): _window(w, f"open_after.{c}") for c, w in after.items()},
        storm=_window(storm, "storm") if storm is not None else None,
    )


def _level(value: Any, cfg: Config, where: str) -> int:
    if type(value) is not int or value not in cfg.levels:
        known = ", ".join(str(n) for n in sorted(cfg.levels))
        raise _fail(where, _("expected a configured severity ({known})").format(known=known))
    return value


def _window(value: Any, where: str) -> Window:
    if not isinstance(value, dict) or set(value) != {"count", "within"}:
        raise _fail(where, _("expected a mapping of count and within"))
    count = value["count"]
    if type(count) is not int or count < 1:
        raise _fail(f"{where}.count", _("expected a whole number from 1"))
    try:
        within = parse_duration(str(value["within"]))
    except ValueError as err:
        raise _fail(f"{where}.within", str(err)) from None
    if not within:
        raise _fail(f"{where}.within", _("expected a duration longer than zero"))
    return Window(count, within)


def findings(root: str, cfg: Config) -> list[tuple[str, int | None, str]]:
    """What `casectl check` says of the `alerts:` section and of contracts.yaml."""
    from casectl import contracts

    found: list[tuple[str, int | None, str]] = []
    for load in (lambda: parse(cfg.alerts, cfg), lambda: contracts.load(root, cfg.calendars)):
        try:
            load()
        except CasectlError as err:
            name, _sep, rest = str(err).partition(": ")
            found.append((name, None, rest))
    return found
