"""One account's walk, in process: which windows are asked, how often, and which can be trusted.

The tap's subprocess tests (test_variants, test_faults, test_bookmark_safety) prove the same
behaviours end to end, but mutation testing can only tie a mutant to tests that call the mutated
function in process. Here a real `Run` with a real `BankClient` walks real sandbox accounts over
HTTP; what the walk yields is compared with the sandbox's truth and what it asked with its
counters. Dates are fixed days in the past (with `end_date`), so the data never depends on today.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from fibank_sandbox import Sandbox
from fibank_sandbox.replay import ReplaySandbox
from fibank_sandbox.shape import Shape
from tap_fibank.bank.client import BankClient
from tap_fibank.bank.clock import sofia_today
from tap_fibank.errors import StatementMismatchError, StoppedError
from tap_fibank.privacy import mask_iban
from tap_fibank.proof.statement import Statement
from tap_fibank.walk.account import AccountWalker, Step, _opening_balance, summarize
from tap_fibank.walk.ahead import Ahead, ReadAhead
from tap_fibank.walk.bookmarks import stored_partition
from tap_fibank.walk.in_order import fetch_in_order
from tap_fibank.walk.plan import WalkSettings, account_plan, walk_range
from tap_fibank.walk.read_ahead import read_ahead, read_window
from tap_fibank.walk.run import Run
from tap_fibank.walk.window_cache import WindowCache
from tap_fibank.walk.windows import Window

BUSY = "BG47FINV91501017006644"  # EUR, opened 2016-03-14, entries most days
CONVERTED = "BG52FINV91501017006651"  # BGN until 2026-01-01, then EUR
USD = "BG56FINV91501017103288"  # opened 2017-05-02, a few entries a month
BROKEN = "BG88FINV91501011884306"  # every statement answers 500
ENDPOINT = "GetCustBal"
SPRING = dt.date(2024, 3, 1)


def customer_of(bank: Sandbox, iban: str) -> str:
    return next(a.customer_id for a in bank.accounts if a.iban == iban)


@contextmanager
def opened_run(
    bank: Sandbox,
    start: dt.date,
    end: dt.date | None,
    *,
    max_retries: int = 0,
    prefetch: int = 2,
    workers: int = 2,
    strict: bool = False,
    backoff_base: float = 0.001,
    check_stop: Callable[[], None] = lambda: None,
    state_for: Callable[[dict[str, str]], dict[str, Any]] | None = None,
) -> Iterator[Run]:
    """A run as the tap builds it (tap.py), reading `bank`, closed at the end."""
    client = BankClient(
        base_url=bank.base_url,
        username=bank.username,
        password=bank.password,
        timeout=10,
        max_retries=max_retries,
        pool_size=workers + 1,
        backoff_base=backoff_base,
    )
    settings = WalkSettings(
        start_date=start, end_date=end, lookback_days=0, window_days=30, strict=strict, prefetch=prefetch
    )
    executor = ThreadPoolExecutor(max_workers=workers)
    run = Run(
        client,
        executor,
        settings,
        check_stop,
        login="login-test",
        window_cache=WindowCache(wanted=True),
        ahead=ReadAhead(state_for),
    )
    try:
        yield run
    finally:
        client.close()
        executor.shutdown(wait=True, cancel_futures=True)


def walk(run: Run, bank: Sandbox, iban: str, state: dict[str, Any] | None = None) -> list[Step]:
    return list(AccountWalker(run, customer_of(bank, iban), iban, {} if state is None else state).steps())


def plan_of(start: dt.date, end: dt.date) -> list[Window]:
    """30-day windows from `start`, the last cut at `end`: written out here, not taken from windows.py."""
    plan = []
    while start <= end:
        last = min(start + dt.timedelta(days=29), end)
        plan.append(Window(start, last))
        start = last + dt.timedelta(days=1)
    return plan


def test_the_plans_expected_here_are_thirty_day_windows_from_the_first_day():
    assert plan_of(SPRING, dt.date(2024, 5, 15)) == [
        Window(dt.date(2024, 3, 1), dt.date(2024, 3, 30)),
        Window(dt.date(2024, 3, 31), dt.date(2024, 4, 29)),
        Window(dt.date(2024, 4, 30), dt.date(2024, 5, 15)),
    ]
    assert plan_of(SPRING, SPRING) == [Window(SPRING, SPRING)]


def asked(bank: Sandbox, iban: str) -> Counter[Window]:
    """How many times each window of `iban` was asked of the bank."""
    return Counter(
        Window(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
        for who, first, last in bank.counters()["statement_ranges"]
        if who == iban
    )


def read_entries(steps: list[Step]) -> list[tuple[int, str, Decimal, Decimal | None]]:
    return [
        (e.sort_key[1], e.direction, e.amount, e.balance_after) for s in steps for e in s.statement.entries
    ]


def truth(bank: Sandbox, iban: str, start: dt.date, end: dt.date) -> list[tuple[int, str, Decimal, Decimal]]:
    return [
        (e.entry_id, e.direction, e.amount, e.balance_after)
        for e in bank.truth()[iban]
        if start <= e.booking_date <= end
    ]


def spans(steps: list[Step]) -> list[tuple[Window, bool]]:
    return [(s.statement.window, s.verified) for s in steps]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The walk's and the run report's warnings (not the client's about its retries)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name in ("tap_fibank", "tap_fibank.walk")
    ]


# -- a healthy account ---------------------------------------------------------------------------


def test_a_healthy_account_yields_every_window_in_order_each_verified_with_the_banks_entries(sandbox):
    end = SPRING + dt.timedelta(days=100)
    plan = plan_of(SPRING, end)
    with opened_run(sandbox, SPRING, end) as run:
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(w, True) for w in plan]
        assert read_entries(steps) == truth(sandbox, BUSY, SPRING, end)
        assert all(s.statement.verdict == "balanced" for s in steps)
        assert asked(sandbox, BUSY) == Counter(plan), "each window asked exactly once"
        assert run.report.skipped == [] and run.report.unbalanced == [] and run.report.unverifiable == {}
    owner = customer_of(sandbox, BUSY)
    assert {e.record["customer_id"] for s in steps for e in s.statement.entries} == {owner}


def test_every_statement_call_sends_the_connectors_statement_type_and_psd2_flag(sandbox):
    end = SPRING + dt.timedelta(days=40)
    with opened_run(sandbox, SPRING, end) as run:
        walk(run, sandbox, BUSY)
    assert sandbox.counters()["statement_options"] == [{"StmtType": "T", "isAccountFromPSD2": "false"}]


def test_a_walk_of_one_window_asks_it_once_and_of_two_reuses_both_first_reads(sandbox):
    with opened_run(sandbox, SPRING, SPRING + dt.timedelta(days=9)) as run:
        assert spans(walk(run, sandbox, BUSY)) == [(Window(SPRING, SPRING + dt.timedelta(days=9)), True)]
    assert sum(asked(sandbox, BUSY).values()) == 1
    sandbox.reset_counters()
    end = SPRING + dt.timedelta(days=40)
    with opened_run(sandbox, SPRING, end) as run:
        assert spans(walk(run, sandbox, BUSY)) == [(w, True) for w in plan_of(SPRING, end)]
    assert asked(sandbox, BUSY) == Counter(plan_of(SPRING, end))


def test_a_walk_that_starts_after_its_end_asks_nothing(sandbox):
    with opened_run(sandbox, SPRING, SPRING - dt.timedelta(days=1)) as run:
        assert walk(run, sandbox, BUSY) == []
    assert sandbox.counters()["statement_ranges"] == []


def test_a_walk_resumes_the_day_after_its_bookmark(sandbox):
    end = SPRING + dt.timedelta(days=70)
    with opened_run(sandbox, SPRING, end) as run:
        steps = walk(run, sandbox, BUSY, {"walked_through": (SPRING + dt.timedelta(days=39)).isoformat()})
    resumed = SPRING + dt.timedelta(days=40)
    assert spans(steps) == [(w, True) for w in plan_of(resumed, end)]
    assert read_entries(steps) == truth(sandbox, BUSY, resumed, end)


def test_the_changeover_windows_two_parts_chain_from_the_window_before(sandbox):
    start, end = dt.date(2025, 11, 20), dt.date(2026, 2, 10)
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, CONVERTED)
        assert [len(s.statement.parts) for s in steps] == [1, 2, 1]
        assert spans(steps) == [(w, True) for w in plan_of(start, end)]
        assert read_entries(steps) == truth(sandbox, CONVERTED, start, end)
        assert run.report.unbalanced == []


def test_a_window_summary_keeps_its_records_span_and_trust_but_no_entries(sandbox):
    start, end = dt.date(2025, 12, 10), dt.date(2026, 1, 8)
    with opened_run(sandbox, start, end) as run:
        (step,) = walk(run, sandbox, CONVERTED)
    customer = customer_of(sandbox, CONVERTED)
    summary = summarize(step, CONVERTED, customer)
    assert summary.window == Window(start, end) and summary.verified is True
    assert summary.records == [part.summary(CONVERTED, customer) for part in step.statement.parts]
    assert [r["currency"] for r in summary.records] == ["BGN", "EUR"]
    assert summarize(Step(step.statement, verified=False), CONVERTED, customer).verified is False


# -- an account that does not answer -------------------------------------------------------------


@pytest.mark.parametrize("max_retries", [0, 1])
def test_a_broken_account_yields_nothing_skips_once_and_costs_its_newest_window_and_retries(
    sandbox, max_retries
):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    newest = plan_of(start, end)[-1]
    with opened_run(sandbox, start, end, max_retries=max_retries) as run:
        assert walk(run, sandbox, BROKEN) == []
        tries = 1 + max_retries
        assert asked(sandbox, BROKEN) == Counter({newest: tries})  # nothing read ahead: no state to plan
        assert run.report.skipped == [
            f"account {mask_iban(BROKEN)} from {start} ({ENDPOINT}: HTTP 500, {tries} attempts, even for "
            f"its newest days {newest}); its bookmark stays where it was and the next run tries again"
        ]


@pytest.mark.parametrize(("max_retries", "calls"), [(0, 2), (1, 3), (2, 4)])
def test_a_broken_account_walked_as_the_tap_walks_it_costs_its_newest_tries_and_one_try_at_its_oldest(
    sandbox, max_retries, calls
):
    """Read ahead, as in a run: the oldest window's single try goes out beside the newest's."""
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    oldest, newest = Window(start, dt.date(2024, 1, 30)), Window(dt.date(2024, 6, 29), end)
    with opened_run(sandbox, start, end, max_retries=max_retries, state_for=lambda c: {}) as run:
        run.ahead.expect([(customer_of(sandbox, BROKEN), BROKEN)])
        assert walk(run, sandbox, BROKEN) == []
        run.executor.shutdown(wait=True)
    assert asked(sandbox, BROKEN) == Counter({newest: 1 + max_retries, oldest: 1})
    assert sum(asked(sandbox, BROKEN).values()) == calls
    assert len(run.report.skipped) == 1


# -- where the history starts --------------------------------------------------------------------


def test_windows_before_the_account_opened_that_fail_are_found_by_single_tries_and_walked_as_one_empty_step(
    sandbox, caplog
):
    sandbox.faults.before_opening = "500"
    start, end = dt.date(2017, 1, 1), dt.date(2017, 8, 31)  # USD opened 2017-05-02, at 0
    plan = plan_of(start, end)
    assert plan[4].start <= dt.date(2017, 5, 2) <= plan[4].end and len(plan) == 9
    with opened_run(sandbox, start, end, max_retries=1) as run:
        steps = walk(run, sandbox, USD)
        assert spans(steps) == [(Window(start, plan[3].end), True)] + [(w, True) for w in plan[4:]]
        assert steps[0].statement.parts == []
        assert read_entries(steps) == truth(sandbox, USD, start, end)
        assert run.report.skipped == []
    # The oldest, then halves: 4 answers, 2 and 3 fail; 3 is confirmed with every retry.
    assert asked(sandbox, USD) == Counter(
        {plan[0]: 1, plan[2]: 1, plan[3]: 1 + 2, plan[4]: 1, plan[5]: 1, plan[6]: 1, plan[7]: 1, plan[8]: 1}
    )
    assert warnings_of(caplog) == [
        f"Account {mask_iban(USD)}: the bank fails every statement window before {plan[4].start} and the "
        f"first one that answers opens at 0, so its history starts there; {start}..{plan[3].end} is walked "
        "as empty."
    ]


@pytest.mark.parametrize("end", [dt.date(2017, 5, 30), dt.date(2017, 7, 31)], ids=["2-windows", "5-windows"])
def test_a_single_window_before_the_opening_is_found_and_confirmed(sandbox, end):
    sandbox.faults.before_opening = "500"
    start = dt.date(2017, 4, 1)  # USD opened 2017-05-02: only the first window is wholly before
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, max_retries=1) as run:
        steps = walk(run, sandbox, USD)
        assert spans(steps) == [(plan[0], True)] + [(w, True) for w in plan[1:]]
        assert steps[0].statement.parts == [] and run.report.skipped == []
    assert asked(sandbox, USD) == Counter({**Counter(plan), plan[0]: 1 + 2})


def test_only_the_newest_window_answering_is_found_by_halving(sandbox):
    sandbox.faults.before_opening = "500"
    start, end = dt.date(2017, 1, 1), dt.date(2017, 5, 10)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, USD)
        assert spans(steps) == [(Window(start, plan[3].end), True), (plan[4], True)]
    assert asked(sandbox, USD) == Counter({plan[0]: 1, plan[2]: 1, plan[3]: 2, plan[4]: 1})


def test_the_empty_history_is_warned_once_per_account_however_often_it_is_walked(sandbox, caplog):
    sandbox.faults.before_opening = "400"
    start, end = dt.date(2017, 3, 1), dt.date(2019, 7, 31)
    deposit = next(a.iban for a in sandbox.accounts if "no_entries" in a.tags)  # opened 2019-06-03
    with opened_run(sandbox, start, end) as run:
        first = walk(run, sandbox, USD)
        again = walk(run, sandbox, USD)
        later = walk(run, sandbox, deposit, {"walked_through": "2019-03-31"})
    assert spans(first) == spans(again) and all(verified for _, verified in spans(first) + spans(later))
    assert [m.split(":")[0] for m in warnings_of(caplog)] == [
        f"Account {mask_iban(i)}" for i in (USD, deposit)
    ]


def test_a_first_answer_that_does_not_open_at_zero_is_where_the_served_history_starts_and_is_kept(
    sandbox, caplog
):
    sandbox.faults.before_opening = "500"
    start, end = dt.date(2016, 1, 1), dt.date(2016, 6, 30)  # BUSY opened 2016-03-14
    plan = plan_of(start, end)
    assert plan[2].start <= dt.date(2016, 3, 14) <= plan[2].end
    sandbox.faults.failing_window_start = plan[2].start.isoformat()  # its opening window fails too
    opening = next(e for e in reversed(sandbox.truth()[BUSY]) if e.booking_date < plan[3].start).balance_after
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY, state)
        assert spans(steps) == [(Window(start, plan[2].end), True)] + [(w, True) for w in plan[3:]]
        assert read_entries(steps) == truth(sandbox, BUSY, plan[3].start, end)
        assert run.report.skipped == []
        assert run.report.served == {
            mask_iban(BUSY): f"from {plan[3].start} (opening balance {opening} carried)"
        }
    assert state["served_from"] == plan[3].start.isoformat()
    assert state["served_probed"] == sofia_today().isoformat()
    assert opening > 0 and not any("walked as empty" in m for m in warnings_of(caplog))


def test_a_boundary_window_that_fails_once_is_confirmed_with_every_retry_and_the_walk_starts_at_the_first(
    sandbox,
):
    start, end = SPRING, SPRING + dt.timedelta(days=40)
    plan = plan_of(start, end)
    customer = customer_of(sandbox, BUSY)
    with opened_run(sandbox, start, end, max_retries=1) as run:
        newest = run.executor.submit(read_window, run, customer, BUSY, plan[-1])
        newest.exception()
        run.ahead.started[BUSY] = Ahead(customer, BUSY, plan, {plan[-1]: newest})
        sandbox.fail_next("5xx", count=1, endpoint=ENDPOINT)  # the single try at the oldest
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(w, True) for w in plan]
        assert read_entries(steps) == truth(sandbox, BUSY, start, end)
    assert asked(sandbox, BUSY) == Counter({plan[0]: 1, plan[1]: 1})  # the 5xx is not counted as asked
    assert sandbox.counters()["faults"]["5xx"] == 1


# -- windows that fail ---------------------------------------------------------------------------


def test_a_window_that_keeps_failing_is_a_gap_and_everything_after_it_is_read_but_unverified(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=110)
    plan = plan_of(start, end)
    sandbox.faults.failing_window_start = plan[1].start.isoformat()
    with opened_run(sandbox, start, end, max_retries=1) as run:
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], True), (plan[1], False), (plan[2], False), (plan[3], False)]
        assert steps[1].statement.parts == []
        assert read_entries(steps) == [
            e
            for e in truth(sandbox, BUSY, start, end)
            if e not in truth(sandbox, BUSY, plan[1].start, plan[1].end)
        ]
        assert run.report.skipped == [
            f"account {mask_iban(BUSY)} for {plan[1]} ({ENDPOINT}: HTTP 500, 2 attempts); its entries were "
            "not read, and its bookmark stays before it so the next run reads it again"
        ]
    assert asked(sandbox, BUSY) == Counter({plan[0]: 1, plan[1]: 2, plan[2]: 1, plan[3]: 1})
    assert run.report.unbalanced == [], "the window after a gap is not proven incomplete by the gap"


def test_with_strict_statements_a_window_that_keeps_failing_is_still_a_gap_not_a_mismatch(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.failing_window_start = plan[1].start.isoformat()
    with opened_run(sandbox, start, end, strict=True) as run:
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], True), (plan[1], False), (plan[2], False)]
        assert [line.split(" (")[0] for line in run.report.skipped] == [
            f"account {mask_iban(BUSY)} for {plan[1]}"
        ]


def read_first_and_newest_ahead(run: Run, bank: Sandbox, iban: str) -> None:
    """The account's first reads started ahead of its walk, and waited for."""
    run.ahead.expect([(customer_of(bank, iban), iban)])
    read_ahead(run)
    for read in run.ahead.started[iban].reads.values():
        read.exception()


def test_a_bisection_misled_by_passing_failures_walks_from_the_first_window_and_counts_its_gap(sandbox):
    """The walk's first window then failed its probe, so it is no answer at hand: it can be the
    walk's first gap, which alone must not end the walk."""
    start, end = SPRING, SPRING + dt.timedelta(days=110)
    plan = plan_of(start, end)
    sandbox.faults.failing_window_start = plan[0].start.isoformat()
    with opened_run(sandbox, start, end, workers=1, state_for=lambda context: {}) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)  # plan[0]'s single try fails
        sandbox.fail_next("5xx", count=2, endpoint=ENDPOINT)  # the probes of plan[1] and plan[2]
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], False), (plan[1], False), (plan[2], False), (plan[3], False)]
        assert read_entries(steps[1:]) == truth(sandbox, BUSY, plan[1].start, end)
        assert len(run.report.skipped) == 1 and f"for {plan[0]}" in run.report.skipped[0]


def test_two_gaps_in_a_row_end_the_walk_with_a_skip_line(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=110)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, state_for=lambda context: {}) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)
        sandbox.fail_next("5xx", count=2, endpoint=ENDPOINT)  # plan[1] and plan[2]
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], True), (plan[1], False)]
        assert [re.sub("HTTP 50[023]", "HTTP 5xx", line) for line in run.report.skipped] == [
            f"account {mask_iban(BUSY)} for {plan[1]} ({ENDPOINT}: HTTP 5xx, 1 attempts); its entries were "
            "not read, and its bookmark stays before it so the next run reads it again",
            f"account {mask_iban(BUSY)} from {plan[2].start} ({ENDPOINT}: HTTP 5xx, 1 attempts, 2 windows in "
            "a row); the next run reads it again from before them",
        ]
    assert asked(sandbox, BUSY) == Counter({plan[0]: 1, plan[3]: 1})  # the 5xx are not counted as asked


def test_a_window_that_answers_between_two_gaps_starts_the_count_again(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=170)
    plan = plan_of(start, end)
    sandbox.faults.failing_window_start = plan[3].start.isoformat()
    with opened_run(sandbox, start, end, workers=1, state_for=lambda context: {}) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)
        sandbox.fail_next("5xx", count=1, endpoint=ENDPOINT)  # plan[1]: the pool asks in order
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], True)] + [(w, False) for w in plan[1:]]
        assert [line.split(" (")[0] for line in run.report.skipped] == [
            f"account {mask_iban(BUSY)} for {plan[1]}",
            f"account {mask_iban(BUSY)} for {plan[3]}",
        ]
        kept = [w for i, w in enumerate(plan) if i not in (1, 3)]
        assert read_entries(steps) == [e for w in kept for e in truth(sandbox, BUSY, w.start, w.end)]


def test_an_empty_answer_read_again_that_answers_starts_the_gap_count_again(sandbox):
    """A gap right after a window read a second time is the first in a row, not the second."""
    start, end = SPRING, SPRING + dt.timedelta(days=170)
    plan = plan_of(start, end)
    sandbox.faults.bare_window_start = plan[1].start.isoformat()  # once: read again, it answers
    sandbox.faults.failing_window_start = plan[3].start.isoformat()
    with opened_run(sandbox, start, end, workers=1) as run:
        steps = walk(run, sandbox, BUSY)
        assert [window for window, _ in spans(steps)] == plan
        skipped = [line.split(" (")[0] for line in run.report.skipped]
        assert skipped == [f"account {mask_iban(BUSY)} for {plan[3]}"]
    assert asked(sandbox, BUSY)[plan[1]] == 2


# -- windows that do not add up ------------------------------------------------------------------


def test_a_window_that_does_not_add_up_is_read_once_more_then_emitted_unverified_and_so_is_the_rest(
    sandbox, caplog
):
    caplog.set_level(logging.INFO, logger="tap_fibank.walk")
    start, end = SPRING, SPRING + dt.timedelta(days=110)
    plan = plan_of(start, end)
    sandbox.faults.truncate_window_start = plan[1].start.isoformat()
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], True), (plan[1], False), (plan[2], False), (plan[3], False)]
        assert [s.statement.verdict for s in steps] == ["balanced", "unbalanced", "balanced", "balanced"]
        assert run.report.unbalanced == [(mask_iban(BUSY), str(plan[1]))]
        missing = set(truth(sandbox, BUSY, start, end)) - set(read_entries(steps))
        assert missing and missing <= set(truth(sandbox, BUSY, plan[1].start, plan[1].end))
    assert asked(sandbox, BUSY) == Counter({plan[0]: 1, plan[1]: 2, plan[2]: 1, plan[3]: 1})
    detail = "; ".join(steps[1].statement.problems)
    messages = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "tap_fibank.walk"]
    assert messages == [
        (
            logging.INFO,
            f"Statement of {mask_iban(BUSY)} for {plan[1]} does not add up; fetching it once more.",
        ),
        (
            logging.WARNING,
            f"The statement of account {mask_iban(BUSY)} for {plan[1]} does not add up ({detail}): its "
            f"entries are emitted, but the bookmark stays before {plan[1].start} so the next run reads it "
            "again.",
        ),
    ]


def test_a_window_that_adds_up_when_read_again_is_verified(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.truncate_window_start = plan[1].start.isoformat()
    windows_judged = []

    def heal_before_the_second_window() -> None:
        windows_judged.append(1)
        if len(windows_judged) == 2:  # the first read of plan[1] has come back truncated
            sandbox.faults.truncate_window_start = ""

    with opened_run(sandbox, start, end, check_stop=heal_before_the_second_window) as run:
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(w, True) for w in plan]
        assert read_entries(steps) == truth(sandbox, BUSY, start, end)
        assert run.report.unbalanced == []
    assert asked(sandbox, BUSY) == Counter({plan[0]: 1, plan[1]: 2, plan[2]: 1})
    assert sandbox.counters()["faults"]["truncated"] == 1


def test_with_strict_statements_a_window_that_does_not_add_up_ends_the_run(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.truncate_window_start = plan[1].start.isoformat()
    with opened_run(sandbox, start, end, strict=True) as run:
        walker = AccountWalker(run, customer_of(sandbox, BUSY), BUSY, {})
        steps = walker.steps()
        assert spans([next(steps)]) == [(plan[0], True)]
        with pytest.raises(StatementMismatchError) as raised:
            next(steps)
    message = str(raised.value)
    assert message.startswith(f"the statement of account {mask_iban(BUSY)} for {plan[1]} does not add up (")
    assert message.endswith("); strict_statements is on")
    assert run.report.unbalanced == []


def test_a_window_that_does_not_open_where_the_one_before_closed_is_unverified(sandbox, caplog):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, state_for=lambda context: {}) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)  # read before the late entry
        sandbox.post_late_entry(BUSY, plan[1].start + dt.timedelta(days=3), Decimal("12.34"), "credit")
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(plan[0], True), (plan[1], True), (plan[2], False)]
        assert [s.statement.verdict for s in steps] == ["balanced"] * 3  # each on its own adds up
        assert run.report.unbalanced == [(mask_iban(BUSY), str(plan[2]))]
    closed, opens = steps[1].statement.parts[0].closing, steps[2].statement.parts[0].opening
    assert closed is not None and opens == closed - Decimal("12.34")
    assert asked(sandbox, BUSY) == Counter(plan), "a chain problem is not read again"
    (warning,) = warnings_of(caplog)
    assert f"does not add up (the balance was {closed} at the end of {plan[1].end}, but the next " in warning
    assert f"on {plan[2].start}, follows from {opens})" in warning
    assert steps[2].hold == plan[2].start


def test_a_window_its_summary_rows_cannot_prove_breaks_the_chain(sandbox, caplog):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, state_for=lambda context: {}) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)
        sandbox.faults.summary_rows = "none"  # only for plan[1]
        steps = walk(run, sandbox, BUSY)
        assert spans(steps) == [(w, True) for w in plan]
        assert [s.statement.verdict for s in steps] == ["balanced", "unverifiable", "balanced"]
        assert run.report.unbalanced == []
        assert run.report.unverifiable == {mask_iban(BUSY): "no summary rows (OP/CL/DT/CT)"}
    first, third = steps[0].statement.parts[0], steps[2].statement.parts[0]
    assert first.closing != third.opening, "the chain from plan[0] would not hold over plan[1]"


# -- what the walk says about an account ---------------------------------------------------------


def test_what_a_statement_notes_is_warned_once_per_account_and_its_doubt_recorded_once(sandbox, caplog):
    sandbox.faults.summary_rows = "none"
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    with opened_run(sandbox, start, end) as run:
        for iban in (BUSY, USD, BUSY):
            steps = walk(run, sandbox, iban)
            assert spans(steps) == [(w, True) for w in plan_of(start, end)]
        note = "its statements come with no summary rows (OP/CL/DT/CT), so they cannot be proven complete"
        assert warnings_of(caplog) == [f"Account {mask_iban(i)}: {note}." for i in (BUSY, USD)]
        assert run.report.unverifiable == {mask_iban(i): "no summary rows (OP/CL/DT/CT)" for i in (BUSY, USD)}


def test_a_window_proven_incomplete_is_not_recorded_as_unverifiable(sandbox):
    sandbox.faults.summary_rows = "none"  # the running balance alone proves the gap
    window = Window(SPRING, SPRING + dt.timedelta(days=20))
    sandbox.faults.truncate_window_start = SPRING.isoformat()
    with opened_run(sandbox, window.start, window.end) as run:
        assert spans(walk(run, sandbox, BUSY)) == [(window, False)]
        assert run.report.unbalanced == [(mask_iban(BUSY), str(window))]
        assert run.report.unverifiable == {}


def test_the_opening_balance_is_the_first_entrys_arithmetic_for_a_credit_or_a_debit(sandbox):
    sandbox.faults.summary_rows = "none"  # no OP row: only the entries can tell
    entries = [e for e in sandbox.truth()[BUSY] if e.booking_date >= SPRING]
    with opened_run(sandbox, SPRING, None) as run:
        for direction in ("credit", "debit"):
            i = next(
                i
                for i in range(1, len(entries))
                if entries[i].direction == direction
                and entries[i].booking_date != entries[i - 1].booking_date
            )
            day = entries[i].booking_date
            statement = read_window(run, customer_of(sandbox, BUSY), BUSY, Window(day, day))
            assert statement.entries[0].direction == direction
            assert statement.parts[0].opening is None
            assert _opening_balance(statement) == entries[i - 1].balance_after


def test_the_opening_balance_without_entries_or_their_balances_is_the_op_row(sandbox):
    quiet = Window(dt.date(2023, 4, 1), dt.date(2023, 4, 30))  # USD has no entries then
    held = next(e for e in reversed(sandbox.truth()[USD]) if e.booking_date < quiet.start).balance_after
    with opened_run(sandbox, quiet.start, quiet.end) as run:
        statement = read_window(run, customer_of(sandbox, USD), USD, quiet)
        busy = read_window(run, customer_of(sandbox, BUSY), BUSY, Window(SPRING, SPRING))
    assert statement.entries == [] and held > 0
    assert _opening_balance(statement) == held
    part = busy.parts[0]
    assert part.opening is not None and part.entries[0].balance_after is not None
    part.entries[0] = part.entries[0]._replace(balance_after=None, amount=part.opening + 1)
    assert _opening_balance(busy) == part.opening
    assert _opening_balance(Statement(quiet, [])) is None


# -- ending the walk early -----------------------------------------------------------------------


def test_a_walk_stopped_between_windows_ends_its_reads_still_waiting_for_a_retry(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.failing_window_start = plan[1].start.isoformat()

    def stop_once_plan_1_failed() -> None:
        deadline = time.monotonic() + 5
        while not asked(sandbox, BUSY)[plan[1]] and time.monotonic() < deadline:
            time.sleep(0.005)
        raise StoppedError(15, "SIGTERM")

    slow_retries = opened_run(
        sandbox, start, end, max_retries=1, backoff_base=4, check_stop=stop_once_plan_1_failed
    )
    with slow_retries as run:
        with pytest.raises(StoppedError):
            walk(run, sandbox, BUSY)
        # The client stays open: a read still waiting would retry once its backoff is over, and
        # the pool is only shut down after it.
        run.executor.shutdown(wait=True)
    assert asked(sandbox, BUSY)[plan[1]] == 1, "a read waited out its backoff after the walk ended"


def test_a_walk_closed_early_frees_the_pool_from_its_read_waiting_for_a_retry(sandbox):
    """The client stays open for the next account: only the walk's own cancel ends the wait."""
    start, end = SPRING, SPRING + dt.timedelta(days=110)
    plan = plan_of(start, end)
    sandbox.faults.failing_window_start = plan[1].start.isoformat()
    with opened_run(sandbox, start, end, max_retries=1, backoff_base=4, workers=1, prefetch=2) as run:
        steps = AccountWalker(run, customer_of(sandbox, BUSY), BUSY, {}).steps()
        assert next(steps).statement.window == plan[0]
        deadline = time.monotonic() + 5
        while not asked(sandbox, BUSY)[plan[1]] and time.monotonic() < deadline:
            time.sleep(0.005)
        steps.close()
        run.executor.submit(lambda: None).result(timeout=2)  # the one worker is free again
    assert asked(sandbox, BUSY)[plan[1]] == 1


def test_a_walk_stopped_between_windows_cancels_the_reads_started_ahead_for_it(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=170)
    plan = plan_of(start, end)

    def stop() -> None:
        raise StoppedError(15, "SIGTERM")

    with opened_run(
        sandbox, start, end, workers=1, prefetch=4, check_stop=stop, state_for=lambda c: {}
    ) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)
        release = threading.Event()
        run.executor.submit(release.wait, 10)  # the one worker is busy: what is started waits
        read_ahead(run, spare=1)  # the bulk of the account ahead, its first reads having answered
        assert set(run.ahead.started[BUSY].reads) == set(plan[:5]) | {plan[-1]}
        with pytest.raises(StoppedError):
            walk(run, sandbox, BUSY)
        release.set()
    assert asked(sandbox, BUSY) == Counter({plan[0]: 1, plan[-1]: 1})


# -- reading ahead across accounts ---------------------------------------------------------------


def walk_every_account(bank: Sandbox, ahead: bool) -> tuple[list[Any], dict[str, Counter[Window]], list[str]]:
    """Each account's steps, windows asked and the skip lines, walked as the streams walk them."""
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    listed = [(a.customer_id, a.iban) for a in bank.accounts]
    bank.reset_counters()
    results = []
    with opened_run(bank, start, end, prefetch=4, state_for=(lambda context: {}) if ahead else None) as run:
        run.ahead.expect(listed)
        for number, (_, iban) in enumerate(listed):
            assert (iban in run.ahead.started) == (ahead and number > 0), (
                "each next account's reads start ahead"
            )
            steps = walk(run, bank, iban)
            results.append((iban, spans(steps), read_entries(steps)))
        skipped = run.report.skipped
    return results, {iban: asked(bank, iban) for _, iban in listed}, skipped


def test_reading_ahead_across_accounts_hands_each_walk_its_reads_and_changes_nothing(sandbox):
    results, calls, skipped = walk_every_account(sandbox, ahead=False)
    ahead_results, ahead_calls, ahead_skipped = walk_every_account(sandbox, ahead=True)
    assert ahead_results == results and ahead_skipped == skipped
    plan = plan_of(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert all(calls[iban] == Counter(plan) for iban, _, _ in results if iban != BROKEN)
    # The one difference: a broken account's oldest window, tried once before its newest failed.
    assert calls[BROKEN] == Counter({plan[-1]: 1})
    assert ahead_calls == {**calls, BROKEN: Counter({plan[-1]: 1, plan[0]: 1})}
    assert len(skipped) == 1 and sum(len(entries) for _, _, entries in results) > 300


def settings_with(**changes: Any) -> WalkSettings:
    values = {
        "start_date": SPRING,
        "end_date": None,
        "lookback_days": 0,
        "window_days": 30,
        "strict": False,
        "prefetch": 4,
    }
    return WalkSettings(**{**values, **changes})


def test_a_walk_runs_from_its_bookmark_less_the_lookback_to_its_end_date_or_today():
    today = sofia_today()
    assert walk_range(settings_with(), {}) == (SPRING, today)
    assert walk_range(settings_with(end_date=today + dt.timedelta(days=1)), {}) == (SPRING, today)
    assert walk_range(settings_with(end_date=dt.date(2024, 5, 1)), {}) == (SPRING, dt.date(2024, 5, 1))
    bookmark = {"walked_through": "2024-04-10"}
    assert walk_range(settings_with(lookback_days=3), bookmark)[0] == dt.date(2024, 4, 8)
    assert walk_range(settings_with(lookback_days=300), bookmark)[0] == SPRING
    assert account_plan(settings_with(end_date=dt.date(2024, 3, 25), window_days=10), {}) == [
        Window(dt.date(2024, 3, 1), dt.date(2024, 3, 10)),
        Window(dt.date(2024, 3, 11), dt.date(2024, 3, 20)),
        Window(dt.date(2024, 3, 21), dt.date(2024, 3, 25)),
    ]


def test_without_a_state_to_plan_from_nothing_is_read_ahead(sandbox):
    with opened_run(sandbox, SPRING, SPRING + dt.timedelta(days=60)) as run:
        run.ahead.expect([(customer_of(sandbox, BUSY), BUSY)])
        read_ahead(run, spare=1)
        assert run.ahead.started == {} and len(run.ahead.upcoming) == 1
    assert sandbox.counters()["statement_ranges"] == []


def test_reading_ahead_starts_a_bounded_number_of_accounts_newest_with_retries_oldest_with_one_try(sandbox):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    plan = plan_of(start, end)
    walked = {BUSY: end.isoformat(), USD: "2024-03-15", CONVERTED: "2024-02-20"}
    accounts = [(customer_of(sandbox, iban), iban) for iban in (BUSY, BROKEN, USD, CONVERTED)]
    partitions = [
        {"context": {"customer_id": c, "iban": i}, "walked_through": walked[i]}
        for c, i in accounts
        if i in walked
    ]
    state = {"bookmarks": {"transactions": {"partitions": partitions}}}
    state_for = functools.partial(stored_partition, state, "transactions")
    with opened_run(sandbox, start, end, max_retries=1, prefetch=4, state_for=state_for) as run:
        run.ahead.expect(accounts)
        read_ahead(run)  # prefetch // 2 accounts with something to read: BUSY has nothing
        assert list(run.ahead.started) == [BROKEN, USD] and list(run.ahead.upcoming) == accounts[3:]
        read_ahead(run, spare=1)  # one more account; no bulk for a broken one
        assert list(run.ahead.started) == [BROKEN, USD, CONVERTED] and not run.ahead.upcoming
        for ahead in run.ahead.started.values():
            for read in ahead.reads.values():
                read.exception()
        assert (
            run.ahead.started[BROKEN].plan == plan and run.ahead.started[BROKEN].customer_id == accounts[1][0]
        )
        assert not any(run.ahead.started[BROKEN].answered(w) for w in plan)
        assert run.ahead.started[USD].answered(Window(dt.date(2024, 3, 16), end))
        assert set(run.ahead.started[CONVERTED].reads) == set(plan_of(dt.date(2024, 2, 21), end))
        reads = run.ahead.take(BROKEN)
        assert set(reads) == {plan[0], plan[-1]} and BROKEN not in run.ahead.started
        assert run.ahead.take(BROKEN) == {}
    assert asked(sandbox, BROKEN) == Counter({plan[-1]: 2, plan[0]: 1})
    assert asked(sandbox, USD) == Counter({Window(dt.date(2024, 3, 16), end): 1})
    assert asked(sandbox, BUSY) == Counter()


@pytest.mark.parametrize("days", [60, 89, 170])
def test_the_next_accounts_bulk_starts_once_its_first_reads_answered_each_window_once(sandbox, days):
    start, end = SPRING, SPRING + dt.timedelta(days=days)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, max_retries=1, state_for=lambda c: {}) as run:
        read_first_and_newest_ahead(run, sandbox, BUSY)
        sandbox.faults.failing_window_start = plan[1].start.isoformat()  # bulk reads get every retry
        read_ahead(run, spare=1)
        ahead = run.ahead.started[BUSY]
        assert set(ahead.reads) == {plan[0], plan[-1], *plan[1:3]}
        for read in ahead.reads.values():
            read.exception()
    assert asked(sandbox, BUSY) == Counter({**Counter(plan[:3]), plan[-1]: 1, plan[1]: 2})


def test_no_bulk_is_read_ahead_for_an_account_whose_oldest_window_failed(sandbox):
    sandbox.faults.before_opening = "500"
    start, end = dt.date(2017, 1, 1), dt.date(2017, 8, 31)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, state_for=lambda c: {}) as run:
        read_first_and_newest_ahead(run, sandbox, USD)
        read_ahead(run, spare=1)
        assert set(run.ahead.started[USD].reads) == {plan[0], plan[-1]}


def test_a_read_ahead_counts_as_answered_only_once_it_came_back_with_a_statement():
    window = Window(SPRING, SPRING)
    waiting: Future[Statement] = Future()
    cancelled: Future[Statement] = Future()
    cancelled.cancel()
    failed: Future[Statement] = Future()
    failed.set_exception(ValueError("no"))
    answered: Future[Statement] = Future()
    answered.set_result(Statement(window, []))
    for read, expected in ((waiting, False), (cancelled, False), (failed, False), (answered, True)):
        assert Ahead("1", "BG", [window], {window: read}).answered(window) is expected
    assert Ahead("1", "BG", [window]).answered(window) is False


def test_a_walk_starts_the_next_accounts_first_reads_a_bounded_number_ahead_each_window_once(sandbox):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    listed = [(a.customer_id, a.iban) for a in sandbox.accounts if a.iban != BROKEN]
    with opened_run(sandbox, start, end, prefetch=4, state_for=lambda c: {}) as run:
        run.ahead.expect(listed)
        first = walk(run, sandbox, BUSY)
        # prefetch // 2 accounts as the walk begins, one more as its last windows are read
        assert (
            list(run.ahead.started) == [iban for _, iban in listed[1:4]]
            and list(run.ahead.upcoming) == listed[4:]
        )
        for ahead in run.ahead.started.values():
            for read in ahead.reads.values():
                read.exception()
    assert spans(first) == [(w, True) for w in plan_of(start, end)]
    assert asked(sandbox, BUSY) == Counter(plan_of(start, end))


def test_the_end_of_a_walk_starts_the_next_accounts_bulk_once_its_first_reads_answered(sandbox):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end, prefetch=4, state_for=lambda c: {}) as run:
        run.ahead.expect([(customer_of(sandbox, iban), iban) for iban in (BUSY, USD)])
        read_ahead(run)
        for ahead in run.ahead.started.values():
            for read in ahead.reads.values():
                read.exception()
        walk(run, sandbox, BUSY)
        assert set(run.ahead.started[USD].reads) == {*plan[:5], plan[-1]}
        assert read_entries(walk(run, sandbox, USD)) == truth(sandbox, USD, start, end)
    assert asked(sandbox, USD) == Counter(plan)


def test_the_warning_names_the_first_three_problems_of_a_window(sandbox, caplog):
    window = Window(dt.date(2025, 12, 10), dt.date(2026, 1, 8))  # a BGN and a EUR part, both truncated
    sandbox.faults.truncate_window_start = window.start.isoformat()
    with opened_run(sandbox, window.start, window.end) as run:
        (step,) = walk(run, sandbox, CONVERTED)
    problems = step.statement.problems
    assert len(problems) == 4
    (warning,) = warnings_of(caplog)
    assert f"does not add up ({'; '.join(problems[:3])}): its entries" in warning


def test_a_statement_without_its_currency_takes_the_accounts_as_listed_unless_the_changeover_must_decide():
    window = Window(SPRING, SPRING + dt.timedelta(days=5))
    with ReplaySandbox(Shape(element_keys=["iban", "stmt"])) as bank, opened_run(bank, SPRING, None) as run:
        customer = customer_of(bank, BUSY)
        assert read_window(run, customer, BUSY, window).parts[0].currency is None
        run.accounts.currencies[BUSY] = "USD"
        assert [p.currency for p in read_window(run, customer, BUSY, window).parts] == ["USD"]
        run.accounts.currencies[BUSY] = "EUR"  # euro today: before 2026 it may have been lev
        assert read_window(run, customer, BUSY, window).undecided


# -- fetching in order ---------------------------------------------------------------------------


def recording_start(started: list[Window]) -> Callable[[Window], Future[Window]]:
    """A `start` for fetch_in_order that answers at once and notes what was started."""

    def start(window: Window) -> Future[Window]:
        started.append(window)
        answer: Future[Window] = Future()
        answer.set_result(window)
        return answer

    return start


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_fetching_keeps_depth_windows_started_ahead_hands_them_in_order_and_says_once_when_drained(depth):
    plan = plan_of(SPRING, SPRING + dt.timedelta(days=150))
    started: list[Window] = []
    drained: list[int] = []
    fetched = fetch_in_order(
        plan, recording_start(started), depth, drained=lambda: drained.append(len(started))
    )
    handed = []
    for window, future in fetched:
        handed.append(window)
        assert future.result() == window
        ahead = min(len(handed) + max(depth, 1), len(plan))
        assert started == plan[:ahead], "depth windows started beyond the one handed on"
    assert handed == plan and drained == [len(plan)]


def test_fetching_stopped_early_cancels_what_it_started_and_needs_no_drained():
    plan = plan_of(SPRING, SPRING + dt.timedelta(days=150))
    pending: list[Future[Window]] = []

    def start(window: Window) -> Future[Window]:
        pending.append(Future())
        if window == plan[0]:
            pending[-1].set_result(window)
        return pending[-1]

    fetched = fetch_in_order(plan, start, 3)
    assert next(fetched)[0] == plan[0]
    fetched.close()  # type: ignore[attr-defined]
    assert [f.cancelled() for f in pending] == [False, True, True, True]
    assert list(fetch_in_order([], start, 3)) == []


# -- the balance chain decides (issue: every entry, for good) ------------------------------------


def test_an_empty_answer_between_balances_that_differ_is_asked_again_and_its_entries_read(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.bare_window_start = plan[1].start.isoformat()  # once
    with opened_run(sandbox, start, end, max_retries=1) as run:
        steps = walk(run, sandbox, BUSY)
        assert read_entries(steps) == truth(sandbox, BUSY, start, end)
        assert spans(steps) == [(w, True) for w in plan]
        assert run.report.skipped == [] and run.report.unbalanced == []
    assert asked(sandbox, BUSY)[plan[1]] == 2
    assert sandbox.counters()["faults"]["bare_window"] == 1


def test_an_empty_answer_that_stays_empty_is_a_gap_holding_the_bookmark_before_the_earlier_balance(sandbox):
    sandbox.faults.summary_rows = "none"
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.bare_window_start, sandbox.faults.bare_window_mode = plan[1].start.isoformat(), "always"
    with opened_run(sandbox, start, end, max_retries=2) as run:
        steps = walk(run, sandbox, BUSY)
        last_before = max(e.booking_date for e in sandbox.truth()[BUSY] if e.booking_date < plan[1].start)
        assert spans(steps) == [(plan[0], True), (plan[1], False), (plan[2], False)]
        assert [s.hold for s in steps] == [None, None, last_before]
        assert run.report.skipped == [
            f"account {mask_iban(BUSY)} for {plan[1]} (GetCustBal: an answer with no entries and no summary "
            "rows, 3 attempts); its entries were not read, and its bookmark stays before it so the next run "
            "reads it again"
        ]
        assert run.report.unbalanced == [], "a gap's missing entries are not a window that does not add up"
    assert asked(sandbox, BUSY)[plan[1]] == 1 + 3


def test_an_empty_answer_in_the_newest_window_has_nothing_after_it_and_is_judged_as_it_came(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults.bare_window_start, sandbox.faults.bare_window_mode = plan[-1].start.isoformat(), "always"
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY)
        assert [window for window, _ in spans(steps)] == plan
        assert read_entries(steps) == truth(sandbox, BUSY, start, plan[-1].start - dt.timedelta(days=1))
    assert asked(sandbox, BUSY)[plan[-1]] == 1  # held, never asked again: no balance after it differs


def test_an_empty_answer_between_balances_that_agree_is_a_window_without_entries(sandbox):
    sandbox.faults.summary_rows = "none"
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    days = [e.booking_date for e in sandbox.truth()[USD]]

    def has_entries(w: Window) -> bool:
        return any(w.start <= d <= w.end for d in days)

    grid = plan_of(dt.date(2017, 6, 1), dt.date(2026, 10, 31))
    quiet = next(  # the first window of the USD account's months without entries
        w for before, w in itertools.pairwise(grid) if has_entries(before) and not has_entries(w)
    )
    after = next(w for w in grid if w.start > quiet.start and has_entries(w))
    sandbox.faults.bare_window_start, sandbox.faults.bare_window_mode = quiet.start.isoformat(), "always"
    around = Window(quiet.start - dt.timedelta(days=30), after.end)
    with opened_run(sandbox, around.start, around.end, max_retries=2) as run:
        steps = walk(run, sandbox, USD)
        assert all(verified for _, verified in spans(steps))
        assert run.report.skipped == []
    assert asked(sandbox, USD)[quiet] == 1, "an empty window whose neighbours agree is not asked again"
    del plan


def test_a_balance_that_does_not_follow_the_stored_one_holds_the_bookmark_before_its_day(sandbox):
    start, end = SPRING, SPRING + dt.timedelta(days=29)
    entries = [e for e in sandbox.truth()[BUSY] if e.booking_date < start]
    stored = {"walked_through": (start - dt.timedelta(days=1)).isoformat()}
    stored["chain"] = {"day": entries[-1].booking_date.isoformat(), "balance": "1.00", "currency": "EUR"}
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY, dict(stored))
        assert [s.hold for s in steps] == [entries[-1].booking_date]
        assert [s.verified for s in steps] == [False]
        assert run.report.unbalanced == [(mask_iban(BUSY), f"{entries[-1].booking_date}..{end}")]


def test_the_served_history_is_not_walked_again_and_is_reprobed_once_its_interval_has_passed(sandbox):
    served = dt.date(2024, 1, 15)
    state = {"walked_through": "2024-03-01", "served_from": served.isoformat(), "served_probed": "2024-02-01"}
    with opened_run(sandbox, dt.date(2016, 1, 1), dt.date(2024, 3, 10), max_retries=2) as run:
        sandbox.faults.failing_window_start = (served - dt.timedelta(days=30)).isoformat()
        walk(run, sandbox, BUSY, state)
        probe = Window(served - dt.timedelta(days=30), served - dt.timedelta(days=1))
        assert asked(sandbox, BUSY)[probe] == 1, "the re-probe is a single try"
        assert state["served_from"] == served.isoformat()
        assert state["served_probed"] == sofia_today().isoformat()
        sandbox.reset_counters()
        walk(run, sandbox, BUSY, state)  # probed today: not again
        assert probe not in asked(sandbox, BUSY)


def test_a_reprobe_that_answers_forgets_the_history_start_and_reads_from_the_start_date(sandbox, caplog):
    served = dt.date(2024, 1, 15)
    state = {"walked_through": "2024-03-01", "served_from": served.isoformat()}
    start = dt.date(2023, 11, 1)
    with opened_run(sandbox, start, dt.date(2024, 3, 10)) as run:
        steps = walk(run, sandbox, BUSY, state)
        assert "served_from" not in state
        assert warnings_of(caplog) == [
            f"Account {mask_iban(BUSY)}: the bank now serves days before {served}; its history is read "
            f"again from {start}."
        ]
        assert steps[0].statement.window.start == start
        assert read_entries(steps) == truth(sandbox, BUSY, start, dt.date(2024, 3, 10))


@pytest.mark.parametrize(
    ("knobs", "before"), [({"ccy": "absent"}, "BGN"), ({"history": "redenominated"}, "EUR")]
)
def test_the_currency_before_2026_is_decided_by_the_changeover_balance_and_kept(sandbox, knobs, before):
    sandbox.faults.update(knobs)
    start, end = dt.date(2025, 12, 1), dt.date(2026, 1, 31)
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"  # as the account list says today
        steps = walk(run, sandbox, CONVERTED, state)
        currencies = {
            (e.booking_date < dt.date(2026, 1, 1), e.values.currency)
            for s in steps
            for e in s.statement.entries
        }
        assert currencies == {(True, before), (False, "EUR")}
        assert state["currency_before_2026"] == before
        assert all(verified for _, verified in spans(steps))
    assert set(asked(sandbox, CONVERTED).values()) == {1}, "the windows read to decide are read once"


def test_a_kept_currency_decision_is_used_without_reading_the_changeover_again(sandbox):
    sandbox.faults.ccy = "absent"
    start, end = dt.date(2025, 10, 1), dt.date(2025, 10, 30)
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"  # as the account list says today
        steps = walk(run, sandbox, CONVERTED, {"currency_before_2026": "BGN"})
        assert {e.values.currency for s in steps for e in s.statement.entries} == {"BGN"}
    assert set(asked(sandbox, CONVERTED)) == {Window(start, end)}


def test_numbers_that_cannot_decide_stop_the_walk_before_the_undecided_window(sandbox):
    sandbox.faults.history = "shifted"
    start, end = dt.date(2025, 11, 1), dt.date(2026, 1, 31)
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"  # as the account list says today
        steps = walk(run, sandbox, CONVERTED, state)
        assert [(s.statement.entries, s.verified, s.hold) for s in steps] == [([], False, start)]
        (line,) = run.report.undecided
        assert line.startswith(
            f"the currency of account {mask_iban(CONVERTED)} before 2026-01-01 cannot be decided: its "
            "statements name no currency, and the balance goes from "
        )
    assert "currency_before_2026" not in state


def test_answers_that_could_not_be_read_before_the_first_that_answers_are_not_a_history_start(sandbox):
    from support.bank import UnreadableFrom

    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    sandbox.faults = UnreadableFrom(sandbox, nth=2)  # the newest window is read whole, nothing after
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY, state)
        opening = _opening_balance(steps[-1].statement)
        assert spans(steps) == [(Window(start, plan[1].end), False), (plan[2], False)]
        assert run.report.skipped == [
            f"account {mask_iban(BUSY)} before {plan[2].start} (the bank fails those windows, and the first "
            f"one that answers opens at {opening}, so earlier entries exist); its bookmark stays before them"
        ]
        assert run.report.served == {}
        assert steps[0].statement.entries == []
    assert "served_from" not in state


def test_a_first_answer_without_any_balance_is_no_history_start_and_the_skip_line_says_so(sandbox):
    """No summary rows and no entries in the one window that answers: nothing tells what came before."""
    from support.bank import UnreadableFrom

    start, end = dt.date(2023, 2, 1), dt.date(2023, 4, 30)  # USD has no entries in April 2023
    plan = plan_of(start, end)
    sandbox.faults = UnreadableFrom(sandbox, nth=2)  # the newest window is read whole, nothing after
    sandbox.faults.summary_rows = "none"
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, USD, state)
        assert spans(steps) == [(Window(start, plan[1].end), False), (plan[2], False)]
        assert run.report.skipped == [
            f"account {mask_iban(USD)} before {plan[2].start} (the bank fails those windows, and the first "
            "one that answers shows no balance); its bookmark stays before them"
        ]
    assert "served_from" not in state


def test_a_gap_after_empty_answers_leaves_them_unproven_before_the_last_balance(sandbox):
    sandbox.faults.summary_rows = "none"
    start, end = SPRING, SPRING + dt.timedelta(days=110)
    plan = plan_of(start, end)
    sandbox.faults.bare_window_start, sandbox.faults.bare_window_mode = plan[1].start.isoformat(), "always"
    sandbox.faults.failing_window_start = plan[2].start.isoformat()
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY)
        last = max(e.booking_date for e in sandbox.truth()[BUSY] if e.booking_date < plan[1].start)
        assert [(s.statement.window, s.verified, s.hold) for s in steps] == [
            (plan[0], True, None),
            (plan[1], False, last),
            (plan[2], False, None),
            (plan[3], False, last),
        ]
        assert run.report.unbalanced == []
        assert len(run.report.skipped) == 1 and f"for {plan[2]}" in run.report.skipped[0]


def test_a_long_walk_decides_the_currency_from_windows_far_ahead_and_reads_each_once(sandbox):
    sandbox.faults.ccy = "absent"
    start, end = dt.date(2025, 5, 1), dt.date(2026, 2, 28)
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"
        steps = walk(run, sandbox, CONVERTED, state)
        in_2025 = {
            e.values.currency for s in steps for e in s.statement.entries if e.booking_date.year == 2025
        }
        assert in_2025 == {"BGN"}
    assert state["currency_before_2026"] == "BGN"
    assert set(asked(sandbox, CONVERTED).values()) == {1}
    assert len(asked(sandbox, CONVERTED)) == len(plan_of(start, end))


def test_a_walk_that_ends_in_2025_reads_past_its_end_to_decide_the_currency(sandbox):
    sandbox.faults.ccy = "absent"
    start, end = dt.date(2025, 11, 1), dt.date(2025, 12, 20)
    state: dict[str, Any] = {}
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"
        steps = walk(run, sandbox, CONVERTED, state)
        assert {e.values.currency for s in steps for e in s.statement.entries} == {"BGN"}
    assert state["currency_before_2026"] == "BGN"
    beyond = [w for w in asked(sandbox, CONVERTED) if w.end > end]
    assert beyond and all(w.start > end and w.days <= 30 for w in beyond)


def test_a_window_summary_carries_where_the_bookmark_must_stay_and_the_last_balance():
    window = Window(SPRING, SPRING + dt.timedelta(days=5))
    point = {"day": "2024-03-02", "balance": "1.00", "currency": "EUR"}
    summary = summarize(Step(Statement(window, []), verified=False, hold=SPRING, point=point), BUSY, "1")
    assert (summary.window, summary.verified, summary.hold, summary.point) == (window, False, SPRING, point)


@pytest.mark.parametrize("summary_rows", ["full", "none"])
def test_each_step_carries_the_last_balance_read_for_the_state(sandbox, summary_rows):
    sandbox.faults.summary_rows = summary_rows
    start, end = SPRING, SPRING + dt.timedelta(days=80)
    plan = plan_of(start, end)
    with opened_run(sandbox, start, end) as run:
        steps = walk(run, sandbox, BUSY)
    entries = sandbox.truth()[BUSY]
    for window, step in zip(plan, steps, strict=True):
        last = [e for e in entries if e.booking_date <= window.end][-1]
        if summary_rows == "full":  # the proven closing: the whole window
            assert step.point == {
                "day": window.end.isoformat(),
                "balance": str(last.balance_after),
                "currency": "EUR",
            }
            continue
        first_of_day = next(e for e in entries if e.booking_date == last.booking_date)
        before = first_of_day.balance_after - first_of_day.signed_amount
        assert step.point == {
            "day": last.booking_date.isoformat(),
            "balance": str(last.balance_after),
            "currency": "EUR",
            "before": {
                "day": (last.booking_date - dt.timedelta(days=1)).isoformat(),
                "balance": str(before),
                "currency": "EUR",
            },
        }


def test_an_undecided_window_after_a_stored_balance_holds_the_bookmark_before_that_balance(sandbox):
    sandbox.faults.history = "shifted"
    start, end = dt.date(2025, 11, 1), dt.date(2026, 1, 31)
    state: dict[str, Any] = {"chain": {"day": "2025-10-20", "balance": "1.00", "currency": "BGN"}}
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"
        steps = walk(run, sandbox, CONVERTED, state)
    assert [(s.statement.window, s.statement.entries, s.verified, s.hold) for s in steps] == [
        (plan_of(start, end)[0], [], False, dt.date(2025, 10, 20))
    ]


def test_a_history_start_bounds_the_plan_and_on_the_start_date_is_never_probed(sandbox):
    start = dt.date(2024, 1, 15)
    state = {
        "walked_through": "2023-06-01",
        "served_from": start.isoformat(),
        "served_probed": str(sofia_today()),
    }
    with opened_run(sandbox, dt.date(2016, 1, 1), dt.date(2024, 3, 10)) as run:
        assert account_plan(run.settings, state)[0].start == start  # not before the served day
        walk(run, sandbox, BUSY, state)
    assert min(w.start for w in asked(sandbox, BUSY)) == start
    assert state["served_from"] == start.isoformat()
    same = {"walked_through": "2024-03-01", "served_from": "2016-01-01"}
    with opened_run(sandbox, dt.date(2016, 1, 1), dt.date(2024, 3, 10)) as run:
        sandbox.reset_counters()
        walk(run, sandbox, BUSY, same)  # the history starts where the walk may: nothing before to ask
    assert "served_probed" not in same
    assert min(w.start for w in asked(sandbox, BUSY)) == dt.date(2024, 3, 2)  # lookback_days 0


@pytest.mark.parametrize(("kept", "read_again"), [("EUR", False), ("BGN", False), ("XYZ", True)])
def test_only_a_kept_currency_decision_that_names_a_currency_is_used(sandbox, kept, read_again):
    sandbox.faults.ccy = "absent"
    start, end = dt.date(2025, 10, 1), dt.date(2025, 10, 30)
    state: dict[str, Any] = {"currency_before_2026": kept}
    with opened_run(sandbox, start, end) as run:
        run.accounts.currencies[CONVERTED] = "EUR"
        steps = walk(run, sandbox, CONVERTED, state)
    labels = {e.values.currency for s in steps for e in s.statement.entries}
    assert labels == ({"BGN"} if read_again else {kept})
    assert (set(asked(sandbox, CONVERTED)) != {Window(start, end)}) is read_again
