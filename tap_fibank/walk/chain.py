"""The balance chain across windows and runs: the proof that moves the bookmark.

Every entry carries the balance after it (`acBal`), so consecutive entries prove that nothing
was booked between them: the later balance is the earlier one plus the later entry. Unlike the
summary rows, this runs across every window, including windows that carry no summary, and
across runs (the last point is kept in the state). Where it breaks, the days between the two
entries are unproven, and the bookmark stays before the earlier entry's day.

Contract: `BalanceChain` is one account's chain in one walk, fed statements in window order by
account.py; it reads the state's `chain` point and says where it breaks, and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tap_fibank.proof.changeover import EURO_DAY, to_euro
from tap_fibank.proof.statement import Entry, Part, Statement
from tap_fibank.walk.bookmarks import CHAIN


@dataclass(frozen=True)
class Point:
    """The balance at the end of `day`, as the last entry read (or a proven closing) shows it."""

    day: dt.date
    balances: frozenset[Decimal]  # in booking order and in posting order, where they differ
    currency: str | None
    #: Whether the whole day is proven (a closing balance), not only up to an entry of it.
    whole_day: bool = False
    #: The balance before the day's first entry: the end of the day before, for a bookmark held there.
    opening: Decimal | None = None

    def as_state(self) -> dict[str, Any]:
        """The point as the state keeps it (one balance: posting order only matters in a run)."""
        kept: dict[str, Any] = {
            "day": self.day.isoformat(),
            "balance": str(min(self.balances)),
            "currency": self.currency,
        }
        if self.opening is not None:
            before = self.day - dt.timedelta(days=1)
            kept["before"] = {
                "day": before.isoformat(),
                "balance": str(self.opening),
                "currency": self.currency,
            }
        return kept

    def expected(self, day: dt.date, currency: str | None) -> frozenset[Decimal]:
        """What an account that held this may open at on `day`: converted on the changeover."""
        if self.day < EURO_DAY <= day and currency == "EUR":
            converted = frozenset(to_euro(b) for b in self.balances)
            if self.currency == "BGN":
                return converted
            if self.currency is None:  # a window without entries, its currency never needed
                return self.balances | converted
        return self.balances


@dataclass(frozen=True)
class Link:
    """The first balance a window shows: what the point before it must lead to."""

    day: dt.date
    openings: frozenset[Decimal]
    currency: str | None


@dataclass(frozen=True)
class Break:
    """Two balances that do not follow: the days from `since` to `until` are unproven.

    `since` is the earlier entry's day (an entry later that day may be the one missing), or the
    day after a proven closing balance.
    """

    since: dt.date
    until: dt.date
    detail: str


def stored_point(state: Mapping[str, Any]) -> Point | None:
    """The last point of the previous run, if the state holds a readable one."""
    value = state.get(CHAIN)
    if not isinstance(value, dict):
        return None
    try:
        day = dt.date.fromisoformat(str(value["day"]))
        balance = Decimal(str(value["balance"]))
    except (KeyError, ValueError, InvalidOperation):
        return None
    currency = value.get("currency")
    return Point(day, frozenset({balance}), currency if isinstance(currency, str) else None)


class BalanceChain:
    """Follows one account's balance from window to window in one walk."""

    def __init__(self, stored: Point | None) -> None:
        self.point = stored
        self._stored = stored is not None  # read again days up to it: they replace it unchecked

    def check(self, statement: Statement) -> Break | None:
        """The first break from the last point into this window, or between its parts."""
        point, stored = self.point, self._stored
        for part in statement.parts:
            link = _part_link(part)
            if _unfollowed(point, stored, link):
                assert point is not None and link is not None
                return _break(point, link)
            end = _part_point(part)
            if end is not None:
                point, stored = end, False
        return None

    def advance(self, statement: Statement) -> None:
        """Move the point to the window's last balance (nothing moves for a window without one)."""
        point = last_point(statement)
        if point is not None:
            self.point = point
            self._stored = False


def first_link(statement: Statement) -> Link | None:
    """The balance before the window's first entry, or a proven opening where it has none."""
    return next((link for link in map(_part_link, statement.parts) if link is not None), None)


def last_point(statement: Statement) -> Point | None:
    """The balance after the window's last entry, or its proven closing."""
    return next((point for point in map(_part_point, reversed(statement.parts)) if point is not None), None)


def _part_link(part: Part) -> Link | None:
    openings = {_opening(e) for e in _ends(part.entries, first=True) if e.balance_after is not None}
    if openings:
        day = min(e.booking_date for e in _ends(part.entries, first=True))
        return Link(day, frozenset(openings), part.currency)
    if part.trusted and part.opening is not None:
        return Link(part.date_from, frozenset({part.opening}), part.currency)
    return None


def _part_point(part: Part) -> Point | None:
    if part.trusted and part.closing is not None:
        return Point(part.date_to, frozenset({part.closing}), part.currency, whole_day=True)
    ends = _ends(part.entries, first=False)
    balances = {e.balance_after for e in ends if e.balance_after is not None}
    if not balances:
        return None
    day = max(e.booking_date for e in ends)
    first = next(e for e in part.entries if e.booking_date == day)
    opening = _opening(first) if first.balance_after is not None else None
    return Point(day, frozenset(balances), ends[0].values.currency, opening=opening)


def _unfollowed(point: Point | None, stored: bool, link: Link | None) -> bool:
    """Whether a balance read does not follow the point before it (days read again: unchecked)."""
    if link is None or point is None or (stored and link.day <= point.day):
        return False
    return not link.openings & point.expected(link.day, link.currency)


def _break(point: Point, link: Link) -> Break:
    shown = ", ".join(sorted(str(o) for o in link.openings))
    was = ", ".join(sorted(str(b) for b in point.balances))
    detail = (
        f"the balance was {was} at the end of {point.day}, but the next balance read, on "
        f"{link.day}, follows from {shown}"
    )
    since = point.day + dt.timedelta(days=1) if point.whole_day else point.day
    return Break(min(since, link.day), link.day, detail)


def _ends(entries: list[Entry], *, first: bool) -> list[Entry]:
    """The first (or last) entry in booking order and in posting order: the chain may follow either."""
    if not entries:
        return []
    by_id = min(entries, key=lambda e: e.sort_key[1]) if first else max(entries, key=lambda e: e.sort_key[1])
    edge = entries[0] if first else entries[-1]
    return [edge, by_id]  # the same entry twice where the orders agree: the sets made of them agree


def _opening(entry: Entry) -> Decimal:
    assert entry.balance_after is not None
    return entry.balance_after - (entry.amount if entry.direction == "credit" else -entry.amount)
