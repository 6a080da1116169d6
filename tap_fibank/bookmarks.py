"""An account's bookmark: `walked_through`, the last Sofia day whose entries have all been emitted.

It moves through a window only once the window is read and not proven incomplete, and back
before a window that is; so a bookmark never passes data that was not emitted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tap_fibank.windows import Window

BOOKMARK = "walked_through"


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


def _state_date(state: dict[str, Any], key: str) -> dt.date | None:
    value = state.get(key)
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def settle_bookmark(state: dict[str, Any], window: Window, *, verified: bool) -> None:
    """After a window: move the bookmark through a proven window, or back before a doubtful one."""
    if verified:
        advance_bookmark(state, window.end)
    else:
        hold_bookmark(state, window.start - dt.timedelta(days=1))


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
