"""Amounts and balances no money can be (`NaN`, `Infinity`), in a window the walk reads and in a probe.

A bank's encoder may write a non-finite decimal as the bare word (`"amount":NaN`, which is no JSON)
or as a string (`"amount":"NaN"`). Neither may end a run with exit 0 while entries are missing
and the bookmark past them, nor reach a target as an amount. The bare word makes the answer
unreadable: the window is a gap (the walk) or an unreadable failure (the probe of the oldest window,
which must not be taken for the start of the bank's history); one summary line names the masked
account, exit 0, and the bookmark stays before the window. A string is an answer the tap reads and
cannot accept: one error line, exit 5, and the final STATE no further than what was proven.
Either way, the next run against a sound bank loads every entry.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from support.bank import (
    BUSY,
    PERSON,
    TODAY,
    Runner,
    SecretBank,
    assert_equals_truth,
    assert_summary_is_last,
    error_lines,
    truth,
    upsert,
)
from support.tapruns import TapRun

from fibank_sandbox import Entry, Sandbox

START = TODAY - dt.timedelta(days=75)  # three windows: the oldest is probed, the middle one is not
WINDOW = dt.timedelta(days=30)
ONE_DAY = dt.timedelta(days=1)
WINDOWS = {
    "probe": START,  # read with a single try to find where the history starts
    "walk": START + WINDOW,  # read with every retry, in the walk
}
# Each number once (a bare word is unreadable JSON, a string an answer the tap refuses), placed so
# that each kind meets both fields and both windows, and each field both windows: every pair, in
# six runs rather than every combination in twelve.
CASES = [
    ("NaN", "amount", "probe"),
    ("Infinity", "acBal", "walk"),
    ("-Infinity", "amount", "walk"),
    ('"NaN"', "acBal", "probe"),
    ('"Infinity"', "amount", "walk"),
    ('"-Infinity"', "amount", "probe"),
]


def _run(runner: Runner, state: dict[str, object] | None = None) -> TapRun:
    return runner.run(state=state, ibans=[BUSY], customer_ids=[PERSON], start_date=str(START), max_retries=1)


def _spoil(bank: Sandbox, number: str, field: str, first: dt.date) -> None:
    bank.faults.update(
        {"entry_number": number, "entry_number_field": field, "entry_number_window_start": first.isoformat()}
    )


@pytest.mark.parametrize(("number", "field", "where"), CASES)
def test_a_non_finite_amount_never_ends_a_run_with_exit_0_past_its_window(
    tmp_path: Path, number: str, field: str, where: str
) -> None:
    first = WINDOWS[where]
    with SecretBank(seed=1) as bank:
        runner = Runner(bank, tmp_path)
        everything = truth(bank, START, ibans={BUSY})
        spoilt = {k for k, e in everything.items() if first <= e.booking_date < first + WINDOW}
        assert spoilt, "the spoilt window has entries"
        _spoil(bank, number, field, first)
        run = _run(runner)
        assert first.isoformat() in {r[1] for r in bank.counters()["statement_ranges"]}
        for record in run.records["transactions"]:
            assert Decimal(str(record["amount"])).is_finite()
        walked = run.partitions().get(BUSY, {})
        assert "served_from" not in walked, "an unreadable window was taken for the start of the history"
        if number.startswith('"'):
            _assert_refused(run, f"{field}={number.strip(chr(34))!r}", first, everything, spoilt)
        else:
            _assert_skipped(run, where, first, {k: e for k, e in everything.items() if k not in spoilt})
        bank.faults.entry_number = ""
        resumed = _run(runner, state=run.state)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert_equals_truth(list(upsert(run, resumed).values()), everything)


def _assert_refused(
    run: TapRun,
    named: str,
    first: dt.date,
    everything: dict[tuple[str, int], Entry],
    spoilt: set[tuple[str, int]],
) -> None:
    """A string: one error line naming it, exit 5; what was emitted is true, the STATE before it."""
    assert run.returncode == 5, run.stderr[-3000:]
    (line,) = error_lines(run)
    assert named in line and "not a finite amount" in line
    assert "account ****6644, window " in line  # where the bank's answer changed
    assert "Traceback" not in run.stderr
    assert_equals_truth(run.records["transactions"], everything, subset=True)
    assert not spoilt & {(r["iban"], r["entry_id"]) for r in run.records["transactions"]}
    walked = run.partitions().get(BUSY, {})
    if "walked_through" in walked:
        assert dt.date.fromisoformat(walked["walked_through"]) < first


def _assert_skipped(run: TapRun, where: str, first: dt.date, want: dict[tuple[str, int], Entry]) -> None:
    """A bare word: the window is skipped by name, every other entry emitted, the bookmark before it."""
    assert run.returncode == 0, run.stderr[-3000:]
    assert_equals_truth(run.records["transactions"], want)
    assert run.partitions()[BUSY]["walked_through"] == (first - ONE_DAY).isoformat()
    after = first + WINDOW
    named = f"before {after}" if where == "probe" else f"for {first}..{after - ONE_DAY}"
    assert f"skipped: account ****6644 {named}" in assert_summary_is_last(run)
