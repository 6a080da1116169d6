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
from support.bank import (
    RECENT,
    TODAY,
    assert_equals_truth,
    assert_summary_is_last,
    broken_iban,
    truth,
    upsert,
)
from support.tapruns import TapRun, run_tap

from fibank_sandbox import Faults, Sandbox
from tap_fibank.walk.windows import windows

# The variant matrix has its own make target (make ci SUITE=matrix), which .ci/run runs too.
pytestmark = pytest.mark.matrix

FIRST_DAY = dt.date(1993, 2, 27)  # the tap's default start_date
PERSON = "5896443"


@dataclass
class Variant:
    """One way the bank may differ, and what the user must see about it."""

    name: str
    faults: dict[str, Any]
    from_1993: bool = False  # the default start_date: where windows before an account existed matter
    start: dt.date | None = None  # another start_date (default: RECENT, or 1993 with from_1993)
    config: dict[str, Any] = field(default_factory=dict)
    profiles: tuple[str, ...] | None = None  # the profiles whose accounts can be read (None: all)
    check: Callable[[Sandbox, TapRun], None] | None = None
    #: The entries the bank serves, where that is not all of them from the start.
    served: Callable[[Sandbox, TapRun, dict[tuple[str, int], Any]], dict[tuple[str, int], Any]] | None = None


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


CONVERTED = "BG52FINV91501017006651"  # BGN until 2026-01-01, then EUR
ACROSS_2026 = dt.date(2025, 11, 1)  # a walk across the changeover, about thirteen windows


def currencies_decided(bank: Sandbox, run: TapRun) -> None:
    """Lev before 2026 (or euro, where the history is shown in euro), kept for the next runs."""
    before = {r["currency"] for r in run.records["transactions"] if r["iban"] == CONVERTED}
    assert before >= {"EUR"} and len(before) <= 2, before
    decided = run.partitions()[CONVERTED]["currency_before_2026"]
    assert decided == ("EUR" if bank.faults.history == "redenominated" else "BGN")
    assert "BGN" in before or decided == "EUR"
    assert_summary_is_last(run)


def a_lost_read_is_read_again(bank: Sandbox, run: TapRun) -> None:
    counters = bank.counters()
    assert counters["faults"]["bare_window"] == 1
    asked = [iban for iban, first, _ in counters["statement_ranges"] if first == RECENT.isoformat()]
    assert len(asked) == len(set(asked)) + 1, "the empty answer was not asked again"
    assert "no entries and no summary rows" not in assert_summary_is_last(run)


SERVED_DAYS = 400


def from_the_served_day(
    bank: Sandbox, run: TapRun, want: dict[tuple[str, int], Any]
) -> dict[tuple[str, int], Any]:
    """Each account's entries from the first window the bank answers, which starts within 30 days."""
    oldest = TODAY - dt.timedelta(days=SERVED_DAYS)
    served = {
        iban: dt.date.fromisoformat(p.get("served_from", "1993-02-27"))
        for iban, p in run.partitions().items()
    }
    for iban, day in served.items():
        assert day == dt.date(1993, 2, 27) or oldest <= day < oldest + dt.timedelta(days=30), (iban, day)
    return {k: e for k, e in want.items() if e.booking_date >= served[k[0]]}


def history_served_from_a_day(bank: Sandbox, run: TapRun) -> None:
    """Accounts older than what the bank serves start at the first window it answers, named once."""
    summary = assert_summary_is_last(run)
    oldest = TODAY - dt.timedelta(days=SERVED_DAYS)
    boundary = next(w.start for w in windows(FIRST_DAY, TODAY) if w.start >= oldest)
    named = 0
    for iban, partition in run.partitions().items():
        before = [e.balance_after for e in bank.truth()[iban] if e.booking_date < boundary]
        if iban == broken_iban(bank) or not before or before[-1] == 0:
            assert "served_from" not in partition, iban  # opened later, or nothing carried over
            continue
        assert partition["served_from"] == boundary.isoformat()
        assert f"****{iban[-4:]} from {boundary} (opening balance {before[-1]} carried)" in summary
        named += 1
    assert named >= 3


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
        "an answer with no rows and no summary, once, between balances that differ",
        {"bare_window_start": RECENT.isoformat()},  # the middle of three windows
        start=RECENT - dt.timedelta(days=30),
        check=a_lost_read_is_read_again,
    ),
    Variant("statement elements without ccy", {"ccy": "absent"}, start=ACROSS_2026, check=currencies_decided),
    Variant(
        "one element holding lev and euro across the changeover",
        {"changeover_element": "mixed"},
        start=ACROSS_2026,
        check=currencies_decided,
    ),
    Variant(
        "one mixed element and no ccy anywhere",
        {"changeover_element": "mixed", "ccy": "absent"},
        start=ACROSS_2026,
        check=currencies_decided,
    ),
    Variant(
        "a history re-denominated in euro without ccy",
        {"history": "redenominated"},
        start=ACROSS_2026,
        check=currencies_decided,
    ),
    Variant(
        "a bank that serves only the last 400 days",
        {"served_days": SERVED_DAYS},
        from_1993=True,
        check=history_served_from_a_day,
        served=from_the_served_day,
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
        start = variant.start or (FIRST_DAY if variant.from_1993 else RECENT)
        config = {
            "base_url": bank.base_url,
            "username": bank.username,
            "password": bank.password,
            "max_retries": 1,
            **({} if variant.from_1993 else {"start_date": start.isoformat()}),
            **variant.config,
        }
        (tmp_path / "first").mkdir()
        first = run_tap(tmp_path / "first", config)
        assert first.returncode == 0, first.stderr[-3000:]
        healthy = {
            a.iban for a in bank.accounts if variant.profiles is None or a.customer_id in variant.profiles
        }
        want = truth(bank, start, healthy)
        if variant.served is not None:
            want = variant.served(bank, first, want)
        assert_equals_truth(first.records["transactions"], want)
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
        assert_equals_truth(second.records["transactions"], want, subset=True)


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


# --- the balance chain decides: lost answers, history the bank does not serve, undecidable currency --


@pytest.mark.parametrize("summary_rows", ["full", "none"])
def test_an_answer_that_stays_empty_between_balances_that_differ_is_a_gap_until_it_is_read(
    tmp_path: Path, summary_rows: str
) -> None:
    with Sandbox(seed=1, faults=Faults(summary_rows=summary_rows)) as bank:
        busy = next(a.iban for a in bank.accounts if "dst_edges" in a.tags)
        start = RECENT - dt.timedelta(days=60)
        lost = start + dt.timedelta(days=30)  # the second of four windows
        end = lost + dt.timedelta(days=29)
        bank.faults.bare_window_start, bank.faults.bare_window_mode = lost.isoformat(), "always"
        config = config_for(bank, ibans=[busy], start_date=start.isoformat())
        first = run_tap(tmp_path, config)
        assert first.returncode == 0, first.stderr[-3000:]
        everything = truth(bank, start, {busy})
        before = max(e.booking_date for e in everything.values() if e.booking_date < lost)
        assert_equals_truth(
            first.records["transactions"],
            {k: e for k, e in everything.items() if not lost <= e.booking_date <= end},
        )
        summary = assert_summary_is_last(first)
        gap = "(GetCustBal: an answer with no entries and no summary rows, 2 attempts)"
        assert f"account ****{busy[-4:]} for {lost}..{end} {gap}" in summary
        held = first.partitions()[busy]["walked_through"]
        # Before the earlier entry's day; where summary rows prove the window before, before the lost one.
        proven = before if summary_rows == "none" else lost
        assert held == (proven - dt.timedelta(days=1)).isoformat(), "the bookmark passed the unproven stretch"
        # Still lost in the next run (its windows start at the bookmark less the lookback): said
        # again, and the bookmark still held.
        again_start = dt.date.fromisoformat(held) + dt.timedelta(days=1 - 7)
        bank.faults.bare_window_start = again_start.isoformat()
        (tmp_path / "again").mkdir()
        again = run_tap(tmp_path / "again", config, first.state)
        assert again.returncode == 0, again.stderr[-3000:]
        assert f"****{busy[-4:]} for {again_start}.." in assert_summary_is_last(again)
        assert again.partitions()[busy]["walked_through"] <= held
        bank.faults = Faults()
        (tmp_path / "healed").mkdir()
        healed = run_tap(tmp_path / "healed", config, again.state)
        assert healed.returncode == 0, healed.stderr[-3000:]
        assert set(upsert(first, again, healed)) == set(everything)
        assert healed.partitions()[busy]["walked_through"] == TODAY.isoformat()


def test_the_history_start_is_asked_again_at_most_once_a_week(tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(served_days=SERVED_DAYS)) as bank:
        busy = next(a.iban for a in bank.accounts if "dst_edges" in a.tags)
        config = config_for(bank, ibans=[busy], start_date=FIRST_DAY.isoformat())
        first = run_tap(tmp_path, config)
        assert first.returncode == 0, first.stderr[-3000:]
        partition = first.partitions()[busy]
        assert partition["served_probed"] == TODAY.isoformat()
        bank.reset_counters()
        (tmp_path / "daily").mkdir()
        daily = run_tap(tmp_path / "daily", config, first.state)
        assert bank.counters()["statement_calls"] == {busy: 1}
        assert "history the bank serves only from a day" not in assert_summary_is_last(daily)
        week_ago = (TODAY - dt.timedelta(days=7)).isoformat()
        partition = daily.partitions()[busy]
        partition["served_probed"] = week_ago
        bank.reset_counters()
        (tmp_path / "weekly").mkdir()
        weekly = run_tap(tmp_path / "weekly", config, daily.state)
        assert weekly.returncode == 0, weekly.stderr[-3000:]
        served = dt.date.fromisoformat(partition["served_from"])
        ranges = [(f, t) for _, f, t in bank.counters()["statement_ranges"]]
        assert (
            len(ranges) == 2
            and ((served - dt.timedelta(days=30)).isoformat(), (served - dt.timedelta(days=1)).isoformat())
            in ranges
        )
        assert weekly.partitions()[busy]["served_probed"] == TODAY.isoformat()
        assert weekly.partitions()[busy]["served_from"] == served.isoformat()


def test_a_currency_the_numbers_cannot_decide_is_named_in_one_line_and_never_guessed(tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(history="shifted")) as bank:
        converted = {a.iban for a in bank.accounts if "converted" in a.tags}
        assert CONVERTED in converted
        run = run_tap(tmp_path, config_for(bank, start_date=ACROSS_2026.isoformat()))
        assert run.returncode == 5, run.stderr[-3000:]
        (line,) = [x for x in run.stderr.splitlines() if x.startswith("tap-fibank: error:")]
        assert line.startswith(
            "tap-fibank: error: the currency of account ****6651 before 2026-01-01 cannot be decided: its "
            "statements name no currency, and the balance goes from "
        )
        assert all(
            f"account ****{iban[-4:]} before 2026-01-01 cannot be decided" in line for iban in converted
        )
        assert not [r for r in run.records["transactions"] if r["iban"] in converted]
        assert all(run.partitions()[iban].get("walked_through", "") < "2025-11-01" for iban in converted)
        others = truth(bank, ACROSS_2026, {a.iban for a in bank.accounts if a.iban not in converted})
        assert_equals_truth(run.records["transactions"], others)
