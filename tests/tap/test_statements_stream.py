"""Every window proves itself: balanced, chained across windows and the euro changeover."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from support.tapruns import broken_iban, run_tap, sandbox_config

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import FROZEN_TODAY, sofia_today

START = "2025-06-01"  # across 2026-01-01, whatever day the session is frozen at (see TODAY)
# The module is about the euro changeover: its "today" must come after it. The session's frozen
# day may be any day, so the tap and the sandbox here share a day of their own when it is not.
CHANGEOVER_SEEN = dt.date(2026, 3, 15)
TODAY = sofia_today() if sofia_today() >= CHANGEOVER_SEEN else CHANGEOVER_SEEN
ENV = {FROZEN_TODAY: TODAY.isoformat()}


def tap_config(bank: Sandbox, **overrides):
    return sandbox_config(bank, START, **{"max_retries": 0, **overrides})


def bank_of_today() -> Sandbox:
    return Sandbox(seed=1, today=TODAY)


def by_account(records):
    grouped = defaultdict(list)
    for record in records:
        grouped[record["iban"]].append(record)
    for rows in grouped.values():
        rows.sort(key=lambda r: r["date_from"])
    return grouped


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One run from START, shared; it must have read something (the tests below loop over it)."""
    with bank_of_today() as bank:
        run = run_tap(tmp_path_factory.mktemp("statements"), tap_config(bank), env=ENV)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.records["transactions"] and run.records["statements"]
        yield bank, run


def test_every_window_of_every_account_is_balanced(synced):
    bank, run = synced
    assert run.returncode == 0, run.stderr[-2000:]
    statements = run.records["statements"]
    readable = {a.iban for a in bank.accounts} - {broken_iban(bank)}
    assert {s["iban"] for s in statements} == readable
    assert all(s["is_balanced"] for s in statements)
    assert "does not add up" not in run.stderr


def test_windows_chain_and_the_changeover_is_recognised_not_counted(synced):
    bank, run = synced
    converted = {a.iban for a in bank.accounts if "converted" in a.tags}
    assert converted
    for iban, windows in by_account(run.records["statements"]).items():
        for before, after in zip(windows, windows[1:]):
            assert dt.date.fromisoformat(after["date_from"]) == dt.date.fromisoformat(
                before["date_to"]
            ) + dt.timedelta(days=1)
            if before["currency"] == "BGN" and after["currency"] == "EUR":
                assert iban in converted
                assert after["date_from"] == "2026-01-01"
                # The law, not the tap's function: the fixed rate, rounded half up to the cent.
                euro = (Decimal(str(before["closing_balance"])) / Decimal("1.95583")).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                assert Decimal(str(after["opening_balance"])) == euro
            else:
                assert after["opening_balance"] == before["closing_balance"], (iban, before, after)
    for iban in converted:
        currencies = [w["currency"] for w in by_account(run.records["statements"])[iban]]
        assert currencies[0] == "BGN" and currencies[-1] == "EUR"


def test_statement_totals_equal_the_entries_emitted(synced):
    _, run = synced
    entries = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for record in run.records["transactions"]:
        key = record["iban"]
        for window in by_account(run.records["statements"])[key]:
            if window["date_from"] <= record["booking_date"] <= window["date_to"]:
                slot = entries[(key, window["date_from"])]
                slot[0 if record["direction"] == "debit" else 1] += record["amount"]
                slot[2] += 1
                break
    for window in run.records["statements"]:
        debit, credit, count = entries[(window["iban"], window["date_from"])]
        assert (debit, credit, count) == (
            window["debit_turnover"],
            window["credit_turnover"],
            window["entry_count"],
        )


def test_every_transaction_carries_the_currency_the_bank_reported(synced):
    bank, run = synced
    truth = {(e.iban, e.entry_id): e for entries in bank.truth().values() for e in entries}
    records = run.records["transactions"]
    for record in records:
        entry = truth[(record["iban"], record["entry_id"])]
        assert record["currency"] == entry.currency, (record["iban"], record["booking_date"])
    # Each kind is there to compare: lev before the changeover, euro and dollars on either side.
    seen = {(r["currency"], r["booking_date"] < "2026-01-01") for r in records}
    assert seen >= {("BGN", True), ("EUR", True), ("EUR", False), ("USD", True), ("USD", False)}


def test_a_truncated_statement_is_warned_about_and_its_bookmark_held(tmp_path):
    with bank_of_today() as bank:
        busy = next(a.iban for a in bank.accounts if "busy" in a.tags)
        bank.faults.truncate_rate = 1.0
        config = tap_config(bank, ibans=[busy])
        run = run_tap(tmp_path, config, env=ENV)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "does not add up" in run.stderr
        summary = [l for l in run.stderr.splitlines() if "Run finished" in l]
        assert len(summary) == 1 and "did not add up" in summary[0] and "read again next run" in summary[0]
        assert f"****{busy[-4:]}" in run.stderr and busy not in run.stderr
        assert bank.counters()["faults"]["truncated"] >= 2  # fetched once more before giving up
        # The very first window failed its check, so the bookmark stays before it.
        bookmark = run.partitions()[busy].get("walked_through")
        assert bookmark is not None and dt.date.fromisoformat(bookmark) < dt.date.fromisoformat(START)
        assert not all(s["is_balanced"] for s in run.records["statements"])
        emitted = {r["entry_id"] for r in run.records["transactions"]}
        truth = {e.entry_id for e in bank.truth()[busy] if e.booking_date.isoformat() >= START}
        assert emitted < truth  # entries were missing...

        # ...and the next run, with the bank healthy again, reads from the held bookmark and repairs.
        bank.faults.truncate_rate = 0.0
        repaired = run_tap(tmp_path, config, state=run.state, env=ENV)
        assert repaired.returncode == 0, repaired.stderr[-2000:]
        assert "does not add up" not in repaired.stderr
        assert emitted | {r["entry_id"] for r in repaired.records["transactions"]} == truth
        assert all(s["is_balanced"] for s in repaired.records["statements"])
        assert repaired.partitions()[busy]["walked_through"] == TODAY.isoformat()


def test_strict_statements_turns_a_mismatch_into_an_error(tmp_path):
    with bank_of_today() as bank:
        busy = next(a.iban for a in bank.accounts if "busy" in a.tags)
        bank.faults.truncate_rate = 1.0
        run = run_tap(tmp_path, tap_config(bank, ibans=[busy], strict_statements=True), env=ENV)
        assert run.returncode == 7
        errors = [l for l in run.stderr.splitlines() if l.startswith("tap-fibank: error:")]
        assert len(errors) == 1 and "strict_statements" in errors[0]
        assert "Traceback" not in run.stderr
        assert run.states, "a final STATE is written even when the run fails"
