"""The bookmark's rules: a proven window moves it through, a doubtful one holds it before."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from tap_fibank.walk.bookmarks import (
    BOOKMARK,
    Points,
    advance_bookmark,
    hold_bookmark,
    reprobe_due,
    settle_bookmark,
    stored_partition,
    walked_through,
)
from tap_fibank.walk.windows import Window


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


def test_reading_ahead_finds_an_accounts_stored_partition_and_changes_nothing():
    ours = {"context": {"iban": "BG1"}, BOOKMARK: "2025-03-04"}
    state: dict[str, Any] = {
        "bookmarks": {
            "transactions": {
                "partitions": ["junk", {"context": {"iban": "BG2"}, BOOKMARK: "2025-01-01"}, ours]
            },
            "statements": {"partitions": [{"context": {"iban": "BG1"}, BOOKMARK: "2020-01-01"}]},
        }
    }
    before = copy.deepcopy(state)
    assert stored_partition(state, "transactions", {"iban": "BG1"}) is ours
    assert stored_partition(state, "transactions", {"iban": "BG3"}) == {}
    assert state == before


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"bookmarks": None},
        {"bookmarks": {}},
        {"bookmarks": {"statements": {"partitions": [{"context": {"iban": "BG1"}}]}}},
        {"bookmarks": {"transactions": {}}},
        {"bookmarks": {"transactions": {"partitions": None}}},
        {"bookmarks": {"transactions": {"partitions": [{"iban": "BG1"}]}}},
    ],
)
def test_a_state_without_the_accounts_partition_gives_an_empty_one(state):
    assert stored_partition(state, "transactions", {"iban": "BG1"}) == {}


TODAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("state", "every", "due"),
    [
        ({}, 7, False),  # the bank serves the whole history
        ({"served_from": "2025-01-01"}, 7, True),  # never probed
        ({"served_from": "2025-01-01", "served_probed": "2026-11-27"}, 7, True),  # a week ago
        ({"served_from": "2025-01-01", "served_probed": "2026-11-28"}, 7, False),  # six days ago
        ({"served_from": "2025-01-01", "served_probed": "2026-12-03"}, 1, True),
        ({"served_from": "2025-01-01", "served_probed": "2026-12-04"}, 1, False),
        ({"served_from": "2025-01-01"}, 0, False),  # 0: never
    ],
)
def test_the_history_start_is_probed_again_once_its_interval_has_passed(state, every, due):
    assert reprobe_due(state, TODAY, every) is due


def point(day: str, balance: str, before: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"day": day, "balance": balance, "currency": "EUR"}
    if before is not None:
        found["before"] = {"day": before, "balance": "1.00", "currency": "EUR"}
    return found


def test_the_state_keeps_the_last_balance_at_or_before_the_bookmark():
    state: dict[str, Any] = {}
    points = Points(state)
    window = Window(dt.date(2025, 1, 1), dt.date(2025, 1, 30))
    points.add(point("2025-01-20", "5.00"))
    points.add(point("2025-01-20", "5.00"))  # the same again: kept once
    settle_bookmark(state, window, verified=True, points=points)
    assert state["chain"] == point("2025-01-20", "5.00")
    points.add(point("2025-02-25", "7.00", before="2025-02-24"))
    later = Window(dt.date(2025, 1, 31), dt.date(2025, 3, 1))
    settle_bookmark(state, later, verified=False, hold=dt.date(2025, 2, 25), points=points)
    assert state[BOOKMARK] == "2025-01-30"
    assert state["chain"] == point("2025-01-20", "5.00")
    settle_bookmark(state, later, verified=True, points=points)
    assert state[BOOKMARK] == "2025-03-01"
    assert state["chain"] == point("2025-02-25", "7.00")  # without its `before`


def test_a_bookmark_held_before_the_day_of_an_entry_keeps_the_balance_at_the_end_of_the_day_before():
    state: dict[str, Any] = {BOOKMARK: "2025-02-23"}
    points = Points(state)
    points.add(point("2025-02-25", "7.00", before="2025-02-24"))
    hold_bookmark(state, dt.date(2025, 2, 24))
    points.keep(state)
    assert state["chain"] == {"day": "2025-02-24", "balance": "1.00", "currency": "EUR"}


def test_a_bookmark_held_before_every_balance_keeps_the_earliest_one():
    state: dict[str, Any] = {BOOKMARK: "2025-01-01", "chain": point("2025-01-10", "3.00")}
    points = Points(state)
    points.add(point("2025-02-25", "7.00", before="2025-02-24"))
    points.keep(state)
    assert state["chain"] == point("2025-01-10", "3.00")
    empty: dict[str, Any] = {BOOKMARK: "2025-01-01"}
    Points(empty).keep(empty)
    assert "chain" not in empty


def test_a_hold_goes_the_day_before_the_earlier_balance_even_after_the_window_passed():
    state: dict[str, Any] = {BOOKMARK: "2025-03-30"}
    later = Window(dt.date(2025, 3, 31), dt.date(2025, 4, 29))
    settle_bookmark(state, later, verified=False, hold=dt.date(2025, 3, 20))
    assert state[BOOKMARK] == "2025-03-19"


def test_a_window_without_a_balance_adds_no_point_and_a_balance_on_the_bookmark_day_is_kept():
    state: dict[str, Any] = {BOOKMARK: "2025-01-20"}
    points = Points(state)
    points.add(point("2025-01-10", "4.00"))
    points.add(point("2025-01-20", "5.00"))
    points.add(None)
    points.keep(state)
    assert state["chain"] == point("2025-01-20", "5.00")


def test_without_a_bookmark_the_earliest_balance_is_kept():
    state: dict[str, Any] = {}
    points = Points(state)
    points.add(point("2025-01-20", "5.00"))
    points.add(point("2025-02-20", "6.00"))
    points.keep(state)
    assert state["chain"] == point("2025-01-20", "5.00")
