"""The balance after every entry is the proof: across windows, runs and the euro changeover."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from support.entries import entry, summary

from tap_fibank.proof.changeover import currency_before, to_euro
from tap_fibank.proof.statement import Statement, bare_answer, label_undecided, parse_statement
from tap_fibank.walk.chain import BalanceChain, Point, first_link, last_point, stored_point
from tap_fibank.walk.currency import balances_across, decide_before
from tap_fibank.walk.windows import Window, windows

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


# The same entries with summary rows that prove February whole.
PROVEN_FEB_ROWS = [
    summary("OP", "0.00"),
    *FEB_ROWS,
    summary("DT", "30.00"),
    summary("CT", "100.00"),
    summary("CL", "70.00", "2025-02-28T00:00:00+0200"),
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
    proven = window_of(FEB, PROVEN_FEB_ROWS)
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
    assert [(p.date_from, p.date_to, p.currency) for p in statement.parts] == [
        (DEC.start, dt.date(2025, 12, 31), None),
        (dt.date(2026, 1, 1), DEC.end, "EUR"),
    ]
    note = "summary rows over both sides of 2026-01-01 in one element that names no currency"
    assert [p.summary_note for p in statement.parts] == [note, note]
    assert [p.opening for p in statement.parts] == [Decimal("195.58"), None]
    assert [p.closing for p in statement.parts] == [None, to_euro(Decimal("185.58")) - 1]
    assert statement.verdict == "unverifiable"
    assert [e.record["currency"] for e in statement.entries] == [None, "EUR"]
    assert balances_across(statement) == (Decimal("185.58"), to_euro(Decimal("185.58")))
    label_undecided(statement, "BGN")
    assert [e.record["currency"] for e in statement.entries] == ["BGN", "EUR"]
    assert [p.currency for p in statement.parts] == ["BGN", "EUR"]
    assert not statement.undecided
    assert BalanceChain(None).check(statement) is None  # converted across its parts


def test_one_element_whose_chain_breaks_at_the_changeover_is_caught_between_its_parts():
    rows = [dict(r) for r in MIXED_ROWS]
    rows[2] = entry(21, "2026-01-05T10:00:00+0200", "DT", "1.00", "50.00")
    statement = window_of(DEC, rows, ccy=None)
    label_undecided(statement, "BGN")
    broken = BalanceChain(None).check(statement)
    assert broken is not None and (broken.since, broken.until) == (dt.date(2025, 12, 20), dt.date(2026, 1, 5))


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


def test_a_window_without_any_balance_has_no_first_link_or_last_point():
    assert first_link(bare(MAR)) is None
    assert last_point(bare(MAR)) is None


def test_a_break_names_both_balances_where_posting_order_differs():
    chain = BalanceChain(Point(dt.date(2025, 1, 31), frozenset({Decimal("1.00"), Decimal("2.00")}), "EUR"))
    rows = [
        entry(5, "2025-02-03T10:00:00+0200", "KT", "10.00", "110.00"),
        entry(4, "2025-02-03T11:00:00+0200", "KT", "10.00", "100.00"),
    ]
    broken = chain.check(window_of(FEB, rows))
    assert broken is not None
    assert broken.detail == (
        "the balance was 1.00, 2.00 at the end of 2025-01-31, but the next balance read, on 2025-02-03, "
        "follows from 100.00, 90.00"
    )


def lev_and_euro(rows_before, rows_after, ccy_before=None):
    """Two elements on either side of 2026-01-01, the first without ccy unless given."""
    first = {"stmt": rows_before} if ccy_before is None else {"ccy": ccy_before, "stmt": rows_before}
    return parse_statement({"acc": [first, {"ccy": "EUR", "stmt": rows_after}]}, DEC, IBAN, "1", "EUR")


def test_summary_rows_alone_show_the_balances_on_either_side_of_the_changeover():
    before = [
        summary("OP", "195.58", "2025-12-15T00:00:00+0200"),
        summary("DT", "0.00", "2025-12-31T23:59:59+0200"),
        summary("CT", "0.00", "2025-12-31T23:59:59+0200"),
        summary("CL", "195.58", "2025-12-31T23:59:59+0200"),
    ]
    after = [
        summary("OP", "100.00", "2026-01-01T00:00:00+0200"),
        summary("DT", "0.00", "2026-01-13T23:59:59+0200"),
        summary("CT", "0.00", "2026-01-13T23:59:59+0200"),
        summary("CL", "100.00", "2026-01-13T23:59:59+0200"),
    ]
    statement = lev_and_euro(before, after)
    assert [p.currency for p in statement.parts] == [None, "EUR"]
    assert balances_across(statement) == (Decimal("195.58"), Decimal("100.00"))
    only_open = [summary("OP", "195.58", "2025-12-15T00:00:00+0200")]
    only_close = [summary("CL", "100.00", "2026-01-13T23:59:59+0200")]
    assert balances_across(lev_and_euro(only_open, only_close)) == (Decimal("195.58"), Decimal("100.00"))
    assert balances_across(bare(DEC)) == (None, None)


def test_only_unnamed_parts_before_2026_are_labelled_and_each_of_them():
    named = [
        summary("OP", "1.00", "2025-12-15T00:00:00+0200"),
        entry(1, "2025-12-16T10:00:00+0200", "KT", "1.00", "2.00"),
    ]
    unnamed = [
        summary("OP", "2.00", "2025-12-20T00:00:00+0200"),
        entry(2, "2025-12-21T10:00:00+0200", "KT", "1.00", "3.00"),
    ]
    statement = parse_statement(
        {"acc": [{"ccy": "USD", "stmt": named}, {"stmt": unnamed}, {"stmt": unnamed[:1]}]},
        Window(dt.date(2025, 12, 1), dt.date(2025, 12, 30)),
        IBAN,
        "1",
        "EUR",
    )
    label_undecided(statement, "BGN")
    assert [p.currency for p in statement.parts] == ["USD", "BGN", "BGN"]
    assert [e.record["currency"] for e in statement.entries] == ["USD", "BGN"]
    assert not any(p.undecided for p in statement.parts)


def test_a_split_element_keeps_its_summary_rows_counted_and_what_the_bank_sent_outside():
    rows = [*MIXED_ROWS, entry(30, "2026-02-20T10:00:00+0200", "KT", "1.00", "1.00")]  # outside the window
    statement = window_of(DEC, rows, ccy=None)
    assert [p.summary_rows for p in statement.parts] == [4, 4]
    assert [p.outside for p in statement.parts] == [1, 1]
    empty = window_of(DEC, [MIXED_ROWS[0], MIXED_ROWS[-1]], ccy=None)
    assert len(empty.parts) == 2 and not empty.bare


def test_a_plan_that_ends_in_2025_looks_past_its_end_for_the_first_balance_of_2026():
    plan = [Window(dt.date(2025, 11, 15), dt.date(2025, 12, 14))]
    read: list[Window] = []

    def probe(window: Window) -> Statement | None:
        read.append(window)
        return (
            window_of(DEC, MIXED_ROWS, ccy=None)
            if window == Window(dt.date(2025, 12, 15), dt.date(2026, 1, 13))
            else None
        )

    assert decide_before(probe, plan, 30, dt.date(2026, 2, 1)) == ("BGN", "")
    assert read == [Window(dt.date(2025, 12, 15), dt.date(2026, 1, 13))] * 2 or read[0] == plan[0]


def test_no_balance_of_2026_near_the_changeover_is_named_as_such():
    before_only = window_of(
        Window(dt.date(2025, 11, 15), dt.date(2025, 12, 14)),
        [summary("OP", "5.00", "2025-11-15T00:00:00+0200")],
        ccy=None,
    )
    decided, why = decide_before(lambda w: before_only, [before_only.window], 30, dt.date(2025, 12, 14))
    assert decided is None
    assert why == "its statements name no currency and no balance of 2026 near the changeover could be read"


def test_the_search_for_a_balance_stops_after_a_year_each_way():
    plan = list(windows(dt.date(2024, 1, 1), dt.date(2027, 6, 4), 30))
    read: list[Window] = []

    def probe(window: Window) -> Statement | None:
        read.append(window)
        return None

    decide_before(probe, plan, 30, dt.date(2027, 6, 4))
    assert len(read) == 2 * 13


def test_a_credit_first_in_2026_opens_at_its_balance_less_the_credit():
    rows = [dict(r) for r in MIXED_ROWS]
    euro = to_euro(Decimal("185.58"))
    rows[2] = entry(21, "2026-01-01T10:00:00+0200", "KT", "1.00", str(euro + 1))
    statement = window_of(DEC, rows, ccy=None)
    assert balances_across(statement) == (Decimal("185.58"), euro)
    assert [p.date_to for p in statement.parts] == [dt.date(2025, 12, 31), DEC.end]


def test_an_element_without_ccy_whose_last_summary_day_is_in_2025_is_still_split_by_its_entries():
    rows = [dict(r) for r in MIXED_ROWS]
    rows[-1] = summary("CL", str(to_euro(Decimal("185.58")) - 1), "2025-12-31T23:59:59+0200")
    statement = window_of(DEC, rows, ccy=None)
    assert [(p.date_from, p.date_to, p.currency) for p in statement.parts] == [
        (DEC.start, dt.date(2025, 12, 31), None),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1), "EUR"),
    ]
    assert [e.record["currency"] for e in statement.entries] == [None, "EUR"]


def test_a_window_starting_on_the_changeover_of_an_account_without_a_listed_currency_is_not_labelled():
    january = Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30))
    statement = parse_statement(
        {"acc": [{"stmt": [entry(9, "2026-01-01T10:00:00+0200", "KT", "1.00", "1.00")]}]},
        january,
        IBAN,
        "1",
        None,
    )
    label_undecided(statement, "BGN")
    assert [p.currency for p in statement.parts] == [None]
    assert [e.record["currency"] for e in statement.entries] == [None]


def test_the_search_reads_backwards_from_the_last_window_of_2025_and_forwards_from_the_changeover():
    plan = list(windows(dt.date(2024, 7, 10), dt.date(2027, 6, 4), 30))  # a window starts on 2026-01-01
    assert any(w.start == dt.date(2026, 1, 1) for w in plan)
    read: list[Window] = []

    def probe(window: Window) -> Statement | None:
        read.append(window)
        return None

    decide_before(probe, plan, 30, dt.date(2027, 6, 4))
    assert read[0].end == dt.date(2025, 12, 31) and read[13].start == dt.date(2026, 1, 1)
    assert [w.start for w in read[:13]] == sorted((w.start for w in read[:13]), reverse=True)


def test_past_a_plan_that_ends_in_2025_the_search_uses_the_walks_window_size():
    plan = [Window(dt.date(2025, 12, 1), dt.date(2025, 12, 10))]
    read: list[Window] = []

    def probe(window: Window) -> Statement | None:
        read.append(window)
        return None

    decide_before(probe, plan, 10, dt.date(2026, 1, 25))
    assert Window(dt.date(2026, 1, 10), dt.date(2026, 1, 19)) in read
    assert all(w.days <= 10 for w in read)


def parts_only(*parts):
    """A statement of the given (window, rows) elements without ccy, of an account listed in euro."""
    window = Window(min(w.start for w, _ in parts), max(w.end for w, _ in parts))
    return parse_statement({"acc": [{"stmt": rows} for _, rows in parts]}, window, IBAN, "1", "EUR")


def test_without_entries_the_balance_of_2025_is_a_closing_in_2025_else_an_opening():
    ends_2025 = (
        Window(dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
        [
            summary("OP", "10.00", "2025-12-01T00:00:00+0200"),
            summary("CL", "11.00", "2025-12-31T23:59:59+0200"),
        ],
    )
    assert balances_across(parts_only(ends_2025))[0] == Decimal("11.00")
    across = Window(dt.date(2025, 12, 3), dt.date(2026, 1, 1))
    rows = [
        summary("OP", "10.00", "2025-12-03T00:00:00+0200"),
        summary("CL", "11.00", "2026-01-01T23:59:59+0200"),
    ]
    named = parse_statement({"acc": [{"ccy": "EUR", "stmt": rows}]}, across, IBAN, "1", "EUR")
    assert balances_across(named)[0] == Decimal("10.00")  # it ends in 2026: its opening


def test_without_entries_the_balance_2026_opens_at_is_an_opening_in_2026_else_a_closing():
    starts_2026 = parse_statement(
        {
            "acc": [
                {
                    "ccy": "EUR",
                    "stmt": [
                        summary("OP", "100.00", "2026-01-01T00:00:00+0200"),
                        summary("CL", "101.00", "2026-01-30T23:59:59+0200"),
                    ],
                }
            ]
        },
        Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30)),
        IBAN,
        "1",
        "EUR",
    )
    assert balances_across(starts_2026)[1] == Decimal("100.00")
    no_opening = parse_statement(
        {"acc": [{"ccy": "EUR", "stmt": [summary("CL", "101.00", "2026-01-30T23:59:59+0200")]}]},
        Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30)),
        IBAN,
        "1",
        "EUR",
    )
    assert balances_across(no_opening)[1] == Decimal("101.00")


def test_a_window_ending_on_the_first_day_of_2026_is_searched_for_the_first_balance_of_2026():
    plan = [Window(dt.date(2025, 12, 3), dt.date(2026, 1, 1))]
    rows = [
        entry(1, "2025-12-10T10:00:00+0200", "KT", "195.58", "195.58"),
        entry(2, "2026-01-01T10:00:00+0200", "KT", "1.00", "101.00"),
    ]
    statement = window_of(plan[0], rows, ccy=None)
    assert decide_before(lambda w: statement if w == plan[0] else None, plan, 30, dt.date(2026, 1, 1)) == (
        "BGN",
        "",
    )


def test_labelled_parts_are_neither_unnamed_nor_undecided():
    statement = window_of(DEC, MIXED_ROWS, ccy=None)
    label_undecided(statement, "EUR")
    assert [(p.unnamed, p.undecided) for p in statement.parts] == [(False, False), (False, False)]
    assert all(p.undecided is False for p in statement.parts)


def test_a_points_state_says_the_balance_at_the_end_of_the_day_before_it():
    point = last_point(window_of(FEB, FEB_ROWS))
    assert point is not None and point.opening == Decimal("100.00")
    assert point.as_state() == {
        "day": "2025-02-20",
        "balance": "70.00",
        "currency": "EUR",
        "before": {"day": "2025-02-19", "balance": "100.00", "currency": "EUR"},
    }
    proven = window_of(FEB, PROVEN_FEB_ROWS)
    assert last_point(proven) == Point(
        dt.date(2025, 2, 28), frozenset({Decimal("70.00")}), "EUR", whole_day=True
    )
    assert first_link(proven) is not None and first_link(proven).openings == {Decimal("0.00")}


def test_a_window_with_only_proven_summary_rows_links_and_ends_at_them_in_its_currency():
    rows = [
        summary("OP", "5.00"),
        summary("DT", "0.00"),
        summary("CT", "0.00"),
        summary("CL", "5.00", "2025-02-28T00:00:00+0200"),
    ]
    quiet = window_of(FEB, rows, ccy="BGN", listed="BGN")
    link, point = first_link(quiet), last_point(quiet)
    assert link is not None and (link.day, link.openings, link.currency) == (
        FEB.start,
        {Decimal("5.00")},
        "BGN",
    )
    assert point is not None and (point.day, point.currency, point.whole_day) == (FEB.end, "BGN", True)
    unproven = window_of(FEB, rows[:1], ccy="BGN", listed="BGN")  # OP alone proves nothing
    assert first_link(unproven) is None and last_point(unproven) is None


@pytest.mark.parametrize(
    ("currency", "day", "expected"),
    [
        ("BGN", dt.date(2026, 1, 5), {Decimal("100.00")}),  # converted
        (None, dt.date(2026, 1, 5), {Decimal("195.58"), Decimal("100.00")}),  # either
        ("EUR", dt.date(2026, 1, 5), {Decimal("195.58")}),  # continues
        ("BGN", dt.date(2025, 12, 31), {Decimal("195.58")}),  # not yet across
    ],
)
def test_what_may_follow_a_balance_across_the_changeover(currency, day, expected):
    point = Point(dt.date(2025, 12, 20), frozenset({Decimal("195.58")}), currency)
    assert point.expected(day, "EUR") == expected
    assert point.expected(day, "BGN") == {Decimal("195.58")}  # a lev statement after it: no conversion


def test_a_balance_on_the_first_day_of_2026_after_one_on_the_last_of_2025_is_across():
    point = Point(dt.date(2025, 12, 31), frozenset({Decimal("195.58")}), "BGN")
    assert point.expected(dt.date(2026, 1, 1), "EUR") == {Decimal("100.00")}
    on_the_day = Point(dt.date(2026, 1, 1), frozenset({Decimal("100.00")}), "EUR")
    assert on_the_day.expected(dt.date(2026, 1, 2), "EUR") == {Decimal("100.00")}


def test_after_the_first_window_the_stored_point_no_longer_excuses_days_read_again():
    stored = Point(dt.date(2025, 2, 1), frozenset({Decimal("0.00")}), "EUR")
    chain = BalanceChain(stored)
    chain.advance(window_of(FEB, FEB_ROWS))  # up to 2025-02-20
    same_day = window_of(FEB, [entry(3, "2025-02-20T12:00:00+0200", "KT", "5.00", "99.00")])
    assert chain.check(same_day) is not None


def test_within_a_window_a_later_part_is_checked_against_the_earlier_part_not_the_stored_point():
    stored = Point(dt.date(2025, 12, 25), frozenset({Decimal("1.00")}), "BGN")
    rows = [dict(r) for r in MIXED_ROWS]
    rows[2] = entry(21, "2025-12-24T10:00:00+0200", "DT", "1.00", "184.58")  # before the stored day
    statement = window_of(DEC, rows, ccy="BGN", listed="BGN")
    assert BalanceChain(stored).check(statement) is None  # days the stored point covers: read again


def test_a_closing_the_summary_rows_do_not_prove_is_not_a_point_but_the_last_entry_is():
    rows = [
        summary("OP", "0.00"),
        *FEB_ROWS,
        summary("DT", "1.00"),
        summary("CT", "1.00"),
        summary("CL", "9.00"),
    ]
    doubtful = window_of(FEB, rows)
    assert not doubtful.parts[0].trusted
    point = last_point(doubtful)
    assert point is not None and point.balances == {Decimal("70.00")} and not point.whole_day


def test_a_day_whose_first_entry_has_no_balance_says_no_balance_before_it():
    rows = [
        {**entry(1, "2025-02-03T10:00:00+0200", "KT", "1.00", "1.00"), "acBal": None},
        entry(2, "2025-02-03T11:00:00+0200", "KT", "1.00", "2.00"),
    ]
    point = last_point(window_of(FEB, rows))
    assert point is not None and point.opening is None and "before" not in point.as_state()


def test_a_lev_balance_dated_in_2026_is_not_converted_again():
    point = Point(dt.date(2026, 1, 1), frozenset({Decimal("195.58")}), "BGN")
    assert point.expected(dt.date(2026, 1, 5), "EUR") == {Decimal("195.58")}


def test_a_part_ending_on_the_first_day_of_2026_gives_its_closing_as_the_balance_2026_opens_at():
    across = Window(dt.date(2025, 12, 3), dt.date(2026, 1, 1))
    rows = [
        summary("OP", "10.00", "2025-12-03T00:00:00+0200"),
        summary("CL", "11.00", "2026-01-01T23:59:59+0200"),
    ]
    named = parse_statement({"acc": [{"ccy": "EUR", "stmt": rows}]}, across, IBAN, "1", "EUR")
    assert balances_across(named) == (Decimal("10.00"), Decimal("11.00"))


def proven(first: str, last: str, opening: str, closing: str):
    return [
        summary("OP", opening, f"{first}T00:00:00+0200"),
        summary("DT", "0.00", f"{last}T23:59:59+0200"),
        summary("CT", "0.00", f"{last}T23:59:59+0200"),
        summary("CL", closing, f"{last}T23:59:59+0200"),
    ]


def test_between_parts_without_a_currency_and_outside_the_changeover_nothing_is_converted():
    window = Window(dt.date(2025, 3, 1), dt.date(2025, 3, 30))
    elements = [
        {"stmt": proven("2025-03-01", "2025-03-10", "195.58", "195.58")},
        {"stmt": proven("2025-03-11", "2025-03-30", "100.00", "100.00")},
    ]
    statement = parse_statement({"acc": elements}, window, IBAN, "1", None)
    assert statement.problems  # 100.00 is 195.58 converted, but nothing changed currency here


def test_a_lev_part_ending_on_the_first_day_of_2026_is_followed_unconverted():
    window = Window(dt.date(2025, 12, 3), dt.date(2026, 1, 30))
    elements = [
        {"ccy": "BGN", "stmt": proven("2025-12-03", "2026-01-01", "195.58", "195.58")},
        {"ccy": "EUR", "stmt": proven("2026-01-02", "2026-01-30", "195.58", "195.58")},
    ]
    statement = parse_statement({"acc": elements}, window, IBAN, "1", "EUR")
    assert statement.problems == []


def test_a_stored_point_with_a_currency_that_is_not_text_has_none():
    point = stored_point({"chain": {"day": "2025-02-20", "balance": "70.00", "currency": 5}})
    assert point is not None and point.currency is None


def test_an_unnamed_element_starting_on_the_changeover_is_euro():
    january = Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30))
    statement = window_of(january, [entry(9, "2026-01-02T10:00:00+0200", "KT", "1.00", "1.00")], ccy=None)
    assert [(p.currency, p.unnamed, p.undecided) for p in statement.parts] == [("EUR", False, False)]


@pytest.mark.parametrize(
    ("closing_day", "entry_day"),
    [
        ("2026-01-01T23:59:59+0200", "2025-12-10T10:00:00+0200"),
        ("2025-12-31T23:59:59+0200", "2026-01-01T10:00:00+0200"),
    ],
)
def test_an_unnamed_element_reaching_the_first_day_of_2026_is_split(closing_day, entry_day):
    across = Window(dt.date(2025, 12, 3), dt.date(2026, 1, 1))
    rows = [summary("OP", "0.00", "2025-12-03T00:00:00+0200"), entry(1, entry_day, "KT", "1.00", "1.00")]
    statement = window_of(across, [*rows, summary("CL", "1.00", closing_day)], ccy=None)
    assert [p.currency for p in statement.parts] == [None, "EUR"]
