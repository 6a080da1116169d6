"""The arithmetic that proves entries complete: their totals and their running balance.

Contract: works on anything that moves a balance (`Movement`: a direction, an unsigned amount,
the balance after it and a sort key whose second item is the posting order), so the proof's
entries and the doctor's rows, read its own lenient way, are checked by the same code. Pure: no
I/O, nothing raised; a break is described in words, never as an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

_ZERO = Decimal(0)


class Movement(Protocol):
    """One entry as the arithmetic sees it."""

    @property
    def sort_key(self) -> tuple[Any, Any]:
        """Booking order; the second item is the posting order (the entry number)."""

    @property
    def direction(self) -> str:
        """`debit` or `credit`."""

    @property
    def amount(self) -> Decimal:
        """Unsigned."""

    @property
    def balance_after(self) -> Decimal | None:
        """The account's balance after the entry, if the bank sent it."""


def totals(entries: Sequence[Movement]) -> tuple[Decimal, Decimal]:
    """What the entries debit and credit, in one pass."""
    debit = credit = _ZERO
    for entry in entries:
        if entry.direction == "debit":
            debit += entry.amount
        elif entry.direction == "credit":
            credit += entry.amount
    return debit, credit


def chain_break(opening: Decimal | None, entries: Sequence[Movement]) -> str | None:
    """The first entry whose balance after does not follow from the one before, if any.

    Without an opening balance the chain starts at the first entry that has a balance.
    """
    running = opening
    for entry in entries:
        change = entry.amount if entry.direction == "credit" else -entry.amount
        if running is not None:
            running += change
            if entry.balance_after is not None and entry.balance_after != running:
                return (
                    f"balance after entry {entry.sort_key[1]} is {entry.balance_after}, "
                    f"the running balance is {running}"
                )
        running = entry.balance_after if entry.balance_after is not None else running
    return None


def chain_break_any_order(opening: Decimal | None, entries: Sequence[Movement]) -> str | None:
    """A break in booking order that remains in posting (entry number) order too.

    The bank's running balance may follow posting order rather than booking time.
    """
    broken = chain_break(opening, entries)
    if broken is None or chain_break(opening, sorted(entries, key=lambda e: e.sort_key[1])) is None:
        return None
    return broken
