"""Exit codes and messages an orchestrator can act on, one distinct code per kind of failure.

0 a complete run, or one that skipped an account (ending with one summary line naming it);
2 configuration; 3 authentication; 4 bank unreachable or failing; 5 bank answered something
unreadable; 6 skipped accounts with fail_on_skipped_accounts; 7 strict_statements mismatch.
Authentication, an unreachable bank and a changed login page are proven in the fault matrix
(test_faults.py); this file covers the rest and the contract itself.
"""

from __future__ import annotations

import datetime as dt
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
)
from support.tapruns import run_tap

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
