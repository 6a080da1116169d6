"""The tap against the sandbox over real HTTP: complete, windowed, incremental, resumable."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from support.bank import BUSY, RECENT, assert_equals_truth, truth
from support.tapruns import TAP, broken_iban, parse_output, run_tap, sandbox_config

from fibank_sandbox import Sandbox
from fibank_sandbox.replay import ReplaySandbox
from fibank_sandbox.shape import Shape
from tap_fibank.bank.client import login_key
from tap_fibank.bank.clock import sofia_today

START = "2015-01-01"


def tap_config(bank: Sandbox, **overrides):
    return sandbox_config(bank, overrides.pop("start_date", START), **overrides)


def truth_by_account(bank: Sandbox):
    return {iban: entries for iban, entries in bank.truth().items()}


def key(record):
    return (record["iban"], record["entry_id"])


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One full sync of the whole history, shared by the tests that only read its output.

    It must have run and read something: the tests below would pass on an empty run.
    """
    with Sandbox(seed=1) as bank:
        run = run_tap(tmp_path_factory.mktemp("full"), tap_config(bank))
        assert run.returncode == 0, run.stderr[-3000:]
        for stream in ("customers", "accounts", "transactions", "statements"):
            assert run.records[stream], f"the full sync emitted no {stream}"
        yield bank, run, bank.counters()


def test_a_full_sync_ends_with_one_summary_naming_only_the_broken_account_and_no_error(full):
    bank, run, _ = full
    assert "Traceback" not in run.stderr
    assert not [line for line in run.stderr.splitlines() if line.startswith("tap-fibank: error:")]
    summaries = [line for line in run.stderr.splitlines() if "Run finished" in line]
    assert len(summaries) == 1, summaries
    assert "Run finished with 1 skipped: account ****" + broken_iban(bank)[-4:] in summaries[0]
    assert run.stderr.rstrip().splitlines()[-1] == summaries[0]


def test_a_full_sync_equals_the_banks_ground_truth(full):
    bank, run, _ = full
    truth = truth_by_account(bank)
    got = defaultdict(list)
    for record in run.records["transactions"]:
        got[record["iban"]].append(record)
    assert sum(len(v) for v in truth.values()) > 1000
    readable = {iban for iban, entries in truth.items() if entries and iban != broken_iban(bank)}
    assert set(got) == readable
    for iban, entries in truth.items():
        if not entries and iban not in got:
            continue
        if iban == broken_iban(bank):
            continue
        records = got[iban]
        assert [r["entry_id"] for r in records] == [e.entry_id for e in entries], iban
        assert [r["signed_amount"] for r in records] == [e.signed_amount for e in entries], iban
        assert [r["booking_date"] for r in records] == [e.booking_date.isoformat() for e in entries]
        assert [r["balance_after"] for r in records] == [e.balance_after for e in entries]
        assert [r["currency"] for r in records] == [e.currency for e in entries]
        assert sum(r["signed_amount"] for r in records) == sum(e.signed_amount for e in entries)
    assert set(got) <= set(truth)


def test_amounts_arrive_as_exact_json_numbers(full):
    _, run, _ = full
    line = next(
        l for l in run.stdout.splitlines() if l.startswith('{"type":"RECORD","stream":"transactions"')
    )
    text = line.split('"amount":', 1)[1].split(",", 1)[0]
    assert text[0].isdigit(), "amounts travel as JSON numbers, not strings"
    assert Decimal(text) == json.loads(line, parse_float=Decimal)["record"]["amount"]
    assert "e" not in text.lower()


def test_summary_rows_never_become_transactions(full):
    _, run, _ = full
    kinds = {r["transaction_type"] for r in run.records["transactions"]}
    assert not kinds & {"OP", "CL", "DT", "CT"}


def test_a_field_the_bank_adds_to_its_entries_is_kept_in_extra_and_nothing_else_changes(tmp_path):
    """The sandbox sends only the fields the tap maps; a bank that sends one more must lose nothing."""
    fields = list(next(e for es in Sandbox(seed=1).truth().values() for e in es).row)  # as the sandbox sends
    shape = Shape(entry_keys=[*fields, "trnChannel"], entry_fill={"trnChannel": "IB"})
    with ReplaySandbox(shape, seed=1) as bank:
        run = run_tap(tmp_path, sandbox_config(bank, RECENT.isoformat(), ibans=[BUSY]))
        want = truth(bank, RECENT, {BUSY})
    assert run.returncode == 0, run.stderr[-3000:]
    records = run.records["transactions"]
    assert_equals_truth(records, want)
    assert records and all(r["extra"] == {"trnChannel": "IB"} for r in records)


def test_every_profile_and_account_is_listed_and_walked(full):
    bank, run, counters = full
    assert {c["customer_id"] for c in run.records["customers"]} == {c.customer_id for c in bank.customers}
    assert {a["iban"] for a in run.records["accounts"]} == {a.iban for a in bank.accounts}
    walked = {iban for iban, _, _ in counters["statement_ranges"]}
    assert walked == {a.iban for a in bank.accounts}


def test_no_statement_call_spans_more_than_thirty_days(full):
    _, _, counters = full
    assert counters["refusals"] == 0
    assert counters["longest_range_days"] <= 30


def test_windows_are_contiguous_from_start_date_to_today(full):
    bank, _, counters = full
    ranges = defaultdict(list)
    for iban, start, end in counters["statement_ranges"]:
        ranges[iban].append((dt.date.fromisoformat(start), dt.date.fromisoformat(end)))
    for iban, spans in ranges.items():
        if iban == broken_iban(bank):
            continue
        spans.sort()
        assert spans[0][0] == dt.date.fromisoformat(START)
        assert spans[-1][1] == sofia_today()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start == end + dt.timedelta(days=1), iban


def test_rows_are_emitted_in_booking_order_per_account(full):
    _, run, _ = full
    by_account = defaultdict(list)
    for record in run.records["transactions"]:
        by_account[record["iban"]].append(record)
    for records in by_account.values():
        keys = [(dt.datetime.fromisoformat(r["booked_at"]), r["entry_id"]) for r in records]
        assert keys == sorted(keys)


def test_the_broken_account_is_skipped_with_a_masked_warning_and_no_bookmark(full):
    bank, run, _ = full
    iban = broken_iban(bank)
    assert iban not in {r["iban"] for r in run.records["transactions"]}
    assert f"****{iban[-4:]}" in run.stderr
    assert iban not in run.stderr
    assert "next run tries again" in run.stderr
    assert "walked_through" not in run.partitions().get(iban, {})
    others = run.partitions()
    assert all("walked_through" in p for i, p in others.items() if i != iban)


def test_every_record_of_every_stream_names_its_login_without_revealing_the_username(full):
    bank, run, _ = full
    expected = login_key(bank.username)
    streams = ("customers", "accounts", "transactions", "statements")
    assert all(run.records[stream] for stream in streams)
    for stream in streams:
        assert {record["login"] for record in run.records[stream]} == {expected}, stream
        assert "login" in run.schemas[stream]["properties"], stream
    assert expected != login_key(bank.username + "x")
    assert bank.username not in expected


def test_the_login_setting_names_every_record(tmp_path):
    with Sandbox(seed=1) as bank:
        config = tap_config(bank, start_date=str(sofia_today()), login="alice", ibans=[bank.accounts[0].iban])
        run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records["accounts"]
    for stream in ("customers", "accounts", "transactions", "statements"):
        assert {record["login"] for record in run.records[stream]} <= {"alice"}, stream


def test_secrets_never_reach_the_output(full):
    bank, run, _ = full
    output = run.stdout + run.stderr
    assert bank.password not in output.replace('"password"', "")
    for secret in bank.issued_secrets():
        assert secret not in output


def test_a_second_run_rereads_only_the_lookback_tail(full, tmp_path):
    bank, first, _ = full
    bank.reset_counters()
    second = run_tap(tmp_path, tap_config(bank), state=first.state)
    assert second.returncode == 0, second.stderr[-2000:]
    counters = bank.counters()
    for iban, calls in counters["statement_calls"].items():
        if iban != broken_iban(bank):
            assert calls <= 2, (iban, calls)
    today = sofia_today()
    earliest = min(
        dt.date.fromisoformat(start)
        for iban, start, _ in counters["statement_ranges"]
        if iban != broken_iban(bank)
    )
    assert earliest >= today - dt.timedelta(days=7)
    first_keys = {key(r) for r in first.records["transactions"]}
    assert {key(r) for r in second.records["transactions"]} <= first_keys
    for record in second.records["transactions"]:
        assert dt.date.fromisoformat(record["booking_date"]) >= today - dt.timedelta(days=6)


def test_empty_history_is_walked_once_not_every_run(tmp_path):
    with Sandbox(seed=1) as bank:
        config = tap_config(bank, start_date="1993-02-27")
        first = run_tap(tmp_path, config)
        assert first.returncode == 0, first.stderr[-2000:]
        empty = next(a.iban for a in bank.accounts if "no_entries" in a.tags)
        assert first.partitions()[empty]["walked_through"] == sofia_today().isoformat()
        bank.reset_counters()
        second = run_tap(tmp_path, config, state=first.state)
        assert second.returncode == 0
        assert bank.counters()["statement_calls"][empty] == 1


def test_a_killed_run_resumes_from_its_last_state_without_loss(tmp_path):
    with Sandbox(seed=1) as bank:
        # The gate holds every statement call after the first HELD_AFTER: the run cannot finish
        # before the kill, however fast the machine, and the kill lands mid-run.
        bank.faults.hold_statements_after = HELD_AFTER
        config = tap_config(bank, max_concurrency=2)
        killed_stdout = _run_killed_at_the_gate(bank, config, tmp_path)
        bank.faults.hold_statements_after = None
        records, states, _ = parse_output("".join(l for l in killed_stdout if l.endswith("\n")))
        assert states, "the killed run wrote no state"
        assert any('"walked_through"' in json.dumps(s) for s in states), "killed before the first bookmark"
        want = {
            (iban, e.entry_id) for iban, es in bank.truth().items() for e in es if iban != broken_iban(bank)
        }
        emitted = {key(r) for r in records["transactions"]}
        assert emitted and emitted < want, "the kill did not land mid-run"
        resumed = run_tap(tmp_path, config, state=states[-1])
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert emitted | {key(r) for r in resumed.records["transactions"]} == want


HELD_AFTER = 150  # statement calls let through before the gate shuts (a full sync makes ~800)


def _run_killed_at_the_gate(bank, config, tmp_path):
    """Start a full sync, SIGKILL it once a statement call waits at the gate; its stdout lines."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [*TAP, "--config", str(tmp_path / "config.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    watchdog = threading.Timer(300, process.kill)  # nothing below may wait forever on the tap
    watchdog.start()
    try:
        deadline = time.monotonic() + 240
        while bank.counters()["faults"]["held"] < 1:
            assert process.poll() is None, "the run ended before it reached the gate"
            assert time.monotonic() < deadline, "the run never reached the gate"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        reader.join(timeout=30)
    finally:
        watchdog.cancel()
    assert process.returncode == -signal.SIGKILL, process.returncode
    assert not reader.is_alive()
    return lines


def _api_calls(counters):
    return sum(counters["calls"].get(c, 0) for c in ("getCustQuery", "getFilteredAccounts", "GetCustBal"))


def test_token_expiry_mid_run_is_survived_with_one_relogin(tmp_path):
    start = sofia_today() - dt.timedelta(days=400)
    with Sandbox(seed=1) as bank:  # how many calls this run makes, counted rather than guessed
        assert run_tap(tmp_path, tap_config(bank, start_date=start.isoformat())).returncode == 0
        calls = _api_calls(bank.counters())
    with Sandbox(seed=1) as bank:
        # The token expires two thirds into the run; the renewed one lasts as long: one expiry.
        bank.faults.token_calls = calls * 2 // 3
        config = tap_config(bank, start_date=start.isoformat())
        run = run_tap(tmp_path, config)
        assert run.returncode == 0, run.stderr[-2000:]
        counters = bank.counters()
        assert calls * 2 // 3 < _api_calls(counters)
        assert counters["logins"] == 2
        assert counters["faults"]["expired_token"] >= 1
        want = {
            (iban, e.entry_id)
            for iban, es in bank.truth().items()
            for e in es
            if e.booking_date >= start and iban != broken_iban(bank)
        }
        assert {key(r) for r in run.records["transactions"]} == want


def test_a_wrong_password_is_tried_once_and_fails_with_one_line(tmp_path):
    with Sandbox(seed=1) as bank:
        config = tap_config(bank, password="not-the-password")
        run = run_tap(tmp_path, config)
        assert run.returncode == 3
        assert bank.counters()["calls"]["login_post"] == 1
        assert bank.counters()["failed_logins"] == 1
        assert "Traceback" not in run.stderr
        errors = [l for l in run.stderr.splitlines() if l.startswith("tap-fibank: error:")]
        assert len(errors) == 1
        assert "username or password" in errors[0]
        assert "not-the-password" not in run.stderr + run.stdout
        assert not run.records.get("transactions")
