"""Config mistakes: one line naming the file, the key and what was expected."""

from __future__ import annotations

import pytest
import yaml
from conftest import Repo


def edit(repo: Repo, name: str, change) -> None:  # type: ignore[no-untyped-def]
    path = repo.root / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def person(i: int):  # type: ignore[no-untyped-def]
    return lambda d: d["engineers"][i]


CASES = [
    (
        "severity.yaml",
        lambda d: d.update(colour="red"),
        "severity.yaml: top level.colour: unknown key; expected one of timezone, calendars, levels, git, due_soon, off_duty_open, alerts, signed",
    ),
    (
        "severity.yaml",
        lambda d: d["levels"][1].update(callback=45),
        "severity.yaml: levels.1.callback: expected a duration such as 45m, 1h30m, 2d or PT45M, got '45'",
    ),
    (
        "severity.yaml",
        lambda d: d["levels"][1].update(reply="soon"),
        "severity.yaml: levels.1.reply: expected a duration such as 45m, 1h30m, 2d or PT45M, got 'soon'",
    ),
    (
        "severity.yaml",
        lambda d: d["levels"][3].update(calendar="office"),
        "severity.yaml: levels.3.calendar: unknown calendar 'office'; known: 24x7, business",
    ),
    (
        "severity.yaml",
        lambda d: d["levels"][1].update(checks="15m"),
        "severity.yaml: levels.1.checks: expected a list, got str '15m'",
    ),
    (
        "severity.yaml",
        lambda d: d.update(timezone="Mars/Base"),
        "severity.yaml: timezone: expected an IANA timezone such as Asia/Shanghai, got 'Mars/Base'",
    ),
    (
        "severity.yaml",
        lambda d: d["calendars"]["business"]["hours"].update(mon=["18:00-09:00"]),
        "severity.yaml: calendars.business.hours.mon: interval '18:00-09:00' ends before it starts",
    ),
    (
        "severity.yaml",
        lambda d: d["calendars"]["business"].update(holidays=["2026-13-01"]),
        "severity.yaml: calendars.business.holidays[0]: expected a date YYYY-MM-DD, got '2026-13-01'",
    ),
    (
        "roster.yaml",
        lambda d: person(3)(d).update(roles=["firstline"]),
        "roster.yaml: engineers[3] (zhang.wei).roles: unknown role 'firstline'; expected manager, duty, first-line, senior, field, sales, sales-manager",
    ),
    (
        "roster.yaml",
        lambda d: person(4)(d).update(id="zhang.wei"),
        "roster.yaml: engineers[4] (zhang.wei).id: duplicate id; expected each engineer once",
    ),
    (
        "roster.yaml",
        lambda d: d["engineers"].pop(0),
        "roster.yaml: engineers: expected a manager: someone with the role manager",
    ),
    (
        "roster.yaml",
        lambda d: (person(3)(d).pop("phone"), person(3)(d).pop("email")),
        "roster.yaml: engineers[3] (zhang.wei): expected a phone or an e-mail: nobody could reach this engineer",
    ),
    (
        "roster.yaml",
        lambda d: person(3)(d).update(duty_hours="nights"),
        "roster.yaml: engineers[3] (zhang.wei).duty_hours: unknown calendar 'nights'; known: 24x7, business",
    ),
    (
        "roster.yaml",
        lambda d: person(3)(d).update(pager="123"),
        "roster.yaml: engineers[3] (zhang.wei).pager: unknown key; expected one of id, name, roles, phone, email, duty_hours, notify, signing_key",
    ),
]


@pytest.mark.parametrize(("name", "change", "message"), CASES, ids=[c[2][:60] for c in CASES])
def test_config_mistakes(repo: Repo, refused, name: str, change, message: str) -> None:  # type: ignore[no-untyped-def]
    edit(repo, name, change)
    assert refused("roster") == message


def test_broken_yaml_names_the_file(repo: Repo, refused) -> None:  # type: ignore[no-untyped-def]
    (repo.root / "roster.yaml").write_text("engineers: [\n", encoding="utf-8")
    assert refused("roster").startswith("roster.yaml: not valid YAML: ")


def test_an_edited_roster_is_read_again(repo: Repo) -> None:
    assert "冯雪" in repo.ok("roster")
    edit(repo, "roster.yaml", lambda d: d["engineers"][-1].update(name="冯小雪"))
    assert "冯小雪" in repo.ok("roster")
    assert (repo.state / "config-cache").exists()
