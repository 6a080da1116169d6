"""The variant matrix: the real tap, over real HTTP, against a bank that differs in one way at a time.

Nobody here has seen the live bank; everything the 2022 connector did not read is an inference.
Each variant switches on one plausible difference (a sandbox knob, docs/sandbox.md) and asserts
what a user must get anyway: every entry of every healthy account exactly once, to the cent, on
its Sofia day, exit 0 with a summary line naming what differed (or one clear error line where no
complete answer exists), and a next run that costs at most two statement calls per account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tapruns import TapRun, run_tap
from test_faults import RECENT, assert_equals_truth, assert_summary_is_last, broken_iban, truth

from tap_fibank.sandbox import Faults, Sandbox

# The variant matrix has its own make target (make test-matrix), which .ci/run runs too.
pytestmark = pytest.mark.matrix

FIRST_DAY = dt.date(1993, 2, 27)  # the tap's default start_date
PERSON = "5896443"


@dataclass
class Variant:
    """One way the bank may differ, and what the user must see about it."""

    name: str
    faults: dict[str, Any]
    from_1993: bool = False  # the default start_date: where windows before an account existed matter
    config: dict[str, Any] = field(default_factory=dict)
    profiles: tuple[str, ...] | None = None  # the profiles whose accounts can be read (None: all)
    check: Callable[[Sandbox, TapRun], None] | None = None


def summary_says(*fragments: str) -> Callable[[Sandbox, TapRun], None]:
    def check(bank: Sandbox, run: TapRun) -> None:
        summary = assert_summary_is_last(run)
        for fragment in fragments:
            assert fragment in summary, summary

    return check


def one_login_per_run(bank: Sandbox, run: TapRun) -> None:
    counters = bank.counters()
    assert counters["calls"]["login_post"] == 1, "the password was sent twice in one run"
    assert counters["faults"]["expired_token"] >= 1, "the variant never expired a token"


def every_window_proven(bank: Sandbox, run: TapRun) -> None:
    assert all(s["verification"] == "balanced" for s in run.records["statements"])
    assert_summary_is_last(run).endswith("Run finished: every listed account was read.")


def unverifiable_but_moving(bank: Sandbox, run: TapRun) -> None:
    # Never "unbalanced": that would hold the bookmark on a reading of ours that may be wrong.
    verdicts = {s["verification"] for s in run.records["statements"]}
    assert "unverifiable" in verdicts and verdicts <= {"unverifiable", "balanced"}, verdicts
    assert "read but unverifiable: ****" in assert_summary_is_last(run)


VARIANTS = [
    Variant("a window before the account opened answers 500", {"before_opening": "500"}, from_1993=True),
    Variant("a window before the account opened answers 400", {"before_opening": "400"}, from_1993=True),
    Variant(
        "a window before the account opened answers no rows", {"before_opening": "empty"}, from_1993=True
    ),
    Variant("statements without summary rows", {"summary_rows": "none"}, check=unverifiable_but_moving),
    Variant("DT and CT hold counts", {"summary_rows": "counts"}, check=unverifiable_but_moving),
    Variant("OP and CL only in amount", {"summary_rows": "amount_only"}, check=every_window_proven),
    Variant("acBal null on OP and CL", {"summary_rows": "null_acbal"}, check=every_window_proven),
    Variant("the bank ignores the range", {"ignore_range": True}, check=summary_says("unverifiable")),
    Variant("the bank sends ten days too many", {"range_slack_days": 10}, check=summary_says("unverifiable")),
    Variant(
        "an expired token answers 403", {"expiry_answer": "403", "token_calls": 4}, check=one_login_per_run
    ),
    Variant(
        "an expired token redirects to the login page",
        {"expiry_answer": "login_page", "token_calls": 4},
        check=one_login_per_run,
    ),
    Variant("dtkt missing with signed amounts", {"dtkt": "missing_signed"}, check=every_window_proven),
    Variant("dtkt in an unknown spelling", {"dtkt": "unknown"}, check=every_window_proven),
    Variant("acc holds another account's statement", {"other_iban_acc": True}, check=every_window_proven),
    Variant("the certificate question answers 404", {"cert_status": 404}, check=every_window_proven),
    Variant("the certificate question answers 204", {"cert_status": 204}, check=every_window_proven),
    Variant(
        "API calls need the browser's headers", {"require_browser_headers": True}, check=every_window_proven
    ),
    Variant(
        "a profile without ibCustomerId",
        {"profile_without_id": True},
        check=summary_says("profile Профил без номер (getCustQuery lists it without an ibCustomerId"),
    ),
    Variant(
        "the business profile's account list answers 403",
        {"business_accounts_status": 403},
        profiles=(PERSON,),
        check=summary_says("the accounts of profile 7310528 (HTTP 403)"),
    ),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_every_variant_gets_every_entry_once_and_a_cheap_next_run(variant: Variant, tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(**variant.faults)) as bank:
        start = FIRST_DAY if variant.from_1993 else RECENT
        config = {
            "base_url": bank.base_url,
            "username": bank.username,
            "password": bank.password,
            "max_retries": 1,
            **({} if variant.from_1993 else {"start_date": RECENT.isoformat()}),
            **variant.config,
        }
        (tmp_path / "first").mkdir()
        first = run_tap(tmp_path / "first", config)
        assert first.returncode == 0, first.stderr[-3000:]
        healthy = {
            a.iban for a in bank.accounts if variant.profiles is None or a.customer_id in variant.profiles
        }
        assert_equals_truth(first.records["transactions"], truth(bank, start, healthy))
        assert bank.counters()["longest_range_days"] <= 30
        if variant.check is not None:
            variant.check(bank, first)
        bank.reset_counters()
        (tmp_path / "next").mkdir()
        second = run_tap(tmp_path / "next", config, first.state)
        assert second.returncode == 0, second.stderr[-3000:]
        calls = bank.counters()["statement_calls"]
        broken = broken_iban(bank)
        assert all(n <= 2 for iban, n in calls.items() if iban != broken), calls


# --- what the matrix does not cover: allow-lists, the device id, failing windows -----------------


def config_for(bank: Sandbox, **overrides: Any) -> dict[str, Any]:
    return {
        "base_url": bank.base_url,
        "username": bank.username,
        "password": bank.password,
        "start_date": RECENT.isoformat(),
        "max_retries": 1,
        **overrides,
    }


def test_an_ibans_entry_that_matches_nothing_is_named_masked_and_fails_the_run_when_asked(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=1) as bank:
        real = next(a.iban for a in bank.accounts if a.customer_id == PERSON)
        typo = real[:-1] + ("0" if real[-1] != "0" else "1")
        run = run_tap(tmp_path, config_for(bank, ibans=[real, typo]))
        assert run.returncode == 0, run.stderr[-3000:]
        summary = assert_summary_is_last(run)
        assert f"ibans entry ****{typo[-4:]}, which matches nothing" in summary
        assert typo not in run.stderr
        assert_equals_truth(run.records["transactions"], truth(bank, RECENT, {real}))
        (tmp_path / "strict").mkdir()
        strict = run_tap(tmp_path / "strict", config_for(bank, ibans=[typo], fail_on_skipped_accounts=True))
        assert strict.returncode == 6
        assert f"ibans entry ****{typo[-4:]}" in strict.stderr.splitlines()[-1]


def test_a_customer_ids_entry_that_matches_nothing_is_named_in_the_summary(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        run = run_tap(tmp_path, config_for(bank, customer_ids=[PERSON, "1234567"], ibans=[]))
        assert run.returncode == 0, run.stderr[-3000:]
        assert "customer_ids entry 1234567, which matches nothing" in assert_summary_is_last(run)
        assert {r["customer_id"] for r in run.records["customers"]} == {PERSON}


def test_the_device_id_is_one_per_user_and_stable_across_runs(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        for name in ("one", "two"):
            (tmp_path / name).mkdir()
            assert run_tap(tmp_path / name, config_for(bank, ibans=[])).returncode == 0
        device_ids = bank.counters()["device_ids"]
        assert len(device_ids) == 1 and device_ids[0] is not None
        assert len(device_ids[0]) == 10 and bank.username not in device_ids[0]


def test_an_account_whose_statement_always_fails_costs_one_window_and_its_retries(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        broken = broken_iban(bank)
        run = run_tap(tmp_path, config_for(bank, start_date="2010-01-01", max_retries=2))
        assert run.returncode == 0, run.stderr[-3000:]
        assert bank.counters()["statement_calls"][broken] <= 2 * (1 + 2)
        assert f"account ****{broken[-4:]} from 2010-01-01" in assert_summary_is_last(run)


def test_a_window_that_keeps_failing_costs_only_itself_and_the_next_run_recovers_it(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        busy = next(a.iban for a in bank.accounts if "dst_edges" in a.tags)
        start = RECENT - dt.timedelta(days=60)
        bad = start + dt.timedelta(days=30)  # the second of four windows
        bank.faults.failing_window_start = bad.isoformat()
        config = config_for(bank, ibans=[busy], start_date=start.isoformat(), max_concurrency=1)
        run = run_tap(tmp_path, config)
        assert run.returncode == 0, run.stderr[-3000:]
        end = bad + dt.timedelta(days=29)
        want = {k: e for k, e in truth(bank, start, {busy}).items() if not bad <= e.booking_date <= end}
        assert_equals_truth(run.records["transactions"], want)
        assert f"account ****{busy[-4:]} for {bad}..{end}" in assert_summary_is_last(run)
        held = run.partitions()[busy]["walked_through"]
        assert held == (bad - dt.timedelta(days=1)).isoformat()
        bank.faults = Faults()
        (tmp_path / "next").mkdir()
        healed = run_tap(tmp_path / "next", config, run.state)
        assert healed.returncode == 0, healed.stderr[-3000:]
        loaded = {
            (r["iban"], r["entry_id"]) for r in run.records["transactions"] + healed.records["transactions"]
        }
        assert loaded == set(truth(bank, start, {busy}))
