"""A sandbox with several logins: each sees only its own profiles and accounts, as at the bank."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import sandbox_login
from support.tapruns import run_tap, sandbox_config

from fibank_sandbox import Sandbox
from fibank_sandbox.iban import is_valid

TODAY = dt.date(2026, 3, 15)


def test_the_default_sandbox_has_exactly_the_demo_login() -> None:
    bank = Sandbox(seed=1, today=TODAY)
    assert [(x.username, x.password) for x in bank.logins] == [("demo", "demo")]
    assert [p.customer_id for p in bank.customers] == list(bank.logins[0].customer_ids)
    assert len(bank.accounts) == 6
    assert bank.login_truth("demo") == bank.truth()


def test_each_login_has_profiles_accounts_and_entries_of_its_own() -> None:
    bank = Sandbox(seed=1, today=TODAY, users=3)
    names = [x.username for x in bank.logins]
    assert names == ["demo", "demo2", "demo3"]
    ids = [set(x.customer_ids) for x in bank.logins]
    assert all(len(i) == 2 for i in ids) and not (ids[0] & ids[1] or ids[1] & ids[2] or ids[0] & ids[2])
    ibans = [set(bank.login_truth(name)) for name in names]
    assert [len(i) for i in ibans] == [6, 5, 5]  # later logins hold no always-failing account
    assert not (ibans[0] & ibans[1] or ibans[1] & ibans[2])
    assert all(is_valid(iban) for group in ibans for iban in group)
    first, second = (bank.login_truth(n) for n in ("demo2", "demo3"))
    amounts = [[e.amount for e in entries] for entries in first.values()]
    assert amounts != [[e.amount for e in entries] for entries in second.values()]
    all_ids = [e.entry_id for entries in bank.truth().values() for e in entries]
    assert len(all_ids) == len(set(all_ids))
    # The demo login's bank is the same as a single-login sandbox's.
    assert bank.login_truth("demo") == Sandbox(seed=1, today=TODAY).truth()


def test_a_login_sees_only_its_own_profiles_and_is_refused_another_s() -> None:
    with Sandbox(seed=1, today=TODAY, users=2) as bank:
        demo, other = bank.logins
        session = sandbox_login(bank.base_url, other.username, other.password)
        assert session.token
        listed = [str(p["ibCustomerId"]) for p in session.api("getCustQuery").json()["customer"]]
        assert listed == list(other.customer_ids)
        assert session.api("getFilteredAccounts", demo.customer_ids[0]).status_code == 403
        assert not sandbox_login(bank.base_url, other.username, demo.password).token


def test_the_tap_reads_exactly_one_login_s_accounts(tmp_path: Path) -> None:
    with Sandbox(seed=1, today=TODAY, users=2) as bank:
        login = bank.logins[1]
        config = sandbox_config(bank, "2026-02-01", username=login.username, password=login.password)
        run = run_tap(tmp_path, config)
        assert run.returncode == 0, run.stderr[-2000:]
        truth = {
            iban: [e.entry_id for e in entries if e.booking_date >= dt.date(2026, 2, 1)]
            for iban, entries in bank.login_truth(login.username).items()
        }
        got: dict[str, list[int]] = {iban: [] for iban in truth}
        for record in run.records["transactions"]:
            got[record["iban"]].append(record["entry_id"])
        assert got == truth


@pytest.mark.parametrize("users", ["0", "-1"])
def test_the_cli_refuses_fewer_than_one_user_in_one_line(users: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fibank_sandbox", "--users", users],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "--users must be 1 or more" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_prints_every_login() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fibank_sandbox", "--users", "3", "--today", "2026-03-15"],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        lines = [process.stdout.readline() for _ in range(3)]
        assert "demo / demo" in lines[0]
        assert lines[1].strip() == "login: demo2 / demo2" and lines[2].strip() == "login: demo3 / demo3"
        assert sandbox_login(base_url, "demo3", "demo3").token
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
