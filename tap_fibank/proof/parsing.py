"""Parsers for the bank's values: timestamps, amounts, the debit/credit flag and Y/N flags.

The API is reverse-engineered, so each parser accepts every plausible spelling and raises a
`BankProtocolError` naming the value it could not read, instead of guessing.

Every statement row goes through these, so the bank's own spellings (`2022-02-21T10:15:00+0200`,
`DT`/`KT`, `Y`/`N`) take a fast path that gives exactly what the general parser gives; anything
else falls through to the general parser.

Contract: every parser returns the value read or raises `BankProtocolError` naming the field;
`parse_direction` alone returns None for an unknown spelling (the caller decides). The fast
paths return exactly what the general ones would (tests/unit/test_fast_paths.py).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from tap_fibank.bank.clock import SOFIA
from tap_fibank.errors import BankProtocolError

Direction = Literal["debit", "credit"]

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)

# The bank's own spelling of an instant (ASCII digits, seconds, a +HHMM offset): for these,
# with a colon put in the offset, datetime.fromisoformat reads exactly what _TIMESTAMP does,
# several times faster, on every supported Python.
_BANK_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}")

_DEBIT = {"D", "DT", "DB", "DR", "DEBIT", "Д", "ДТ", "ДЕБИТ"}
_CREDIT = {"C", "CT", "CR", "K", "KT", "CREDIT", "К", "КТ", "КРЕДИТ"}
_YES = {"Y", "YES", "TRUE", "1", "Д", "ДА"}
_NO = {"N", "NO", "FALSE", "0", "Н", "НЕ"}
# Exact spellings, looked up before any stripping or upper-casing.
_DIRECTIONS: dict[str, Direction] = {
    **{s: "debit" for s in _DEBIT},
    **{s: "credit" for s in _CREDIT},
}
_FLAGS: dict[str, bool] = {**{s: True for s in _YES}, **{s: False for s in _NO}}


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


class ValueReader:
    """Reads the values of one statement window as the parsers above do, only faster.

    Fast for the bank's own spellings, and remembering what rows share; the results are those of
    the general parsers. One per window: small, never shared between threads.

    `read` is `parse_timestamp` and `sofia_date` in one. For `2022-02-21T10:15:00+0200` the ISO
    text of the instant is the same text with a colon in the offset, and the Sofia date is the
    local date whenever Sofia keeps that offset through the whole local day (every day but the
    two changeover days of a year, and only for Sofia's own offset); that is worked out once
    per (day, offset). Anything else is read by the general parser and converted exactly.
    `date_text` remembers value dates; `text` keeps one copy of each repeated text, so the
    windows fetched ahead take less memory.
    """

    __slots__ = ("_dates", "_days", "_texts")

    def __init__(self) -> None:
        self._days: dict[str, tuple[dt.date, str] | None] = {}
        self._dates: dict[str, str] = {}
        self._texts: dict[str, str] = {}

    def text(self, value: object) -> str | None:
        """`clean_text`, keeping one copy of a text that many rows share (a merchant, a type)."""
        if value.__class__ is str:
            text = value.strip()
            return self._texts.setdefault(text, text) if text else None
        return clean_text(value)

    def read(self, value: object, field: str) -> tuple[dt.datetime, str, dt.date, str]:
        """The instant, its ISO text, its Sofia date and that date's ISO text."""
        if value.__class__ is str and _BANK_TIMESTAMP.fullmatch(value):
            colon = f"{value[:22]}:{value[22:]}"  # Python 3.10 reads +02:00, not +0200
            try:
                moment = dt.datetime.fromisoformat(colon)
            except ValueError:
                pass  # not a real date: the general parser says so
            else:
                key = value[:10] + value[19:]
                try:
                    known = self._days[key]  # pragma: no mutate - a memo: None takes the general path
                except KeyError:
                    known = self._days[key] = _constant_day(moment)  # pragma: no mutate - as above
                # -0000 reads as UTC, whose ISO text is +00:00: only + offsets are copied.
                text = moment.isoformat() if value[19] == "-" else colon
                if known is not None:
                    return moment, text, known[0], known[1]
                day = sofia_date(moment)
                return moment, text, day, day.isoformat()
        moment = parse_timestamp(value, field)
        day = sofia_date(moment)
        return moment, moment.isoformat(), day, day.isoformat()

    def date_text(self, value: object, field: str) -> str | None:
        """The ISO Sofia date of a timestamp that may be absent (valueDt): many rows share one."""
        if not value:
            return None
        if value.__class__ is str:
            known = self._dates.get(value)  # pragma: no mutate - a memo: a miss parses the value again
            if known is None:
                known = self._dates[value] = sofia_date(parse_timestamp(value, field)).isoformat()
            return known
        return sofia_date(parse_timestamp(value, field)).isoformat()


def _constant_day(moment: dt.datetime) -> tuple[dt.date, str] | None:
    """The local day of `moment` if Sofia keeps its offset through that whole day, else None."""
    day = moment.date()
    first = dt.datetime.combine(day, dt.time(), moment.tzinfo)
    last = dt.datetime.combine(day, dt.time(23, 59, 59), moment.tzinfo)
    offset = moment.utcoffset()  # pragma: no mutate - None only sends every row to the general parser
    if first.astimezone(SOFIA).utcoffset() == offset == last.astimezone(SOFIA).utcoffset():
        return day, day.isoformat()
    return None


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


def parse_direction(value: object) -> Direction | None:
    """Read `dtkt` (Bulgarian дт/кт): D/C, DT/KT/CT, Cyrillic, words; None if absent or unknown.

    The connector never read the flag, so an unknown spelling is no reason to stop: the caller
    decides the direction from the amount's sign or the running balance (see directions.py).
    """
    if value.__class__ is str:
        known = _DIRECTIONS.get(value)  # pragma: no mutate - a lookup table: a miss takes the general path
        if known is not None:
            return known
    if isinstance(value, str):
        key = value.strip().upper()
        if key in _DEBIT:
            return "debit"
        if key in _CREDIT:
            return "credit"
    return None


def parse_flag(value: object, field: str) -> bool | None:
    """Read a Y/N flag; absent is None, an unknown spelling is an error naming it."""
    if value.__class__ is str:
        known = _FLAGS.get(value)  # pragma: no mutate - a lookup table: a miss takes the general path
        if known is not None:
            return known
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
    if value.__class__ is str:
        return value.strip() or None
    if value is None:
        return None
    text = str(value).strip()
    return text or None
