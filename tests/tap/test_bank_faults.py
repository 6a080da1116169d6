"""The fault matrix: the real tap, as a subprocess, against every fault the sandbox can inject.

Each entry of MATRIX is one fault and asserts its exact outcome: exit code, what the bank served
(its counters), the records against the bank's truth and the bookmarks. Every run logs at DEBUG, the
most a user can ask for, and no secret, whole IBAN or response body may reach any of its outputs
(support/leaks.py).
The "Reliability and security" table of docs/reliability.md is this matrix in words; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import sandbox_login
from support.bank import (
    BUSY,
    LOOKBACK,
    PERSON,
    RECENT,
    SUMMARY,
    TODAY,
    Runner,
    SecretBank,
    SlowStatement,
    UnreadableFrom,
    api_calls,
    assert_equals_truth,
    assert_one_error_line,
    assert_summary_is_last,
    broken_iban,
    key,
    retry_warnings,
    truth,
    upsert,
)
from support.leaks import DEBUG, assert_nothing_secret
from support.tapruns import TapRun

from fibank_sandbox import Faults, Sandbox
from tap_fibank.bank.client import BankClient, ServerError
from tap_fibank.errors import UserLockedError

REPO = Path(__file__).resolve().parents[2]
TARGET_POSTGRES = REPO / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# --- the matrix ---------------------------------------------------------------------------------

MATRIX: list[Callable[[Runner], None]] = []


def fault(scenario: Callable[[Runner], None]) -> Callable[[Runner], None]:
    MATRIX.append(scenario)
    return scenario


@fault
def a_burst_of_5xx_is_retried_with_growing_backoff_and_nothing_is_lost(r: Runner) -> None:
    r.bank.fail_next("5xx", count=2, endpoint="GetCustBal")
    run = r.run(ibans=[BUSY], max_retries=3, max_concurrency=1)
    assert run.returncode == 0, run.stderr[-3000:]
    counters = r.bank.counters()
    assert counters["faults"]["5xx"] == 2
    assert counters["calls"]["GetCustBal"] == len(counters["statement_ranges"]) + 2
    warnings = retry_warnings(run, "GetCustBal")
    assert [(problem, n, of) for problem, n, of, _ in warnings] == [("HTTP 500", 1, 3), ("HTTP 502", 2, 3)]
    first, second = warnings[0][3], warnings[1][3]
    assert 0.35 <= first <= 0.65 and 0.7 <= second <= 1.3 and second > first  # 0.5 s, 1 s, +-25 %
    assert_equals_truth(run.records["transactions"], truth(r.bank, ibans={BUSY}))
    assert SUMMARY + ": every listed account was read." in run.stderr


@fault
def a_bank_that_keeps_answering_5xx_ends_the_run_after_exactly_max_retries(r: Runner) -> None:
    r.bank.fail_next("5xx", count=50, endpoint="getCustQuery")
    run = r.run(max_retries=2)
    assert_one_error_line(run, 4, "getCustQuery", "HTTP 503", "3 attempts", "try again later")
    counters = r.bank.counters()
    assert counters["calls"]["getCustQuery"] == 3  # 1 + max_retries, then it stops
    assert counters["calls"]["login_post"] == 1
    assert len(retry_warnings(run, "getCustQuery")) == 2
    assert run.state == {}, "nothing was read, so nothing may be bookmarked"


@fault
def a_429_waits_as_long_as_retry_after_says(r: Runner) -> None:
    r.bank.faults.retry_after = 2
    r.bank.fail_next("429", count=1, endpoint="GetCustBal")
    started = time.monotonic()
    run = r.run(ibans=[BUSY], max_concurrency=1)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    assert retry_warnings(run, "GetCustBal") == [("HTTP 429 (too many requests)", 1, 2, 2.0)]
    assert elapsed >= 2.0
    assert r.bank.counters()["faults"]["429"] == 1
    assert_equals_truth(run.records["transactions"], truth(r.bank, ibans={BUSY}))


@fault
def a_dropped_connection_is_retried(r: Runner) -> None:
    r.bank.fail_next("drop", count=2, endpoint="GetCustBal")
    run = r.run(ibans=[BUSY], max_concurrency=1)
    assert run.returncode == 0, run.stderr[-3000:]
    counters = r.bank.counters()
    assert counters["faults"]["drop"] == 2
    assert counters["calls"]["GetCustBal"] == len(counters["statement_ranges"]) + 2
    assert [w[:2] for w in retry_warnings(run, "GetCustBal")] == [
        ("connection failed (ConnectionError)", 1),
        ("connection failed (ConnectionError)", 2),
    ]
    assert_equals_truth(run.records["transactions"], truth(r.bank, ibans={BUSY}))


@fault
def a_read_timeout_is_retried(r: Runner) -> None:
    r.bank.faults = SlowStatement(r.bank, nth=1, seconds=2.5)
    run = r.run(ibans=[BUSY], max_concurrency=1, request_timeout=1)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [w[:2] for w in retry_warnings(run, "GetCustBal")] == [("no answer within request_timeout", 1)]
    counters = r.bank.counters()
    windows = {(start, end) for _, start, end in counters["statement_ranges"]}
    assert counters["calls"]["GetCustBal"] == len(windows) + 1
    assert_equals_truth(run.records["transactions"], truth(r.bank, ibans={BUSY}))


@fault
def a_token_expiring_in_the_middle_of_an_account_is_renewed_without_the_password(r: Runner) -> None:
    # Each token serves 5 API calls: getCustQuery, getFilteredAccounts and three windows of the
    # account; the account's fourth window meets the 401. The walk is sequential, so it is exact.
    r.bank.faults.token_calls = 5
    start = TODAY - dt.timedelta(days=150)
    run = r.run(ibans=[BUSY], customer_ids=[PERSON], max_concurrency=1, start_date=start.isoformat())
    assert run.returncode == 0, run.stderr[-3000:]
    counters = r.bank.counters()
    answered = api_calls(counters) - counters["unauthorized"]
    tokens = math.ceil(answered / 5)
    assert tokens >= 2
    assert counters["logins"] == tokens
    assert counters["unauthorized"] == counters["faults"]["expired_token"] == tokens - 1
    assert counters["calls"]["login_post"] == 1, "the password is sent once; renewals reuse the session"
    assert run.stderr.count("The access token expired; logging in again.") == tokens - 1
    assert_equals_truth(run.records["transactions"], truth(r.bank, start, ibans={BUSY}))


@fault
def a_token_used_up_by_the_other_threads_before_a_retry_is_renewed_again(r: Runner) -> None:
    # Each token serves 4 API calls and four are in flight: a call that met an expired token can
    # find the renewed one used up by the others before its retry. That is an expiry again, not
    # the bank refusing fresh tokens: the run reads everything, with the password sent once.
    r.bank.faults.token_calls = 4
    start = TODAY - dt.timedelta(days=400)
    run = r.run(ibans=[BUSY], customer_ids=[PERSON], max_concurrency=4, start_date=start.isoformat())
    assert run.returncode == 0, run.stderr[-3000:]
    counters = r.bank.counters()
    assert counters["unauthorized"] >= 3
    assert counters["calls"]["login_post"] == 1
    assert_equals_truth(run.records["transactions"], truth(r.bank, start, ibans={BUSY}))


@fault
def malformed_json_is_retried_and_read_in_full(r: Runner) -> None:
    r.bank.fail_next("malformed", count=1, endpoint="GetCustBal")
    run = r.run(ibans=[BUSY], max_concurrency=1)
    assert run.returncode == 0, run.stderr[-3000:]
    assert r.bank.counters()["faults"]["malformed"] == 1
    assert [w[:2] for w in retry_warnings(run, "GetCustBal")] == [("an answer that is not valid JSON", 1)]
    assert_equals_truth(run.records["transactions"], truth(r.bank, ibans={BUSY}))


@fault
def malformed_json_that_persists_holds_the_bookmark_and_the_next_run_recovers_everything(r: Runner) -> None:
    # The newest window (read first) arrives whole; every answer after it is cut in half.
    r.bank.faults = UnreadableFrom(r.bank, nth=2)
    run = r.run(ibans=[BUSY], customer_ids=[PERSON], max_concurrency=1, max_retries=1)
    assert run.returncode == 0, run.stderr[-3000:]
    counters = r.bank.counters()
    newest = max(counters["statement_ranges"], key=lambda r: r[1])
    first_day = dt.date.fromisoformat(newest[1])
    want = {k: e for k, e in truth(r.bank, ibans={BUSY}).items() if e.booking_date >= first_day}
    assert_equals_truth(run.records["transactions"], want)
    held = run.partitions()[BUSY]["walked_through"]
    assert held == (RECENT - dt.timedelta(days=1)).isoformat(), "a bookmark passed days never read"
    summary = assert_summary_is_last(run)
    assert f"account ****6644 before {first_day}" in summary
    # The next run, with the bank healthy again, reads the rest: nothing lost.
    r.bank.faults = Faults()
    resumed = r.run(state=run.state, ibans=[BUSY], customer_ids=[PERSON])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert set(upsert(run, resumed)) == set(truth(r.bank, ibans={BUSY}))


@fault
def a_changed_login_page_stops_before_the_password_is_sent(r: Runner) -> None:
    r.bank.faults.no_csrf = True
    run = r.run()
    assert_one_error_line(run, 5, 'meta name="_csrf"', "login page changed")
    counters = r.bank.counters()
    assert counters["calls"]["login_post"] == 0
    assert counters["calls"]["authorize"] == 1


@fault
def a_second_factor_is_reported_and_never_answered(r: Runner) -> None:
    r.bank.faults.second_factor = True
    run = r.run()
    assert_one_error_line(run, 3, "second factor")
    counters = r.bank.counters()
    assert counters["calls"]["login_post"] == 1
    assert counters["calls"]["otp"] == 1  # the code page was read, no code posted
    assert counters["logins"] == 0


@fault
def a_wrong_password_is_posted_once_and_leaves_four_attempts(r: Runner) -> None:
    run = r.run(password="not-the-password")
    assert_one_error_line(run, 3, "username or password", "tried once")
    counters = r.bank.counters()
    assert counters["calls"]["login_post"] == 1
    assert counters["failed_logins"] == 1
    assert counters["logins"] == 0
    page = sandbox_login(r.bank.base_url, r.bank.username, "still-wrong").final
    assert page is not None and "Оставащи опити: 3" in page.text  # 5 - the tap's 1 - this 1


@fault
def a_locked_user_is_posted_once_and_reported_as_locked(r: Runner) -> None:
    for _ in range(5):
        sandbox_login(r.bank.base_url, r.bank.username, "wrong")
    r.bank.reset_counters()
    run = r.run()
    assert_one_error_line(run, 3, "locked", "unlock it with Fibank")
    counters = r.bank.counters()
    assert counters["calls"]["login_post"] == 1
    assert counters["logins"] == 0


@fault
def a_5xx_answer_to_the_password_is_not_retried(r: Runner) -> None:
    r.bank.fail_next("5xx", count=1, endpoint="login_post")
    run = r.run()
    assert_one_error_line(run, 4, "HTTP 500 to the login", "not retried")
    counters = r.bank.counters()
    assert counters["calls"]["login_post"] == 1
    assert counters["failed_logins"] == 0


@fault
def a_certificate_question_failing_every_time_ends_with_exit_4_and_no_password(r: Runner) -> None:
    """A password sent into a session the bank may have lost could count toward the lockout."""
    r.bank.fail_next("5xx", count=3, endpoint="certs")
    run = r.run()
    assert_one_error_line(run, 4, "HTTP 5xx or 429 on the login certificate check")
    counters = r.bank.counters()
    assert counters["calls"]["certs"] == 3
    assert counters["calls"]["login_post"] == 0
    assert counters["faults"]["5xx"] == 3


@fault
def an_unreachable_bank_ends_the_run_with_exit_4(r: Runner) -> None:
    # The port stays bound and never listens while the run lasts: nothing else can take it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        run = r.run(base_url=f"http://127.0.0.1:{port}")
    assert_one_error_line(run, 4, f"127.0.0.1:{port} cannot be reached", "ConnectionError")


@fault
def the_account_whose_statement_always_fails_is_skipped_by_name_and_the_rest_read(r: Runner) -> None:
    run = r.run(max_retries=1)
    assert run.returncode == 0, run.stderr[-3000:]
    broken = broken_iban(r.bank)
    masked = f"****{broken[-4:]}"
    assert broken not in {rec["iban"] for rec in run.records["transactions"]}
    assert_equals_truth(run.records["transactions"], truth(r.bank))
    summary = assert_summary_is_last(run)
    assert f"Run finished with 1 skipped: account {masked} from {RECENT}" in summary
    assert "HTTP 500, 2 attempts" in summary
    assert "walked_through" not in run.partitions().get(broken, {})
    assert all("walked_through" in p for iban, p in run.partitions().items() if iban != broken)
    # Exactly: 1 + max_retries tries of the newest window, and the oldest asked once ahead of it.
    counters = r.bank.counters()
    ranges = [(first, last) for iban, first, last in counters["statement_ranges"] if iban == broken]
    newest = (str(TODAY - dt.timedelta(days=15)), str(TODAY))
    oldest = (str(RECENT), str(TODAY - dt.timedelta(days=16)))
    assert sorted(ranges) == sorted([newest, newest, oldest])
    assert counters["statement_calls"][broken] == (1 + 1) + 1
    assert "ORA-01403" not in run.stderr  # the bank's error body is never logged


@fault
def a_late_posting_inside_the_lookback_is_caught_by_the_next_run(r: Runner) -> None:
    r.bank.faults.late_posting_days = 3  # booked right after the window holding today-3 is read
    first = r.run(ibans=[BUSY])
    assert first.returncode == 0, first.stderr[-3000:]
    assert r.bank.counters()["faults"]["late_posting"] == 1
    missed = set(truth(r.bank, ibans={BUSY})) - {key(rec) for rec in first.records["transactions"]}
    assert len(missed) == 1
    late = truth(r.bank, ibans={BUSY})[next(iter(missed))]
    assert late.booking_date == TODAY - dt.timedelta(days=3) and late.amount == Decimal("12.34")
    second = r.run(state=first.state, ibans=[BUSY])
    assert second.returncode == 0, second.stderr[-3000:]
    assert missed <= {key(rec) for rec in second.records["transactions"]}
    loaded = upsert(first, second)
    assert_equals_truth(list(loaded.values()), truth(r.bank, ibans={BUSY}))


@fault
def a_posting_back_dated_beyond_the_lookback_is_not_caught(r: Runner) -> None:
    # The documented limit: lookback_days bounds how late a posting can be and still be read.
    first = r.run(ibans=[BUSY], lookback_days=LOOKBACK)
    assert first.returncode == 0, first.stderr[-3000:]
    late = r.bank.post_late_entry(BUSY, TODAY - dt.timedelta(days=LOOKBACK + 3), Decimal("5.00"), "credit")
    r.bank.reset_counters()
    second = r.run(state=first.state, ibans=[BUSY], lookback_days=LOOKBACK)
    assert second.returncode == 0, second.stderr[-3000:]
    read = {key(rec) for rec in first.records["transactions"] + second.records["transactions"]}
    assert set(truth(r.bank, ibans={BUSY})) - read == {(BUSY, late.entry_id)}
    reread = r.bank.counters()["statement_ranges"]
    assert min(dt.date.fromisoformat(s) for _, s, _ in reread) == TODAY - dt.timedelta(days=LOOKBACK - 1)


def _killed_then_resumed(r: Runner, sig: signal.Signals) -> tuple[TapRun, TapRun]:
    """Kill a run mid-account, resume from its last STATE; check union, bookmarks and duplicates."""
    start = TODAY - dt.timedelta(days=400)
    r.bank.faults.latency = 0.003  # slow enough to be caught mid-run
    killed = r.run_until_killed(sig, after_records=1200, start_date=start.isoformat())
    r.bank.faults.latency = 0
    assert killed.states, "the killed run wrote no state"
    state = killed.state
    resumed = r.run(state=state, start_date=start.isoformat())
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    want = truth(r.bank, start)

    # The bookmark never claims what was not emitted: every entry up to it is in the killed run.
    emitted = {key(rec) for rec in killed.records["transactions"]}
    bookmarks = {
        iban: dt.date.fromisoformat(p["walked_through"])
        for iban, p in killed.partitions().items()
        if "walked_through" in p
    }
    assert bookmarks, "the kill came before the first bookmark"
    for (iban, entry_id), entry in want.items():
        if iban in bookmarks and entry.booking_date <= bookmarks[iban]:
            assert (iban, entry_id) in emitted, (iban, entry.booking_date, bookmarks[iban])

    # The union is the bank's truth; the resumed run started where the bookmark says.
    again = {key(rec) for rec in resumed.records["transactions"]}
    assert emitted | again == set(want)
    for iban, walked in bookmarks.items():
        resume_from = walked + dt.timedelta(days=1 - LOOKBACK)
        assert all(
            dt.date.fromisoformat(rec["booking_date"]) >= resume_from
            for rec in resumed.records["transactions"]
            if rec["iban"] == iban
        )

    # Duplicates only where the resumed run had to read again: the lookback days before a
    # bookmark, the day the bookmark was in the middle of, or what came after the last checkpoint.
    unconfirmed: set[tuple[str, int]] = set()  # records after the last complete STATE line
    for line in killed.stdout.splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # the kill cut this line: it never reached a target
        if line.startswith('{"type":"STATE"'):
            unconfirmed.clear()
        elif line.startswith('{"type":"RECORD","stream":"transactions"'):
            unconfirmed.add(key(json.loads(line)["record"]))
    reread = {  # the days a resumed run reads again: the lookback, and the day it was in
        (iban, entry_id)
        for (iban, entry_id), e in want.items()
        if iban not in bookmarks  # no bookmark: read again from start_date
        or -LOOKBACK < (e.booking_date - bookmarks[iban]).days <= 1
    }
    duplicates = emitted & again
    assert duplicates, "a resumed run reads its lookback again: some duplicates are expected"
    assert duplicates <= reread | unconfirmed, sorted(duplicates - reread - unconfirmed)[:5]

    # A target's upsert on (iban, entry_id) leaves each entry once, with the bank's values.
    assert_equals_truth(list(upsert(killed, resumed).values()), want)
    return killed, resumed


@fault
def sigterm_mid_run_writes_a_final_state_and_the_resumed_run_completes_it(r: Runner) -> None:
    killed, _ = _killed_then_resumed(r, signal.SIGTERM)
    # The walk stops between windows: one last STATE, matching what was emitted, and an exit
    # code that tells the orchestrator the run did not finish (128 + SIGTERM).
    assert killed.returncode == 128 + signal.SIGTERM, killed.stderr[-3000:]
    assert killed.stdout.splitlines()[-1].startswith('{"type":"STATE"')
    errors = [line for line in killed.stderr.splitlines() if line.startswith("tap-fibank: error:")]
    assert len(errors) == 1 and "stopped by SIGTERM" in errors[0]
    assert "Traceback" not in killed.stderr


@fault
def sigkill_mid_run_loses_nothing_once_resumed_from_the_last_state(r: Runner) -> None:
    killed, _ = _killed_then_resumed(r, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", MATRIX, ids=lambda s: s.__name__)
def test_each_fault_ends_as_its_row_says_and_leaks_no_secret_at_debug_level(
    scenario: Callable[[Runner], None], tmp_path: Path
) -> None:
    with SecretBank(seed=1) as bank:
        runner = Runner(bank, tmp_path, env=DEBUG)
        scenario(runner)
        assert_nothing_secret(runner)


def test_a_refused_relogin_is_posted_once_however_many_threads_saw_the_expiry() -> None:
    """The bank locks a user after five refusals: a run must never post the password twice."""
    with SecretBank(seed=1) as bank:
        client = BankClient(
            base_url=bank.base_url,
            username=bank.username,
            password=bank.password,
            timeout=10,
            max_retries=0,
            pool_size=4,
        )
        client.ensure_logged_in()
        # The server session is gone (it idled out) and the user got locked meanwhile: a renewal
        # has to post the password, and the bank refuses it.
        client._session.cookies.clear()
        for _ in range(5):
            sandbox_login(bank.base_url, bank.username, "wrong")
        bank.reset_counters()
        bank.fail_next("expire_token", count=1)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.get_json("sywsquery/sywsquery/getCustQuery")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        client.close()
        assert len(errors) == 4 and all(isinstance(e, UserLockedError) for e in errors), errors
        assert bank.counters()["calls"]["login_post"] == 1


def test_a_closed_client_stops_retrying_at_once() -> None:
    """Calls still retrying when a run ends give up instead of logging after the summary line."""
    with SecretBank(seed=1) as bank:
        client = BankClient(
            base_url=bank.base_url,
            username=bank.username,
            password=bank.password,
            timeout=10,
            max_retries=5,
            backoff_base=30,  # 22.5 s or more: a retry not cancelled comes after the join below gives up
        )
        client.ensure_logged_in()
        bank.fail_next("5xx", count=10, endpoint="getCustQuery")
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                client.get_json("sywsquery/sywsquery/getCustQuery")
            except ServerError as exc:
                outcome.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        deadline = time.monotonic() + 10
        while bank.counters()["calls"]["getCustQuery"] < 1:
            assert time.monotonic() < deadline, "the call never reached the bank"
            time.sleep(0.01)
        client.close()
        worker.join(timeout=15)
        assert not worker.is_alive(), "the call went on waiting for its retry"
        assert len(outcome) == 1 and "the run ended while it was retried" in str(outcome[0])
        assert bank.counters()["calls"]["getCustQuery"] == 1


def test_the_summary_line_is_last_even_while_calls_of_a_skipped_account_were_in_flight(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=1) as bank:
        runner = Runner(bank, tmp_path)
        run = runner.run(
            max_retries=2,
            max_concurrency=1,
            ibans=[broken_iban(bank)],
            start_date=str(TODAY - dt.timedelta(99)),
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert "1 skipped" in assert_summary_is_last(run)


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, where the warehouse test must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


@pytest.mark.postgres
def test_after_a_killed_and_resumed_run_postgres_holds_each_entry_once(tmp_path: Path) -> None:
    """Both runs' output through the real target-postgres: its upsert leaves the bank's truth."""
    if not TARGET_POSTGRES.exists():
        unavailable(f"target-postgres is not installed at {TARGET_POSTGRES} (make install WITH=pipeline)")
    import psycopg

    params = {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }
    try:
        psycopg.connect(**params, connect_timeout=5).close()  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        unavailable(f"no PostgreSQL at {params['host']}:{params['port']}/{params['dbname']}: {exc}".strip())
    with SecretBank(seed=1) as bank:
        killed, resumed = _killed_then_resumed(Runner(bank, tmp_path), signal.SIGKILL)
        want = truth(bank, TODAY - dt.timedelta(days=400))
    schema = f"faults_{uuid.uuid4().hex[:10]}"
    config = {
        "host": params["host"],
        "port": int(params["port"]),
        "user": params["user"],
        "password": params["password"],
        "database": params["dbname"],
        "default_target_schema": schema,
    }
    (tmp_path / "target.json").write_text(json.dumps(config))
    lines = [line for run in (killed, resumed) for line in run.stdout.splitlines(keepends=True)]
    singer = "".join(line for line in lines if line.endswith("\n"))  # the kill may cut the last line
    try:
        loaded = subprocess.run(
            [str(TARGET_POSTGRES), "--config", str(tmp_path / "target.json")],
            input=singer,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PGTZ": "UTC"},
            check=False,
        )
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        with psycopg.connect(**params) as connection:  # type: ignore[arg-type]
            rows = connection.execute(
                f'select iban, entry_id, signed_amount, balance_after from "{schema}".transactions'  # type: ignore[arg-type]
            ).fetchall()
    finally:
        with psycopg.connect(**params, autocommit=True) as connection:  # type: ignore[arg-type]
            connection.execute(f'drop schema if exists "{schema}" cascade')  # type: ignore[arg-type]
    keys = [(iban, int(entry_id)) for iban, entry_id, _, _ in rows]
    assert len(keys) == len(set(keys)) == len(want), "duplicates or losses in the warehouse"
    assert set(keys) == set(want)
    for iban, entry_id, signed_amount, balance_after in rows:
        entry = want[(iban, int(entry_id))]
        assert Decimal(str(signed_amount)) == entry.signed_amount
        assert Decimal(str(balance_after)) == entry.balance_after
