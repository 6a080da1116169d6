"""An account's bookmark: `walked_through`, the last Sofia day whose entries have all been emitted.

It moves through a window only once the window is read and not proven incomplete, and back
before a window that is, or before the earlier entry of two whose balances do not follow; so a
bookmark never passes data that was not emitted. Beside it the partition keeps what later runs
must agree with: the last balance (`chain`), the day the bank's history starts where it serves
no older one (`served_from`, re-probed now and then), and the currency the changeover proved.

Contract: functions of one partition's state dict, which they read and change in place; the
streams call them as windows are emitted, the walk reads the keys it plans from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tap_fibank.walk.windows import Window

BOOKMARK = "walked_through"
CHAIN = "chain"
SERVED_FROM = "served_from"
SERVED_PROBED = "served_probed"
CURRENCY_BEFORE = "currency_before_2026"


def stored_partition(state: Mapping[str, Any], stream: str, context: dict[str, str]) -> dict[str, Any]:
    """A partition's bookmarks as the run started with them, without creating the partition.

    Reading ahead must not change the state the run writes, so this only looks (the Singer
    state layout: bookmarks -> stream -> partitions -> context).
    """
    bookmarks = state.get("bookmarks")
    partitions = bookmarks.get(stream, {}).get("partitions") if isinstance(bookmarks, dict) else None
    for partition in partitions if isinstance(partitions, list) else []:
        if isinstance(partition, dict) and partition.get("context") == context:
            return partition
    return {}


def walked_through(state: dict[str, Any]) -> dt.date | None:
    """The last day this account is known to be fully read: where the next run resumes.

    A state without the tap's own bookmark (set by hand, or by another tool) falls back to the
    SDK's `replication_key_value`.
    """
    return _state_date(state, BOOKMARK) or _state_date(state, "replication_key_value")


def served_from(state: dict[str, Any]) -> dt.date | None:
    """The first day the bank serves for this account, where it serves no older history."""
    return _state_date(state, SERVED_FROM)


def reprobe_due(state: dict[str, Any], today: dt.date, every_days: int) -> bool:
    """Whether to ask again for the history before `served_from` (at most every `every_days`)."""
    if every_days <= 0 or served_from(state) is None:
        return False
    probed = _state_date(state, SERVED_PROBED)
    return probed is None or (today - probed).days >= every_days


def _state_date(state: dict[str, Any], key: str) -> dt.date | None:
    value = state.get(key)
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def settle_bookmark(
    state: dict[str, Any],
    window: Window,
    *,
    verified: bool,
    hold: dt.date | None = None,
    points: Points | None = None,
) -> None:
    """After a window: move the bookmark through a proven window, or back before a doubtful one.

    `hold` is the earlier day of a broken balance chain, however many windows back: the
    bookmark goes before it. `points` are the balances read so far, of which the state keeps
    the last at or before the bookmark for the next run's chain.
    """
    if hold is not None:
        hold_bookmark(state, hold - dt.timedelta(days=1))
    if verified:
        advance_bookmark(state, window.end)
    else:
        hold_bookmark(state, window.start - dt.timedelta(days=1))
    if points is not None:
        points.keep(state)


class Points:
    """The balances one walk read (the state's own first), newest last.

    The state keeps the last one at or before the bookmark: a balance after it would let the
    next run take answers with no rows, in the days it reads again, for days without entries.
    A point also says the balance at the end of the day before it (`before`), for a bookmark
    held before the day of an entry.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        kept = state.get(CHAIN)
        self._points: list[dict[str, Any]] = [kept] if isinstance(kept, dict) else []

    def add(self, point: dict[str, Any] | None) -> None:
        """A window's last balance (None: it showed none)."""
        if point is not None and (not self._points or self._points[-1] != point):
            self._points.append(point)

    def keep(self, state: dict[str, Any]) -> None:
        """Write the last balance at or before the bookmark to the state (else the earliest known).

        Where the bookmark went back before every balance read, the earliest still proves more
        than none: the next run checks the first balance after its day against it.
        """
        through = _state_date(state, BOOKMARK)
        day = through.isoformat() if through is not None else ""
        candidates = [c for p in self._points for c in (p.get("before"), p) if isinstance(c, dict)]
        if not candidates:
            return
        kept = next((c for c in reversed(candidates) if str(c.get("day")) <= day), candidates[0])
        state[CHAIN] = {k: v for k, v in kept.items() if k != "before"}


def advance_bookmark(state: dict[str, Any], day: dt.date) -> None:
    """Move the bookmark forward to `day`, never back."""
    current = _state_date(state, BOOKMARK)
    if current is None or day > current:
        state[BOOKMARK] = day.isoformat()


def hold_bookmark(state: dict[str, Any], day: dt.date) -> None:
    """Move the bookmark back to `day` at the latest, so the next run reads what follows."""
    current = _state_date(state, BOOKMARK)
    if current is None or day < current:
        state[BOOKMARK] = day.isoformat()
