"""Parsers for the bank's values: timestamps, amounts, the debit/credit flag and Y/N flags.

The API is reverse-engineered, so each parser accepts every plausible spelling and raises a
`BankProtocolError` naming the value it could not read, instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from tap_fibank.errors import BankProtocolError
from tap_fibank.windows import SOFIA

Direction = Literal["debit", "credit"]

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)

_DEBIT = {"D", "DT", "DB", "DR", "DEBIT", "Д", "ДТ", "ДЕБИТ"}
_CREDIT = {"C", "CT", "CR", "K", "KT", "CREDIT", "К", "КТ", "КРЕДИТ"}
_YES = {"Y", "YES", "TRUE", "1", "Д", "ДА"}
_NO = {"N", "NO", "FALSE", "0", "Н", "НЕ"}


def parse_timestamp(value: object, field: str) -> dt.datetime:
    """Read `2022-02-21T10:15:00+0200` (or `+02:00`, `Z`, fractions) as an aware datetime.

    A timestamp without an offset is taken as Sofia local time, as the web bank shows it.
    """
    if not isinstance(value, str):
        msg = f"the bank sent {field}={value!r}, not a timestamp"
        raise BankProtocolError(msg)
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        msg = f"the bank sent {field}={value!r}, which is not a timestamp the tap can read"
        raise BankProtocolError(msg)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        naive = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
        )
    except ValueError as exc:
        msg = f"the bank sent {field}={value!r}, which is not a real date ({exc})"
        raise BankProtocolError(msg) from None
    if offset is None:
        return naive.replace(tzinfo=SOFIA)
    if offset == "Z":
        return naive.replace(tzinfo=dt.timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return naive.replace(tzinfo=dt.timezone(sign * delta))


def sofia_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Sofia of an instant: what a customer sees as the booking day."""
    return moment.astimezone(SOFIA).date()


def parse_amount(value: object, field: str) -> Decimal:
    """Read an amount exactly: JSON numbers arrive as Decimal already; strings are accepted too."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace(" ", "").replace(",", "."))
        except InvalidOperation:
            msg = f"the bank sent {field}={value!r}, which is not an amount"
            raise BankProtocolError(msg) from None
    else:
        msg = f"the bank sent {field}={value!r}, which is not an amount"
        raise BankProtocolError(msg)
    if not amount.is_finite():
        msg = f"the bank sent {field}={value!r}, which is not a finite amount"
        raise BankProtocolError(msg)
    return amount


def parse_optional_amount(value: object, field: str) -> Decimal | None:
    """An amount that may be absent."""
    if value is None or value == "":
        return None
    return parse_amount(value, field)


def parse_direction(value: object) -> Direction:
    """Read `dtkt` (Bulgarian дт/кт): D/C, DT/KT/CT, Cyrillic, words; anything else is an error."""
    if isinstance(value, str):
        key = value.strip().upper()
        if key in _DEBIT:
            return "debit"
        if key in _CREDIT:
            return "credit"
    msg = (
        f"the bank sent dtkt={value!r}, which the tap cannot read as debit or credit; "
        "please report it so the spelling can be added"
    )
    raise BankProtocolError(msg)


def parse_flag(value: object, field: str) -> bool | None:
    """Read a Y/N flag; absent is None, an unknown spelling is an error naming it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    key = str(value).strip().upper()
    if key in _YES:
        return True
    if key in _NO:
        return False
    msg = f"the bank sent {field}={value!r}, which is not a Y/N flag"
    raise BankProtocolError(msg)


def clean_text(value: object) -> str | None:
    """Strip a text field; empty becomes None so the warehouse has one spelling of 'nothing'."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None
