"""The sandbox's vocabulary: booked entries, accounts, customer profiles and the calendar facts.

Kept apart from generation and serving so that the generator, the ledger, the HTTP layer and the
tests all agree on one definition of an entry and of how it looks on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

SOFIA = ZoneInfo("Europe/Sofia")
EURO_DAY = date(2026, 1, 1)
BGN_PER_EUR = Decimal("1.95583")
CENT = Decimal("0.01")


def format_instant(moment: datetime) -> str:
    """The bank's timestamp shape, ``2022-02-21T10:15:00+0200``: Sofia wall time, numeric offset."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def format_day(day: date) -> str:
    """A calendar date as the bank writes it: Sofia midnight of that day with its offset."""
    return format_instant(datetime.combine(day, time(0), SOFIA))


def bgn_to_eur(amount: Decimal) -> Decimal:
    """Convert a BGN balance at the fixed euro rate, rounding half-up to the cent as the law says."""
    return (amount / BGN_PER_EUR).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Entry:
    """One booked account entry; ``row`` is exactly the statement row the API serves for it.

    Balances are stored (not derived) because the bank reports them per row and a back-dated
    posting rewrites the later ones: tests compare what the API said with this record.
    """

    entry_id: int
    iban: str
    booked_at: datetime
    booking_date: date
    value_date: date
    direction: str
    amount: Decimal
    signed_amount: Decimal
    balance_after: Decimal
    currency: str
    instant: float
    reference: str
    trname: str
    trn_type: str
    trn_code: str
    contragent: str | None
    ben_order_party: str | None
    trn_account: str
    is_ebank_oper: str
    is_payment: str
    load_as_new: str
    rem_i: str | None
    rem_ii: str | None
    rem_iii: str | None

    @property
    def sort_key(self) -> tuple[float, int]:
        """Order of booking: the instant (not the wall time, which repeats in October), then id."""
        return (self.instant, self.entry_id)

    @property
    def row(self) -> dict[str, Any]:
        """The ``stmt`` row for this entry, field for field as GetCustBal returns it."""
        return {
            "acEntrySrNo": self.entry_id,
            "reference": self.reference,
            "acBal": self.balance_after,
            "amount": self.amount,
            "dtkt": "DT" if self.direction == "debit" else "KT",
            "dateTime": format_instant(self.booked_at),
            "valueDt": format_day(self.value_date),
            "contragent": self.contragent,
            "benOrderParty": self.ben_order_party,
            "trname": self.trname,
            "trnAccount": self.trn_account,
            "trnType": self.trn_type,
            "trnCode": self.trn_code,
            "isEbankOper": self.is_ebank_oper,
            "isPayment": self.is_payment,
            "loadAsNew": self.load_as_new,
            "remI": self.rem_i,
            "remIi": self.rem_ii,
            "remIii": self.rem_iii,
        }


@dataclass(frozen=True)
class CustomerProfile:
    """A customer profile the demo login may act for (``getCustQuery`` lists them)."""

    customer_id: str
    kind: str  # "person" or "business"
    name: str
    name_latin: str
    id_number: str  # ЕГН (masked) for a person, ЕИК for a company

    def as_json(self) -> dict[str, Any]:
        """The profile as ``getCustQuery`` serves it (ids are integers on the wire)."""
        return {
            "ibCustomerId": int(self.customer_id),
            "customerName": self.name,
            "customerNameLat": self.name_latin,
            "customerType": "FL" if self.kind == "person" else "UL",
            "egnEik": self.id_number,
            "isDefault": "Y" if self.kind == "person" else "N",
            "status": "A",
        }


@dataclass(frozen=True)
class AccountInfo:
    """An account as the tests see it: who owns it, its currency today and how it behaves.

    ``tags`` name the behaviours a test may want to find or avoid: ``busy``, ``converted``
    (BGN until 2025-12-31, EUR from 2026-01-01), ``quiet_gap``, ``no_entries``,
    ``statement_500`` (GetCustBal always fails for it).
    """

    iban: str
    customer_id: str
    currency: str
    tags: tuple[str, ...]
    name: str
    kind: str  # "current" or "deposit"
    opened: date
    original_currency: str

    @property
    def converted(self) -> bool:
        """Whether the account was a BGN account that became EUR on 2026-01-01."""
        return "converted" in self.tags

    def currency_on(self, day: date) -> str:
        """The currency the account was kept in on a given day."""
        if self.converted and day >= EURO_DAY:
            return "EUR"
        return self.original_currency


_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
)


def parse_instant(text: str) -> datetime | None:
    """Parse the bank's ISO timestamps (``+0200`` or ``+02:00`` or ``Z``); None if malformed.

    An offset is required: the bank's own client always sends one, and a bare local time would be
    ambiguous in the repeated October hour.
    """
    match = _INSTANT.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    if zone == "Z":
        offset = timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if abs(offset) >= timedelta(hours=24):
            return None
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=timezone(offset)
        )
    except ValueError:
        return None


def sofia_date(moment: datetime) -> date:
    """The Sofia calendar date of an instant: how the bank reads FromDate and ToDate."""
    return moment.astimezone(SOFIA).date()
