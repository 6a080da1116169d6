"""One statement window: the bank's answer split into entries and proven against its own totals.

Every answer carries summary rows (OP opening balance, CL closing balance, DT debit turnover,
CT credit turnover) and every entry its balance after. A window is *balanced* when
opening + credits - debits = closing, the entries add up to both turnovers and the running
balance chains from entry to entry. That proves no entry is missing from the window.

Across 2026-01-01 a converted BGN account answers with one part per currency; each part is
proven on its own, and the changeover between them is recognised at the legal rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from tap_fibank.errors import BankProtocolError
from tap_fibank.parsing import (
    Direction,
    ValueReader,
    clean_text,
    parse_amount,
    parse_direction,
    parse_flag,
    parse_optional_amount,
    parse_timestamp,
    sofia_date,
)
from tap_fibank.windows import Window

SUMMARY_TYPES = frozenset({"OP", "CL", "DT", "CT"})
EURO_DAY = dt.date(2026, 1, 1)
BGN_PER_EUR = Decimal("1.95583")
CENT = Decimal("0.01")
_ZERO = Decimal(0)

# Statement row fields the tap maps to named columns; everything else goes to `extra`.
_MAPPED = frozenset(
    {
        "acEntrySrNo",
        "reference",
        "acBal",
        "amount",
        "dtkt",
        "dateTime",
        "valueDt",
        "contragent",
        "benOrderParty",
        "trname",
        "trnAccount",
        "trnType",
        "trnCode",
        "isEbankOper",
        "isPayment",
        "loadAsNew",
        "remI",
        "remIi",
        "remIii",
    }
)


def to_euro(bgn: Decimal) -> Decimal:
    """Convert at the fixed rate, rounded half up to the cent, as the changeover law requires."""
    return (bgn / BGN_PER_EUR).quantize(CENT, rounding=ROUND_HALF_UP)


# The columns of a `transactions` record, in order.
RECORD_KEYS = (
    "iban",
    "customer_id",
    "entry_id",
    "booking_date",
    "booked_at",
    "value_date",
    "direction",
    "amount",
    "signed_amount",
    "balance_after",
    "currency",
    "reference",
    "counterparty_name",
    "counterparty_account",
    "ordering_or_beneficiary_party",
    "description",
    "transaction_type",
    "transaction_code",
    "is_ebank_operation",
    "is_payment",
    "load_as_new",
    "remittance_1",
    "remittance_2",
    "remittance_3",
    "remittance_information",
    "extra",
)


class Entry(NamedTuple):
    """A booked entry, parsed; `sort_key` orders by booking instant, then entry id.

    Compact, because the windows fetched ahead wait in memory: a named tuple (a frozen
    dataclass costs three times as much to build) holding the record's values as a tuple (a
    third of a dict's size); `record` builds the dict when the entry is emitted.
    """

    sort_key: tuple[dt.datetime, int]
    booking_date: dt.date
    direction: Direction
    amount: Decimal
    balance_after: Decimal | None
    values: tuple[Any, ...]

    @property
    def record(self) -> dict[str, Any]:
        """The `transactions` record (a new dict on every access)."""
        return dict(zip(RECORD_KEYS, self.values))  # noqa: B905 - same length by construction


@dataclass
class Part:
    """The statement of one currency inside a window."""

    currency: str | None
    date_from: dt.date
    date_to: dt.date
    opening: Decimal | None = None
    closing: Decimal | None = None
    debit_turnover: Decimal | None = None
    credit_turnover: Decimal | None = None
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def debit_total(self) -> Decimal:
        """What the entries themselves debit."""
        return _totals(self.entries)[0]

    @property
    def credit_total(self) -> Decimal:
        """What the entries themselves credit."""
        return _totals(self.entries)[1]

    @property
    def has_summary(self) -> bool:
        """Whether the bank sent all four summary rows."""
        return None not in (self.opening, self.closing, self.debit_turnover, self.credit_turnover)

    def check(self) -> None:
        """Record in `problems` every way this part fails to add up."""
        self.problems.clear()
        if not self.has_summary:
            self.problems.append("no summary rows (OP/CL/DT/CT) to check against")
            return
        assert self.opening is not None and self.closing is not None
        assert self.debit_turnover is not None and self.credit_turnover is not None
        if self.opening + self.credit_turnover - self.debit_turnover != self.closing:
            self.problems.append(
                f"opening {self.opening} + credits {self.credit_turnover} - debits "
                f"{self.debit_turnover} != closing {self.closing}"
            )
        debit_total, credit_total = _totals(self.entries)
        if debit_total != self.debit_turnover:
            self.problems.append(
                f"entries debit {debit_total}, the bank's debit turnover is {self.debit_turnover}"
            )
        if credit_total != self.credit_turnover:
            self.problems.append(
                f"entries credit {credit_total}, the bank's credit turnover is {self.credit_turnover}"
            )
        broken = _chain_break(self.opening, self.entries)
        if broken is not None:
            # The bank's running balance may follow posting order rather than booking time.
            if _chain_break(self.opening, sorted(self.entries, key=lambda e: e.sort_key[1])) is None:
                return
            self.problems.append(broken)

    def summary(self, iban: str, customer_id: str) -> dict[str, Any]:
        """The `statements` record of this part."""
        debit_total, credit_total = _totals(self.entries)
        return {
            "iban": iban,
            "customer_id": customer_id,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "currency": self.currency,
            "opening_balance": self.opening,
            "closing_balance": self.closing,
            "debit_turnover": self.debit_turnover,
            "credit_turnover": self.credit_turnover,
            "entry_count": len(self.entries),
            "entries_debit_total": debit_total,
            "entries_credit_total": credit_total,
            "is_balanced": not self.problems,
        }


@dataclass
class Statement:
    """A window's answer: its parts in date order and all their entries in booking order."""

    window: Window
    parts: list[Part]
    #: When the answer was read from the bank: the RECORD messages' `time_extracted`.
    extracted_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def entries(self) -> list[Entry]:
        """Every entry of the window, ascending by booking instant and entry id."""
        if len(self.parts) == 1:
            return self.parts[0].entries
        return sorted((e for p in self.parts for e in p.entries), key=_SORT_KEY)

    @property
    def problems(self) -> list[str]:
        """Every way the window fails to add up, including between its parts."""
        found = [problem for part in self.parts for problem in part.problems]
        for before, after in zip(self.parts, self.parts[1:], strict=False):
            found.extend(chain_problems(before, after))
        return found

    @property
    def is_balanced(self) -> bool:
        """True when the window proves it holds every entry."""
        return not self.problems


_SORT_KEY = attrgetter("sort_key")


def _totals(entries: list[Entry]) -> tuple[Decimal, Decimal]:
    """What the entries debit and credit, in one pass."""
    debit = credit = _ZERO
    for entry in entries:
        if entry.direction == "debit":
            debit += entry.amount
        elif entry.direction == "credit":
            credit += entry.amount
    return debit, credit


def _chain_break(opening: Decimal, entries: list[Entry]) -> str | None:
    """The first entry whose balance after does not follow from the one before, if any."""
    running = opening
    for entry in entries:
        running += entry.amount if entry.direction == "credit" else -entry.amount
        if entry.balance_after is not None and entry.balance_after != running:
            return (
                f"balance after entry {entry.sort_key[1]} is {entry.balance_after}, "
                f"the running balance is {running}"
            )
    return None


def chain_problems(before: Part, after: Part) -> list[str]:
    """A part must open where the previous one closed (converted on the euro changeover)."""
    if before.closing is None or after.opening is None:
        return []
    expected = before.closing
    if before.currency == "BGN" and after.currency == "EUR" and after.date_from >= EURO_DAY:
        expected = to_euro(before.closing)
    if after.opening != expected:
        return [
            f"the statement opens at {after.opening} {after.currency or ''} on "
            f"{after.date_from} but the previous one closed at {before.closing} "
            f"{before.currency or ''} on {before.date_to}".replace("  ", " ")
        ]
    return []


def parse_statement(
    payload: Any, window: Window, iban: str, customer_id: str, account_currency: str | None
) -> Statement:
    """Split a `GetCustBal` answer into checked parts."""
    if not isinstance(payload, dict) or not isinstance(payload.get("acc"), list):
        msg = "the statement answer (GetCustBal) has no 'acc' list; the bank's API may have changed"
        raise BankProtocolError(msg)
    parts: list[Part] = []
    reader = ValueReader()
    for element in payload["acc"]:
        if not isinstance(element, dict) or not isinstance(element.get("stmt", []), list):
            msg = "a statement element (GetCustBal acc[]) has no 'stmt' list; the API may have changed"
            raise BankProtocolError(msg)
        currency = clean_text(element.get("ccy")) or account_currency
        parts.append(_parse_part(element.get("stmt") or [], window, iban, customer_id, currency, reader))
    if not parts:
        parts.append(Part(account_currency, window.start, window.end))
    parts.sort(key=lambda p: p.date_from)
    for part in parts:
        part.entries.sort(key=_SORT_KEY)
        part.check()
    return Statement(window, parts)


def _parse_part(
    rows: list[Any], window: Window, iban: str, customer_id: str, currency: str | None, reader: ValueReader
) -> Part:
    part = Part(currency, window.start, window.end)
    append = part.entries.append
    for row in rows:
        if not isinstance(row, dict):
            msg = "a statement row is not an object; the API may have changed"
            raise BankProtocolError(msg)
        kind = row.get("trnType")
        if kind.__class__ is not str or kind not in SUMMARY_TYPES:
            kind = str(kind or "").strip().upper()
        if kind in SUMMARY_TYPES:
            _apply_summary(part, kind, row, window)
        else:
            append(_parse_entry(row, iban, customer_id, currency, reader))
    return part


def _apply_summary(part: Part, kind: str, row: dict[str, Any], window: Window) -> None:
    when = row.get("dateTime")
    day = sofia_date(parse_timestamp(when, "dateTime")) if when else None
    if kind == "OP":
        part.opening = parse_amount(row.get("acBal", row.get("amount")), "OP acBal")
        if day is not None and window.start <= day <= window.end:
            part.date_from = day
    elif kind == "CL":
        part.closing = parse_amount(row.get("acBal", row.get("amount")), "CL acBal")
        if day is not None and window.start <= day <= window.end:
            part.date_to = day
    elif kind == "DT":
        part.debit_turnover = parse_amount(row.get("amount"), "DT amount")
    else:
        part.credit_turnover = parse_amount(row.get("amount"), "CT amount")


def _parse_entry(
    row: dict[str, Any], iban: str, customer_id: str, currency: str | None, reader: ValueReader
) -> Entry:
    """One entry row as a record. The bank's usual values take the fast paths of `parsing`."""
    get = row.get
    raw_id = get("acEntrySrNo")
    if raw_id.__class__ is int:
        entry_id: int = raw_id
    else:
        try:
            entry_id = int(raw_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            msg = f"a statement row has acEntrySrNo={raw_id!r}, not an integer entry number"
            raise BankProtocolError(msg) from None
    booked_at, booked_text, booking_date, booking_text = reader.read(get("dateTime"), "dateTime")
    direction = parse_direction(get("dtkt"))
    amount = get("amount")
    if amount.__class__ is not Decimal or not amount.is_finite():
        amount = parse_amount(amount, "amount")
    if amount < _ZERO:
        msg = (
            f"entry {entry_id} has a negative amount ({amount}) with dtkt={get('dtkt')!r}; "
            "the tap expects unsigned amounts with the direction in dtkt"
        )
        raise BankProtocolError(msg)
    balance_after = get("acBal")
    if balance_after.__class__ is not Decimal or not balance_after.is_finite():
        balance_after = parse_optional_amount(balance_after, "acBal")
    text = reader.text  # for texts many rows share
    rem_1 = text(get("remI"))
    rem_2 = text(get("remIi"))
    rem_3 = clean_text(get("remIii"))
    if rem_1 and rem_2 and rem_3:
        joined: str | None = f"{rem_1} {rem_2} {rem_3}"
    else:
        joined = " ".join(line for line in (rem_1, rem_2, rem_3) if line) or None
    extra = None if row.keys() <= _MAPPED else {k: v for k, v in row.items() if k not in _MAPPED}
    values = (
        iban,  # iban
        customer_id,  # customer_id
        entry_id,  # entry_id
        booking_text,  # booking_date
        booked_text,  # booked_at
        reader.date_text(get("valueDt"), "valueDt"),  # value_date
        direction,  # direction
        amount,  # amount
        amount if direction == "credit" else -amount,  # signed_amount
        balance_after,  # balance_after
        currency,  # currency
        clean_text(get("reference")),  # reference
        text(get("contragent")),  # counterparty_name
        text(get("trnAccount")),  # counterparty_account
        text(get("benOrderParty")),  # ordering_or_beneficiary_party
        text(get("trname")),  # description
        text(get("trnType")),  # transaction_type
        text(get("trnCode")),  # transaction_code
        parse_flag(get("isEbankOper"), "isEbankOper"),  # is_ebank_operation
        parse_flag(get("isPayment"), "isPayment"),  # is_payment
        parse_flag(get("loadAsNew"), "loadAsNew"),  # load_as_new
        rem_1,  # remittance_1
        rem_2,  # remittance_2
        rem_3,  # remittance_3
        joined,  # remittance_information
        extra or None,  # extra
    )
    return Entry((booked_at, entry_id), booking_date, direction, amount, balance_after, values)
