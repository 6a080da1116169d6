"""What one statement element (`acc[i]`) shows, read the way the tap reads it.

The checks compare these facts across accounts and windows; the capture's fake amounts are
built to keep the same facts. Nothing here raises: a value the tap could not read is a fact too.

Contract: every function here is pure and total. Totals and the balance chain are the proof's
(`tap_fibank.proof.balances`), applied to the rows read leniently (`moves`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NamedTuple

from tap_fibank.bank.clock import SOFIA
from tap_fibank.errors import BankProtocolError
from tap_fibank.proof.balances import chain_break_any_order
from tap_fibank.proof.balances import totals as proof_totals
from tap_fibank.proof.parsing import parse_amount, parse_direction, parse_timestamp, sofia_date

if TYPE_CHECKING:
    from tap_fibank.doctor.probe import Exchange

SUMMARY = ("OP", "CL", "DT", "CT")
_DIGITS = re.compile(r"\d")


def kind_of(row: Any) -> str | None:
    """`OP`, `CL`, `DT` or `CT` for a summary row, None for an entry."""
    if not isinstance(row, dict):
        return None
    kind = str(row.get("trnType") or "").strip().upper()
    return kind if kind in SUMMARY else None


def number(value: Any) -> Decimal | None:
    """An amount as the tap reads it, or None when it cannot be read."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return parse_amount(value, "amount")
    except BankProtocolError:
        return None


def direction(row: dict[str, Any]) -> str | None:
    """`debit`/`credit` as the tap reads `dtkt`, or None when it cannot."""
    return parse_direction(row.get("dtkt"))


def spelling(value: Any) -> str:
    """A timestamp's spelling with its digits hidden, offset kept: `dddd-dd-ddTdd:dd:dd+0200`."""
    if not isinstance(value, str):
        return type(value).__name__
    match = re.search(r"([+-]\d{2}:?\d{2}|Z)$", value)
    head = value[: match.start()] if match else value
    return _DIGITS.sub("d", head) + (match.group(1) if match else "")


@dataclass
class Element:
    """The facts of one `acc[i]` of a statement answer."""

    keys: list[str]
    iban: str | None
    layout: list[str]
    entries: list[dict[str, Any]]
    summaries: dict[str, dict[str, Any]]
    fields: set[str] = field(default_factory=set)
    problems: dict[str, list[str]] = field(default_factory=dict)
    currency: str | None = None  # the element's `ccy`, if it names one

    def note(self, check: str, text: str) -> None:
        """Record something the tap would not read as it expects."""
        self.problems.setdefault(check, []).append(text)


def read_element(element: dict[str, Any], start: dt.date, end: dt.date) -> Element:
    """Everything the checks need to know about one element."""
    stmt = element.get("stmt")
    rows: list[Any] = stmt if isinstance(stmt, list) else []
    layout: list[str] = []
    entries: list[dict[str, Any]] = []
    summaries: dict[str, dict[str, Any]] = {}
    for row in rows:
        kind = kind_of(row)
        if kind is None:
            if isinstance(row, dict):
                entries.append(row)
            if not layout or layout[-1] != "*":
                layout.append("*")
        else:
            summaries.setdefault(kind, row)
            layout.append(kind)
    iban = element.get("iban") or element.get("ibanAcNo")
    found = Element(list(element), str(iban) if iban else None, layout, entries, summaries)
    currency = element.get("ccy")
    found.currency = str(currency).strip().upper() if currency not in (None, "") else None
    for row in entries:
        found.fields.update(row)
    _read_entries(found, start, end)
    return found


def _read_entries(found: Element, start: dt.date, end: dt.date) -> None:
    for row in found.entries:
        amount = number(row.get("amount"))
        if amount is None:
            found.note("numbers", f"amount {type(row.get('amount')).__name__}")
        elif amount < 0:
            found.note("amount_sign", "negative")
        if "dtkt" not in row or row.get("dtkt") in (None, ""):
            found.note("dtkt", "missing")
        elif direction(row) is None:
            found.note("dtkt", f"unknown spelling {row.get('dtkt')!r}")
        try:
            moment = parse_timestamp(row.get("dateTime"), "dateTime")
        except BankProtocolError:
            found.note("timestamps", f"unreadable {spelling(row.get('dateTime'))}")
            continue
        day = sofia_date(moment)
        if not start <= day <= end:
            found.note("window", day.isoformat())
        if moment.utcoffset() != moment.astimezone(SOFIA).utcoffset():
            found.note("offsets", spelling(row.get("dateTime")))


def day_of(row: dict[str, Any]) -> dt.date | None:
    """The Sofia day an entry was booked, as the tap reads `dateTime` (None if unreadable)."""
    try:
        return sofia_date(parse_timestamp(row.get("dateTime"), "dateTime"))
    except BankProtocolError:
        return None


def opening(element: Element) -> Decimal | None:
    """The balance the element opens at: OP, else its first entry's `acBal` less the entry."""
    found = summary_value(element.summaries.get("OP"), "OP")
    if found is not None or not element.entries:
        return found
    first = ordered(element.entries)[0]
    balance, change = number(first.get("acBal")), signed(first)
    return balance - change if balance is not None and change is not None else None


def signed(row: dict[str, Any]) -> Decimal | None:
    """The entry's change to the balance: by `dtkt` if readable, else by the amount's sign."""
    amount = number(row.get("amount"))
    if amount is None:
        return None
    way = direction(row)
    if way is None:
        return amount
    return abs(amount) if way == "credit" else -abs(amount)


def summary_value(row: dict[str, Any] | None, kind: str) -> Decimal | None:
    """What the tap reads from a summary row: OP/CL `acBal`, else `amount`; DT/CT `amount`."""
    if row is None:
        return None
    if kind in ("OP", "CL"):
        present = row.get("acBal") if row.get("acBal") not in (None, "") else row.get("amount")
        return number(present)
    return number(row.get("amount"))


def ordered(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries in the tap's order: booking instant, then entry number."""
    return sorted(entries, key=_order)


class Move(NamedTuple):
    """A row whose change can be read, as the proof's arithmetic sees an entry."""

    sort_key: tuple[dt.datetime, str]
    direction: str
    amount: Decimal
    balance_after: Decimal | None


def _order(row: dict[str, Any]) -> tuple[dt.datetime, str]:
    """The tap's order: booking instant (unreadable first), then entry number."""
    try:
        moment = parse_timestamp(row.get("dateTime"), "dateTime")
    except BankProtocolError:
        moment = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return moment, str(row.get("acEntrySrNo")).rjust(20, "0")


def moves(
    entries: list[dict[str, Any]], change_of: Callable[[dict[str, Any]], Decimal | None] | None = None
) -> list[Move | None]:
    """Each row as a move, by its change as `change_of` says (signed; default `signed`); None: unreadable."""
    found: list[Move | None] = []
    for row in entries:
        change = (change_of or signed)(row)
        if change is None:
            found.append(None)
            continue
        way = "debit" if change < 0 else "credit"
        found.append(Move(_order(row), way, abs(change), number(row.get("acBal"))))
    return found


def chain_holds(opening: Decimal | None, entries: list[dict[str, Any]]) -> bool | None:
    """Whether each entry's `acBal` follows from the one before, in either order, as the proof checks it.

    None: nothing to check (no opening balance, or a change that cannot be read).
    """
    read = moves(ordered(entries))
    if opening is None or None in read:
        return None
    return chain_break_any_order(opening, [m for m in read if m is not None]) is None


def totals(
    entries: list[dict[str, Any]], change_of: Callable[[dict[str, Any]], Decimal | None] | None = None
) -> tuple[Decimal, Decimal, int, int]:
    """Debits, credits (unsigned) and their counts, summed as the proof sums; unreadable rows left out."""
    read = [m for m in moves(entries, change_of) if m is not None]
    debit, credit = proof_totals(read)
    debits = sum(1 for m in read if m.direction == "debit")
    return debit, credit, debits, len(read) - debits


def elements_of(answer: Exchange) -> list[Element] | None:
    """The elements of a 200 statement answer, None if it has no `acc` list."""
    body = answer.body
    acc = body.get("acc") if isinstance(body, dict) else None
    if answer.status != HTTPStatus.OK or not isinstance(acc, list) or answer.window is None:
        return None
    start, end = dt.date.fromisoformat(answer.window[0]), dt.date.fromisoformat(answer.window[1])
    return [read_element(e, start, end) for e in acc if isinstance(e, dict)]
