"""One statement window: the bank's answer split into entries and proven against its own totals.

Every answer carries summary rows (OP opening balance, CL closing balance, DT debit turnover,
CT credit turnover) and every entry its balance after. A window is *balanced* when
opening + credits - debits = closing, the entries add up to both turnovers and the running
balance chains from entry to entry. That proves no entry is missing from the window.

Across 2026-01-01 a converted BGN account answers with one part per currency; each part is
proven on its own, and the changeover between them is recognised at the legal rate. Where the
bank names no currency (`ccy`) and the account is listed in euro, the entries before 2026 are
left *undecided*: their currency comes from the balances across the changeover (changeover.py),
never from today's account list; one element holding both sides is split at the changeover, and
each part is proven by the chain.

Contract: `parse_statement` turns one `GetCustBal` answer into a `Statement` whose parts are
checked (`Part.check`) and whose entries are in booking order; it raises `BankProtocolError` only
for an answer it cannot read at all. Records are built positionally from the column table
(`columns.py`): the computed columns here, the copied ones by a function compiled from the table.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from tap_fibank.errors import BankProtocolError
from tap_fibank.proof.balances import chain_break_any_order, totals
from tap_fibank.proof.changeover import EURO_DAY, to_euro
from tap_fibank.proof.columns import COLUMNS, Column, Record, copied, mapped_fields, record_type
from tap_fibank.proof.directions import Flagged, resolve
from tap_fibank.proof.parsing import (
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
from tap_fibank.walk.windows import Window

SUMMARY_TYPES = frozenset({"OP", "CL", "DT", "CT"})
_ZERO = Decimal(0)

#: The `transactions` record: a named tuple of the column table's columns, in its order.
TransactionRecord = record_type("TransactionRecord", COLUMNS)
RECORD_KEYS: tuple[str, ...] = TransactionRecord._fields
# Builds a TransactionRecord from a plain tuple in one C call: the hot path's positional build.
_record: Callable[[tuple[Any, ...]], Record] = functools.partial(tuple.__new__, TransactionRecord)
# Statement row fields the columns are read from; everything else goes to `extra`.
_MAPPED = mapped_fields(COLUMNS)
# What `_parse_entry` computes, in the record's order: before and after the copied columns.
_COMPUTED_HEAD = (
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
)
_COMPUTED_TAIL = ("remittance_information", "extra")


def _copier(
    columns: Sequence[Column],
) -> Callable[[Callable[[str], Any], Callable[[object], Any]], tuple[Any, ...]]:
    """The function that reads every copied column of a row, compiled from the table.

    One tuple display of inline calls, as fast as writing them by hand: a loop over the table
    cost 0.55 µs more per entry (1.5 against 2.05 µs, some 3% of an entry's whole parse), and
    this keeps one row of the table per column all the same.
    """
    layout = (*_COMPUTED_HEAD, *(column.name for column in copied(columns)), *_COMPUTED_TAIL)
    if tuple(column.name for column in columns) != layout:
        msg = (
            "the column table must list the computed columns, the copied ones, then the joined text and extra"
        )
        raise RuntimeError(msg)
    readers = {"text": "text({get})", "clean": "clean_text({get})", "flag": "parse_flag({get}, {field!r})"}
    calls = [
        readers[column.read].format(get=f"get({column.source[0]!r})", field=column.source[0])
        for column in copied(columns)
        if column.read is not None
    ]
    code = f"def copy(get, text):\n    return ({', '.join(calls)},)\n"
    namespace: dict[str, Any] = {"clean_text": clean_text, "parse_flag": parse_flag}
    exec(compile(code, "<transactions columns>", "exec"), namespace)  # noqa: S102 (the table's own names)
    return namespace["copy"]  # type: ignore[no-any-return]


_copy = _copier(COLUMNS)
# Where the remittance lines sit among the copied values (joined into remittance_information).
_REMITTANCE = tuple(
    [column.source[0] for column in copied(COLUMNS)].index(field)
    for field in COLUMNS[RECORD_KEYS.index("remittance_information")].source
)


class Entry(NamedTuple):
    """A booked entry, parsed; `sort_key` orders by booking instant, then entry id.

    Compact, because the windows fetched ahead wait in memory: a named tuple (a frozen
    dataclass costs three times as much to build) holding the record's values as a named tuple (a
    third of a dict's size); `record` builds the dict when the entry is emitted.
    """

    sort_key: tuple[dt.datetime, int]
    booking_date: dt.date
    direction: Direction
    amount: Decimal
    balance_after: Decimal | None
    values: Record

    @property
    def record(self) -> dict[str, Any]:
        """The `transactions` record (a new dict on every access)."""
        return self.values._asdict()


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
    #: Why the summary rows cannot prove this part (None: they can).
    summary_note: str | None = None
    #: Entries the bank sent for days outside the window asked for (not kept).
    outside: int = 0
    #: How many summary rows the bank sent, readable or not.
    summary_rows: int = 0
    #: Whether the summary rows prove this part: all four, readable, adding up, for this window.
    trusted: bool = False
    #: Entries whose `dtkt` did not say debit or credit: entry id -> the flag as sent.
    pending: dict[int, str | None] = field(default_factory=dict)
    #: Whether the bank sent negative amounts in this part.
    signed: bool = False
    #: Days before 2026 of an account listed in euro, for which the bank named no currency.
    unnamed: bool = False
    #: Such days with entries: their `currency` is None until the walk decides it.
    undecided: bool = False
    #: Cut from one element without a currency that held both sides of 2026-01-01.
    spans_changeover: bool = False

    @property
    def has_summary(self) -> bool:
        """Whether the bank sent all four summary rows, readable."""
        return None not in (self.opening, self.closing, self.debit_turnover, self.credit_turnover)

    @property
    def verdict(self) -> str:
        """`balanced`, `unbalanced` (the bank's own numbers prove it incomplete) or `unverifiable`."""
        if self.problems:
            return "unbalanced"
        return "balanced" if self.trusted else "unverifiable"

    def check(self) -> None:
        """Record in `problems` every way this part is proven incomplete.

        The summary rows are trusted only when they add up among themselves (opening + credits -
        debits = closing) for exactly this window: otherwise they may mean something else, and
        only the entries' own running balance can prove a gap. Trusted, the bank's own balances
        decide: the entries must chain from the opening and add up to the closing balance.
        """
        self.problems.clear()
        self.summary_note = self._summary_doubt()
        self.trusted = self.summary_note is None and self.has_summary
        if not self.trusted:
            broken = chain_break_any_order(None, self.entries)
            if broken is not None:
                self.problems.append(broken)
            return
        assert self.opening is not None and self.closing is not None
        broken = chain_break_any_order(self.opening, self.entries)
        if broken is not None:
            self.problems.append(broken)
        debit_total, credit_total = totals(self.entries)
        reached = self.opening + credit_total - debit_total
        if reached != self.closing:
            self.problems.append(
                f"opening {self.opening} + the entries' credits {credit_total} - debits {debit_total} "
                f"is {reached}, not the closing balance {self.closing}"
            )
        elif (debit_total, credit_total) != (self.debit_turnover, self.credit_turnover):
            # The balances prove the entries complete: the turnover rows must mean something else.
            self.summary_note = "turnover rows (DT/CT) that are not the entries' totals"
            self.trusted = False

    def _summary_doubt(self) -> str | None:
        if self.spans_changeover:
            return "summary rows over both sides of 2026-01-01 in one element that names no currency"
        if self.outside:
            return "the bank answered for more days than asked, so its summary rows are not the window's"
        if not self.has_summary:
            if self.summary_rows == 0:
                return None if not self.entries else "no summary rows (OP/CL/DT/CT)"
            return "incomplete or unreadable summary rows (OP/CL/DT/CT)"
        assert self.opening is not None and self.closing is not None
        assert self.debit_turnover is not None and self.credit_turnover is not None
        if self.opening + self.credit_turnover - self.debit_turnover != self.closing:
            return "summary rows that do not add up among themselves (OP + CT - DT != CL)"
        return None

    def summary(self, iban: str, customer_id: str) -> dict[str, Any]:
        """The `statements` record of this part."""
        debit_total, credit_total = totals(self.entries)
        verdict = self.verdict
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
            "is_balanced": verdict == "balanced",
            "verification": verdict,
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

    #: What differed from the tap's assumptions, worded for a warning (once per account).
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every way the window is proven incomplete, including between its parts."""
        found = [problem for part in self.parts for problem in part.problems]
        for before, after in itertools.pairwise(self.parts):
            found.extend(chain_problems(before, after))
        return found

    @property
    def bare(self) -> bool:
        """No entry and no summary row: an answer that says nothing about its days."""
        return all(not p.entries and not p.summary_rows and not p.outside for p in self.parts)

    @property
    def undecided(self) -> bool:
        """Whether entries before 2026 wait for their currency (see `label_undecided`)."""
        return any(part.undecided for part in self.parts)

    @property
    def verdict(self) -> str:
        """`unbalanced` if any part is proven incomplete, `balanced` if every part is proven."""
        if self.problems:
            return "unbalanced"
        return "balanced" if all(part.trusted for part in self.parts) else "unverifiable"


_SORT_KEY = attrgetter("sort_key")


def chain_problems(before: Part, after: Part) -> list[str]:
    """A proven part must open where the previous proven one closed (converted on the changeover)."""
    if not (before.trusted and after.trusted):
        return []
    assert before.closing is not None and after.opening is not None  # trusted: all four rows read
    if after.opening not in opening_candidates(before, after.currency, after.date_from):
        return [
            f"the statement opens at {after.opening} {after.currency or ''} on "
            f"{after.date_from} but the previous one closed at {before.closing} "
            f"{before.currency or ''} on {before.date_to}".replace("  ", " ")
        ]
    return []


def opening_candidates(before: Part, currency: str | None, day: dt.date) -> tuple[Decimal, ...]:
    """What may follow a part's closing balance on `day`: itself, or converted on the changeover.

    A part whose currency is undecided may be either: the walk decides which later.
    """
    closing = before.closing
    assert closing is not None
    crossing = before.date_to < EURO_DAY <= day and currency == "EUR"
    if crossing and before.currency == "BGN":
        return (to_euro(closing),)
    if crossing and before.currency is None:
        return (closing, to_euro(closing))
    return (closing,)


def parse_statement(
    payload: Any, window: Window, iban: str, customer_id: str, account_currency: str | None
) -> Statement:
    """Split a `GetCustBal` answer into checked parts of this account and this window."""
    if not isinstance(payload, dict) or not isinstance(payload.get("acc"), list):
        msg = "the statement answer (GetCustBal) has no 'acc' list; the bank's API may have changed"
        raise BankProtocolError(msg)
    parts: list[Part] = []
    notes: set[str] = set()
    reader = ValueReader()
    for element in payload["acc"]:
        if not isinstance(element, dict) or not isinstance(element.get("stmt", []), list):
            msg = "a statement element (GetCustBal acc[]) has no 'stmt' list; the API may have changed"
            raise BankProtocolError(msg)
        if _names_another_account(element, iban):
            notes.add("the answer held another account's statement too: it was ignored")
            continue
        named = clean_text(element.get("ccy"))
        part = _parse_part(
            element.get("stmt") or [], window, iban, customer_id, named or account_currency, reader
        )
        if named is None and account_currency == "EUR" and part.date_from < EURO_DAY:
            part.currency, part.unnamed = None, True  # it may have been lev: the walk decides
        parts.append(part)
    if not parts:
        parts.append(Part(account_currency, window.start, window.end))
    parts.sort(key=lambda p: p.date_from)
    settled = [piece for part in parts for piece in _settle(part, window, notes)]
    return Statement(window, settled, notes=sorted(notes))


BARE_ANSWER = "an answer with no entries and no summary rows"


def bare_answer(payload: Any) -> str | None:
    """Why a statement answer proves nothing about its days, if it does not.

    An element with no rows at all is what a window without entries looks like where the bank
    sends no summary rows, and also what a lost read looks like; only the balances on either
    side can tell the two apart, so the walk asks again when they differ.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("acc"), list):
        return None
    elements = payload["acc"]
    if all(isinstance(e, dict) and not e.get("stmt") for e in elements):
        return BARE_ANSWER
    return None


def label_undecided(statement: Statement, before: str) -> None:
    """Give the parts the bank left unnamed, and their entries, the currency the changeover proved."""
    for part in statement.parts:
        if not part.unnamed:
            continue
        part.entries = [e._replace(values=e.values._replace(currency=before)) for e in part.entries]
        part.currency = before
        part.unnamed = part.undecided = False


def _leave_undecided(part: Part) -> None:
    """Entries before 2026 without a named currency: not today's currency, but not known yet."""
    part.undecided = bool(part.entries)
    part.entries = [e._replace(values=e.values._replace(currency=None)) for e in part.entries]


def _names_another_account(element: dict[str, Any], iban: str) -> bool:
    """Whether an `acc` element says it is another account's (one without an IBAN is ours)."""
    named = clean_text(element.get("iban") or element.get("ibanAcNo"))
    return named is not None and named.replace(" ", "").upper() != iban


def _settle(part: Part, window: Window, notes: set[str]) -> list[Part]:
    """Sort, keep the window's own days, decide open directions, split, check; note what differed."""
    part.entries.sort(key=_SORT_KEY)
    entries = part.entries
    if entries and (entries[0].booking_date < window.start or entries[-1].booking_date > window.end):
        part.entries = [e for e in entries if window.start <= e.booking_date <= window.end]
        part.outside = len(entries) - len(part.entries)
        notes.add("the bank sent entries outside the window asked for: only the window's days were kept")
    if part.pending:
        notes.update(_resolve_directions(part))
    pieces = [part]
    if part.unnamed:
        spans = part.date_to >= EURO_DAY or any(e.booking_date >= EURO_DAY for e in part.entries)
        pieces = _split_at_changeover(part) if spans else [part]
        _leave_undecided(pieces[0])
    for piece in pieces:
        piece.check()
        if piece.summary_note is not None:
            notes.add(f"its statements come with {piece.summary_note}, so they cannot be proven complete")
    return pieces


def _split_at_changeover(part: Part) -> list[Part]:
    """One element without a currency across 2026-01-01: a part each side, proven by the chain.

    Its summary rows cover both sides (a lev opening, a euro closing), so neither part has all
    four; each keeps the one that is its own.
    """
    last_lev, last = EURO_DAY - dt.timedelta(days=1), max(part.date_to, EURO_DAY)
    before = Part(None, part.date_from, last_lev, opening=part.opening, summary_rows=part.summary_rows)
    after = Part("EUR", EURO_DAY, last, closing=part.closing, summary_rows=part.summary_rows)
    before.unnamed = True
    before.entries = [e for e in part.entries if e.booking_date < EURO_DAY]
    after.entries = [e for e in part.entries if e.booking_date >= EURO_DAY]
    before.outside = after.outside = part.outside
    before.spans_changeover = after.spans_changeover = True
    return [before, after]


def _resolve_directions(part: Part) -> list[str]:
    """Give the entries whose `dtkt` said nothing the direction the bank's arithmetic shows."""
    orders = (part.entries, sorted(part.entries, key=lambda e: e.sort_key[1]))
    for attempt, entries in enumerate(orders):
        rows = [
            Flagged(
                None if e.sort_key[1] in part.pending else e.direction,
                part.pending.get(e.sort_key[1]),
                e.amount,
                e.balance_after,
            )
            for e in entries
        ]
        try:
            directions, notes = resolve(rows, part.opening, signed=part.signed)
        except BankProtocolError:
            if attempt:
                raise
            continue
        decided = {e.sort_key[1]: d for e, d in zip(entries, directions, strict=True)}
        part.entries = [_with_direction(e, decided[e.sort_key[1]]) for e in part.entries]
        part.pending.clear()
        return notes
    return []


def _with_direction(entry: Entry, direction: Direction) -> Entry:
    if entry.direction == direction:
        return entry
    signed = entry.amount if direction == "credit" else -entry.amount
    values = entry.values._replace(direction=direction, signed_amount=signed)
    return entry._replace(direction=direction, values=values)


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
            part.summary_rows += 1
            _apply_summary(part, kind, row, window)
        else:
            append(_parse_entry(row, iban, customer_id, currency, reader, part))
    return part


def _apply_summary(part: Part, kind: str, row: dict[str, Any], window: Window) -> None:
    """Read a summary row; what cannot be read stays None (the part is then unverifiable)."""
    try:
        day = _summary_day(row.get("dateTime"))
    except BankProtocolError:
        day = None
    if kind in ("OP", "CL"):
        value = _summary_amount(row.get("acBal"), row.get("amount"))
        if kind == "OP":
            part.opening = value
        else:
            part.closing = value
        if day is not None and window.start <= day <= window.end:
            if kind == "OP":
                part.date_from = day
            else:
                part.date_to = day
    elif kind == "DT":
        part.debit_turnover = _summary_amount(row.get("amount"))
    else:
        part.credit_turnover = _summary_amount(row.get("amount"))


def _summary_day(when: object) -> dt.date | None:
    return sofia_date(parse_timestamp(when, "dateTime")) if when else None


def _summary_amount(*values: object) -> Decimal | None:
    """The first readable amount among the candidates (a balance may sit in acBal or amount)."""
    for value in values:
        if value is None or value == "":
            continue
        try:
            return parse_amount(value, "summary")
        except BankProtocolError:
            return None
    return None


def _parse_entry(
    row: dict[str, Any], iban: str, customer_id: str, currency: str | None, reader: ValueReader, part: Part
) -> Entry:
    """One entry row as a record. The bank's usual values take the fast paths of `parsing`."""
    get = row.get
    raw_id = get("acEntrySrNo")
    entry_id: int = raw_id if raw_id.__class__ is int else _entry_id(raw_id)
    booked_at, booked_text, booking_date, booking_text = reader.read(get("dateTime"), "dateTime")
    direction, amount = _direction_and_amount(get("dtkt"), get("amount"), entry_id, part)
    balance_after = get("acBal")
    if balance_after.__class__ is not Decimal or not balance_after.is_finite():
        balance_after = parse_optional_amount(balance_after, "acBal")
    values = _record(
        (
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
            *_descriptive(row, reader),  # the copied columns, remittance_information, extra
        )
    )
    return Entry((booked_at, entry_id), booking_date, direction, amount, balance_after, values)


def _entry_id(raw: object) -> int:
    try:
        return int(raw)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        msg = f"a statement row has acEntrySrNo={raw!r}, not an integer entry number"
        raise BankProtocolError(msg) from None


def _direction_and_amount(flag: object, amount: Any, entry_id: int, part: Part) -> tuple[Direction, Decimal]:
    """The direction and the unsigned amount; where `dtkt` does not say, the part decides later."""
    known = parse_direction(flag)
    if amount.__class__ is not Decimal or not amount.is_finite():
        amount = parse_amount(amount, "amount")
    if amount < _ZERO:  # the connector stored amounts signed: the sign is the bank's word
        part.signed = True
        return "debit", -amount
    if known is None:
        part.pending[entry_id] = clean_text(flag)
        return "credit", amount  # provisional: see _resolve_directions
    return known, amount


def _descriptive(row: dict[str, Any], reader: ValueReader) -> tuple[Any, ...]:
    """The record's columns from the first copied one to `extra`: texts, flags and what is not mapped."""
    copies = _copy(row.get, reader.text)  # reader.text: for texts many rows share
    rem_1, rem_2, rem_3 = copies[_REMITTANCE[0]], copies[_REMITTANCE[1]], copies[_REMITTANCE[2]]
    if rem_1 and rem_2 and rem_3:
        joined: str | None = f"{rem_1} {rem_2} {rem_3}"
    else:
        joined = " ".join(line for line in (rem_1, rem_2, rem_3) if line) or None
    extra = None if row.keys() <= _MAPPED else {k: v for k, v in row.items() if k not in _MAPPED}
    return (*copies, joined, extra or None)  # ... remittance_information, extra
