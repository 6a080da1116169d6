"""The bookmark's rules: a proven window moves it through, a doubtful one holds it before."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tap_fibank.bookmarks import BOOKMARK, advance_bookmark, hold_bookmark, settle_bookmark, walked_through
from tap_fibank.windows import Window


def test_a_proven_window_moves_the_bookmark_to_its_last_day():
    state: dict[str, Any] = {BOOKMARK: "2025-01-10"}
    settle_bookmark(state, Window(dt.date(2025, 1, 11), dt.date(2025, 2, 9)), verified=True)
    assert state[BOOKMARK] == "2025-02-09"


def test_a_doubtful_window_holds_the_bookmark_on_the_day_before_it():
    state: dict[str, Any] = {BOOKMARK: "2025-02-20"}
    settle_bookmark(state, Window(dt.date(2025, 2, 10), dt.date(2025, 3, 11)), verified=False)
    assert state[BOOKMARK] == "2025-02-09"


def test_advance_never_moves_back_and_hold_never_moves_forward():
    state: dict[str, Any] = {}
    advance_bookmark(state, dt.date(2025, 5, 5))
    assert state[BOOKMARK] == "2025-05-05"
    advance_bookmark(state, dt.date(2025, 5, 4))
    assert state[BOOKMARK] == "2025-05-05"
    advance_bookmark(state, dt.date(2025, 5, 5))
    assert state[BOOKMARK] == "2025-05-05"
    hold_bookmark(state, dt.date(2025, 5, 6))
    assert state[BOOKMARK] == "2025-05-05"
    hold_bookmark(state, dt.date(2025, 5, 1))
    assert state[BOOKMARK] == "2025-05-01"
    empty: dict[str, Any] = {}
    hold_bookmark(empty, dt.date(2025, 5, 1))
    assert empty[BOOKMARK] == "2025-05-01"


def test_the_bookmark_is_read_from_the_taps_key_else_the_sdks():
    assert walked_through({BOOKMARK: "2025-03-04", "replication_key_value": "2025-04-01"}) == dt.date(
        2025, 3, 4
    )
    assert walked_through({"replication_key_value": "2025-04-01T10:00:00+03:00"}) == dt.date(2025, 4, 1)
    assert walked_through({BOOKMARK: "not a date"}) is None
    assert walked_through({BOOKMARK: "", "replication_key_value": 7}) is None
    assert walked_through({}) is None
