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
from typing import Any

from tap_fibank.errors import BankProtocolError
from tap_fibank.parsing import (
    Direction,
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


@dataclass(frozen=True)
class Entry:
    """A booked entry, parsed; `sort_key` orders by booking instant, then entry id."""

    sort_key: tuple[dt.datetime, int]
    booking_date: dt.date
    direction: Direction
    amount: Decimal
    balance_after: Decimal | None
    record: dict[str, Any]


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
        return sum((e.amount for e in self.entries if e.direction == "debit"), Decimal(0))

    @property
    def credit_total(self) -> Decimal:
        """What the entries themselves credit."""
        return sum((e.amount for e in self.entries if e.direction == "credit"), Decimal(0))

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
        if self.debit_total != self.debit_turnover:
            self.problems.append(
                f"entries debit {self.debit_total}, the bank's debit turnover is {self.debit_turnover}"
            )
        if self.credit_total != self.credit_turnover:
            self.problems.append(
                f"entries credit {self.credit_total}, the bank's credit turnover is {self.credit_turnover}"
            )
        broken = _chain_break(self.opening, self.entries)
        if broken is not None:
            # The bank's running balance may follow posting order rather than booking time.
            if _chain_break(self.opening, sorted(self.entries, key=lambda e: e.sort_key[1])) is None:
                return
            self.problems.append(broken)

    def summary(self, iban: str, customer_id: str) -> dict[str, Any]:
        """The `statements` record of this part."""
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
            "entries_debit_total": self.debit_total,
            "entries_credit_total": self.credit_total,
            "is_balanced": not self.problems,
        }


@dataclass
class Statement:
    """A window's answer: its parts in date order and all their entries in booking order."""

    window: Window
    parts: list[Part]

    @property
    def entries(self) -> list[Entry]:
        """Every entry of the window, ascending by booking instant and entry id."""
        if len(self.parts) == 1:
            return self.parts[0].entries
        return sorted((e for p in self.parts for e in p.entries), key=lambda e: e.sort_key)

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


def _chain_break(opening: Decimal, entries: list[Entry]) -> str | None:
    """The first entry whose balance after does not follow from the one before, if any."""
    running = opening
    for entry in entries:
        running += entry.amount if entry.direction == "credit" else -entry.amount
        if entry.balance_after is not None and entry.balance_after != running:
            return (
                f"balance after entry {entry.record['entry_id']} is {entry.balance_after}, "
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
    for element in payload["acc"]:
        if not isinstance(element, dict) or not isinstance(element.get("stmt", []), list):
            msg = "a statement element (GetCustBal acc[]) has no 'stmt' list; the API may have changed"
            raise BankProtocolError(msg)
        currency = clean_text(element.get("ccy")) or account_currency
        parts.append(_parse_part(element.get("stmt") or [], window, iban, customer_id, currency))
    if not parts:
        parts.append(Part(account_currency, window.start, window.end))
    parts.sort(key=lambda p: p.date_from)
    for part in parts:
        part.entries.sort(key=lambda e: e.sort_key)
        part.check()
    return Statement(window, parts)


def _parse_part(rows: list[Any], window: Window, iban: str, customer_id: str, currency: str | None) -> Part:
    part = Part(currency, window.start, window.end)
    for row in rows:
        if not isinstance(row, dict):
            msg = "a statement row is not an object; the API may have changed"
            raise BankProtocolError(msg)
        kind = str(row.get("trnType") or "").strip().upper()
        if kind in SUMMARY_TYPES:
            _apply_summary(part, kind, row, window)
        else:
            part.entries.append(_parse_entry(row, iban, customer_id, currency))
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


def _parse_entry(row: dict[str, Any], iban: str, customer_id: str, currency: str | None) -> Entry:
    raw_id = row.get("acEntrySrNo")
    try:
        entry_id = int(raw_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"a statement row has acEntrySrNo={raw_id!r}, not an integer entry number"
        raise BankProtocolError(msg) from None
    booked_at = parse_timestamp(row.get("dateTime"), "dateTime")
    booking_date = sofia_date(booked_at)
    direction = parse_direction(row.get("dtkt"))
    amount = parse_amount(row.get("amount"), "amount")
    if amount < 0:
        msg = (
            f"entry {entry_id} has a negative amount ({amount}) with dtkt={row.get('dtkt')!r}; "
            "the tap expects unsigned amounts with the direction in dtkt"
        )
        raise BankProtocolError(msg)
    balance_after = parse_optional_amount(row.get("acBal"), "acBal")
    value_raw = row.get("valueDt")
    value_date = sofia_date(parse_timestamp(value_raw, "valueDt")).isoformat() if value_raw else None
    remittance = [clean_text(row.get(key)) for key in ("remI", "remIi", "remIii")]
    joined = " ".join(line for line in remittance if line) or None
    extra = {key: value for key, value in row.items() if key not in _MAPPED}
    record: dict[str, Any] = {
        "iban": iban,
        "customer_id": customer_id,
        "entry_id": entry_id,
        "booking_date": booking_date.isoformat(),
        "booked_at": booked_at.isoformat(),
        "value_date": value_date,
        "direction": direction,
        "amount": amount,
        "signed_amount": amount if direction == "credit" else -amount,
        "balance_after": balance_after,
        "currency": currency,
        "reference": clean_text(row.get("reference")),
        "counterparty_name": clean_text(row.get("contragent")),
        "counterparty_account": clean_text(row.get("trnAccount")),
        "ordering_or_beneficiary_party": clean_text(row.get("benOrderParty")),
        "description": clean_text(row.get("trname")),
        "transaction_type": clean_text(row.get("trnType")),
        "transaction_code": clean_text(row.get("trnCode")),
        "is_ebank_operation": parse_flag(row.get("isEbankOper"), "isEbankOper"),
        "is_payment": parse_flag(row.get("isPayment"), "isPayment"),
        "load_as_new": parse_flag(row.get("loadAsNew"), "loadAsNew"),
        "remittance_1": remittance[0],
        "remittance_2": remittance[1],
        "remittance_3": remittance[2],
        "remittance_information": joined,
        "extra": extra or None,
    }
    return Entry(
        sort_key=(booked_at.astimezone(dt.timezone.utc), entry_id),
        booking_date=booking_date,
        direction=direction,
        amount=amount,
        balance_after=balance_after,
        record=record,
    )
