"""The balance after every entry is the proof: across windows, runs and the euro changeover."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from test_statement import entry, summary

from tap_fibank.chain import BalanceChain, Point, first_link, last_point, stored_point
from tap_fibank.changeover import currency_before, to_euro
from tap_fibank.currency import balances_across, decide_before
from tap_fibank.statement import Statement, bare_answer, label_undecided, parse_statement
from tap_fibank.windows import Window

IBAN = "BG47FINV91501017006644"
FEB = Window(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
MAR = Window(dt.date(2025, 3, 1), dt.date(2025, 3, 30))
DEC = Window(dt.date(2025, 12, 15), dt.date(2026, 1, 13))


def bare(window: Window) -> Statement:
    return parse_statement({"acc": [{"ccy": "EUR", "stmt": []}]}, window, IBAN, "1", "EUR")


def window_of(window: Window, rows, ccy: str | None = "EUR", listed: str = "EUR") -> Statement:
    element = {"stmt": rows} if ccy is None else {"ccy": ccy, "stmt": rows}
    return parse_statement({"acc": [element]}, window, IBAN, "1", listed)


FEB_ROWS = [
    entry(1, "2025-02-03T10:00:00+0200", "KT", "100.00", "100.00"),
    entry(2, "2025-02-20T10:00:00+0200", "DT", "30.00", "70.00"),
]


def test_consecutive_windows_whose_balances_follow_prove_the_days_between():
    chain = BalanceChain(None)
    chain.advance(window_of(FEB, FEB_ROWS))
    march = window_of(MAR, [entry(3, "2025-03-10T10:00:00+0200", "KT", "5.00", "75.00")])
    assert chain.check(march) is None


def test_a_balance_that_does_not_follow_names_the_stretch_from_the_earlier_entrys_day():
    chain = BalanceChain(None)
    chain.advance(window_of(FEB, FEB_ROWS))
    march = window_of(MAR, [entry(3, "2025-03-10T10:00:00+0200", "KT", "5.00", "95.00")])
    broken = chain.check(march)
    assert broken is not None
    assert (broken.since, broken.until) == (dt.date(2025, 2, 20), dt.date(2025, 3, 10))
    assert "the balance was 70.00 at the end of 2025-02-20" in broken.detail
    assert "follows from 90.00" in broken.detail


def test_after_a_proven_closing_the_stretch_starts_the_next_day():
    proven = window_of(
        FEB,
        [
            summary("OP", "0.00"),
            *FEB_ROWS,
            summary("DT", "30.00"),
            summary("CT", "100.00"),
            summary("CL", "70.00", "2025-02-28T00:00:00+0200"),
        ],
    )
    assert proven.verdict == "balanced"
    chain = BalanceChain(None)
    chain.advance(proven)
    broken = chain.check(window_of(MAR, [entry(3, "2025-03-10T10:00:00+0200", "KT", "5.00", "1.00")]))
    assert broken is not None and broken.since == dt.date(2025, 3, 1)


def test_a_window_without_any_balance_moves_nothing():
    chain = BalanceChain(None)
    chain.advance(window_of(FEB, FEB_ROWS))
    before = chain.point
    chain.advance(bare(MAR))
    assert chain.point == before
    assert bare(MAR).bare and not window_of(FEB, FEB_ROWS).bare


def test_the_stored_point_checks_the_first_entry_after_its_day_only():
    stored = stored_point({"chain": {"day": "2025-02-20", "balance": "70.00", "currency": "EUR"}})
    assert stored == Point(dt.date(2025, 2, 20), frozenset({Decimal("70.00")}), "EUR")
    again = BalanceChain(stored)
    assert again.check(window_of(FEB, FEB_ROWS[1:])) is None  # days it covers, read again: unchecked
    later = BalanceChain(stored)
    assert (
        later.check(window_of(MAR, [entry(3, "2025-03-10T10:00:00+0200", "KT", "5.00", "76.00")])) is not None
    )
    assert later.check(window_of(MAR, [entry(3, "2025-03-10T10:00:00+0200", "KT", "5.00", "75.00")])) is None


@pytest.mark.parametrize("value", [None, "x", {"day": "2025-13-01", "balance": "1"}, {"day": "2025-01-01"}])
def test_an_unreadable_stored_point_is_no_point(value):
    assert stored_point({"chain": value}) is None


def test_the_point_goes_to_the_state_as_text_and_back():
    point = Point(dt.date(2025, 2, 20), frozenset({Decimal("70.10")}), "BGN")
    assert point.as_state() == {"day": "2025-02-20", "balance": "70.10", "currency": "BGN"}
    assert stored_point({"chain": point.as_state()}) == point


def test_a_converted_account_follows_across_the_changeover_at_the_legal_rate():
    chain = BalanceChain(None)
    chain.advance(window_of(FEB, FEB_ROWS, ccy="BGN"))
    euro = to_euro(Decimal("70.00"))
    january = window_of(
        Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30)),
        [entry(9, "2026-01-05T10:00:00+0200", "KT", "1.00", str(euro + 1))],
    )
    assert chain.check(january) is None
    unconverted = window_of(
        Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30)),
        [entry(9, "2026-01-05T10:00:00+0200", "KT", "1.00", "71.00")],
    )
    assert chain.check(unconverted) is not None


def test_the_bare_answer_is_an_element_without_rows_or_no_element():
    assert bare_answer({"acc": [{"ccy": "EUR", "stmt": []}]}) is not None
    assert bare_answer({"acc": [{"ccy": "EUR"}]}) is not None
    assert bare_answer({"acc": []}) is not None
    assert bare_answer({"acc": [{"stmt": [summary("OP", "1.00")]}]}) is None
    assert bare_answer({"other": 1}) is None


@pytest.mark.parametrize(
    ("last", "first", "decided"),
    [
        (Decimal("195.58"), Decimal("100.00"), "BGN"),  # 195.58 / 1.95583 = 99.998... -> 100.00
        (Decimal("195.58"), Decimal("195.58"), "EUR"),
        (Decimal("195.58"), Decimal("99.99"), None),
        (Decimal("0.00"), Decimal("0.00"), None),  # a zero balance reads the same both ways
        (Decimal("0.01"), Decimal("0.01"), None),  # 0.01 converts to 0.01: the same both ways
    ],
)
def test_the_changeover_balance_decides_the_currency_before_2026(last, first, decided):
    assert currency_before(last, first) == decided


MIXED_ROWS = [
    summary("OP", "195.58", "2025-12-15T00:00:00+0200"),
    entry(20, "2025-12-20T10:00:00+0200", "DT", "10.00", "185.58"),
    entry(21, "2026-01-05T10:00:00+0200", "DT", "1.00", str(to_euro(Decimal("185.58")) - 1)),
    summary("DT", "11.00", "2026-01-13T23:59:59+0200"),
    summary("CT", "0.00", "2026-01-13T23:59:59+0200"),
    summary("CL", str(to_euro(Decimal("185.58")) - 1), "2026-01-13T23:59:59+0200"),
]


def test_one_element_mixing_lev_and_euro_is_proven_by_its_chain_and_its_summary_is_not_trusted():
    statement = window_of(DEC, MIXED_ROWS, ccy=None)
    assert statement.problems == []
    assert statement.undecided
    assert statement.parts[0].summary_note == "summary rows that mix BGN and EUR across 2026-01-01"
    assert [e.record["currency"] for e in statement.entries] == [None, "EUR"]
    assert balances_across(statement) == (Decimal("185.58"), to_euro(Decimal("185.58")))
    label_undecided(statement, "BGN")
    assert [e.record["currency"] for e in statement.entries] == ["BGN", "EUR"]
    assert not statement.undecided


def test_one_element_whose_chain_breaks_at_the_changeover_is_unbalanced():
    rows = [dict(r) for r in MIXED_ROWS]
    rows[2] = entry(21, "2026-01-05T10:00:00+0200", "DT", "1.00", "50.00")
    assert window_of(DEC, rows, ccy=None).problems


def test_the_decision_reads_the_windows_nearest_the_changeover_and_no_more():
    plan = [Window(dt.date(2025, 11, 15), dt.date(2025, 12, 14)), DEC]
    read: list[Window] = []

    def probe(window: Window) -> Statement | None:
        read.append(window)
        return window_of(DEC, MIXED_ROWS, ccy=None) if window == DEC else None

    assert decide_before(probe, plan, 30, dt.date(2026, 12, 4)) == ("BGN", "")
    assert read == [DEC, DEC]


def test_numbers_that_cannot_decide_are_named_not_guessed():
    rows = [dict(r) for r in MIXED_ROWS]
    rows[2] = entry(21, "2026-01-05T10:00:00+0200", "DT", "1.00", "49.00")
    statement = window_of(DEC, rows, ccy=None)
    decided, why = decide_before(lambda w: statement if w == DEC else None, [DEC], 30, dt.date(2026, 12, 4))
    assert decided is None
    assert why == (
        "its statements name no currency, and the balance goes from 185.58 at the end of 2025 to "
        "50.00 on 2026-01-01, neither the same nor converted at 1.95583"
    )


def test_without_any_balance_near_the_changeover_the_decision_says_which_side_is_missing():
    decided, why = decide_before(lambda w: None, [DEC], 30, dt.date(2026, 12, 4))
    assert decided is None and "no balance of 2025 near the changeover" in why


def test_first_link_and_last_point_use_posting_order_too():
    rows = [
        entry(5, "2025-02-03T10:00:00+0200", "KT", "10.00", "110.00"),
        entry(4, "2025-02-03T11:00:00+0200", "KT", "10.00", "100.00"),  # posted first
    ]
    statement = window_of(FEB, rows)
    link = first_link(statement)
    assert link is not None and link.openings == {Decimal("100.00"), Decimal("90.00")}
    point = last_point(statement)
    assert point is not None and point.balances == {Decimal("100.00"), Decimal("110.00")}
