"""Date windows: how the history of an account is cut into statement requests.

The web bank refuses ranges over 30 days. Windows are whole Sofia calendar days, consecutive,
never overlapping and never longer than `window_days`, so no day falls between two windows and
none is asked twice in one run.

Contract: pure date arithmetic and the one clock (`sofia_today`); nothing here reads the bank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from tap_fibank.bank.clock import SOFIA, bank_timestamp

MAX_WINDOW_DAYS = 30
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, order=True)
class Window:
    """An inclusive range of Sofia calendar days."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """Number of calendar days, both ends counted."""
        return (self.end - self.start).days + 1

    def from_param(self) -> str:
        """The bank's `FromDate`: local midnight with the offset Sofia had then."""
        return bank_timestamp(dt.datetime.combine(self.start, dt.time(), SOFIA))

    def to_param(self) -> str:
        """The bank's `ToDate`: the last second of the last day, local.

        The last second rather than midnight: whether the bank reads `ToDate` as a date or as an
        instant, the last day is then inside the range either way.
        """
        return bank_timestamp(dt.datetime.combine(self.end, dt.time(23, 59, 59), SOFIA))

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def windows(start: dt.date, end: dt.date, window_days: int = MAX_WINDOW_DAYS) -> Iterator[Window]:
    """Cut `start..end` (inclusive) into consecutive windows of at most `window_days` days."""
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        msg = f"window_days must be between 1 and {MAX_WINDOW_DAYS}, not {window_days}"
        raise ValueError(msg)
    step = dt.timedelta(days=window_days - 1)
    cursor = start
    while cursor <= end:
        last = min(cursor + step, end)
        yield Window(cursor, last)
        cursor = last + ONE_DAY


def resume_start(
    *,
    walked_through: dt.date | None,
    start_date: dt.date,
    lookback_days: int,
) -> dt.date:
    """First day to read: the day after the walked range, minus the lookback, never before start.

    Without a bookmark the walk starts at `start_date`. With one, the last `lookback_days` days
    are read again so late and back-dated postings are caught.
    """
    if walked_through is None:
        return start_date
    return max(start_date, walked_through + ONE_DAY - dt.timedelta(days=lookback_days))
