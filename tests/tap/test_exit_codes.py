"""Exit codes and messages an orchestrator can act on, one distinct code per kind of failure.

0 a complete run, or one that skipped an account (ending with one summary line naming it);
2 configuration; 3 authentication; 4 bank unreachable or failing; 5 bank answered something
unreadable; 6 skipped accounts with fail_on_skipped_accounts; 7 strict_statements mismatch.
1 an unexpected error; 130 and 143 stopped by SIGINT or SIGTERM.
Authentication, an unreachable bank, a changed login page and SIGTERM are proven in the fault
matrix (test_bank_faults.py); this file covers the rest and the contract itself.
"""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path
from typing import Any

import pytest
from support.bank import (
    BUSY,
    RECENT,
    SUMMARY,
    TODAY,
    Runner,
    SecretBank,
    assert_equals_truth,
    assert_one_error_line,
    assert_summary_is_last,
    broken_iban,
    truth,
    upsert,
)
from support.tapruns import run_tap

from fibank_sandbox.replay import ReplaySandbox
from fibank_sandbox.shape import Shape
from tap_fibank.errors import (
    AuthenticationError,
    BankProtocolError,
    BankUnavailableError,
    ConfigError,
    FibankError,
    LoginPageChangedError,
    SecondFactorRequiredError,
    SkippedAccountsError,
    StatementMismatchError,
    UserLockedError,
    WrongCredentialsError,
)


def test_each_kind_of_failure_has_its_own_non_zero_code() -> None:
    codes = {
        ConfigError: 2,
        AuthenticationError: 3,
        BankUnavailableError: 4,
        BankProtocolError: 5,
        SkippedAccountsError: 6,
        StatementMismatchError: 7,
    }
    assert {kind: kind.exit_code for kind in codes} == codes
    assert FibankError.exit_code == 1
    for kind in (WrongCredentialsError, UserLockedError, SecondFactorRequiredError):
        assert kind.exit_code == 3
    assert LoginPageChangedError.exit_code == 5


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"password": None}, "username and password are required"),
        ({"start_date": "2024-02-30"}, "start_date must be a date like 2024-01-31"),
        ({"window_days": 31}, "31 is greater than the maximum of 30 in config['window_days']"),
        ({"base_url": "http://bank.example"}, "plain http to a host that is not this machine"),
        ({"password": 48151623}, "password must be a text value"),
    ],
    ids=["missing-password", "impossible-date", "window-too-long", "http-to-a-remote-host", "password-type"],
)
def test_a_configuration_error_exits_2_before_anything_is_sent(
    settings: dict[str, Any], named: str, tmp_path: Path
) -> None:
    with SecretBank(seed=1) as bank:
        config = {k: v for k, v in Runner(bank, tmp_path).config(**settings).items() if v is not None}
        run = run_tap(tmp_path, config)
        assert_one_error_line(run, 2, named)
        assert sum(bank.counters()["calls"].values()) == 0


def test_a_complete_run_exits_0_and_says_so_last(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        run = Runner(bank, tmp_path).run(ibans=[BUSY])
        assert run.returncode == 0, run.stderr[-3000:]
        assert assert_summary_is_last(run).endswith(f"{SUMMARY}: every listed account was read.")


def test_a_skipped_account_exits_0_with_one_summary_line_naming_it(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        broken = broken_iban(bank)
        run = Runner(bank, tmp_path).run(max_retries=0)
        assert run.returncode == 0, run.stderr[-3000:]
        summary = assert_summary_is_last(run)
        assert f"Run finished with 1 skipped: account ****{broken[-4:]} from {RECENT}" in summary
        assert broken not in run.stderr


def test_fail_on_skipped_accounts_exits_6_after_reading_everything_else(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        broken = broken_iban(bank)
        run = Runner(bank, tmp_path).run(max_retries=0, fail_on_skipped_accounts=True)
        assert run.returncode == 6, run.stderr[-3000:]
        (line,) = [line for line in run.stderr.splitlines() if line.startswith("tap-fibank: error:")]
        assert f"1 skipped: account ****{broken[-4:]}" in line
        assert "(fail_on_skipped_accounts is on)" in line
        assert_equals_truth(run.records["transactions"], truth(bank))
        assert run.stdout.splitlines()[-1].startswith('{"type":"STATE"')
        bookmarks = run.partitions()
        assert all("walked_through" in p for iban, p in bookmarks.items() if iban != broken)


@pytest.mark.parametrize(("fail_on_skipped", "code"), [(False, 0), (True, 6)])
def test_a_profile_whose_account_list_fails_is_skipped_and_named(
    fail_on_skipped: bool, code: int, tmp_path: Path
) -> None:
    with SecretBank(seed=1) as bank:
        bank.fail_next("5xx", count=1, endpoint="getFilteredAccounts")
        run = Runner(bank, tmp_path).run(max_retries=0, fail_on_skipped_accounts=fail_on_skipped)
        assert run.returncode == code, run.stderr[-3000:]
        skipped = "the accounts of profile 5896443 (HTTP 500, 1 attempts)"
        if fail_on_skipped:
            (line,) = [line for line in run.stderr.splitlines() if line.startswith("tap-fibank: error:")]
            assert skipped in line
        else:
            assert skipped in assert_summary_is_last(run)
        business = {a.iban for a in bank.accounts if a.customer_id == "7310528"}
        assert {r["iban"] for r in run.records["transactions"]} <= business
        assert_equals_truth(run.records["transactions"], truth(bank, ibans=business))


def test_a_bank_answering_unreadable_json_exits_5(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        bank.fail_next("malformed", count=10, endpoint="getCustQuery")
        run = Runner(bank, tmp_path).run(max_retries=1)
        assert_one_error_line(run, 5, "getCustQuery", "not valid JSON, 2 attempts")
        assert bank.counters()["calls"]["getCustQuery"] == 2


def test_strict_statements_exits_7_on_a_window_that_does_not_add_up(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        bank.faults.truncate_rate = 1.0
        start = TODAY - dt.timedelta(days=20)
        run = Runner(bank, tmp_path).run(ibans=[BUSY], strict_statements=True, start_date=str(start))
        assert run.returncode == 7, run.stderr[-3000:]
        (line,) = [line for line in run.stderr.splitlines() if line.startswith("tap-fibank: error:")]
        assert "account ****6644" in line and "strict_statements is on" in line
        assert "walked_through" not in run.partitions().get(BUSY, {})


# --- the rows of the exit-code table no other file runs through the CLI -------------------------

# Parses, but names an instant no calendar holds: the tap's code meets an OverflowError, an
# error that is none of its FibankErrors.
BEYOND_THE_CALENDAR = "9999-12-31T23:59:59-1400"


def test_an_unexpected_error_exits_1_with_one_line_naming_it_and_no_traceback(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        bank.faults.entry_timestamp = BEYOND_THE_CALENDAR
        run = Runner(bank, tmp_path).run(ibans=[BUSY], start_date=str(TODAY - dt.timedelta(days=5)))
        assert run.returncode == 1, run.stderr[-3000:]
        assert "Traceback" not in run.stderr
        named = [line for line in run.stderr.splitlines() if "OverflowError" in line]
        assert len(named) == 1, named
        assert run.stderr.rstrip().splitlines()[-1] == named[0]
        assert not run.records.get("transactions")
        assert bank.counters()["calls"]["GetCustBal"] >= 1  # it was the bank's answer that did it


@pytest.mark.xfail(
    strict=True,
    reason="tap.py main() prints `tap-fibank: error:` for FibankError only; an unexpected error "
    "ends with the SDK's own log line, although the README promises the line for every non-zero exit",
)
def test_an_unexpected_error_is_reported_on_the_one_error_line_like_every_other(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        bank.faults.entry_timestamp = BEYOND_THE_CALENDAR
        run = Runner(bank, tmp_path).run(ibans=[BUSY], start_date=str(TODAY - dt.timedelta(days=5)))
        assert_one_error_line(run, 1, "OverflowError")


def test_sigint_mid_run_exits_130_after_a_final_state_and_one_error_line(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        start = TODAY - dt.timedelta(days=400)
        runner = Runner(bank, tmp_path)
        run = runner.run_signalled_at_the_gate(
            signal.SIGINT, held_after=4, ibans=[BUSY], start_date=str(start), max_concurrency=1
        )
        assert run.returncode == 130, run.stderr[-3000:]
        errors = [line for line in run.stderr.splitlines() if line.startswith("tap-fibank: error:")]
        assert len(errors) == 1 and "stopped by SIGINT" in errors[0], errors
        assert "Traceback" not in run.stderr
        assert run.stdout.splitlines()[-1].startswith('{"type":"STATE"')
        walked = dt.date.fromisoformat(run.partitions()[BUSY]["walked_through"])
        assert walked < TODAY, "the run was stopped mid-account, not at its end"
        emitted = run.records["transactions"]
        assert_equals_truth(emitted, truth(bank, start, ibans={BUSY}), subset=True)
        resumed = runner.run(state=run.state, ibans=[BUSY], start_date=str(start))
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        loaded = upsert(run, resumed)
        assert_equals_truth(list(loaded.values()), truth(bank, start, ibans={BUSY}))


@pytest.mark.parametrize(
    ("expiry_answer", "named"),
    [
        ("401", "the bank refused a fresh access token on getCustQuery (HTTP 401)"),
        ("login_page", "the bank answered getCustQuery with its login page even after a fresh login"),
    ],
)
def test_the_same_refusal_after_a_fresh_login_exits_5(expiry_answer: str, named: str, tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        bank.faults.token_calls = 0  # every token is refused on its first call
        bank.faults.expiry_answer = expiry_answer
        run = Runner(bank, tmp_path).run()
        assert_one_error_line(run, 5, named)
        counters = bank.counters()
        # The first token and three renewals (client.py's MAX_RENEWALS_PER_CALL), then it gives up:
        # not a loop of logins, and no renewal posts the password again.
        assert counters["logins"] == 4
        assert counters["calls"]["login_post"] == 1
        assert counters["calls"]["getCustQuery"] == 4
        assert counters["calls"]["getFilteredAccounts"] == counters["calls"]["GetCustBal"] == 0


def test_a_profile_list_without_any_profile_id_exits_5(tmp_path: Path) -> None:
    shape = Shape(profile_template={"customerName": "", "customerType": "", "status": ""})
    with ReplaySandbox(shape, seed=1) as bank:
        run = Runner(bank, tmp_path).run()
        assert_one_error_line(run, 5, "no profile in getCustQuery has an ibCustomerId")
        calls = bank.counters()["calls"]
        assert calls["getCustQuery"] == 1
        assert calls["getFilteredAccounts"] == calls["GetCustBal"] == 0


def test_a_direction_neither_the_flag_nor_the_balance_tells_exits_5(tmp_path: Path) -> None:
    # An unknown dtkt spelling, unsigned amounts, and no running balance on the entries.
    entry_keys = ["acEntrySrNo", "reference", "amount", "dtkt", "dateTime", "valueDt", "trname", "trnType"]
    shape = Shape(dtkt={"debit": "Дт.", "credit": "Кт."}, entry_keys=entry_keys)
    with ReplaySandbox(shape, seed=1) as bank:
        run = Runner(bank, tmp_path).run(ibans=[BUSY], start_date=str(TODAY - dt.timedelta(days=5)))
        assert_one_error_line(run, 5, "dtkt='Дт.'", "balances do not tell debit from credit")
        assert bank.counters()["calls"]["GetCustBal"] >= 1
