"""Finding the balances on either side of 2026-01-01, to decide the currency of earlier entries.

Used where the bank names no currency on a statement of an account it lists in euro: the last
balance of 2025 and the first of 2026 are read from the windows nearest the changeover (the
walk's own windows, so nothing is read twice), going further out where a window shows none,
and compared by `changeover.currency_before`.

Contract: `decide_before` reads through the probe it is given (no bank, no state of its own) and
returns the currency or why it cannot decide; the caller keeps the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from tap_fibank.proof.changeover import EURO_DAY, Before, currency_before
from tap_fibank.proof.statement import Entry, Statement
from tap_fibank.walk.windows import ONE_DAY, Window, windows

# How many windows each way to look for a balance: about a year at 30 days a window.
MAX_WINDOWS_EACH_WAY = 13
Probe = Callable[[Window], "Statement | None"]


def decide_before(
    probe: Probe, plan: list[Window], window_days: int, today: dt.date
) -> tuple[Before | None, str]:
    """The currency of the entries before 2026, or None and why the numbers cannot tell."""
    grid = _grid(plan, window_days, today)
    earlier = [w for w in grid if w.start < EURO_DAY][::-1][:MAX_WINDOWS_EACH_WAY]
    later = [w for w in grid if w.end >= EURO_DAY][:MAX_WINDOWS_EACH_WAY]
    last = _first_found(probe, earlier, lambda s: balances_across(s)[0])
    first = _first_found(probe, later, lambda s: balances_across(s)[1])
    if last is None or first is None:
        side = "2025" if last is None else "2026"
        return (
            None,
            f"its statements name no currency and no balance of {side} near the changeover could be read",
        )
    decided = currency_before(last, first)
    if decided is None:
        return None, (
            f"its statements name no currency, and the balance goes from {last} at the end of 2025 to "
            f"{first} on 2026-01-01, neither the same nor converted at 1.95583"
        )
    return decided, ""


def balances_across(statement: Statement) -> tuple[Decimal | None, Decimal | None]:
    """The balance at the end of 2025 and the one 2026 opens at, as far as this window shows them."""
    entries = [e for e in statement.entries if e.balance_after is not None]
    before = [e for e in entries if e.booking_date < EURO_DAY]
    after = [e for e in entries if e.booking_date >= EURO_DAY]
    last = before[-1].balance_after if before else _summary_before(statement)
    first = _opening(after[0]) if after else _summary_after(statement)
    return last, first


def _summary_before(statement: Statement) -> Decimal | None:
    """Where the window has no entry of 2025: a part's closing if it ends in 2025, else its opening."""
    for part in reversed(statement.parts):
        if part.date_from < EURO_DAY:
            value = part.closing if part.date_to < EURO_DAY and part.closing is not None else part.opening
            if value is not None:
                return value
    return None


def _summary_after(statement: Statement) -> Decimal | None:
    """Where the window has no entry of 2026: a part's opening if it starts in 2026, else its closing."""
    for part in statement.parts:
        if part.date_to >= EURO_DAY:
            value = part.opening if part.date_from >= EURO_DAY and part.opening is not None else part.closing
            if value is not None:
                return value
    return None


def _opening(entry: Entry) -> Decimal:
    assert entry.balance_after is not None
    return entry.balance_after - (entry.amount if entry.direction == "credit" else -entry.amount)


def _grid(plan: list[Window], window_days: int, today: dt.date) -> list[Window]:
    """The walk's windows, continued past its end (an `end_date` before today) up to today."""
    if not plan:
        return []
    return plan + list(windows(plan[-1].end + ONE_DAY, today, window_days))


def _first_found(
    probe: Probe, candidates: list[Window], pick: Callable[[Statement], Decimal | None]
) -> Decimal | None:
    for window in candidates:
        statement = probe(window)
        value = pick(statement) if statement is not None else None
        if value is not None:
            return value
    return None
