"""Window arithmetic: contiguous, never overlapping, never over window_days, covering the range."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fibank_sandbox import sofia_today as sandbox_today
from tap_fibank.bank.clock import FROZEN_TODAY, SOFIA, sofia_today
from tap_fibank.walk.windows import Window, resume_start, windows

DAY = dt.timedelta(days=1)
dates = st.dates(min_value=dt.date(1993, 2, 27), max_value=dt.date(2040, 12, 31))


@given(start=dates, length=st.integers(min_value=0, max_value=800), size=st.integers(1, 30))
def test_windows_cover_the_range_exactly_without_gap_or_overlap(start, length, size):
    end = start + dt.timedelta(days=length)
    cut = list(windows(start, end, size))
    assert cut[0].start == start
    assert cut[-1].end == end
    for window in cut:
        assert 1 <= window.days <= size
        assert window.start <= window.end
    for before, after in zip(cut, cut[1:]):
        assert after.start == before.end + DAY
    assert sum(w.days for w in cut) == length + 1


def test_an_empty_range_gives_no_window():
    assert list(windows(dt.date(2024, 3, 2), dt.date(2024, 3, 1))) == []


def test_window_days_outside_one_to_thirty_is_refused():
    with pytest.raises(ValueError, match="between 1 and 30"):
        list(windows(dt.date(2024, 1, 1), dt.date(2024, 2, 1), 31))


def test_windows_cross_a_leap_day_and_month_ends():
    cut = list(windows(dt.date(2024, 1, 31), dt.date(2024, 3, 31), 30))
    assert [str(w) for w in cut] == [
        "2024-01-31..2024-02-29",
        "2024-03-01..2024-03-30",
        "2024-03-31..2024-03-31",
    ]


@pytest.mark.parametrize(
    ("day", "start_param", "end_param"),
    [
        # Winter: +0200 both ends.
        (dt.date(2025, 1, 15), "2025-01-15T00:00:00+0200", "2025-01-15T23:59:59+0200"),
        # Summer: +0300.
        (dt.date(2025, 7, 1), "2025-07-01T00:00:00+0300", "2025-07-01T23:59:59+0300"),
        # Spring forward (2025-03-30 03:00 -> 04:00): midnight winter, end of day summer.
        (dt.date(2025, 3, 30), "2025-03-30T00:00:00+0200", "2025-03-30T23:59:59+0300"),
        # Fall back (2025-10-26 04:00 -> 03:00): midnight summer, end of day winter.
        (dt.date(2025, 10, 26), "2025-10-26T00:00:00+0300", "2025-10-26T23:59:59+0200"),
    ],
)
def test_window_parameters_carry_the_sofia_offset_of_each_end(day, start_param, end_param):
    window = Window(day, day)
    assert window.from_param() == start_param
    assert window.to_param() == end_param


def test_sofia_today_differs_from_utc_late_in_the_evening():
    late_utc = dt.datetime(2025, 7, 1, 22, 30, tzinfo=dt.timezone.utc)  # 01:30 on 2 July in Sofia
    assert sofia_today(late_utc) == dt.date(2025, 7, 2)
    winter = dt.datetime(2025, 12, 31, 21, 59, tzinfo=dt.timezone.utc)  # 23:59 in Sofia
    assert sofia_today(winter) == dt.date(2025, 12, 31)


def test_a_first_run_starts_at_start_date():
    assert resume_start(walked_through=None, start_date=dt.date(2020, 1, 1), lookback_days=7) == dt.date(
        2020, 1, 1
    )


def test_a_later_run_rereads_the_lookback_days():
    start = resume_start(
        walked_through=dt.date(2026, 11, 24), start_date=dt.date(1993, 2, 27), lookback_days=7
    )
    assert start == dt.date(2026, 11, 18)  # 18..24 are the 7 days read again


def test_lookback_never_reaches_before_start_date():
    start = resume_start(walked_through=dt.date(2020, 1, 3), start_date=dt.date(2020, 1, 1), lookback_days=30)
    assert start == dt.date(2020, 1, 1)


@given(walked=dates, lookback=st.integers(0, 60))
def test_resume_start_reads_again_exactly_the_lookback_days_unless_start_date_comes_first(walked, lookback):
    first = dt.date(1993, 2, 27)
    start = resume_start(walked_through=walked, start_date=first, lookback_days=lookback)
    read_again = (walked - start).days + 1  # days up to the bookmark that are read once more
    if start > first:
        assert read_again == lookback
    else:
        assert start == first and read_again <= lookback


def test_a_frozen_today_is_what_the_tap_and_the_sandbox_read(monkeypatch):
    monkeypatch.setenv(FROZEN_TODAY, "2024-02-29")
    assert sofia_today() == dt.date(2024, 2, 29)
    assert sandbox_today() == dt.date(2024, 2, 29)
    late_utc = dt.datetime(2025, 7, 1, 21, 30, tzinfo=dt.timezone.utc)
    assert sofia_today(late_utc) == dt.date(2025, 7, 2)  # an explicit instant wins over the frozen day


def test_without_a_frozen_today_the_clock_is_read_in_sofia(monkeypatch):
    monkeypatch.delenv(FROZEN_TODAY, raising=False)
    before = dt.datetime.now(SOFIA).date()
    today = sofia_today()
    assert before <= today <= dt.datetime.now(SOFIA).date()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
def test_the_clock_is_read_in_sofia_whatever_the_machines_zone(monkeypatch, zone):
    """+14:00 and -11:00 are 25 hours apart: at any hour one of them has another date than Sofia."""
    monkeypatch.delenv(FROZEN_TODAY, raising=False)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        before = dt.datetime.now(dt.timezone.utc).astimezone(SOFIA).date()
        today = sofia_today()
        after = dt.datetime.now(dt.timezone.utc).astimezone(SOFIA).date()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert before <= today <= after
