"""Debit or credit, where the bank's `dtkt` flag does not say.

The 2022 connector never read `dtkt`: it stored `amount` as a signed decimal. So a statement may
come without the flag, or with a spelling the tap has never seen. Then the direction is the
bank's own arithmetic: a negative amount is a debit; otherwise the running balance (`acBal`)
tells, since it goes up by a credit's amount and down by a debit's. One spelling means one
direction, so what the balance proves for some entries of a spelling decides all of them.

Contract: `resolve` gives one direction per row, in order, and the notes worth a warning;
it raises `BankProtocolError` only where neither the sign, the spelling nor the balance decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from tap_fibank.errors import BankProtocolError
from tap_fibank.proof.parsing import Direction


class Flagged(NamedTuple):
    """An entry as far as its direction goes: known (from dtkt or a negative amount) or open."""

    known: Direction | None
    spelling: str | None  # dtkt as sent, None when absent
    amount: Decimal  # unsigned
    balance_after: Decimal | None


def resolve(
    rows: Sequence[Flagged], opening: Decimal | None, *, signed: bool
) -> tuple[list[Direction], list[str]]:
    """Every entry's direction (rows in the bank's balance order) and what had to be inferred.

    `signed` says the window has negative amounts: the bank signs them, so a positive amount
    without a flag is a credit.
    """
    proven = _proven_by_balance(rows, opening)
    votes: dict[str, set[Direction]] = defaultdict(set)
    for row, direction in proven:
        if row.known is None and row.spelling is not None and direction is not None:
            votes[row.spelling].add(direction)
    notes: set[str] = set()
    directions: list[Direction] = []
    for row, direction in proven:
        if row.known is not None:
            directions.append(row.known)
        elif row.spelling is None:
            directions.append(_unflagged(row, direction, signed, notes))
        else:
            directions.append(_misspelled(row, votes[row.spelling], notes))
    return directions, sorted(notes)


def _proven_by_balance(
    rows: Sequence[Flagged], opening: Decimal | None
) -> list[tuple[Flagged, Direction | None]]:
    """Each entry with what its balance change says, where it says anything."""
    found: list[tuple[Flagged, Direction | None]] = []
    previous = opening
    for row in rows:
        direction: Direction | None = None
        if previous is not None and row.balance_after is not None and row.amount:
            change = row.balance_after - previous
            direction = "credit" if change == row.amount else "debit" if change == -row.amount else None
        found.append((row, direction))
        previous = row.balance_after
    return found


def _unflagged(row: Flagged, proven: Direction | None, signed: bool, notes: set[str]) -> Direction:
    if signed:
        notes.add("dtkt is missing: the direction is the sign of amount")
        return "credit"
    if proven is not None:
        notes.add("dtkt is missing: the direction is read from the balance changes")
        return proven
    return _undecided(row)


def _misspelled(row: Flagged, votes: set[Direction], notes: set[str]) -> Direction:
    if len(votes) == 1:
        notes.add(f"dtkt {row.spelling!r} is not a known spelling: its direction is read from the balances")
        return next(iter(votes))
    return _undecided(row)


def _undecided(row: Flagged) -> Direction:
    msg = (
        f"the bank sent dtkt={row.spelling!r} and its balances do not tell debit from credit; "
        "please report it so the spelling can be added"
    )
    raise BankProtocolError(msg)
