"""The fast paths write exactly what the slow ones would.

Parsing takes fast paths for the bank's own spellings (parsing.ValueReader, the lookup tables of
parse_direction and parse_flag); the streams skip the SDK's per-record work where it cannot
matter (streams/base.py, two small overrides of private SDK methods). Each is checked here
against the general code it stands in for.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk import Stream
from support.tapruns import broken_iban, sandbox_config

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import SOFIA
from tap_fibank.doctor.checks import ENTRY_KNOWN
from tap_fibank.errors import BankProtocolError
from tap_fibank.proof import statement
from tap_fibank.proof.columns import COLUMNS, Column, copied, known_fields, mapped_fields, record_type
from tap_fibank.proof.parsing import (
    ValueReader,
    clean_text,
    parse_direction,
    parse_flag,
    parse_timestamp,
    sofia_date,
)
from tap_fibank.proof.statement import RECORD_KEYS, parse_statement
from tap_fibank.streams.base import FibankStream
from tap_fibank.streams.transactions import TRANSACTION_SCHEMA, transaction_schema
from tap_fibank.tap import TapFibank
from tap_fibank.walk.windows import Window

# --- values -----------------------------------------------------------------------------------


def general(value: object) -> tuple[dt.datetime, str, dt.date, str]:
    moment = parse_timestamp(value, "dateTime")
    day = sofia_date(moment)
    return moment, moment.isoformat(), day, day.isoformat()


def bank_text(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def assert_same(reader: ValueReader, value: str) -> None:
    fast = reader.read(value, "dateTime")
    slow = general(value)
    assert fast == slow, value
    assert fast[0].utcoffset() == slow[0].utcoffset(), value
    assert (fast[3], fast[1]) == (slow[3], slow[1])


instants = st.datetimes(min_value=dt.datetime(1993, 1, 1), max_value=dt.datetime(2030, 12, 31))
offsets = st.sampled_from(["sofia", "+0000", "-0000", "+0200", "+0300", "-0530", "+0545", "+1400", "-1200"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(instants, offsets), min_size=1, max_size=40))
def test_bank_timestamps_read_fast_exactly_as_the_general_parser_reads_them(stamps):
    reader = ValueReader()  # one per window: its memo sees many values
    for naive, offset in stamps:
        if offset == "sofia":
            text = bank_text(naive.replace(microsecond=0).replace(tzinfo=SOFIA))
        else:
            text = naive.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S") + offset
        assert_same(reader, text)


def test_every_hour_of_both_changeover_days_in_both_offsets():
    reader = ValueReader()
    for day in (dt.date(2025, 3, 30), dt.date(2025, 10, 26), dt.date(2025, 3, 29), dt.date(2025, 10, 27)):
        for hour in range(24):
            for minute in (0, 59):
                for offset in ("+0200", "+0300", "+0000", "-0000"):
                    assert_same(reader, f"{day.isoformat()}T{hour:02d}:{minute:02d}:30{offset}")


@pytest.mark.parametrize("zone", ["America/New_York", "Africa/Cairo", "Europe/Moscow"])
def test_the_changeover_days_read_fast_as_the_general_parser_whatever_the_machines_zone(monkeypatch, zone):
    """Only Sofia's clock decides the fast path: the machine's zone (west, east, with and without
    summer time) never lets a changeover day through."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        reader = ValueReader()
        for day in (dt.date(2025, 3, 30), dt.date(2025, 10, 26)):
            for hour in range(24):
                for offset in ("+0200", "+0300"):
                    assert_same(reader, f"{day.isoformat()}T{hour:02d}:30:30{offset}")
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value",
    [
        "2022-07-21T07:15:00Z",
        "2022-07-21T10:15:00.250+0300",
        "2022-07-21T10:15:00+03:00",
        "2022-01-10T12:00:00",
        "2022-01-10",
        " 2022-07-21T10:15:00+0300",
        "2022-07-21 10:15:00+0300",
    ],
)
def test_other_spellings_go_to_the_general_parser(value):
    assert_same(ValueReader(), value)


@pytest.mark.parametrize(
    "bad", ["2022-02-30T10:00:00+0200", "2022-13-01T10:00:00+0200", "", None, 5, "x" * 24]
)
def test_unreadable_timestamps_fail_as_before(bad):
    with pytest.raises(BankProtocolError, match="dateTime"):
        ValueReader().read(bad, "dateTime")


def test_value_dates_and_texts_read_as_the_general_parsers_do():
    reader = ValueReader()
    for value in ("2025-03-30T00:00:00+0200", "2025-03-30T00:00:00+0200", "2025-06-30T21:30:00Z", "", None):
        expected = sofia_date(parse_timestamp(value, "valueDt")).isoformat() if value else None
        assert reader.date_text(value, "valueDt") == expected
    for value in ("  Лидл ", "Лидл", "", "   ", None, 5, Decimal("1.50")):
        assert reader.text(value) == clean_text(value)
    assert reader.text("Лидл") is reader.text(" Лидл")  # one copy for every row


class _Text(str):
    """A text that is not exactly a `str`: the parsers' lookup tables pass it to their general path."""

    __slots__ = ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("DT", "debit"), ("KT", "credit"), ("ДЕБИТ", "debit"), ("КРЕДИТ", "credit"), ("K", "credit")],
)
def test_a_direction_reads_the_same_through_the_lookup_table_and_the_general_path(value, expected):
    assert parse_direction(value) == expected
    assert parse_direction(_Text(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Y", True), ("N", False), ("YES", True), ("НЕ", False), ("TRUE", True), ("FALSE", False), ("Н", False)],
)
def test_a_flag_reads_the_same_through_the_lookup_table_and_the_general_path(value, expected):
    assert parse_flag(value, "isPayment") is expected
    assert parse_flag(_Text(value), "isPayment") is expected


def test_a_summary_type_with_spaces_or_lower_case_is_still_a_summary_row():
    window = Window(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    rows = [
        {
            "trnType": " op",
            "amount": Decimal("1.00"),
            "acBal": Decimal("1.00"),
            "dateTime": "2025-02-01T00:00:00+0200",
        },
        {"trnType": "Dt ", "amount": Decimal("0.00"), "dateTime": "2025-02-28T23:59:59+0200"},
        {"trnType": "ct", "amount": Decimal("0.00"), "dateTime": "2025-02-28T23:59:59+0200"},
        {
            "trnType": "CL",
            "amount": Decimal("1.00"),
            "acBal": Decimal("1.00"),
            "dateTime": "2025-02-28T23:59:59+0200",
        },
    ]
    statement = parse_statement({"acc": [{"ccy": "EUR", "stmt": rows}]}, window, "BG", "1", "EUR")
    assert statement.entries == []
    assert statement.verdict == "balanced", statement.problems


def test_a_record_has_the_schema_columns_in_order():
    # The parsed entry holds every column but `login`, which the stream adds last (post_process).
    assert [*RECORD_KEYS, "login"] == list(TRANSACTION_SCHEMA["properties"])


# --- the column table ---------------------------------------------------------------------------

NEW_ROW = Column("payer_bic", "string", "The payer's BIC (payerBic).", ("payerBic",), read="text")


def _with_new_row() -> tuple[Column, ...]:
    """A copy of the table with one copied column more, after the flags."""
    at = [c.name for c in COLUMNS].index("load_as_new") + 1
    return (*COLUMNS[:at], NEW_ROW, *COLUMNS[at:])


def test_the_record_the_schema_and_the_mapped_fields_are_the_column_tables():
    assert tuple(c.name for c in COLUMNS) == RECORD_KEYS
    properties = TRANSACTION_SCHEMA["properties"]
    assert set(TRANSACTION_SCHEMA["required"]) == {c.name for c in COLUMNS if not c.nullable} | {"login"}
    assert properties["booked_at"] == {
        "type": ["string"],
        "format": "date-time",
        "description": "Booking time with its Sofia offset (dateTime).",
    }
    assert properties["is_payment"]["type"] == ["boolean", "null"]
    assert properties["direction"]["enum"] == ["debit", "credit"]
    assert {f for c in COLUMNS for f in c.source} == statement._MAPPED


def test_a_row_added_to_the_column_table_is_a_schema_property_a_record_field_and_is_read():
    columns = _with_new_row()
    schema = transaction_schema(columns)
    assert schema["properties"]["payer_bic"] == {
        "type": ["string", "null"],
        "description": NEW_ROW.description,
    }
    assert list(schema["properties"]) == [*(c.name for c in columns), "login"]
    record = record_type("Record", columns)
    assert record._fields == tuple(c.name for c in columns)
    assert "payerBic" in mapped_fields(columns) and "payerBic" in known_fields(columns)
    copy = statement._copier(columns)(
        {"payerBic": " FINVBGSF ", "isPayment": "Y", "remIii": " r3 "}.get, ValueReader().text
    )
    names = [c.name for c in copied(columns)]
    assert copy[names.index("payer_bic")] == "FINVBGSF"
    assert copy[names.index("is_payment")] is True and copy[names.index("remittance_3")] == "r3"
    # A flag the bank spelled some other way is named by its field, as the general parser names it.
    with pytest.raises(BankProtocolError, match=r"^the bank sent isPayment='maybe', which is not a Y/N flag"):
        statement._copier(columns)({"isPayment": "maybe"}.get, ValueReader().text)


def test_a_column_table_the_record_builder_cannot_fill_is_refused_on_import():
    misplaced = (*COLUMNS, NEW_ROW)  # a copied column after `extra`: positions would shift
    layout = (
        "the column table must list the computed columns, the copied ones, then the joined text and extra"
    )
    with pytest.raises(RuntimeError, match=f"^{layout}$"):
        statement._copier(misplaced)


def test_the_doctor_knows_exactly_the_bank_fields_of_the_column_table():
    assert known_fields(COLUMNS) == ENTRY_KNOWN
    assert set(ENTRY_KNOWN) == statement._MAPPED
    assert len(set(ENTRY_KNOWN)) == len(ENTRY_KNOWN)
    assert set(ENTRY_KNOWN) == {
        "acEntrySrNo", "reference", "acBal", "amount", "dtkt", "dateTime", "valueDt", "contragent",
        "benOrderParty", "trname", "trnAccount", "trnType", "trnCode", "isEbankOper", "isPayment",
        "loadAsNew", "remI", "remIi", "remIii",
    }  # fmt: skip


# --- the record path ----------------------------------------------------------------------------

# What differs between two runs: when records were read, and when the run started. Both paths
# stamp time_extracted the same way; `same_stamping` compares that.
TIME_EXTRACTED = re.compile(rb',"(?:time_extracted|run_started_at)":"[^"]*"')


FAST_PATH_TAKEN: list[bool | None] = []


def run_in_process(
    capsysbinary: pytest.CaptureFixture[bytes],
    config: dict[str, Any],
    catalog: dict[str, Any] | None = None,
) -> list[bytes]:
    tap = TapFibank(config=config, catalog=catalog, state={})
    tap.sync_all()
    FAST_PATH_TAKEN.append(tap.streams["transactions"]._fast_write)
    out = capsysbinary.readouterr().out
    return out.splitlines()


def slow_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every stream take the SDK's own record and state paths."""
    monkeypatch.setattr(FibankStream, "_can_write_fast", lambda self: False)
    monkeypatch.setattr(
        FibankStream, "partition_state", lambda self, context: self.get_context_state(context)
    )


@pytest.fixture(scope="module")
def bank():
    with Sandbox(seed=1) as sandbox:
        yield sandbox


def config_for(bank: Sandbox, **overrides: Any) -> dict[str, Any]:
    ibans = [a.iban for a in bank.accounts if a.iban != broken_iban(bank)]
    # Across the October changeover, the euro and up to today.
    return sandbox_config(bank, "2025-10-01", ibans=ibans, max_retries=0, **overrides)


def compare(fast: list[bytes], slow: list[bytes]) -> None:
    assert len(fast) == len(slow)
    assert [TIME_EXTRACTED.sub(b"", line) for line in fast] == [
        TIME_EXTRACTED.sub(b"", line) for line in slow
    ]
    kinds = {json.loads(line)["type"] for line in fast}
    assert {"SCHEMA", "RECORD", "STATE"} <= kinds
    assert stamping(fast) == stamping(slow)


def stamping(lines: list[bytes]) -> list[int]:
    """Which records share a time_extracted (the window they were read in), as run lengths."""
    stamps = [
        json.loads(line)["time_extracted"]
        for line in lines
        if line.startswith(b'{"type":"RECORD","stream":"transactions"')
    ]
    runs: list[int] = []
    for index, stamp in enumerate(stamps):
        if index and stamp == stamps[index - 1]:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


def test_the_fast_record_path_writes_what_the_sdk_writes(bank, capsysbinary, monkeypatch):
    config = config_for(bank)
    sdk_increments = []
    sdk_increment = Stream._increment_stream_state
    with monkeypatch.context() as patch:
        patch.setattr(
            Stream,
            "_increment_stream_state",
            lambda self, *a, **k: sdk_increments.append(self.name) or sdk_increment(self, *a, **k),
        )
        fast = run_in_process(capsysbinary, config)
    assert "transactions" not in sdk_increments  # the bookmark's fast path was taken
    with monkeypatch.context() as patch:
        slow_paths(patch)
        slow = run_in_process(capsysbinary, config)
    compare(fast, slow)
    assert FAST_PATH_TAKEN[-2:] == [True, False]
    transactions = [
        json.loads(line) for line in fast if line.startswith(b'{"type":"RECORD","stream":"transactions"')
    ]
    assert len(transactions) > 1000
    # time_extracted: when each window was read, so there are no more of them than windows.
    stamps = {t["time_extracted"] for t in transactions}
    assert 1 < len(stamps) <= bank.counters()["calls"]["GetCustBal"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", s) for s in stamps)


def test_a_deselected_property_is_dropped_on_the_fast_path_too(bank, capsysbinary, monkeypatch):
    config = config_for(bank)
    catalog = TapFibank(config=config).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == ["properties", "counterparty_name"]:
                entry["metadata"]["selected"] = False
    fast = run_in_process(capsysbinary, config, catalog)
    with monkeypatch.context() as patch:
        slow_paths(patch)
        slow = run_in_process(capsysbinary, config, catalog)
    compare(fast, slow)
    assert FAST_PATH_TAKEN[-2:] == [True, False]
    records = [
        json.loads(line)["record"]
        for line in fast
        if line.startswith(b'{"type":"RECORD","stream":"transactions"')
    ]
    assert records
    assert all("counterparty_name" not in r and "description" in r for r in records)


def test_stream_maps_take_the_sdks_path(bank, capsysbinary, monkeypatch):
    config = config_for(bank, stream_maps={"transactions": {"reference": None, "__alias__": "entries"}})
    fast = run_in_process(capsysbinary, config)
    with monkeypatch.context() as patch:
        slow_paths(patch)
        slow = run_in_process(capsysbinary, config)
    compare(fast, slow)
    assert FAST_PATH_TAKEN[-2:] == [False, False]  # a stream map: the SDK's own path
    records = [json.loads(line) for line in fast if line.startswith(b'{"type":"RECORD","stream":"entries"')]
    assert records
    assert all("reference" not in r["record"] for r in records)


def test_the_bank_spelling_of_an_instant_takes_the_fast_path_without_the_general_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Python 3.10's fromisoformat cannot read +0200; the fast path must still fire there.
    import tap_fibank.proof.parsing as parsing

    def general(*args: object) -> None:
        raise AssertionError("the general parser was used for the bank's own spelling")

    monkeypatch.setattr(parsing, "parse_timestamp", general)
    moment, text, day, day_text = parsing.ValueReader().read("2022-02-21T10:15:00+0200", "dateTime")
    assert text == "2022-02-21T10:15:00+02:00" and day_text == "2022-02-21"
    assert moment.utcoffset() == dt.timedelta(hours=2) and day == dt.date(2022, 2, 21)
