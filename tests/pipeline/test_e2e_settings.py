"""End to end, the settings docs/warehouse.md documents and a normal run leaves at their defaults:
the tap's `end_date`, dbt's `stale_days` and `today`, and the category a code the seed does not list
falls back to (from the entry's description).

One sandbox bank, one DuckDB project reading one account (the person's EUR account) for November
2025 only (`start_date`, `end_date`), with a `transaction_types` seed that lists none of the codes
of the entries checked below: the tap and the loader through meltano, then dbt straight from the
plugin's venv (tests/support/plugin_dbt.py) so that each case can pass its own `--vars`. The
expected values are written by hand from the sandbox's entries (seed 1: its past does not depend
on the day it runs), not derived from the SQL.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from support.plugin_dbt import plugin_dbt
from support.project import Project, make_project, plugins_installed
from support.warehouse import DuckDBWarehouse, session_today, to_date, to_decimal

from fibank_sandbox import Sandbox

pytestmark = pytest.mark.e2e

__all__ = ["plugins_installed"]  # a fixture, used by name

ACCOUNT = "BG47FINV91501017006644"
FIRST, LAST = date(2025, 11, 1), date(2025, 11, 30)
UNLISTED = {"FEE", "COM", "POS", "SAL"}  # left out of the project's seed
COVERED = "assert_accounts_covered_to_last_read"
STALE = "assert_accounts_read_within_stale_days"
LATEST_BALANCE = "assert_latest_balance_matches_bank"
FAILED = re.compile(r"Failure in test (\S+) \(")

# Entry id -> (category, counterparty), by hand. With their codes unknown to the seed, the fee and
# the commission are named by their description ("Такса обслужване на сметка", "Комисионна за
# превод"), and the bank is their counterparty; a card payment and a salary fall to other_*.
BY_DESCRIPTION = {
    100021555: ("fee", "Fibank"),  # 2.00 EUR on 1 November
    100021580: ("commission", "Fibank"),  # 1.20 EUR on 5 November
    100021556: ("other_debit", "ТЕХНОПОЛИС"),  # a card payment of 46.26 EUR
    100021691: ("other_credit", "Софтуер Солюшънс АД"),  # the salary, 3,105.47 EUR
}


@dataclass
class November:
    project: Project
    warehouse: DuckDBWarehouse
    bank: Sandbox
    entries: list[int]  # the bank's entry ids of the account in November, in order

    def dbt(self, *args: str, check: bool = True) -> str:
        proc = plugin_dbt(self.project, "dbt-duckdb", *args)
        output = proc.stdout + proc.stderr
        if check:
            assert proc.returncode == 0, f"dbt {' '.join(args)}:\n{output[-3000:]}"
        return output

    def failed_tests(self, *args: str) -> set[str]:
        return set(FAILED.findall(self.dbt("test", *args, check=False)))


def without_codes(seed: Path, codes: set[str]) -> None:
    with seed.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row[0] not in codes]
    with seed.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.fixture(scope="module")
def november(plugins_installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[November]:
    root = tmp_path_factory.mktemp("november")
    with Sandbox(seed=1) as bank:
        settings = {
            "TAP_FIBANK_IBANS": json.dumps([ACCOUNT]),
            "TAP_FIBANK_START_DATE": FIRST.isoformat(),
            "TAP_FIBANK_END_DATE": LAST.isoformat(),
        }
        project = make_project(root, bank, settings)
        without_codes(project.root / "transform" / "seeds" / "transaction_types.csv", UNLISTED)
        project.meltano("run", "tap-fibank", "target-duckdb")
        entries = [e.entry_id for e in bank.truth()[ACCOUNT] if FIRST <= e.booking_date <= LAST]
        found = November(project, DuckDBWarehouse(root), bank, entries)
        found.dbt("seed")
        found.dbt("run")
        yield found


def test_end_date_loads_its_days_and_nothing_after(november: November) -> None:
    wh = november.warehouse
    loaded = wh.rows(f"select entry_id from {wh.analytics}.fct_transactions order by booking_date, entry_id")
    assert [int(r[0]) for r in loaded] == november.entries
    ((covered_to,),) = wh.rows(f"select covered_to from {wh.analytics}.dim_accounts where iban = '{ACCOUNT}'")
    assert to_date(covered_to) == LAST


def test_with_end_date_set_the_coverage_and_latest_balance_tests_fail_and_name_the_day_it_stops(
    november: November,
) -> None:
    """docs/warehouse.md: the warehouse stops at end_date on purpose; the coverage test says so,
    and the latest balance is November's, not the one the account list gives today."""
    assert november.failed_tests() == {COVERED, LATEST_BALANCE}
    wh = november.warehouse
    rows = wh.rows(f"select account, covered_to, problem from {wh.analytics}_dbt_test__audit.{COVERED}")
    assert [(r[0], to_date(r[1]), r[2]) for r in rows] == [
        ("****" + ACCOUNT[-4:], LAST, "windows end before the day it was last read")
    ]


def test_a_code_the_seed_does_not_list_falls_back_to_the_description(november: November) -> None:
    wh = november.warehouse
    listed = ", ".join(str(entry) for entry in BY_DESCRIPTION)
    rows = wh.rows(
        f"select entry_id, category, counterparty, is_bank_charge from {wh.analytics}.fct_transactions "
        f"where entry_id in ({listed})"
    )
    assert {int(r[0]): (r[1], r[2]) for r in rows} == BY_DESCRIPTION
    assert {int(r[0]) for r in rows if r[3]} == {100021555, 100021580}
    fees = wh.rows(
        f"select fee_total, fee_count from {wh.analytics}.mart_fees_monthly "
        f"where iban = '{ACCOUNT}' and booking_month = date '2025-11-01'"
    )
    assert [(to_decimal(total), int(count)) for total, count in fees] == [(Decimal("2.00"), 1)]


def test_the_today_var_takes_the_place_of_the_clock_and_stale_days_widens_the_limit(
    november: November,
) -> None:
    """Read today: fresh. Four days later by the var: stale (default 3 days), fine with stale_days 7."""
    later = (session_today() + timedelta(days=4)).isoformat()
    assert STALE not in november.failed_tests("--select", STALE)
    assert STALE in november.failed_tests("--select", STALE, "--vars", json.dumps({"today": later}))
    wh = november.warehouse
    rows = wh.rows(f"select account, today, stale_days from {wh.analytics}_dbt_test__audit.{STALE}")
    assert [(r[0], to_date(r[1]), int(r[2])) for r in rows] == [
        ("****" + ACCOUNT[-4:], date.fromisoformat(later), 3)
    ]
    assert STALE not in november.failed_tests(
        "--select", STALE, "--vars", json.dumps({"today": later, "stale_days": 7})
    )


def test_the_frozen_today_of_the_tests_reaches_dbt_without_a_var(
    november: November, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `meltano run` gives dbt when a test freezes the day (no --vars there)."""
    later = (session_today() + timedelta(days=4)).isoformat()
    monkeypatch.setitem(november.project.env, "TAP_FIBANK_FROZEN_TODAY", later)
    assert STALE in november.failed_tests("--select", STALE)


def test_a_today_that_is_not_a_date_is_refused(november: November) -> None:
    output = november.dbt(
        "test", "--select", STALE, "--vars", json.dumps({"today": "05.12.2026"}), check=False
    )
    assert "today must be a date as YYYY-MM-DD, not '05.12.2026'" in output
