"""A statement window proves itself against the bank's own totals, or says why it cannot."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from support.entries import entry, summary

from tap_fibank.errors import BankProtocolError
from tap_fibank.proof.statement import parse_statement, to_euro
from tap_fibank.streams.accounts import is_psd2_account
from tap_fibank.walk.windows import Window

IBAN = "BG47FINV91501017006644"
WINDOW = Window(dt.date(2025, 2, 1), dt.date(2025, 2, 28))


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
    assert statement.notes == [
        "its statements come with no summary rows (OP/CL/DT/CT), so they cannot be proven complete"
    ]


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
    assert statement.notes == [
        "its statements come with summary rows that do not add up among themselves "
        "(OP + CT - DT != CL), so they cannot be proven complete"
    ]


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
    # An exact half cent rounds up, not to the even cent (no two-decimal BGN amount lands on one).
    assert to_euro(Decimal("0.00977915")) == Decimal("0.01")  # 0.005 exactly
    assert to_euro(Decimal("0.04889575")) == Decimal("0.03")  # 0.025 exactly


NO_ACC = "the statement answer (GetCustBal) has no 'acc' list; the bank's API may have changed"
NO_STMT = "a statement element (GetCustBal acc[]) has no 'stmt' list; the API may have changed"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, NO_ACC),
        ({"acc": "x"}, NO_ACC),
        ([], NO_ACC),
        ({"acc": ["x"]}, NO_STMT),
        ({"acc": [{"stmt": "x"}]}, NO_STMT),
        ({"acc": [{"stmt": 5}]}, NO_STMT),
    ],
)
def test_an_unexpected_answer_shape_is_a_clear_error(payload, message):
    with pytest.raises(BankProtocolError, match=f"^{re.escape(message)}$"):
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


@pytest.mark.parametrize("ours_first", [True, False])
def test_an_acc_element_of_another_iban_is_ignored_and_said_once(ours_first):
    other = {
        "iban": "BG52FINV91501017006651",
        "ccy": "EUR",
        "stmt": [entry(99, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00")],
    }
    ours = {"iban": IBAN, "ccy": "EUR", "stmt": ROWS}
    payload = {"acc": [ours, other] if ours_first else [other, ours]}
    statement = parse_statement(payload, WINDOW, IBAN, "1", "EUR")
    assert [e.record["entry_id"] for e in statement.entries] == [1, 2, 3]
    assert statement.verdict == "balanced"
    assert statement.notes == ["the answer held another account's statement too: it was ignored"]


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


# --- the statements record, the messages and the edges of each check ------------------------------


def test_a_balanced_windows_statements_record_holds_the_banks_totals_and_the_entries():
    statement = parse_statement(answer(ROWS), WINDOW, IBAN, "7", "EUR")
    (part,) = statement.parts
    assert part.summary(IBAN, "7") == {
        "iban": IBAN,
        "customer_id": "7",
        "date_from": "2025-02-01",
        "date_to": "2025-02-28",
        "currency": "EUR",
        "opening_balance": Decimal("100.00"),
        "closing_balance": Decimal("95.00"),
        "debit_turnover": Decimal("55.00"),
        "credit_turnover": Decimal("50.00"),
        "entry_count": 3,
        "entries_debit_total": Decimal("55.00"),
        "entries_credit_total": Decimal("50.00"),
        "is_balanced": True,
        "verification": "balanced",
    }


def test_an_unbalanced_windows_record_says_so():
    truncated = [row for row in ROWS if row.get("acEntrySrNo") != 2]
    (part,) = parse_statement(answer(truncated), WINDOW, IBAN, "1", "EUR").parts
    record = part.summary(IBAN, "1")
    assert (record["is_balanced"], record["verification"], record["entry_count"]) == (False, "unbalanced", 2)
    assert part.problems == [
        "balance after entry 3 is 95.00, the running balance is 45.00",
        "opening 100.00 + the entries' credits 0 - debits 55.00 is 45.00, not the closing balance 95.00",
    ]


def test_a_broken_chain_names_the_entry_and_both_balances():
    rows = [dict(r) for r in ROWS]
    rows[2]["acBal"] = Decimal("126.00")  # entry 2 (+50 from 75) should leave 125.00
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.problems == ["balance after entry 2 is 126.00, the running balance is 125.00"]
    assert statement.verdict == "unbalanced"


def test_a_window_whose_entries_have_no_balances_is_proven_by_the_totals_alone():
    rows = [dict(r, acBal=None) if r["trnType"] == "TR" else r for r in ROWS]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert [e.record["balance_after"] for e in statement.entries] == [None, None, None]


def test_a_chain_without_an_opening_starts_at_the_first_entry_with_a_balance():
    rows = [
        entry(1, "2025-02-02T10:00:00+0200", "KT", "5.00", "1.00", acBal=None),
        entry(2, "2025-02-03T10:00:00+0200", "DT", "25.00", "75.00"),
        entry(3, "2025-02-04T10:00:00+0200", "KT", "5.00", "80.00"),
        entry(4, "2025-02-05T10:00:00+0200", "DT", "1.00", "78.00"),
    ]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.problems == ["balance after entry 4 is 78.00, the running balance is 79.00"]


def test_a_break_in_booking_order_that_posting_order_explains_is_no_problem():
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "DT", "25.00", "75.00"),
        entry(2, "2025-02-03T09:00:00+0200", "KT", "50.00", "125.00"),
        summary("DT", "25.00"),
        summary("CT", "50.00"),
        summary("CL", "125.00", "2025-02-28T00:00:00+0200"),
    ]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert [e.record["entry_id"] for e in statement.entries] == [2, 1]


def test_summary_rows_in_another_spelling_or_sent_twice_still_prove_the_window():
    rows = [dict(r, trnType=f" {r['trnType'].lower()} ") if r["trnType"] != "TR" else r for r in ROWS]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced", statement.problems
    assert len(statement.entries) == 3


@pytest.mark.parametrize("kind", ["OP", "CL", "DT", "CT"])
def test_a_missing_summary_row_makes_the_window_unverifiable_naming_why(kind):
    rows = [r for r in ROWS if r["trnType"] != kind]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unverifiable" and not statement.problems
    assert statement.notes == [
        "its statements come with incomplete or unreadable summary rows (OP/CL/DT/CT), "
        "so they cannot be proven complete"
    ]


def test_an_empty_window_without_summary_rows_is_unverifiable_without_a_note():
    statement = parse_statement(answer([]), WINDOW, IBAN, "1", "EUR")
    assert (statement.verdict, statement.notes, statement.entries) == ("unverifiable", [], [])


def test_an_empty_window_with_summary_rows_that_add_up_is_balanced():
    rows = [summary("OP", "10.00"), summary("DT", "0"), summary("CT", "0"), summary("CL", "10.00")]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "balanced"


def test_an_answer_without_any_part_is_an_empty_unverifiable_part_of_the_account_currency():
    statement = parse_statement({"acc": []}, WINDOW, IBAN, "1", "BGN")
    ((currency, start, end),) = [(p.currency, p.date_from, p.date_to) for p in statement.parts]
    assert (currency, start, end) == ("BGN", WINDOW.start, WINDOW.end)
    assert statement.verdict == "unverifiable"


def test_turnovers_that_are_not_the_entries_totals_make_a_window_unverifiable_though_it_adds_up():
    rows = [dict(r) for r in ROWS]
    rows[4] = summary("DT", "65.00")
    rows[5] = summary("CT", "60.00")  # 100 + 60 - 65 = 95: adds up, but not the entries' 50 and 55
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.verdict == "unverifiable" and not statement.problems
    assert statement.notes == [
        "its statements come with turnover rows (DT/CT) that are not the entries' totals, "
        "so they cannot be proven complete"
    ]


def test_only_a_summary_rows_day_inside_the_window_moves_the_parts_ends():
    rows = [dict(r) for r in ROWS]
    rows[0] = summary("OP", "100.00", "2025-02-03T00:00:00+0200")
    rows[-1] = summary("CL", "95.00", "2025-03-05T00:00:00+0200")  # after the window: ignored
    (part,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").parts
    assert (part.date_from, part.date_to) == (dt.date(2025, 2, 3), WINDOW.end)
    rows[0] = summary("OP", "100.00", "2025-01-31T00:00:00+0200")  # before the window: ignored
    rows[-1] = summary("CL", "95.00", "2025-02-27T23:00:00+0200")
    (part,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").parts
    assert (part.date_from, part.date_to) == (WINDOW.start, dt.date(2025, 2, 27))
    rows[0] = summary("OP", "100.00", "not a day")  # an unreadable day keeps the window's
    rows[-1] = summary("CL", "95.00", "")
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert (statement.parts[0].date_from, statement.parts[0].date_to) == (WINDOW.start, WINDOW.end)
    assert statement.verdict == "balanced"


def test_a_balance_is_read_from_acbal_first_then_amount():
    rows = [dict(r) for r in ROWS]
    rows[0] = {**rows[0], "acBal": "", "amount": "100.00"}
    rows[-1] = {**rows[-1], "acBal": "95.00", "amount": "1.00"}
    (part,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").parts
    assert (part.opening, part.closing) == (Decimal("100.00"), Decimal("95.00"))
    assert part.verdict == "balanced"


def test_turnovers_are_read_from_amount_not_acbal():
    rows = [dict(r) for r in ROWS]
    rows[4] = {**rows[4], "acBal": Decimal("1")}
    rows[5] = {**rows[5], "acBal": None}
    (part,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").parts
    assert (part.debit_turnover, part.credit_turnover) == (Decimal("55.00"), Decimal("50.00"))


def two_parts(bgn_close, eur_open, eur_from="2026-01-01T00:00:00+0200"):
    window = Window(dt.date(2025, 12, 20), dt.date(2026, 1, 18))
    bgn = [
        summary("OP", bgn_close, "2025-12-20T00:00:00+0200"),
        summary("DT", "0.00"),
        summary("CT", "0.00"),
        summary("CL", bgn_close, "2025-12-31T00:00:00+0200"),
    ]
    eur = [
        summary("OP", eur_open, eur_from),
        summary("DT", "0.00"),
        summary("CT", "0.00"),
        summary("CL", eur_open, "2026-01-18T00:00:00+0200"),
    ]
    payload = {"acc": [{"ccy": "EUR", "stmt": eur}, {"ccy": "BGN", "stmt": bgn}]}
    return parse_statement(payload, window, IBAN, "1", "EUR")


def test_a_changeover_that_does_not_open_at_the_converted_balance_is_unbalanced():
    statement = two_parts("195.58", "100.01")
    assert statement.problems == [
        "the statement opens at 100.01 EUR on 2026-01-01 "
        "but the previous one closed at 195.58 BGN on 2025-12-31"
    ]
    assert statement.verdict == "unbalanced"
    assert [p.verdict for p in statement.parts] == ["balanced", "balanced"]


def test_before_the_euro_day_a_currency_change_is_not_converted():
    statement = two_parts("195.58", "195.58", "2025-12-31T00:00:00+0200")
    assert statement.verdict == "balanced", statement.problems
    assert two_parts("195.58", "100.00", "2025-12-31T00:00:00+0200").verdict == "unbalanced"


def test_parts_of_one_currency_chain_unconverted():
    window = Window(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    first = [summary("OP", "5.00"), summary("DT", "0"), summary("CT", "0")]
    first.append(summary("CL", "5.00", "2025-02-09T00:00:00+0200"))
    second = [summary("OP", "6.00", "2025-02-10T00:00:00+0200"), summary("DT", "0"), summary("CT", "0")]
    second.append(summary("CL", "6.00"))
    payload = {"acc": [{"stmt": first}, {"stmt": second}]}
    statement = parse_statement(payload, window, IBAN, "1", None)
    assert statement.problems == [
        "the statement opens at 6.00 on 2025-02-10 but the previous one closed at 5.00 on 2025-02-09"
    ]


def test_an_unproven_part_is_not_chained_and_leaves_the_window_unverifiable():
    statement = two_parts("195.58", "100.01")
    statement.parts[1].trusted = False
    assert statement.problems == []
    assert statement.verdict == "unverifiable"
    statement.parts[1].trusted = True
    statement.parts[0].trusted = False
    assert (statement.problems, statement.verdict) == ([], "unverifiable")


def test_the_entries_of_two_parts_come_out_in_booking_order():
    window = Window(dt.date(2025, 12, 20), dt.date(2026, 1, 18))
    eur = [entry(9, "2026-01-02T10:00:00+0200", "D", "10.00", "90.00")]
    bgn = [
        entry(3, "2025-12-22T10:00:00+0200", "K", "1.00", "1.00"),
        entry(4, "2025-12-23T10:00:00+0200", "K", "1.00", "2.00"),
    ]
    payload = {"acc": [{"ccy": "EUR", "stmt": eur}, {"ccy": "BGN", "stmt": bgn}]}
    statement = parse_statement(payload, window, IBAN, "1", "EUR")
    assert [e.record["entry_id"] for e in statement.entries] == [3, 4, 9]
    assert [e.record["currency"] for e in statement.entries] == ["BGN", "BGN", "EUR"]


@pytest.mark.parametrize("named", [{"iban": "bg47 finv 9150 1017 0066 44"}, {"ibanAcNo": IBAN}, {"iban": ""}])
def test_an_acc_element_naming_this_account_in_any_spelling_or_none_is_read(named):
    payload = {"acc": [{**named, "ccy": "EUR", "stmt": ROWS}]}
    statement = parse_statement(payload, WINDOW, IBAN, "1", "EUR")
    assert (len(statement.entries), statement.notes, statement.verdict) == (3, [], "balanced")


def test_an_acc_element_naming_another_account_by_ibanacno_is_ignored():
    payload = {"acc": [{"ibanAcNo": "BG52FINV91501017006651", "stmt": ROWS}]}
    statement = parse_statement(payload, WINDOW, IBAN, "1", "EUR")
    assert statement.entries == []
    assert statement.notes == ["the answer held another account's statement too: it was ignored"]


def test_a_part_without_ccy_before_2026_of_a_euro_account_waits_for_its_currency_and_no_stmt_is_empty():
    statement = parse_statement({"acc": [{"stmt": ROWS[1:2]}, {"ccy": "BGN"}]}, WINDOW, IBAN, "1", "EUR")
    assert sorted(str(p.currency) for p in statement.parts) == ["BGN", "None"]
    assert [e.record["currency"] for e in statement.entries] == [None]
    assert statement.undecided


def test_a_part_without_ccy_of_a_dollar_account_takes_the_accounts_currency():
    statement = parse_statement({"acc": [{"stmt": ROWS[1:2]}]}, WINDOW, IBAN, "1", "USD")
    assert [e.record["currency"] for e in statement.entries] == ["USD"]
    assert not statement.undecided


def test_a_row_that_is_not_an_object_is_a_clear_error():
    with pytest.raises(
        BankProtocolError, match=r"^a statement row is not an object; the API may have changed$"
    ):
        parse_statement(answer([*ROWS, "x"]), WINDOW, IBAN, "1", "EUR")


@pytest.mark.parametrize("bad", [None, "seven", 1.5j, [7]])
def test_an_entry_number_that_is_not_an_integer_is_a_clear_error(bad):
    rows = [entry(bad, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00")]
    with pytest.raises(
        BankProtocolError,
        match=rf"^a statement row has acEntrySrNo={re.escape(repr(bad))}, not an integer entry number$",
    ):
        parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")


def test_entry_numbers_sent_as_text_are_read_as_integers():
    rows = [entry(" 12 ", "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00")]
    (only,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").entries
    assert only.record["entry_id"] == 12


def test_amounts_and_balances_sent_as_text_are_read_exactly():
    rows = [
        {
            **entry(1, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00"),
            "amount": "1 234,56",
            "acBal": "1234.56",
        }
    ]
    (only,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").entries
    assert (only.amount, only.balance_after) == (Decimal("1234.56"), Decimal("1234.56"))
    assert (only.record["signed_amount"], only.record["balance_after"]) == (
        Decimal("1234.56"),
        Decimal("1234.56"),
    )


def test_an_infinite_balance_is_refused_naming_the_field():
    rows = [entry(1, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00", acBal=Decimal("Infinity"))]
    with pytest.raises(BankProtocolError, match="acBal"):
        parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")


def test_an_infinite_amount_is_refused_naming_the_field():
    rows = [{**entry(1, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00"), "amount": Decimal("-Infinity")}]
    with pytest.raises(BankProtocolError, match="amount"):
        parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")


@pytest.mark.parametrize(("dtkt", "direction"), [("DT", "debit"), ("KT", "credit")])
def test_a_zero_amount_with_a_known_flag_keeps_its_direction(dtkt, direction):
    rows = [entry(1, "2025-02-03T10:00:00+0200", dtkt, "0.00", "0.00")]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    (only,) = statement.entries
    assert (only.direction, only.record["direction"], only.record["signed_amount"]) == (
        direction,
        direction,
        Decimal("0.00"),
    )
    assert not statement.parts[0].signed


def test_a_record_carries_every_column_of_the_row():
    row = entry(
        5,
        "2025-02-03T10:00:00+0200",
        "KT",
        "12.50",
        "112.50",
        valueDt="2025-02-04T00:00:00+0200",
        reference=" REF1 ",
        contragent=" Лидл ",
        trnAccount="BG00TEST",
        benOrderParty="Иван",
        trname="POS",
        trnCode=" 42 ",
        isEbankOper="N",
        isPayment="Y",
        loadAsNew="1",
        remI="first",
        remIi=" second ",
        remIii="third",
        other=1,
    )
    (only,) = parse_statement(answer([row]), WINDOW, IBAN, "9", "EUR").entries
    assert only.record == {
        "iban": IBAN,
        "customer_id": "9",
        "entry_id": 5,
        "booking_date": "2025-02-03",
        "booked_at": "2025-02-03T10:00:00+02:00",
        "value_date": "2025-02-04",
        "direction": "credit",
        "amount": Decimal("12.50"),
        "signed_amount": Decimal("12.50"),
        "balance_after": Decimal("112.50"),
        "currency": "EUR",
        "reference": "REF1",
        "counterparty_name": "Лидл",
        "counterparty_account": "BG00TEST",
        "ordering_or_beneficiary_party": "Иван",
        "description": "POS",
        "transaction_type": "TR",
        "transaction_code": "42",
        "is_ebank_operation": False,
        "is_payment": True,
        "load_as_new": True,
        "remittance_1": "first",
        "remittance_2": "second",
        "remittance_3": "third",
        "remittance_information": "first second third",
        "extra": {"other": 1},
    }
    assert only.booking_date == dt.date(2025, 2, 3)
    assert only.sort_key == (dt.datetime(2025, 2, 3, 8, tzinfo=dt.timezone.utc), 5)


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        (("a", None, "c"), "a c"),
        ((None, " b ", None), "b"),
        (("", "  ", None), None),
        (("a", "b", None), "a b"),
    ],
)
def test_remittance_lines_join_with_one_space_skipping_empty_ones(lines, joined):
    rem = dict(zip(("remI", "remIi", "remIii"), lines, strict=True))
    rows = [entry(1, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00", **rem)]
    (only,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").entries
    assert only.record["remittance_information"] == joined


def test_a_statement_is_stamped_with_the_aware_instant_it_was_read():
    before = dt.datetime.now(dt.timezone.utc)
    statement = parse_statement(answer(ROWS), WINDOW, IBAN, "1", "EUR")
    assert before <= statement.extracted_at <= dt.datetime.now(dt.timezone.utc)


def test_entries_outside_the_window_on_either_side_are_counted_and_dropped():
    late = entry(8, "2025-03-01T00:30:00+0200", "KT", "1.00", "96.00")
    early = entry(0, "2025-01-31T23:59:59+0200", "KT", "1.00", "100.00")
    (part,) = parse_statement(answer([*ROWS, late, early]), WINDOW, IBAN, "1", "EUR").parts
    assert (part.outside, [e.sort_key[1] for e in part.entries]) == (2, [1, 2, 3])
    assert (
        part.summary_note
        == "the bank answered for more days than asked, so its summary rows are not the window's"
    )
    assert part.verdict == "unverifiable"


def test_a_first_entry_that_does_not_follow_from_the_opening_balance_unbalances_the_window():
    """The totals add up to the closing balance, but the first entry's balance is 5.00 off the opening."""
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "DT", "25.00", "80.00"),
        entry(2, "2025-02-04T10:00:00+0200", "KT", "10.00", "90.00"),
        summary("DT", "25.00"),
        summary("CT", "10.00"),
        summary("CL", "85.00", "2025-02-28T00:00:00+0200"),
    ]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.problems == ["balance after entry 1 is 80.00, the running balance is 75.00"]
    assert statement.verdict == "unbalanced"


@pytest.mark.parametrize(
    ("second_balance", "problems"),
    [
        ("65.00", []),
        ("60.00", ["balance after entry 2 is 60.00, the running balance is 65.00"]),
    ],
)
def test_an_entry_without_a_balance_carries_the_running_balance_on_to_the_next(second_balance, problems):
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "DT", "25.00", "0", acBal=None),
        entry(2, "2025-02-04T10:00:00+0200", "DT", "10.00", second_balance),
        summary("DT", "35.00"),
        summary("CT", "0.00"),
        summary("CL", "65.00", "2025-02-28T00:00:00+0200"),
    ]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.problems == problems


def test_a_break_in_booking_order_is_a_problem_when_posting_order_breaks_at_the_opening():
    """In posting order the entries chain among themselves, but not from the opening balance."""
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "DT", "25.00", "80.00"),  # 75.00 from the opening
        entry(2, "2025-02-03T09:00:00+0200", "KT", "50.00", "130.00"),
        summary("DT", "25.00"),
        summary("CT", "50.00"),
        summary("CL", "125.00", "2025-02-28T00:00:00+0200"),
    ]
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert statement.problems == ["balance after entry 2 is 130.00, the running balance is 150.00"]


def test_parts_dated_on_the_windows_first_and_last_days_keep_those_days_and_convert():
    """A BGN part closing on the window's first day, a EUR part opening on its last: the changeover."""
    window = Window(dt.date(2025, 12, 31), dt.date(2026, 1, 1))
    bgn = [
        summary("OP", "195.58", "2025-12-31T00:00:00+0200"),
        summary("DT", "0.00"),
        summary("CT", "0.00"),
        summary("CL", "195.58", "2025-12-31T00:00:00+0200"),
    ]
    eur = [
        summary("OP", "100.00", "2026-01-01T00:00:00+0200"),
        summary("DT", "0.00"),
        summary("CT", "0.00"),
        summary("CL", "100.00", "2026-01-01T00:00:00+0200"),
    ]
    payload = {"acc": [{"ccy": "BGN", "stmt": bgn}, {"ccy": "EUR", "stmt": eur}]}
    statement = parse_statement(payload, window, IBAN, "1", "EUR")
    assert [(p.currency, str(p.date_from), str(p.date_to)) for p in statement.parts] == [
        ("BGN", "2025-12-31", "2025-12-31"),
        ("EUR", "2026-01-01", "2026-01-01"),
    ]
    assert statement.verdict == "balanced", statement.problems


def test_every_credit_of_a_window_counts_towards_its_totals():
    rows = [
        summary("OP", "100.00"),
        entry(1, "2025-02-03T10:00:00+0200", "KT", "10.00", "110.00"),
        entry(2, "2025-02-04T10:00:00+0200", "KT", "20.00", "130.00"),
        entry(3, "2025-02-05T10:00:00+0200", "DT", "5.00", "125.00"),
        entry(4, "2025-02-06T10:00:00+0200", "DT", "7.00", "118.00"),
        summary("DT", "12.00"),
        summary("CT", "30.00"),
        summary("CL", "118.00", "2025-02-28T00:00:00+0200"),
    ]
    (part,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").parts
    assert part.verdict == "balanced", part.problems
    record = part.summary(IBAN, "1")
    assert (record["entries_debit_total"], record["entries_credit_total"]) == (
        Decimal("12.00"),
        Decimal("30.00"),
    )


@pytest.mark.parametrize(
    ("field", "bad", "what"),
    [
        ("dateTime", "yesterday", "not a timestamp the tap can read"),
        ("valueDt", "yesterday", "not a timestamp the tap can read"),
        ("amount", "lots", "not an amount"),
        ("amount", Decimal("-Infinity"), "not a finite amount"),
        ("acBal", "lots", "not an amount"),
        ("acBal", Decimal("Infinity"), "not a finite amount"),
        ("isEbankOper", "maybe", "not a Y/N flag"),
        ("isPayment", "maybe", "not a Y/N flag"),
        ("loadAsNew", "maybe", "not a Y/N flag"),
    ],
)
def test_an_unreadable_value_of_an_entry_is_an_error_naming_its_field(field, bad, what):
    rows = [{**entry(1, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00"), field: bad}]
    message = f"the bank sent {field}={bad!r}, which is {what}"
    with pytest.raises(BankProtocolError, match=f"^{re.escape(message)}$"):
        parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")


@pytest.mark.parametrize("kind", [["OP"], {"code": "CL"}])
def test_a_row_whose_trntype_is_a_list_or_object_is_an_entry_not_a_crash(kind):
    rows = [*ROWS, entry(4, "2025-02-21T10:00:00+0200", "KT", "1.00", "96.00", trnType=kind)]
    (part,) = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR").parts
    assert [e.sort_key[1] for e in part.entries] == [1, 2, 3, 4]
    assert part.entries[-1].record["transaction_type"] == str(kind)
    assert part.summary_rows == 4


def test_entries_on_the_windows_first_and_last_days_are_its_own():
    rows = [dict(r) for r in ROWS]
    rows[1] = entry(3, "2025-02-28T23:59:59+0200", "DT", "30.00", "95.00")
    statement = parse_statement(answer(rows), WINDOW, IBAN, "1", "EUR")
    assert [e.booking_date.day for e in statement.entries] == [1, 10, 28]
    assert (statement.notes, statement.verdict) == ([], "balanced")
    late = entry(4, "2025-03-01T00:00:00+0200", "KT", "1.00", "96.00")
    statement = parse_statement(answer([*rows, late]), WINDOW, IBAN, "1", "EUR")
    assert [e.sort_key[1] for e in statement.entries] == [1, 2, 3]
    assert statement.parts[0].outside == 1
    assert statement.notes == [
        "its statements come with the bank answered for more days than asked, so its summary rows "
        "are not the window's, so they cannot be proven complete",
        "the bank sent entries outside the window asked for: only the window's days were kept",
    ]
