"""The euro changeover of 2026-01-01: which currency an account's earlier entries are in.

Where the bank names no currency on a statement, the account list's currency is today's, not
the one the entries were booked in. The balance across the changeover decides: a converted
account opens 2026 at its last lev balance divided by the legal rate, half up to the cent; a
history the bank shows re-denominated in euro simply continues. Anything else is not guessed.

Contract: `to_euro` converts at the legal rate (half up to the cent); `currency_before` says
`BGN` or `EUR` only when the two balances prove it, else None. Pure functions of Decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

EURO_DAY = dt.date(2026, 1, 1)
BGN_PER_EUR = Decimal("1.95583")
CENT = Decimal("0.01")

Before = Literal["BGN", "EUR"]


def to_euro(bgn: Decimal) -> Decimal:
    """Convert at the fixed rate, rounded half up to the cent, as the changeover law requires."""
    return (bgn / BGN_PER_EUR).quantize(CENT, rounding=ROUND_HALF_UP)


def currency_before(last_before: Decimal, first_opening: Decimal) -> Before | None:
    """The currency of the entries before 2026 from the balance on either side of the changeover.

    `last_before` is the balance at the end of 2025-12-31 as the statement shows it, and
    `first_opening` the balance the first statement of 2026 opens at (in euro). None when the
    numbers cannot tell: a zero balance reads the same both ways, and a jump that is neither
    the conversion nor a continuation proves nothing about the currency.
    """
    converted = to_euro(last_before)
    if converted == last_before:
        return None
    if first_opening == converted:
        return "BGN"
    if first_opening == last_before:
        return "EUR"
    return None
