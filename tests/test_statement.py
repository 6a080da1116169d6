"""A statement window proves itself against the bank's own totals, or says why it cannot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tap_fibank.errors import BankProtocolError
from tap_fibank.statement import parse_statement, to_euro
from tap_fibank.streams.accounts import is_psd2_account
from tap_fibank.windows import Window

IBAN = "BG47FINV91501017006644"
WINDOW = Window(dt.date(2025, 2, 1), dt.date(2025, 2, 28))


def summary(kind, amount, when="2025-02-01T00:00:00+0200"):
    return {"trnType": kind, "amount": Decimal(amount), "acBal": Decimal(amount), "dateTime": when}


def entry(entry_id, when, dtkt, amount, balance, **extra):
    row = {
        "acEntrySrNo": entry_id,
        "dateTime": when,
        "valueDt": when[:10] + "T00:00:00+0200",
        "dtkt": dtkt,
        "amount": Decimal(amount),
        "acBal": Decimal(balance),
        "trnType": "TR",
        "isPayment": "Y",
    }
    row.update(extra)
    return row


def answer(rows, ccy="EUR"):
    return {"acc": [{"ccy": ccy, "stmt": rows}]}


ROWS = [
    summary("OP", "100.00"),
    # Newest first, as some banks send: the tap must sort.
    entry(3, "2025-02-20T09:00:00+0200", "DT", "30.00", "95.00"),
    entry(2, "2025-02-10T23:59:59+0200", "KT", "50.00", "125.00", extraField="kept"),
    entry(1, "2025-02-01T00:00:01+0200", "DT", "25.00", "75.00"),
    summary("DT", "55.00"),
    summary("CT", "50.00"),
    summary("CL", "95.00", "2025-02-28T00:00:00+0200"),
]


def test_a_complete_window_is_balanced_and_sorted():
    statement = parse_statement(answer(ROWS), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert [e.record["entry_id"] for e in statement.entries] == [1, 2, 3]
    assert [e.record["signed_amount"] for e in statement.entries] == [
        Decimal("-25.00"),
        Decimal("50.00"),
        Decimal("-30.00"),
    ]


def test_summary_rows_are_never_entries():
    statement = parse_statement(answer(ROWS), WINDOW, IBAN, "1", "EUR")
    assert {e.record["transaction_type"] for e in statement.entries} == {"TR"}
    assert len(statement.entries) == 3


def test_fields_the_tap_does_not_map_are_kept_in_extra():
    statement = parse_statement(answer(ROWS), WINDOW, IBAN, "1", "EUR")
    assert statement.entries[1].record["extra"] == {"extraField": "kept"}
    assert statement.entries[0].record["extra"] is None


def test_a_missing_entry_unbalances_the_window():
    truncated = [row for row in ROWS if row.get("acEntrySrNo") != 2]
    statement = parse_statement(answer(truncated), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unbalanced"
    assert any("credit" in p for p in statement.problems)


def test_a_broken_balance_chain_unbalances_the_window():
    rows = [dict(r) for r in ROWS]
    rows[2]["acBal"] = Decimal("126.00")
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert any("balance after entry 2" in p for p in statement.problems)


def test_a_window_without_summary_rows_is_unverifiable_not_unbalanced():
    rows = [r for r in ROWS if r["trnType"] == "TR"]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unverifiable" and not statement.problems
    assert any("no summary rows" in note for note in statement.notes)


def test_without_summary_rows_a_broken_balance_chain_still_proves_a_gap():
    rows = [r for r in ROWS if r["trnType"] == "TR" and r["acEntrySrNo"] != 2]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unbalanced"


def test_turnovers_holding_counts_make_the_window_unverifiable_not_unbalanced():
    rows = [dict(r) for r in ROWS]
    rows[4] = summary("DT", "2")  # two debits, counted rather than summed
    rows[5] = summary("CT", "1")
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unverifiable"
    assert any("do not add up among themselves" in note for note in statement.notes)


@pytest.mark.parametrize("where", ["amount_only", "null_acbal"])
def test_opening_and_closing_are_read_from_amount_when_acbal_is_absent_or_null(where):
    rows = [dict(r) for r in ROWS]
    for row in rows:
        if row["trnType"] in ("OP", "CL"):
            if where == "amount_only":
                del row["acBal"]
            else:
                row["acBal"] = None
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems


def test_an_unreadable_summary_value_makes_the_window_unverifiable_not_a_failed_run():
    rows = [dict(r) for r in ROWS]
    rows[0] = {**rows[0], "acBal": "n/a", "amount": "n/a"}
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unverifiable"


def test_the_euro_changeover_answer_in_two_parts_chains_at_the_legal_rate():
    window = Window(dt.date(2025, 12, 20), dt.date(2026, 1, 18))
    bgn = [
        summary("OP", "195.58", "2025-12-20T00:00:00+0200"),
        summary("DT", "0.00"),
        summary("CT", "0.00"),
        summary("CL", "195.58", "2025-12-31T00:00:00+0200"),
    ]
    eur = [
        summary("OP", "100.00", "2026-01-01T00:00:00+0200"),
        entry(9, "2026-01-02T10:00:00+0200", "D", "10.00", "90.00"),
        summary("DT", "10.00"),
        summary("CT", "0.00"),
        summary("CL", "90.00", "2026-01-18T00:00:00+0200"),
    ]
    payload = {"acc": [{"ccy": "EUR", "stmt": eur}, {"ccy": "BGN", "stmt": bgn}]}
    statement = parse_statement(payload, window, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert [(p.currency, str(p.date_from), str(p.date_to)) for p in statement.parts] == [
        ("BGN", "2025-12-20", "2025-12-31"),
        ("EUR", "2026-01-01", "2026-01-18"),
    ]
    assert statement.entries[0].record["currency"] == "EUR"


def test_conversion_rounds_half_up_to_the_cent():
    assert to_euro(Decimal("1.95583")) == Decimal("1.00")
    assert to_euro(Decimal("100.00")) == Decimal("51.13")  # 51.129188...
    assert to_euro(Decimal("0.01")) == Decimal("0.01")  # 0.00511...
    assert to_euro(Decimal("0.00")) == Decimal("0.00")
    assert to_euro(Decimal("-195.58")) == Decimal("-100.00")  # overdrafts convert too


@pytest.mark.parametrize("payload", [{}, {"acc": "x"}, [], {"acc": [{"stmt": "x"}]}])
def test_an_unexpected_answer_shape_is_a_clear_error(payload):
    with pytest.raises(BankProtocolError, match="API may have changed"):
        parse_statement(payload, WINDOW, IBAN, "1", "EUR")


def test_signed_amounts_without_dtkt_take_their_direction_from_the_sign():
    rows = [dict(r) for r in ROWS]
    for row in rows:
        if row["trnType"] == "TR":
            sign = -1 if row.pop("dtkt") == "DT" else 1
            row["amount"] = sign * row["amount"]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert [e.record["signed_amount"] for e in statement.entries] == [
        Decimal("-25.00"),
        Decimal("50.00"),
        Decimal("-30.00"),
    ]
    assert [e.record["amount"] for e in statement.entries] == [
        Decimal("25.00"),
        Decimal("50.00"),
        Decimal("30.00"),
    ]
    assert statement.notes == ["dtkt is missing: the direction is the sign of amount"]


def test_an_unknown_dtkt_spelling_takes_its_direction_from_the_balance_changes():
    spelling = {"DT": "Дт.", "KT": "Кт."}
    rows = [dict(r, dtkt=spelling[r["dtkt"]]) if r["trnType"] == "TR" else r for r in ROWS]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert [e.record["direction"] for e in statement.entries] == ["debit", "credit", "debit"]
    assert [e.record["signed_amount"] for e in statement.entries] == [
        Decimal("-25.00"),
        Decimal("50.00"),
        Decimal("-30.00"),
    ]
    assert all("is not a known spelling" in note for note in statement.notes)


def test_unsigned_amounts_without_dtkt_take_their_direction_from_the_balance_changes():
    rows = [{k: v for k, v in r.items() if k != "dtkt"} if r["trnType"] == "TR" else r for r in ROWS]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert [e.record["direction"] for e in statement.entries] == ["debit", "credit", "debit"]
    assert [e.record["signed_amount"] for e in statement.entries] == [
        Decimal("-25.00"),
        Decimal("50.00"),
        Decimal("-30.00"),
    ]
    assert statement.notes == ["dtkt is missing: the direction is read from the balance changes"]
    assert statement.verdict == "balanced", statement.problems


def test_a_dtkt_spelling_the_balances_cannot_decide_is_a_clear_error_naming_it():
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "??", "25.00", "75.00", acBal=None),
        summary("CL", "75.00", "2025-02-28T00:00:00+0200"),
    ]
    reason = "its balances do not tell debit from credit; please report it so the spelling can be added"
    with pytest.raises(BankProtocolError, match=rf"^the bank sent dtkt='\?\?' and {reason}$"):
        parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")


def test_a_missing_dtkt_the_balances_cannot_decide_is_a_clear_error():
    rows = [
        summary("OP", "100.00"),
        {
            k: v
            for k, v in entry(1, "2025-02-03T10:00:00+0200", "DT", "25.00", "75.00", acBal=None).items()
            if k != "dtkt"
        },
        summary("CL", "75.00", "2025-02-28T00:00:00+0200"),
    ]
    with pytest.raises(BankProtocolError, match=r"^the bank sent dtkt=None and its balances do not tell"):
        parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")


def test_unknown_dtkt_whose_balances_follow_the_entry_numbers_is_read_in_that_order():
    """Booking times and balances may disagree on the order; the entry numbers then decide."""
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "Дт.", "25.00", "75.00"),
        entry(2, "2025-02-03T09:00:00+0200", "Кт.", "50.00", "125.00"),
        summary("DT", "25.00"),
        summary("CT", "50.00"),
        summary("CL", "125.00", "2025-02-28T00:00:00+0200"),
    ]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    by_id = {e.record["entry_id"]: e.record for e in statement.entries}
    assert (by_id[1]["direction"], by_id[1]["signed_amount"]) == ("debit", Decimal("-25.00"))
    assert (by_id[2]["direction"], by_id[2]["signed_amount"]) == ("credit", Decimal("50.00"))
    assert [e.record["entry_id"] for e in statement.entries] == [2, 1]  # emitted by booking time


def test_an_acc_element_of_another_iban_is_ignored_and_said_once():
    other = {
        "iban": "BG52FINV91501017006651",
        "ccy": "EUR",
        "stmt": [entry(99, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00")],
    }
    payload = {"acc": [{"iban": IBAN, "ccy": "EUR", "stmt": ROWS}, other]}
    statement = parse_statement(payload, WINDOW, IBAN, "1", "EUR")
    assert [e.record["entry_id"] for e in statement.entries] == [1, 2, 3]
    assert statement.verdict == "balanced"
    assert any("another account" in note for note in statement.notes)


def test_entries_outside_the_window_asked_for_are_dropped_and_the_window_is_unverifiable():
    early = entry(0, "2025-01-20T10:00:00+0200", "KT", "100.00", "100.00")
    statement = parse_statement(answer([early, *ROWS]), WINDOW, IBAN, "1", "EUR")
    assert [e.record["entry_id"] for e in statement.entries] == [1, 2, 3]
    assert statement.verdict == "unverifiable"
    assert any("outside the window" in note for note in statement.notes)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"isPSD2": False}, False),
        ({"isPSD2": "N"}, False),
        ({}, False),
        ({"isPSD2": True}, True),
        ({"isAccountFromPSD2": "Y"}, True),
        ({"psd2": "true"}, True),
    ],
)
def test_accounts_of_other_banks_shown_over_psd2_are_recognised(fields, expected):
    assert is_psd2_account(fields) is expected


def test_offset_less_timestamps_in_summer_keep_their_sofia_day():
    """A late summer evening without an offset is Sofia time (+03:00), not the winter +02:00."""
    july = Window(dt.date(2024, 7, 1), dt.date(2024, 7, 30))
    rows = [
        summary("OP", "100.00", "2024-07-01T00:00:00"),
        entry(1, "2024-07-15T23:30:00", "KT", "10.00", "110.00", valueDt="2024-07-15T23:30:00"),
        entry(2, "2024-07-16T00:20:00", "DT", "5.00", "105.00"),
        summary("DT", "5.00", "2024-07-01T00:00:00"),
        summary("CT", "10.00", "2024-07-01T00:00:00"),
        summary("CL", "105.00", "2024-07-30T00:00:00"),
    ]
    statement = parse_statement(answer(rows), july, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    records = [e.record for e in statement.entries]
    assert [r["booking_date"] for r in records] == ["2024-07-15", "2024-07-16"]
    assert [r["booked_at"] for r in records] == ["2024-07-15T23:30:00+03:00", "2024-07-16T00:20:00+03:00"]
    assert records[0]["value_date"] == "2024-07-15"


def test_the_repeated_october_hour_is_ordered_by_instant_not_by_text():
    """03:40 at +03:00 comes before 03:10 at +02:00 (the hour repeats), though its text sorts after."""
    october = Window(dt.date(2025, 10, 1), dt.date(2025, 10, 30))
    rows = [
        summary("OP", "100.00", "2025-10-01T00:00:00+0300"),
        # Sent in text order; entry numbers that say nothing about the order.
        entry(7, "2025-10-26T03:10:00+0200", "DT", "20.00", "70.00"),
        entry(8, "2025-10-26T03:40:00+0300", "DT", "10.00", "90.00"),
        summary("DT", "30.00", "2025-10-01T00:00:00+0300"),
        summary("CT", "0.00", "2025-10-01T00:00:00+0300"),
        summary("CL", "70.00", "2025-10-30T00:00:00+0200"),
    ]
    statement = parse_statement(answer(rows), october, IBAN, "1", "EUR")
    assert [e.record["entry_id"] for e in statement.entries] == [8, 7]
    assert [e.record["booked_at"] for e in statement.entries] == [
        "2025-10-26T03:40:00+03:00",
        "2025-10-26T03:10:00+02:00",
    ]
    assert statement.verdict == "balanced", statement.problems
