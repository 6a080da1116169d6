"""Parsers of the bank's values: timestamps, amounts, debit/credit and Y/N flags."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_fibank.errors import BankProtocolError
from tap_fibank.proof.parsing import (
    ValueReader,
    clean_text,
    parse_amount,
    parse_direction,
    parse_flag,
    parse_optional_amount,
    parse_timestamp,
    sofia_date,
)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2022-02-21T10:15:00+0200", dt.datetime(2022, 2, 21, 8, 15, tzinfo=dt.timezone.utc)),
        ("2022-07-21T10:15:00+03:00", dt.datetime(2022, 7, 21, 7, 15, tzinfo=dt.timezone.utc)),
        ("2022-07-21T07:15:00Z", dt.datetime(2022, 7, 21, 7, 15, tzinfo=dt.timezone.utc)),
        ("2022-07-21T10:15:00.250+0300", dt.datetime(2022, 7, 21, 7, 15, 0, 250000, tzinfo=dt.timezone.utc)),
        # No offset: Sofia local time, as the web bank shows it.
        ("2022-01-10T12:00:00", dt.datetime(2022, 1, 10, 10, 0, tzinfo=dt.timezone.utc)),
        ("2022-01-10", dt.datetime(2022, 1, 9, 22, 0, tzinfo=dt.timezone.utc)),
        ("2024-07-15T23:30:00", dt.datetime(2024, 7, 15, 20, 30, tzinfo=dt.timezone.utc)),  # summer: +03:00
        ("2024-07-15", dt.datetime(2024, 7, 14, 21, 0, tzinfo=dt.timezone.utc)),
        # More than microseconds: the digits beyond the sixth are dropped, not refused.
        (
            "2022-07-21T10:15:00.1234567+0300",
            dt.datetime(2022, 7, 21, 7, 15, 0, 123456, tzinfo=dt.timezone.utc),
        ),
        (
            "2022-07-21T10:15:00,987654321Z",
            dt.datetime(2022, 7, 21, 10, 15, 0, 987654, tzinfo=dt.timezone.utc),
        ),
    ],
)
def test_timestamps_are_read_with_their_offsets(text, utc):
    assert parse_timestamp(text, "dateTime") == utc


@pytest.mark.parametrize("bad", ["", "21.02.2022 10:15", "2022-02-30T10:00:00+0200", None, 1645431300])
def test_unreadable_timestamps_are_errors_naming_the_value(bad):
    with pytest.raises(BankProtocolError, match="dateTime"):
        parse_timestamp(bad, "dateTime")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2025-03-30T00:00:00+0200", dt.date(2025, 3, 30)),  # first minute, spring-forward day
        ("2025-03-30T04:10:00+0300", dt.date(2025, 3, 30)),  # right after the gap
        ("2025-10-26T03:30:00+0300", dt.date(2025, 10, 26)),  # repeated hour, first pass
        ("2025-10-26T03:30:00+0200", dt.date(2025, 10, 26)),  # repeated hour, second pass
        ("2025-12-31T23:59:59+0200", dt.date(2025, 12, 31)),  # last second of the year
        ("2025-06-30T23:59:00+0300", dt.date(2025, 6, 30)),
        ("2025-06-30T21:30:00Z", dt.date(2025, 7, 1)),  # UTC evening is the next Sofia day
    ],
)
def test_booking_date_is_the_sofia_local_date(text, day):
    assert sofia_date(parse_timestamp(text, "dateTime")) == day


def test_the_repeated_october_hour_keeps_its_order_as_instants():
    first = parse_timestamp("2025-10-26T03:30:00+0300", "dateTime")
    second = parse_timestamp("2025-10-26T03:10:00+0200", "dateTime")
    assert first < second  # string order says the opposite


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.30"), Decimal("12.30")),
        (12, Decimal(12)),
        ("1234.56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        (Decimal("0.10"), Decimal("0.10")),
    ],
)
def test_amounts_are_exact_decimals(value, expected):
    amount = parse_amount(value, "amount")
    assert amount == expected
    assert isinstance(amount, Decimal)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False))
def test_amount_text_round_trips_to_the_cent(value):
    assert parse_amount(str(value), "amount") == value


def test_an_absent_amount_is_none_and_a_present_one_is_read_exactly():
    assert parse_optional_amount(None, "acBal") is None
    assert parse_optional_amount("", "acBal") is None
    assert parse_optional_amount("1 234,50", "acBal") == Decimal("1234.50")
    assert parse_optional_amount(0, "acBal") == Decimal(0)
    with pytest.raises(BankProtocolError, match="acBal"):
        parse_optional_amount("n/a", "acBal")


@pytest.mark.parametrize("bad", [12.3, "abc", None, True, "NaN", [1]])
def test_floats_and_non_amounts_are_refused(bad):
    with pytest.raises(BankProtocolError, match="amount"):
        parse_amount(bad, "amount")


@pytest.mark.parametrize("spelling", ["D", "d", "DT", "Dt ", "ДТ", "дт", "Д", "DEBIT", "DR", "DB"])
def test_debit_spellings(spelling):
    assert parse_direction(spelling) == "debit"


@pytest.mark.parametrize("spelling", ["C", "c", "CT", "KT", "kt", "КТ", "кт", "К", "CREDIT", "CR"])
def test_credit_spellings(spelling):
    assert parse_direction(spelling) == "credit"


@pytest.mark.parametrize("unknown", ["X", "", None, "DC", 1, "Дт."])
def test_an_unknown_or_missing_direction_is_left_open_for_the_amounts_to_decide(unknown):
    assert parse_direction(unknown) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Y", True),
        ("y", True),
        ("N", False),
        ("n", False),
        (True, True),
        (False, False),
        ("1", True),
        ("0", False),
        (None, None),
        ("", None),
    ],
)
def test_flags(value, expected):
    assert parse_flag(value, "isPayment") is expected


def test_an_unknown_flag_is_an_error_naming_it():
    with pytest.raises(BankProtocolError, match="isPayment='maybe'"):
        parse_flag("maybe", "isPayment")


def test_texts_sent_as_numbers_are_kept_as_their_text():
    assert clean_text(12345) == "12345"
    assert clean_text(Decimal("7.50")) == "7.50"
    assert clean_text("  ") is None
    assert clean_text(None) is None


@pytest.mark.parametrize("bad", ["31.02.2025", 20250201])
def test_an_unreadable_value_date_is_an_error_naming_the_field(bad):
    with pytest.raises(BankProtocolError, match=rf"^the bank sent valueDt={bad!r}"):
        ValueReader().date_text(bad, "valueDt")


@pytest.mark.parametrize("odd", [["DT"], {"dtkt": "DT"}, 5])
def test_a_direction_sent_as_a_list_object_or_number_is_left_open_not_a_crash(odd):
    assert parse_direction(odd) is None


@pytest.mark.parametrize("odd", [["Y"], {"isPayment": "Y"}])
def test_a_flag_sent_as_a_list_or_object_is_an_error_naming_it(odd):
    with pytest.raises(BankProtocolError, match=r"^the bank sent isPayment="):
        parse_flag(odd, "isPayment")


@pytest.mark.parametrize("odd", [["2025-02-01"], {"date": "2025-02-01"}])
def test_a_value_date_sent_as_a_list_or_object_is_an_error_naming_the_field(odd):
    with pytest.raises(BankProtocolError, match=r"^the bank sent valueDt="):
        ValueReader().date_text(odd, "valueDt")


def test_each_text_of_a_window_keeps_its_own_value():
    reader = ValueReader()
    assert [reader.text(v) for v in ("Лидл", " Билла ", "Лидл", "Kaufland")] == [
        "Лидл",
        "Билла",
        "Лидл",
        "Kaufland",
    ]


def test_the_same_day_at_opposite_offsets_gets_each_its_own_sofia_day():
    """23:30 at -02:00 is 03:30 the next day in Sofia, even after the same day at +02:00 was read."""
    reader = ValueReader()
    assert reader.read("2025-02-10T10:00:00+0200", "dateTime")[2:] == (dt.date(2025, 2, 10), "2025-02-10")
    assert reader.read("2025-02-10T23:30:00-0200", "dateTime")[2:] == (dt.date(2025, 2, 11), "2025-02-11")
    assert reader.read("2025-02-10T23:30:00+0200", "dateTime")[2:] == (dt.date(2025, 2, 10), "2025-02-10")
