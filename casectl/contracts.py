"""contracts.yaml, the optional contract register: who is covered, until when, which arrays.

Read only by the steps that need it (open --contract/--serial, intake, check); without
the file casectl behaves as before. Every mistake names the file and the key.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from casectl.errors import ConfigError, RefusedError
from casectl.i18n import _
from casectl.records import Record

FILE = "contracts.yaml"
_KEYS = ("customer", "contacts", "service", "start", "end", "serials")


class Contract(Record):
    number: str
    customer: str
    contacts: tuple[str, ...]
    service: str | None  # the calendar of severity.yaml its service level names
    start: date
    end: date
    serials: tuple[str, ...]

    def valid_on(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def contact(self) -> str:
        return "; ".join(self.contacts)


class Register(Record):
    contracts: dict[str, Contract]

    def find(self, number: str) -> Contract | None:
        found = self.contracts.get(number)
        if found is None:
            wanted = number.strip().casefold()
            found = next((c for c in self.contracts.values() if c.number.casefold() == wanted),
                         None)  # fmt: skip
        return found

    def by_serial(self, serial: str, day: date | None = None) -> Contract | None:
        """The contract covering the array: one valid on `day` first, else the latest."""
        covering = [c for c in self.contracts.values() if serial in c.serials]
        valid = [c for c in covering if day is None or c.valid_on(day)]
        return max(valid or covering, key=lambda c: c.end, default=None)

    def suggest(self, number: str) -> str:
        """`; did you mean A, B?` with the numbers closest to a mistyped one, or nothing."""
        import difflib

        numbers = {n.casefold(): n for n in self.contracts}
        close = difflib.get_close_matches(number.casefold(), list(numbers), n=1, cutoff=0.6)
        if not close:
            return ""
        return _("; did you mean {numbers}?").format(numbers=", ".join(numbers[c] for c in close))


def load(root: str, calendars: dict[str, Any] | None = None) -> Register | None:
    """The register at `root`, or None when the repository keeps none."""
    path = os.path.join(root, FILE)
    if not os.path.lexists(path):
        return None
    from casectl import yamlio

    try:
        document = yamlio.load(yamlio.read(path))
    except OSError as err:
        raise ConfigError(
            _("{file}: cannot read: {reason}").format(file=FILE, reason=err.strerror)
        ) from None
    except ValueError as err:
        raise ConfigError(
            _("{file}: not valid YAML: {error}").format(file=FILE, error=err)
        ) from None
    return parse(document, calendars)


def _fail(where: str, expected: str) -> ConfigError:
    return ConfigError(f"{FILE}: {where}: {expected}")


def parse(document: Any, calendars: dict[str, Any] | None = None) -> Register:
    if document is None:
        return Register({})
    if not isinstance(document, dict) or set(document) - {"contracts"}:
        raise _fail("top level", _("expected a mapping with the key contracts"))
    body = document.get("contracts") or {}
    if not isinstance(body, dict):
        raise _fail("contracts", _("expected a mapping of contract numbers"))
    found: dict[str, Contract] = {}
    owner: dict[str, str] = {}
    for number, spec in body.items():
        contract = _contract(str(number), spec, calendars)
        for serial in contract.serials:
            if serial in owner and _overlap(found[owner[serial]], contract):
                raise _fail(
                    f"contracts.{number}.serials",
                    _("serial {serial} is also covered by {other} in the same period").format(
                        serial=serial, other=owner[serial]
                    ),
                )
            owner[serial] = contract.number
        found[contract.number] = contract
    return Register(found)


def _overlap(a: Contract, b: Contract) -> bool:
    return a.start <= b.end and b.start <= a.end


def _contract(number: str, spec: Any, calendars: dict[str, Any] | None) -> Contract:
    where = f"contracts.{number}"
    if not number.strip() or not isinstance(spec, dict):
        raise _fail(where, _("expected a mapping of {keys}").format(keys=", ".join(_KEYS)))
    for key in spec:
        if key not in _KEYS:
            raise _fail(
                f"{where}.{key}",
                _("unknown key; expected one of {known}").format(known=", ".join(_KEYS)),
            )
    customer = spec.get("customer")
    if not isinstance(customer, str) or not customer.strip():
        raise _fail(f"{where}.customer", _("expected text"))
    contacts = spec.get("contacts", [])
    contacts = [contacts] if isinstance(contacts, str) else contacts
    if not isinstance(contacts, list) or not all(isinstance(c, str) and c for c in contacts):
        raise _fail(f"{where}.contacts", _("expected a list of text"))
    service = spec.get("service")
    if service is not None and calendars is not None and service not in calendars:
        raise _fail(
            f"{where}.service",
            _("unknown calendar {name!r}; known: {known}").format(
                name=service, known=", ".join(calendars)
            ),
        )
    start, end = _day(spec.get("start"), f"{where}.start"), _day(spec.get("end"), f"{where}.end")
    if end < start:
        raise _fail(f"{where}.end", _("before the start ({start})").format(start=start))
    serials = spec.get("serials", [])
    if not isinstance(serials, list) or not all(isinstance(s, (str, int)) for s in serials):
        raise _fail(f"{where}.serials", _("expected a list of serial numbers"))
    return Contract(
        number, customer, tuple(contacts), service, start, end, tuple(str(s) for s in serials)
    )


def _day(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, _("expected a date such as 2026-12-31")) from None


# --- what `open` makes of a contract number or an array's serial -------------------------


class Opening(Record):
    contract: str | None
    customer: str | None
    contact: str | None
    approval: str | None  # why the case needs approval (unknown or expired), or None
    hint: str = ""  # `; did you mean X?` after a typo
    service: str | None = None  # the calendar of a valid contract's service level


def for_open(
    register: Register | None,
    contract: str | None,
    serial: str | None,
    customer: str | None,
    contact: str | None,
    day: date,
) -> Opening:
    """The contract `open` records, with customer and contact filled from the register
    when omitted; `approval` says why a person must approve (unknown, expired)."""
    if register is None:
        if serial is not None:
            raise RefusedError(
                _("open --serial needs the contract register {file}").format(file=FILE)
            )
        return Opening(contract, customer, contact, None)
    found = register.find(contract) if contract else None
    if serial is not None:
        covering = register.by_serial(serial, day)
        if covering is None:
            raise RefusedError(
                _("no contract in {file} covers serial {serial}; give --contract NO, or "
                  "--no-contract --approved-by ID").format(file=FILE, serial=serial)
            )  # fmt: skip
        if contract and (found is None or found.number != covering.number):
            raise RefusedError(
                _("serial {serial} is covered by {covering}, not {contract}").format(
                    serial=serial, covering=covering.number, contract=contract)
            )  # fmt: skip
        found = covering
    if found is None:
        assert contract is not None
        unknown = _("contract {contract} is not in {file}").format(contract=contract, file=FILE)
        return Opening(contract, customer, contact, unknown, register.suggest(contract))
    why: str | None = None
    if not found.valid_on(day):
        why = _("contract {contract} is valid from {start} to {end}").format(
            contract=found.number, start=found.start, end=found.end
        )
    return Opening(
        found.number,
        customer or found.customer,
        contact or found.contact or None,
        why,
        service=None if why else found.service,
    )
