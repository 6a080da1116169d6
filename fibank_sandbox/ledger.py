"""One sandbox's books: statement windows, balances on a day, and back-dated postings.

The generated data is shared (cached) between sandboxes; a ledger copies only the per-account
lists it owns, so a back-dated posting in one test never leaks into another.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .data import BankData
from .model import EURO_DAY, SOFIA, AccountInfo, Entry, bgn_to_eur

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Segment:
    """A piece of a statement in one currency: what one ``acc`` element of GetCustBal holds."""

    iban: str
    currency: str
    first_day: date
    last_day: date
    opening: Decimal
    entries: tuple[Entry, ...]  # in booking order, oldest first

    @property
    def debit_turnover(self) -> Decimal:
        """Sum of the debits in the segment (the ``DT`` summary row)."""
        return sum((e.amount for e in self.entries if e.direction == "debit"), ZERO)

    @property
    def credit_turnover(self) -> Decimal:
        """Sum of the credits in the segment (the ``CT`` summary row)."""
        return sum((e.amount for e in self.entries if e.direction == "credit"), ZERO)

    @property
    def closing(self) -> Decimal:
        """Opening plus credits minus debits: the ``CL`` row, and the last entry's balance."""
        return self.opening + self.credit_turnover - self.debit_turnover


class Book:
    """One account's entries in booking order, with the booking days alongside for bisecting."""

    def __init__(self, info: AccountInfo, entries: tuple[Entry, ...]) -> None:
        self.info = info
        self.entries: list[Entry] = list(entries)
        self.days: list[int] = [e.booking_date.toordinal() for e in entries]
        self._in_euro: dict[Decimal, list[Entry]] = {}

    @property
    def redenominates(self) -> bool:
        """Whether ``history=redenominated`` changes this book: a converted account, EUR by now."""
        return self.info.converted and self.info.currency == "EUR"

    def in_euro(self, shift: Decimal = ZERO) -> list[Entry]:
        """The entries as a bank that re-denominated the lev history shows them (cached until a posting).

        Each balance before 2026 becomes its euro value, and each amount the step between two such
        balances, so the chain of balances holds in euro and runs on into 2026 unbroken.
        """
        if shift not in self._in_euro:
            self._in_euro[shift] = redenominate(self.entries, shift)
        return self._in_euro[shift]

    def euro_segment(self, first: date, last: date, shift: Decimal = ZERO) -> Segment:
        """Entries booked from ``first`` to ``last`` as ``in_euro`` shows them, in one EUR segment."""
        entries = self.in_euro(shift)
        start = bisect.bisect_left(self.days, first.toordinal())
        stop = bisect.bisect_right(self.days, last.toordinal())
        opening = entries[start - 1].balance_after if start else ZERO
        return Segment(self.info.iban, "EUR", first, last, opening, tuple(entries[start:stop]))

    def balance_before(self, index: int, currency: str) -> Decimal:
        """The balance just before ``entries[index]``, expressed in ``currency``."""
        if index == 0:
            return ZERO
        previous = self.entries[index - 1]
        if previous.currency == "BGN" and currency == "EUR":
            return bgn_to_eur(previous.balance_after)
        return previous.balance_after

    def segment(self, first: date, last: date) -> Segment:
        """Entries booked from ``first`` to ``last`` (inclusive) in one currency."""
        start = bisect.bisect_left(self.days, first.toordinal())
        stop = bisect.bisect_right(self.days, last.toordinal())
        currency = self.info.currency_on(first)
        return Segment(
            self.info.iban,
            currency,
            first,
            last,
            self.balance_before(start, currency),
            tuple(self.entries[start:stop]),
        )

    def recompute_from(self, index: int) -> None:
        """Rewrite running balances from ``index`` on, after an entry was inserted there."""
        self._in_euro = {}
        currency = self.entries[index].currency
        balance = self.balance_before(index, currency)
        for position in range(index, len(self.entries)):
            entry = self.entries[position]
            if entry.currency != currency:
                balance = bgn_to_eur(balance) if entry.currency == "EUR" else balance
                currency = entry.currency
            balance += entry.signed_amount
            if entry.balance_after != balance:
                self.entries[position] = dataclasses.replace(entry, balance_after=balance)


def redenominate(entries: list[Entry], shift: Decimal = ZERO) -> list[Entry]:
    """Lev entries restated in euro: balances converted, amounts the steps between them.

    The conversion rounds each balance, so an amount is rarely its lev amount converted; a step
    can even be 0.00. The direction stays (rounding never reverses a step). A `shift` moves every
    balance before 2026 (``history=shifted``): the chain then holds on either side of the
    changeover but neither continues nor converts across it.
    """
    shown: list[Entry] = []
    before = ZERO
    for entry in entries:
        if entry.currency != "BGN":
            shown.append(entry)
            before = entry.balance_after
            continue
        balance = bgn_to_eur(entry.balance_after) + shift
        step = balance - before
        shown.append(
            dataclasses.replace(
                entry, amount=abs(step), signed_amount=step, balance_after=balance, currency="EUR"
            )
        )
        before = balance
    return shown


class Ledger:
    """All accounts' books of one sandbox, guarded by one lock (requests run in threads)."""

    def __init__(self, data: BankData) -> None:
        self.today = data.today
        self.accounts = list(data.accounts)
        self.books = {info.iban: Book(info, data.entries[info.iban]) for info in data.accounts}
        self.lock = threading.RLock()
        self._next_id = data.next_entry_id

    def account(self, iban: str) -> AccountInfo | None:
        """The account with this IBAN, if the bank has one."""
        book = self.books.get(iban)
        return book.info if book is not None else None

    def statement(
        self, iban: str, first: date, last: date, redenominated: bool = False, shift: Decimal = ZERO
    ) -> list[Segment]:
        """A statement window, split in two at 2026-01-01 for an account converted to the euro.

        With ``redenominated`` such an account's window is one EUR segment (see ``Book.in_euro``).
        """
        with self.lock:
            book = self.books[iban]
            if redenominated and book.redenominates:
                return [book.euro_segment(first, last, shift)]
            if book.info.converted and first < EURO_DAY <= last:
                return [book.segment(first, EURO_DAY - timedelta(days=1)), book.segment(EURO_DAY, last)]
            return [book.segment(first, last)]

    def balance_on(self, iban: str, day: date) -> tuple[Decimal, str]:
        """The end-of-day balance and its currency (what the accounts list shows today)."""
        with self.lock:
            book = self.books[iban]
            currency = book.info.currency_on(day)
            index = bisect.bisect_right(book.days, day.toordinal())
            return book.balance_before(index, currency), currency

    def truth(self, redenominated: bool = False) -> dict[str, list[Entry]]:
        """Every booked entry per IBAN in booking order, copied so callers cannot disturb it.

        With ``redenominated``, converted accounts' entries as that history serves them, in euro.
        """
        with self.lock:
            return {
                iban: list(book.in_euro() if redenominated and book.redenominates else book.entries)
                for iban, book in self.books.items()
            }

    def entries(self) -> Iterator[Entry]:
        """All entries of all accounts (counting, sizing)."""
        for entries in self.truth().values():
            yield from entries

    def post(self, iban: str, booking_date: date, amount: Decimal, direction: str) -> Entry:
        """Book a back-dated entry at noon of ``booking_date`` and fix the later balances."""
        if direction not in ("debit", "credit"):
            raise ValueError(f"direction must be 'debit' or 'credit', not {direction!r}")
        value = Decimal(amount).quantize(Decimal("0.01"))
        if value <= 0:
            raise ValueError("amount must be positive")
        with self.lock:
            book = self.books[iban]
            if booking_date < book.info.opened:
                raise ValueError(f"{iban} was opened on {book.info.opened}")
            booked_at = datetime.combine(booking_date, time(12, 0), SOFIA)
            instant = booked_at.timestamp()
            entry_id = self._next_id
            self._next_id += 1
            keys = [e.sort_key for e in book.entries]
            index = bisect.bisect_right(keys, (instant, entry_id))
            credit = direction == "credit"
            entry = Entry(
                entry_id=entry_id,
                iban=iban,
                booked_at=booked_at,
                booking_date=booking_date,
                value_date=booking_date,
                direction=direction,
                amount=value,
                signed_amount=value if credit else -value,
                balance_after=ZERO,
                currency=book.info.currency_on(booking_date),
                instant=instant,
                reference=f"CR{booking_date:%y%m%d}{entry_id % 1_000_000:06d}",
                trname="Корекция по сметка с вальор",
                trn_type="COR",
                trn_code="9001",
                contragent=None,
                ben_order_party=None,
                trn_account="",
                is_ebank_oper="N",
                is_payment="N",
                load_as_new="Y",
                rem_i="Вальорирана корекция",
                rem_ii=f"по операция от {booking_date:%d.%m.%Y}",
                rem_iii=None,
            )
            book.entries.insert(index, entry)
            book.days.insert(index, booking_date.toordinal())
            book.recompute_from(index)
            return book.entries[index]
