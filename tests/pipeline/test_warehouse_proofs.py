"""The warehouse's proofs, made to fail on purpose, end to end on DuckDB and on PostgreSQL.

One sandbox bank and one project per warehouse: two normal runs (`meltano run` of the job: the
tap, the loader, dbt's models, dbt's tests), after which every data test passes. Then each case
changes raw rows behind the pipeline's back (as a lost load, a bad edit or a stopped scheduler
would), rebuilds the models and runs the tests: the named tests fail, their stored rows name the
account (masked) and the days, and the repair docs/warehouse.md gives (`--full-refresh`, the next run,
dropping an account) makes every test pass again. Every data test of transform/ is failed by one
of these cases (`test_every_data_test_is_made_to_fail_by_a_case`).

The cases share the module's warehouse; each ends by repairing it and asserting that every test
passes again (or puts back what it changed in a `finally`), so that no case should depend on
another having run before it.
The last two cases have a warehouse each, because what they change is a first run: the bank answers
one window with no rows at all (the entry-balance test names each unproven stretch, and the next
run reads it again), or serves only recent history (dim_accounts says from which day, with the
balance carried in, and the warehouse is complete from there).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from support.plugin_dbt import plugin_dbt
from support.project import (
    START,
    Project,
    expected_entries,
    make_project,
    plugins_installed,  # noqa: F401 - the fixture
    readable_ibans,
)
from support.warehouse import (
    DuckDBWarehouse,
    PostgresWarehouse,
    Warehouse,
    bgn_to_eur,
    to_date,
    to_decimal,
)

from fibank_sandbox import Entry, Sandbox
from tap_fibank.walk.windows import Window, windows

pytestmark = pytest.mark.warehouse

COVERED = "assert_accounts_covered_to_last_read"
READ_LATEST = "assert_accounts_read_in_latest_run"
STALE = "assert_accounts_read_within_stale_days"
LATEST_BALANCE = "assert_latest_balance_matches_bank"
RECONCILED = "assert_monthly_reconciliation_is_zero"
FOLLOWS = "assert_balance_after_follows_previous_entry"
SIGNED = "assert_signed_amount_follows_direction"
HAS_EUR = "assert_every_entry_has_a_eur_value"
BALANCED = "assert_statement_windows_balanced"
CHAIN = "assert_statement_windows_chain"
MATCH = "assert_statement_windows_match_entries"
POSITIVE = "positive_stg_fibank__transactions_amount"
PROFILE = "accepted_values_stg_fibank__customers_profile__person__business"

# Every data test of transform/ and the case (test function below) that makes it fail.
FAILED_BY = {
    COVERED: "five weeks deleted; the always-failing account",
    READ_LATEST: "an account skipped by the latest run (a warning)",
    STALE: "the pipeline not run for four days",
    LATEST_BALANCE: "five weeks deleted; the latest balance changed",
    RECONCILED: "an amount changed; the latest balance changed",
    FOLLOWS: "an amount changed; the latest balance changed; a window the bank answered empty",
    SIGNED: "an amount stored with its sign",
    HAS_EUR: "the USD rates missing",
    BALANCED: "a window's closing balance changed",
    CHAIN: "a window's closing balance changed; a window deleted",
    MATCH: "an amount changed",
    POSITIVE: "an amount stored with its sign",
    PROFILE: "a profile of an unknown type",
    "assert_net_worth_change_is_flows_plus_revaluation": "a USD amount changed, its balances kept",
}

RESULT = re.compile(r"(Failure|Warning) in test (\S+) \(")
DATA_TEST_PREFIXES = ("assert_", "positive_", "accepted_values_", "unique_", "not_null_", "relationships_")


def masked(iban: str) -> str:
    return "****" + iban[-4:]


@dataclass
class Outcome:
    """What one dbt test run (or job) said: exit code, the failing and the warning tests."""

    returncode: int
    output: str

    def named(self, kind: str) -> set[str]:
        return {name for found, name in RESULT.findall(self.output) if found == kind}

    @property
    def failed(self) -> set[str]:
        return self.named("Failure")

    @property
    def warned(self) -> set[str]:
        return self.named("Warning")


@dataclass
class Lab:
    wh: Warehouse
    project: Project
    bank: Sandbox
    normal: Outcome

    def iban(self, tag: str, customer_kind: str | None = None) -> str:
        kinds = {c.customer_id: c.kind for c in self.bank.customers}
        return next(
            a.iban
            for a in self.bank.accounts
            if tag in a.tags and customer_kind in (None, kinds[a.customer_id])
        )

    def job(self, *options: str, env: dict[str, str] | None = None) -> Outcome:
        """`meltano run [options] <job>`: the tap, the loader, dbt's models and tests."""
        saved = dict(self.project.env)
        self.project.env.update(env or {})
        try:
            proc = self.project.meltano("run", *options, self.wh.job, check=False)
        finally:
            self.project.env.clear()
            self.project.env.update(saved)
        return Outcome(proc.returncode, proc.stdout + proc.stderr)

    def dbt(self) -> Outcome:
        """Rebuild the models from the raw tables as they are now (seeds untouched), then test.

        `--full-refresh`: the incremental models redo only the days later runs read, and a hand
        edit of the raw tables is no run. The data tests only, as the jobs' test step: the unit
        tests read no raw table."""
        self.invoke_dbt("run", "--full-refresh")
        return self.invoke_dbt("test", "--exclude-resource-type", "unit_test", check=False)

    def invoke_dbt(self, *args: str, check: bool = True) -> Outcome:
        """`meltano invoke dbt-<warehouse> ARGS`, without meltano's start-up (tests/support/plugin_dbt.py)."""
        proc = plugin_dbt(self.project, f"dbt-{self.wh.name}", *args)
        outcome = Outcome(proc.returncode, proc.stdout + proc.stderr)
        if check:
            assert outcome.returncode == 0, f"dbt {' '.join(args)}: {outcome.output[-3000:]}"
        return outcome

    def flagged(self, test: str) -> set[str]:
        """The accounts a test's stored failing rows name (its first column, `account`)."""
        rows = self.wh.rows(f"select account from {self.wh.analytics}_dbt_test__audit.{test}")
        return {r[0] for r in rows}

    def stretches(self) -> set[tuple[str, date, date]]:
        """The unproven stretches FOLLOWS stored: account (masked), first and last day."""
        rows = self.wh.rows(
            f"select account, stretch_from, stretch_to from {self.wh.analytics}_dbt_test__audit.{FOLLOWS}"
        )
        return {(str(r[0]), to_date(r[1]), to_date(r[2])) for r in rows}

    def loaded_entries(self) -> Counter[tuple[str, int]]:
        """How many times each (iban, entry id) is in the marts."""
        rows = self.wh.rows(f"select iban, entry_id from {self.wh.analytics}.fct_transactions")
        return Counter((str(r[0]), int(r[1])) for r in rows)

    def history_starts(self) -> dict[str, tuple[date, Decimal]]:
        """Per readable account, dim_accounts' served_from and opening_balance_carried."""
        rows = self.wh.rows(
            f"select iban, served_from, opening_balance_carried from {self.wh.analytics}.dim_accounts"
        )
        readable = set(readable_ibans(self.bank))
        return {str(r[0]): (to_date(r[1]), to_decimal(r[2])) for r in rows if r[0] in readable}

    def sql(self, statement: str) -> None:
        self.wh.execute(statement.replace("{raw}", self.wh.raw).replace("{analytics}", self.wh.analytics))

    def assert_all_pass(self, outcome: Outcome) -> None:
        assert outcome.returncode == 0, outcome.output[-3000:]
        assert outcome.failed == outcome.warned == set(), (outcome.failed, outcome.warned)

    def assert_no_full_iban(self, outcome: Outcome) -> None:
        for account in self.bank.accounts:
            assert account.iban not in outcome.output, f"{masked(account.iban)} printed in full"


@contextmanager
def new_lab(kind: str, root: Path) -> Iterator[Lab]:
    """A sandbox bank and a project that loads it into a new warehouse of `kind`; nothing run yet."""
    wh: Warehouse = DuckDBWarehouse(root) if kind == "duckdb" else PostgresWarehouse()
    try:
        with Sandbox(seed=1) as bank:
            yield Lab(wh, make_project(root, bank, wh.env()), bank, Outcome(0, ""))
    finally:
        wh.drop()


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def lab(
    request: pytest.FixtureRequest,
    plugins_installed: None,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Lab]:
    with new_lab(request.param, tmp_path_factory.mktemp(f"proofs-{request.param}")) as opened:
        opened.assert_all_pass(opened.job())
        # A second run re-reads the lookback days: windows overlap, as every day in real use.
        opened.normal = opened.job()
        yield opened


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def unread_lab(
    request: pytest.FixtureRequest,
    plugins_installed: None,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> Iterator[Lab]:
    """A lab of its own whose pipeline has not run yet: its first run is the case's."""
    with new_lab(request.param, tmp_path) as opened:
        yield opened


def test_after_normal_runs_every_data_test_passes(lab: Lab) -> None:
    lab.assert_all_pass(lab.normal)
    summaries = [line for line in lab.normal.output.splitlines() if "Done. PASS=" in line]
    assert len(summaries) == 2, "the job did not build the models and then test them"


def carried_in(bank: Sandbox, first_day: date) -> dict[str, tuple[date, Decimal]]:
    """Per readable account, `first_day` and the balance before it, in the account's currency now."""
    truth = bank.truth()
    found = {}
    for account in bank.accounts:
        if account.iban not in readable_ibans(bank):
            continue
        before = [e for e in truth[account.iban] if e.booking_date < first_day]
        balance = before[-1].balance_after if before else Decimal("0.00")
        if before and before[-1].currency == "BGN" and account.currency == "EUR":
            balance = bgn_to_eur(balance)
        found[account.iban] = (first_day, balance)
    return found


def test_dim_accounts_shows_where_each_history_starts_and_the_balance_it_carries_in(lab: Lab) -> None:
    starts = lab.history_starts()
    assert starts == carried_in(lab.bank, START)
    # The demo's accounts are older than START: their first window carries a balance in.
    assert starts[lab.iban("busy", "person")][1] != 0


def test_every_data_test_is_made_to_fail_by_a_case(lab: Lab) -> None:
    ran = set(re.findall(r"PASS (\S+) \.", lab.normal.output)) - set(
        re.findall(r"OK created \S+ \S+ model \S+?\.(\S+) ", lab.normal.output)
    )
    tests = {name for name in ran if name.startswith(DATA_TEST_PREFIXES)}
    assert tests == set(FAILED_BY), "a data test without a case that fails it, or a case for none"


def test_lost_weeks_a_lost_entry_a_changed_amount_a_stored_sign_and_a_skipped_read_fail_until_a_full_refresh(
    lab: Lab,
) -> None:
    today = lab.bank.today
    weeks = lab.iban("dst_edges")  # the person's EUR account
    lost = lab.iban("converted", "person")
    amount = lab.iban("converted", "business")
    usd = lab.iban("quiet_gap")
    deposit = lab.iban("no_entries")
    cut = today - timedelta(days=35)
    # (a) One entry far behind the lookback gone: no daily run reads its day again, only the
    # statements can tell.
    settled = [e for e in expected_entries(lab.bank)[lost] if e.booking_date <= today - timedelta(days=60)]
    victim = settled[len(settled) // 2]
    lab.sql(f"delete from {{raw}}.transactions where iban = '{lost}' and entry_id = {victim.entry_id}")
    # (b) The last five weeks of one account gone: entries and windows.
    since = f"date '{cut}'"
    lab.sql(
        f"delete from {{raw}}.transactions where iban = '{weeks}' and cast(booking_date as date) >= {since}"
    )
    lab.sql(f"delete from {{raw}}.statements where iban = '{weeks}' and cast(date_to as date) >= {since}")
    # (d) One old entry's amount changed by 1.00 (its sign kept).
    old = today - timedelta(days=90)
    lab.sql(
        "update {raw}.transactions set amount = amount + 1, signed_amount = signed_amount "
        "+ case when direction = 'credit' then 1 else -1 end "
        f"where iban = '{amount}' and entry_id = (select min(entry_id) from {{raw}}.transactions "
        f"where iban = '{amount}' and cast(booking_date as date) >= date '{old}')"
    )
    # An amount stored with its sign (a loader or an edit that lost the unsigned amount).
    lab.sql(
        f"update {{raw}}.transactions set amount = -amount where iban = '{usd}' "
        f"and entry_id = (select max(entry_id) from {{raw}}.transactions where iban = '{usd}')"
    )
    # The latest run skipped the deposit (its windows of that run gone).
    lab.sql(
        f"delete from {{raw}}.statements where iban = '{deposit}' and run_started_at = "
        f"(select max(run_started_at) from {{raw}}.statements)"
    )

    broken = lab.dbt()
    assert broken.returncode != 0
    assert {COVERED, LATEST_BALANCE, FOLLOWS, MATCH, RECONCILED, SIGNED, POSITIVE} <= broken.failed
    assert broken.warned == {READ_LATEST}
    assert lab.flagged(COVERED) == {masked(weeks)}
    assert masked(weeks) in lab.flagged(LATEST_BALANCE)
    assert masked(amount) in lab.flagged(FOLLOWS) & lab.flagged(MATCH) & lab.flagged(RECONCILED)
    assert masked(lost) in lab.flagged(FOLLOWS) & lab.flagged(MATCH)
    assert lab.flagged(SIGNED) == {masked(usd)}
    # ...and the deleted weeks took the latest run's windows of that account too.
    assert lab.flagged(READ_LATEST) == {masked(deposit), masked(weeks)}
    lab.assert_no_full_iban(broken)

    # A daily run cannot bring them back (they are older than its lookback); a full refresh does.
    lab.assert_all_pass(lab.job("--full-refresh"))
    truth = expected_entries(lab.bank)
    assert lab.loaded_entries() == Counter((iban, e.entry_id) for iban, es in truth.items() for e in es)


def test_a_changed_window_a_gap_a_changed_balance_missing_rates_and_an_unknown_profile_fail(lab: Lab) -> None:
    today = lab.bank.today
    window = lab.iban("converted", "person")
    gap = lab.iban("converted", "business")
    balance = lab.iban("dst_edges")
    usd = lab.iban("quiet_gap")
    old_from, old_to = today - timedelta(days=150), today - timedelta(days=60)

    def middle(iban: str) -> str:
        """The first window of `iban` that starts 60 to 150 days ago: read once, long settled."""
        return (
            f"(select min(date_from) from {{raw}}.statements where iban = '{iban}' "
            f"and cast(date_from as date) between date '{old_from}' and date '{old_to}')"
        )

    # A window's closing balance changed (the bank's totals no longer add up, nor chain).
    lab.sql(
        f"update {{raw}}.statements set closing_balance = closing_balance + 1 "
        f"where iban = '{window}' and date_from = {middle(window)}"
    )
    # A window lost: its days are a gap between its neighbours.
    lab.sql(f"delete from {{raw}}.statements where iban = '{gap}' and date_from = {middle(gap)}")
    # The latest entry's balance changed.
    lab.sql(
        f"update {{raw}}.transactions set balance_after = balance_after + 1 where iban = '{balance}' "
        f"and entry_id = (select max(entry_id) from {{raw}}.transactions where iban = '{balance}')"
    )
    # A window the tap marks unverifiable (`verification`; the bank's summary rows unreadable): its
    # days count, its balances prove nothing, so a wrong closing fails no test.
    lab.sql("alter table {raw}.statements add column if not exists verification varchar")
    lab.sql(
        "update {raw}.statements set verification = 'unverifiable', closing_balance = closing_balance + 5 "
        f"where iban = '{usd}' and date_from = {middle(usd)}"
    )
    # The ECB seed without USD (as with a currency ECB_CURRENCIES lacks).
    lab.sql("delete from {analytics}_staging.ecb_rates where currency = 'USD'")
    # A profile type the models do not know.
    business = next(c.customer_id for c in lab.bank.customers if c.kind == "business")
    lab.sql(f"update {{raw}}.customers set extra = '{{}}' where customer_id = '{business}'")

    broken = lab.dbt()
    assert broken.returncode != 0
    assert {BALANCED, CHAIN, FOLLOWS, LATEST_BALANCE, RECONCILED, HAS_EUR, PROFILE} <= broken.failed
    assert lab.flagged(BALANCED) == {masked(window)}
    assert lab.flagged(CHAIN) == {masked(window), masked(gap)}
    assert masked(balance) in lab.flagged(FOLLOWS) & lab.flagged(LATEST_BALANCE) & lab.flagged(RECONCILED)
    assert lab.flagged(HAS_EUR) == {masked(usd)}
    assert masked(usd) not in lab.flagged(MATCH) | lab.flagged(RECONCILED)
    lab.assert_no_full_iban(broken)

    lab.assert_all_pass(lab.job("--full-refresh"))


def test_entries_whose_balances_run_in_posting_order_fail_no_test(lab: Lab) -> None:
    busy = lab.iban("busy", "person")
    settled = lab.bank.today - timedelta(days=90)
    by_day: dict[date, list[Entry]] = {}
    for entry in lab.bank.truth()[busy]:
        if entry.booking_date <= settled:
            by_day.setdefault(entry.booking_date, []).append(entry)
    # Two entries of a day that is not their day's end (its end-of-day balance stays the bank's).
    first, second = next(
        day[:2] for day in reversed(by_day.values()) if len(day) >= 3 and day[0].booked_at != day[1].booked_at
    )
    swap = (
        "update {raw}.transactions as t set booked_at = s.other from (select a.entry_id, "
        "b.booked_at as other from {raw}.transactions as a inner join {raw}.transactions as b "
        f"on b.iban = a.iban and a.entry_id + b.entry_id = {first.entry_id + second.entry_id} "
        f"and a.entry_id <> b.entry_id where a.iban = '{busy}' "
        f"and a.entry_id in ({first.entry_id}, {second.entry_id})) as s "
        f"where t.iban = '{busy}' and t.entry_id = s.entry_id"
    )
    # Booked the other way round: in booking order neither balance follows, in posting order both do.
    lab.sql(swap)
    try:
        lab.assert_all_pass(lab.dbt())
    finally:
        lab.sql(swap)


def test_a_pipeline_not_run_for_four_days_fails_until_the_next_run(lab: Lab) -> None:
    lab.sql("update {raw}.statements set run_started_at = run_started_at - interval '4 days'")
    stale = lab.dbt()
    assert stale.returncode != 0
    assert stale.failed == {STALE}
    assert lab.flagged(STALE) == {masked(i) for i in readable_ibans(lab.bank)}
    lab.assert_all_pass(lab.job())


def test_the_always_failing_account_fails_a_named_test_until_it_is_dropped(lab: Lab) -> None:
    failing = lab.iban("statement_500")
    every = json.dumps([a.iban for a in lab.bank.accounts])
    run = lab.job(env={"TAP_FIBANK_IBANS": every})
    assert run.returncode != 0
    assert run.failed == {COVERED}
    assert lab.flagged(COVERED) == {masked(failing)}
    problems = lab.wh.rows(f"select problem from {lab.wh.analytics}_dbt_test__audit.{COVERED}")
    assert problems == [("never read",)]
    lab.assert_no_full_iban(run)
    # As docs/warehouse.md says: stop listing it (`ibans`) and delete its raw row.
    lab.sql(f"delete from {{raw}}.accounts where iban = '{failing}'")
    lab.assert_all_pass(lab.dbt())


# The first run of a new project walks every account from START in windows of 30 days; the bank
# answers this one (long settled, months before the euro changeover) with no rows at all.
WINDOW_DAYS = 30
LOST_WINDOW = 3


def unproven_stretches(bank: Sandbox, lost: Window) -> set[tuple[str, date, date]]:
    """Per account, the stretch the lost window leaves unproven, from the bank's own entries.

    The entries just before and just after the window, where the window held entries that moved
    the balance: the later balance then does not follow from the earlier one.
    """
    found = set()
    for iban, entries in expected_entries(bank).items():
        before = [e for e in entries if e.booking_date < lost.start]
        inside = [e for e in entries if lost.start <= e.booking_date <= lost.end]
        after = [e for e in entries if e.booking_date > lost.end]
        if not (before and inside and after):
            continue
        previous, following = before[-1], after[0]
        opening = previous.balance_after
        if previous.currency == "BGN" and following.currency == "EUR":
            opening = bgn_to_eur(opening)
        if opening + following.signed_amount != following.balance_after:
            found.add((masked(iban), previous.booking_date, following.booking_date))
    return found


def test_a_window_the_bank_answered_empty_is_named_until_the_next_run_reads_it_again(unread_lab: Lab) -> None:
    lab = unread_lab
    busy = lab.iban("busy", "person")
    lost = list(windows(START, lab.bank.today, WINDOW_DAYS))[LOST_WINDOW]
    expected = unproven_stretches(lab.bank, lost)
    assert masked(busy) in {account for account, _, _ in expected}, "the window must hold entries"
    # Every call for the window answers 200 with an empty element, retries included.
    lab.bank.faults.update({"bare_window_start": lost.start.isoformat(), "bare_window_mode": "always"})
    env = {"TAP_FIBANK_WINDOW_DAYS": str(WINDOW_DAYS)}

    first = lab.job(env=env)
    assert first.returncode != 0
    assert FOLLOWS in first.failed
    assert lab.stretches() == expected
    lab.assert_no_full_iban(first)

    # The bank answers again: the next run reads the stretch again, and the warehouse heals.
    lab.bank.faults.update({"bare_window_start": ""})
    lab.assert_all_pass(lab.job(env=env))
    truth = expected_entries(lab.bank)
    assert lab.loaded_entries() == Counter((iban, e.entry_id) for iban, es in truth.items() for e in es)


SERVED_DAYS = 100


def test_a_bank_serving_only_recent_history_is_complete_from_the_first_day_it_serves(unread_lab: Lab) -> None:
    lab = unread_lab
    # Every window starting before today - SERVED_DAYS answers the bank's "no data found".
    lab.bank.faults.update({"served_days": SERVED_DAYS})
    env = {"TAP_FIBANK_WINDOW_DAYS": str(WINDOW_DAYS)}
    oldest = lab.bank.today - timedelta(days=SERVED_DAYS)
    served = next(w.start for w in windows(START, lab.bank.today, WINDOW_DAYS) if w.start >= oldest)

    lab.assert_all_pass(lab.job(env=env))
    lab.assert_all_pass(lab.job(env=env))  # the daily run: the tap remembers where history starts
    starts = lab.history_starts()
    assert starts == carried_in(lab.bank, served)
    assert starts[lab.iban("busy", "person")][1] != 0
    truth = expected_entries(lab.bank)
    kept = Counter((iban, e.entry_id) for iban, es in truth.items() for e in es if e.booking_date >= served)
    assert lab.loaded_entries() == kept


NET_CHANGE = "assert_net_worth_change_is_flows_plus_revaluation"


def test_a_usd_amount_that_its_balances_do_not_follow_breaks_the_eur_reconciliation(lab: Lab) -> None:
    usd = lab.iban("quiet_gap")
    moved = lab.wh.rows(
        f"select sum(abs(fx_revaluation_eur)), sum(abs(rounding_eur)) "
        f"from {lab.wh.analytics}.mart_revaluation_monthly where iban = '{usd}'"
    )
    assert all(to_decimal(v) > 0 for v in moved[0]), "no revaluation: the test proves nothing"
    old = lab.bank.today - timedelta(days=90)
    lab.sql(
        "update {raw}.transactions set amount = amount + 1, signed_amount = signed_amount "
        "+ case when direction = 'credit' then 1 else -1 end "
        f"where iban = '{usd}' and entry_id = (select min(entry_id) from {{raw}}.transactions "
        f"where iban = '{usd}' and cast(booking_date as date) >= date '{old}')"
    )
    broken = lab.dbt()
    assert broken.returncode != 0
    assert NET_CHANGE in broken.failed
    assert lab.flagged(NET_CHANGE) == {masked(usd)}
    lab.assert_no_full_iban(broken)
    lab.assert_all_pass(lab.job("--full-refresh"))


# --- Keys, statement windows by each run's range, logins -----------------------------------------

# Each keyed relation, the key column a case sets to null, and its unique test (not_null_... is
# named alike): the built marts (analytics), the seeds (analytics_staging), and the raw tables the
# staging views read.
MART_KEYS = {
    "fct_transactions": ("transaction_key", "unique_fct_transactions_transaction_key"),
    "dim_accounts": ("iban", "unique_dim_accounts_iban"),
    **{
        mart: (column, f"unique_{mart}_key")
        for mart, column in {
            "fct_statement_windows": "iban",
            "mart_monthly_debit_credit": "iban",
            "mart_monthly_debit_credit_eur": "booking_month",
            "mart_spending_by_counterparty": "customer_id",
            "mart_fees_monthly": "iban",
            "mart_daily_balances": "iban",
            "mart_monthly_balances": "iban",
            "mart_net_worth_daily": "balance_date",
            "mart_net_worth_monthly": "balance_month",
            "mart_monthly_reconciliation": "iban",
            "mart_revaluation_monthly": "iban",
        }.items()
    },
}
# The intermediate models (analytics_staging), tables the marts read.
INT_KEYS = {
    "int_calendar_days": ("calendar_day", "unique_int_calendar_days_calendar_day"),
    "int_ecb_rates_daily": ("currency", "unique_int_ecb_rates_daily_key"),
    "int_transactions_converted_to_eur": (
        "transaction_key",
        "unique_int_transactions_converted_to_eur_transaction_key",
    ),
}
SEED_KEYS = {
    "transaction_types": ("transaction_type", "unique_transaction_types_transaction_type"),
    "ecb_rates": ("currency", "unique_ecb_rates_key"),
}
RAW_KEYS = {
    "customers": ("customer_id", "unique_stg_fibank__customers_customer_id"),
    "accounts": ("iban", "unique_stg_fibank__accounts_iban"),
    "transactions": ("iban", "unique_stg_fibank__transactions_transaction_key"),
    "statements": ("iban", "unique_stg_fibank__statements_key"),
}
KEY_TESTS = {
    name.replace("unique_", prefix, 1)
    for keys in (MART_KEYS, INT_KEYS, SEED_KEYS, RAW_KEYS)
    for _, name in keys.values()
    for prefix in ("unique_", "not_null_")
}
SEED_CODE = "unique_transaction_types_transaction_type"
FCT_KEY = "unique_fct_transactions_transaction_key"
PROFILE_NOT_NULL = "not_null_fct_transactions_profile"
CUSTOMER_EXISTS = "relationships_fct_transactions_customer_id"
ACCOUNT_EXISTS = "relationships_fct_transactions_iban"

FAILED_BY.update(dict.fromkeys(KEY_TESTS, "every key repeated and left null"))
FAILED_BY.update(
    {
        SEED_CODE: "a code repeated in the category seed; every key repeated and left null",
        FCT_KEY: "a code repeated in the category seed; every key repeated and left null",
        PROFILE_NOT_NULL: "a customer row missing",
        CUSTOMER_EXISTS: "a customer row missing",
        ACCOUNT_EXISTS: "an account row missing",
    }
)


def test_a_repeated_seed_code_and_a_missing_customer_are_named_and_all_stays_one_row(lab: Lab) -> None:
    # A second POS line in the category seed (as its description invites one to add codes).
    lab.sql(
        "insert into {analytics}_staging.transaction_types "
        "select * from {analytics}_staging.transaction_types where transaction_type = 'POS'"
    )
    # One customer row lost (a failed load, a hand delete): its entries have no profile.
    business = next(c.customer_id for c in lab.bank.customers if c.kind == "business")
    lab.sql(f"delete from {{raw}}.customers where customer_id = '{business}'")
    # And one account row: its entries name an account the warehouse does not list.
    usd = lab.iban("quiet_gap")
    lab.sql(f"delete from {{raw}}.accounts where iban = '{usd}'")

    broken = lab.dbt()
    assert broken.returncode != 0
    assert {SEED_CODE, FCT_KEY, PROFILE_NOT_NULL, CUSTOMER_EXISTS, ACCOUNT_EXISTS} <= broken.failed
    eur = f"{lab.wh.analytics}.mart_monthly_debit_credit_eur"
    doubled = lab.wh.rows(
        f"select booking_month from {eur} where profile = 'all' group by 1 having count(*) > 1"
    )
    assert doubled == [], "a month with two 'all' rows"
    assert lab.wh.rows(f"select count(*) from {eur} where profile = 'unknown'")[0][0] > 0
    lab.assert_no_full_iban(broken)

    # The next run loads the seed from its file, the customers and accounts again.
    lab.assert_all_pass(lab.job())


def test_every_key_repeated_and_left_null_fails_its_key_tests(lab: Lab) -> None:
    cascade = " cascade" if lab.wh.name == "postgres" else ""
    # The raw tables without their loaders' primary keys (a hand load, another loader).
    for table in RAW_KEYS:
        lab.sql(f"alter table {{raw}}.{table} rename to {table}_keyed")
        lab.sql(f"create table {{raw}}.{table} as select * from {{raw}}.{table}_keyed")
    try:
        for schema, keys in (("{raw}", RAW_KEYS), ("{analytics}_staging", SEED_KEYS)):
            for table, (column, _) in keys.items():
                lab.sql(f"insert into {schema}.{table} select * from {schema}.{table} limit 1")
                lab.sql(f"insert into {schema}.{table} ({column}) values (null)")
        lab.invoke_dbt("run")
        for schema, keys in (("{analytics}", MART_KEYS), ("{analytics}_staging", INT_KEYS)):
            for table, (column, _) in keys.items():
                # A row with its whole key (the null raw rows above give some a null-keyed row).
                lab.sql(
                    f"insert into {schema}.{table} select * from {schema}.{table} "
                    f"where {column} is not null limit 1"
                )
                lab.sql(f"insert into {schema}.{table} ({column}) values (null)")
        broken = lab.invoke_dbt("test", check=False)
        assert broken.returncode != 0
        assert broken.failed >= KEY_TESTS, KEY_TESTS - broken.failed
    finally:
        for table in RAW_KEYS:
            lab.sql(f"drop table {{raw}}.{table}{cascade}")
            lab.sql(f"alter table {{raw}}.{table}_keyed rename to {table}")
        # The seeds loaded from their files and the incremental models rebuilt (docs/warehouse.md: a
        # repeated key in a model's table needs `--full-refresh`), then the next run.
        lab.invoke_dbt("seed")
        lab.invoke_dbt("run", "--full-refresh")
        repaired = lab.job()
    lab.assert_all_pass(repaired)


REREAD_FROM, REREAD_TO = date(2025, 9, 1), date(2025, 9, 30)


def test_a_bounded_re_read_takes_over_only_the_days_it_read(lab: Lab) -> None:
    # The documented way to read a past stretch again: start_date and end_date, from no bookmark.
    env = {"TAP_FIBANK_START_DATE": REREAD_FROM.isoformat(), "TAP_FIBANK_END_DATE": REREAD_TO.isoformat()}
    dim = (
        f"select iban, covered_to, last_read_date, latest_window_balance from {lab.wh.analytics}.dim_accounts"
    )
    before = {r[0]: (to_date(r[1]), to_decimal(r[3])) for r in lab.wh.rows(dim)}
    lab.assert_all_pass(lab.job("--full-refresh", env=env))
    windows = f"{lab.wh.analytics}.fct_statement_windows"
    reread = lab.wh.rows(
        f"select count(*) from {windows} where date_from >= date '{REREAD_FROM}' "
        f"and date_to <= date '{REREAD_TO}' and effective_to is not null"
    )
    assert reread[0][0] > 0, "the re-read's windows are the latest word for its days"
    # Every account is still covered to the day it was read, with the same latest balance.
    after = lab.wh.rows(dim)
    assert {r[0]: (to_date(r[1]), to_decimal(r[3])) for r in after} == before
    assert all(to_date(r[1]) == to_date(r[2]) for r in after)
    lab.assert_all_pass(lab.job())  # the daily run after it: the bookmark is the re-read's end


def test_a_re_read_inside_one_window_leaves_its_days_before_and_after_standing_and_chained(lab: Lab) -> None:
    first = next(windows(START, START + timedelta(days=60)))
    inner = Window(first.start + timedelta(days=9), first.end - timedelta(days=10))
    stats = f"{lab.wh.analytics}.fct_statement_windows"
    parts = (
        f"select iban, effective_head_from, effective_head_to, effective_from, effective_to from {stats} "
        f"where date_from = date '{first.start}' and date_to = date '{first.end}'"
    )
    split = {str(r[0]) for r in lab.wh.rows(parts)}
    assert split, "accounts read from the first window on"
    env = {"TAP_FIBANK_START_DATE": inner.start.isoformat(), "TAP_FIBANK_END_DATE": inner.end.isoformat()}
    lab.assert_all_pass(lab.job("--full-refresh", env=env))
    head, tail = (first.start, inner.start - timedelta(days=1)), (inner.end + timedelta(days=1), first.end)
    cut = {str(r[0]): tuple(to_date(d) for d in r[1:]) for r in lab.wh.rows(parts)}
    assert cut == dict.fromkeys(split, (*head, *tail)), "the days before and after the re-read stand"
    # The re-read's balances are checked against both parts: shifted by one, both links break.
    busiest = lab.wh.rows(
        f"select iban from {stats} where date_from = date '{inner.start}' and verification = 'balanced' "
        "order by entry_count desc, iban limit 1"
    )[0][0]
    lab.sql(
        "update {raw}.statements set opening_balance = opening_balance + 1, "
        f"closing_balance = closing_balance + 1 where iban = '{busiest}' "
        f"and cast(date_from as date) = date '{inner.start}'"
    )
    broken = lab.dbt()
    assert CHAIN in broken.failed and BALANCED not in broken.failed, broken.failed
    links = lab.wh.rows(f"select account, effective_from from {lab.wh.analytics}_dbt_test__audit.{CHAIN}")
    assert {(r[0], to_date(r[1])) for r in links} == {(masked(busiest), d) for d in (inner.start, tail[0])}
    lab.assert_all_pass(lab.job("--full-refresh"))


def own_transfer_target(lab: Lab) -> str:
    """The account that most own-account transfers of the sandbox go to."""
    counts = Counter(
        (e.trn_account or "").replace(" ", "").upper()
        for entries in expected_entries(lab.bank).values()
        for e in entries
        if e.direction == "debit"
        and (e.trn_account or "").replace(" ", "").upper() in readable_ibans(lab.bank)
    )
    return counts.most_common(1)[0][0]


def test_two_logins_in_one_warehouse_keep_their_own_transfers_and_latest_runs(lab: Lab) -> None:
    other = own_transfer_target(lab)
    tables = ("accounts", "transactions", "statements")
    present = lab.wh.rows(
        "select count(*) from information_schema.columns where lower(column_name) = 'login' "
        f"and table_schema = '{lab.wh.raw}' and table_name = 'accounts'"
    )[0][0]
    for table in ("customers", *tables):
        if not present:  # a table an older tap loaded
            lab.sql(f"alter table {{raw}}.{table} add column login varchar")
        lab.sql(f"update {{raw}}.{table} set login = coalesce(login, 'default')")
    (login,) = {r[0] for r in lab.wh.rows(f"select login from {lab.wh.raw}.accounts")}
    # The target account belongs to a second login, read by that login's own run an hour earlier.
    for table in tables:
        lab.sql(f"update {{raw}}.{table} set login = '{login}-other' where iban = '{other}'")
    shift = (
        "update {raw}.statements set run_started_at = run_started_at %s interval '1 hour' where iban = '%s'"
    )
    lab.sql(shift % ("-", other))
    try:
        outcome = lab.dbt()
        lab.assert_all_pass(outcome)  # its account is not "not read in the latest run"
        flagged = lab.wh.rows(
            f"select count(*) from {lab.wh.analytics}.fct_transactions where iban <> '{other}' "
            f"and is_own_account_transfer and replace(upper(counterparty_account), ' ', '') = '{other}'"
        )
        assert flagged[0][0] == 0, "a transfer to another login's account is spending, not an own transfer"
        spent = lab.wh.rows(
            f"select count(*) from {lab.wh.analytics}.fct_transactions where iban <> '{other}' "
            f"and direction = 'debit' and replace(upper(counterparty_account), ' ', '') = '{other}'"
        )
        assert spent[0][0] > 0
    finally:
        lab.sql(shift % ("+", other))
        for table in tables:
            lab.sql(f"update {{raw}}.{table} set login = '{login}' where iban = '{other}'")
    lab.assert_all_pass(lab.dbt())
