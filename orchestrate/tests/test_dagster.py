"""The Dagster code location, materialized in process for several logins of one sandbox bank.

Real Dagster (`.tools/dagster`), real `meltano run` per login with its own state id in a shared
PostgreSQL system database, real target-postgres and `dbt build` (dagster-dbt), checked against
the sandbox's ground truth and its counters.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    DAGSTER_PYTHON,
    MELTANO,
    REPO,
    Warehouse,
    clean_env,
    require,
    run,
    start_date,
    write_logins,
)

from tap_fibank.sandbox import Sandbox

LOADED = {"household": "demo2", "office": "demo3", "family": "demo4"}
WRONG_PASSWORD = "not-the-password"


@dataclass
class Orchestration:
    """The environment of the Dagster runs and what each round of materializations reported."""

    bank: Sandbox
    warehouse: Warehouse
    env: dict[str, str]
    rounds: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    counters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def command(self, *logins: str, raw_only: bool = False, dbt_once: bool = False) -> list[str]:
        command = [str(DAGSTER_PYTHON), "-m", "fibank_orchestrate.local", "--json", *logins]
        return command + ["--raw-only"] * raw_only + ["--dbt-once"] * dbt_once

    def materialize(
        self, *logins: str, raw_only: bool = False, dbt_once: bool = False
    ) -> list[dict[str, Any]]:
        command = self.command(*logins, raw_only=raw_only, dbt_once=dbt_once)
        proc = run(command, self.env, REPO / "orchestrate")
        return lines_of(proc.stdout, proc.stderr, len(logins), proc.returncode)

    def round(
        self, name: str, *logins: str, raw_only: bool = False, dbt_once: bool = False
    ) -> dict[str, dict[str, Any]]:
        self.bank.reset_counters()
        lines = self.materialize(*logins, raw_only=raw_only, dbt_once=dbt_once)
        self.counters[name] = self.bank.counters()
        self.rounds[name] = {line["login"]: line for line in lines}
        return self.rounds[name]


@pytest.fixture(scope="module")
def orchestration(
    bank: Sandbox, warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Orchestration:
    require(DAGSTER_PYTHON, "Dagster")
    require(MELTANO, "meltano")
    root = tmp_path_factory.mktemp("dagster")
    logins: dict[str, dict[str, Any]] = {
        name: {"username_env": f"{name.upper()}_USER", "password_env": f"{name.upper()}_PASSWORD"}
        for name in [*LOADED, "mistyped", "skipping", "offline"]
    }
    logins["skipping"]["settings"] = {"fail_on_skipped_accounts": True, "max_retries": 0}
    logins["offline"]["settings"] = {"base_url": "http://127.0.0.1:9"}  # nothing listens there
    secrets = {f"{name.upper()}_USER": user for name, user in LOADED.items()}
    secrets.update({f"{name.upper()}_PASSWORD": user for name, user in LOADED.items()})
    secrets.update({"MISTYPED_USER": "demo4", "MISTYPED_PASSWORD": WRONG_PASSWORD})
    secrets.update({"SKIPPING_USER": "demo", "SKIPPING_PASSWORD": "demo"})
    secrets.update({"OFFLINE_USER": "demo2", "OFFLINE_PASSWORD": "demo2"})
    env = clean_env(
        **warehouse.env(),
        **secrets,
        FIBANK_LOGINS_FILE=str(write_logins(root / "logins.yml", logins)),
        DAGSTER_HOME=str(root),
        TAP_FIBANK_BASE_URL=bank.base_url,
        TAP_FIBANK_START_DATE=start_date(bank),
        TAP_FIBANK_MAX_RETRIES="1",
        FIBANK_UNREACHABLE_RETRIES="2",
        FIBANK_UNREACHABLE_WAIT_SECONDS="1",
    )
    shutil.copy2(REPO / "orchestrate" / "dagster.yaml", root / "dagster.yaml")  # the shipped instance
    orchestration = Orchestration(bank, warehouse, env)
    orchestration.round("first", *LOADED, dbt_once=True)  # the last login's run builds the marts
    orchestration.round("second", *LOADED, raw_only=True)
    return orchestration


def login_ibans(bank: Sandbox, username: str) -> set[str]:
    return set(bank.login_truth(username))


def test_each_login_s_entries_are_in_the_warehouse_exactly_as_the_bank_booked_them(
    orchestration: Orchestration,
) -> None:
    bank, wh = orchestration.bank, orchestration.warehouse
    first = date_of(start_date(bank))
    for name, username in LOADED.items():
        assert orchestration.rounds["first"][name]["ok"], orchestration.rounds["first"][name]
        expected = {
            (e.iban, e.entry_id, e.amount, e.balance_after, e.currency)
            for entries in bank.login_truth(username).values()
            for e in entries
            if e.booking_date >= first
        }
        got = wh.rows(
            f"select iban, entry_id, amount, balance_after, currency from {wh.raw}.transactions "
            "where iban = any(%s)",
            sorted(login_ibans(bank, username)),
        )
        assert {(r[0], r[1], Decimal(r[2]), Decimal(r[3]), r[4]) for r in got} == expected
        assert len(got) == len(expected)
        assert orchestration.rounds["first"][name]["entries"] == len(expected)


def test_the_dbt_assets_build_over_every_login(orchestration: Orchestration) -> None:
    wh = orchestration.warehouse
    raw = wh.rows(f"select count(*) from {wh.raw}.transactions")[0][0]
    marts = wh.rows(f"select count(*), count(distinct customer_id) from {wh.analytics}.fct_transactions")[0]
    assert marts == (raw, 2 * len(LOADED))
    assert all(line["ok"] for line in orchestration.rounds["first"].values())


def test_a_second_materialization_is_incremental_for_each_login(orchestration: Orchestration) -> None:
    bank, counters = orchestration.bank, orchestration.counters["second"]
    for name, username in LOADED.items():
        assert orchestration.rounds["second"][name]["ok"]
        calls = {iban: counters["statement_calls"].get(iban, 0) for iban in login_ibans(bank, username)}
        assert calls and max(calls.values()) <= 2, (name, calls)
        assert (
            orchestration.rounds["second"][name]["state_id"] == f"prod:tap-fibank-to-target-postgres:{name}"
        )
    assert counters["calls"]["login_post"] == len(LOADED)


def test_a_wrong_password_fails_only_its_partition_after_one_post_and_no_retry(
    orchestration: Orchestration,
) -> None:
    results = orchestration.round("mistyped", "mistyped", "household", raw_only=True)
    assert results["household"]["ok"]
    failed = results["mistyped"]
    assert not failed["ok"] and failed["tap_exit_code"] == 3 and "retries" not in failed
    assert "authentication refused" in failed["error"]
    assert failed["summary"].startswith("tap-fibank: error:")
    assert orchestration.counters["mistyped"]["calls"]["login_post"] == 2  # one per login
    assert orchestration.counters["mistyped"]["failed_logins"] == 1
    assert WRONG_PASSWORD not in json.dumps(failed)


def test_skipped_accounts_fail_the_partition_with_the_tap_s_summary_line(
    orchestration: Orchestration,
) -> None:
    failed = orchestration.round("skipping", "skipping", raw_only=True)["skipping"]
    assert not failed["ok"] and failed["tap_exit_code"] == 6 and "retries" not in failed
    assert "skipped" in failed["summary"] and "****" in failed["summary"]
    assert failed["summary"] in failed["error"]


def test_an_unreachable_bank_is_retried_with_backoff_then_reported(orchestration: Orchestration) -> None:
    failed = orchestration.round("offline", "offline", raw_only=True)["offline"]
    assert not failed["ok"] and failed["tap_exit_code"] == 4
    assert failed["retries"] == 2  # FIBANK_UNREACHABLE_RETRIES
    assert "unreachable" in failed["error"]


def test_two_materializations_of_one_login_at_once_the_bank_sees_one_login(
    orchestration: Orchestration,
) -> None:
    bank = orchestration.bank
    bank.faults.latency = 0.5  # keep the first run at the bank while the second one starts
    try:
        bank.reset_counters()
        workers = [
            subprocess.Popen(
                orchestration.command("office", raw_only=True),
                env=orchestration.env,
                cwd=REPO / "orchestrate",
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=600) for worker in workers]
        counters = bank.counters()
    finally:
        bank.faults.latency = 0.0
    lines = [lines_of(out, err, 1, worker.returncode)[0] for (out, err), worker in zip(outputs, workers)]
    assert sorted(line["ok"] for line in lines) == [False, True]
    refused = next(line for line in lines if not line["ok"])
    assert "another run of this login is in progress" in refused["error"]
    assert counters["calls"]["login_post"] == 1 and counters["calls"]["login_page"] == 1


def lines_of(stdout: str, stderr: str, count: int, returncode: int) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert len(lines) == count, f"exit {returncode}:\n{stdout[-3000:]}\n{stderr[-5000:]}"
    return lines


def test_every_login_has_its_own_state_in_the_shared_system_database(orchestration: Orchestration) -> None:
    wh = orchestration.warehouse
    ids = {row[0] for row in wh.rows(f"select state_id from {wh.state}.state")}
    assert {f"prod:tap-fibank-to-target-postgres:{name}" for name in LOADED} <= ids


def date_of(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def test_the_code_location_loads_with_its_schedule_partitions_and_run_limits(tmp_path: Path) -> None:
    require(DAGSTER_PYTHON, "Dagster")
    logins = write_logins(tmp_path / "logins.yml", {"a": {"username_env": "A_U", "password_env": "A_P"}})
    shutil.copy2(REPO / "orchestrate" / "dagster.yaml", tmp_path / "dagster.yaml")
    code = (
        "from dagster import DagsterInstance;"
        "from fibank_orchestrate.definitions import defs, LOGIN_PARTITIONS;"
        "s = defs.resolve_schedule_def('fibank_twice_daily');"
        "print(s.cron_schedule, s.execution_timezone, LOGIN_PARTITIONS.get_partition_keys());"
        "c = DagsterInstance.get().get_concurrency_config();"
        "print(c.run_queue_config.max_concurrent_runs, c.run_queue_config.tag_concurrency_limits,"
        " c.pool_config.default_pool_limit)"
    )
    proc = run(
        [str(DAGSTER_PYTHON), "-c", code],
        clean_env(FIBANK_LOGINS_FILE=str(logins), DAGSTER_HOME=str(tmp_path)),
        REPO / "orchestrate",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    schedule, limits = proc.stdout.strip().splitlines()[-2:]
    assert schedule == "0 3,18 * * * Europe/Sofia ['a']"
    per_login = {"key": "fibank/login", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    assert limits == f"4 {[per_login]} 1"
