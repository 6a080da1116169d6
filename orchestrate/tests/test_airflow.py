"""The Airflow DAG, imported and run once by `airflow dags test` (Airflow in `.tools/airflow`).

Two logins load and a third has a mistyped password: the DAG run posts that password once and
never retries it, the other logins' entries reach PostgreSQL, and `dbt build` still runs, then
`dbt source freshness`, whose stale source (the raw tables aged behind the DAG's back, its task run
again by `airflow tasks test`) is a warning, as in Dagster, not a failed task.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    AIRFLOW_PYTHON,
    MELTANO,
    REPO,
    Warehouse,
    clean_env,
    require,
    run,
    start_date,
    write_logins,
)

from fibank_sandbox import Sandbox

LOGINS = {"household": "demo2", "office": "demo3"}


@dataclass
class DagRun:
    """One `airflow dags test` of the DAG: its Airflow home, environment and output."""

    home: Path
    env: dict[str, str]
    output: str
    counters: dict[str, Any]

    def task(self, task_id: str) -> subprocess.CompletedProcess[str]:
        """`airflow tasks test`: one task again, alone, in the same Airflow home."""
        airflow = str(AIRFLOW_PYTHON.parent / "airflow")
        return run([airflow, "tasks", "test", "fibank_logins", task_id], self.env, self.home, timeout=600)


@pytest.fixture(scope="module")
def dag_run(bank: Sandbox, warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> DagRun:
    require(AIRFLOW_PYTHON, "Airflow")
    require(MELTANO, "meltano")
    home = tmp_path_factory.mktemp("airflow")
    logins = {
        name: {"username_env": f"{name.upper()}_USER", "password_env": f"{name.upper()}_PASSWORD"}
        for name in [*LOGINS, "mistyped"]
    }
    secrets = {f"{name.upper()}_USER": user for name, user in LOGINS.items()}
    secrets.update({f"{name.upper()}_PASSWORD": user for name, user in LOGINS.items()})
    secrets.update({"MISTYPED_USER": "demo4", "MISTYPED_PASSWORD": "not-the-password"})
    env = clean_env(
        **warehouse.env(),
        **secrets,
        FIBANK_LOGINS_FILE=str(write_logins(home / "logins.yml", logins)),
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "orchestrate" / "airflow" / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        TAP_FIBANK_BASE_URL=bank.base_url,
        TAP_FIBANK_START_DATE=start_date(bank),
        TAP_FIBANK_MAX_RETRIES="1",
        DBT_POSTGRES_SOURCE_SCHEMA=warehouse.raw,
    )
    airflow = str(AIRFLOW_PYTHON.parent / "airflow")
    migrate = run([airflow, "db", "migrate"], env, home, timeout=600)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    bank.reset_counters()
    proc = run([airflow, "dags", "test", "fibank_logins"], env, home, timeout=900)
    output = proc.stdout + proc.stderr
    counters = bank.counters()
    (home / "dags-test.log").write_text(output, encoding="utf-8")  # kept for a failure's reader
    return DagRun(home, env, output, counters)


def test_the_dag_runs_once_against_the_sandbox(dag_run: DagRun, bank: Sandbox, warehouse: Warehouse) -> None:
    output, counters, home = dag_run.output, dag_run.counters, dag_run.home
    assert "load_household" in output and "load_mistyped" in output, output[-3000:]
    assert counters["calls"]["login_post"] == 3 and counters["failed_logins"] == 1, home / "dags-test.log"
    assert "authentication refused (tap exit 3)" in output
    finished = [line for line in output.splitlines() if "DagRun Finished: dag_id=fibank_logins" in line]
    assert len(finished) == 1 and "state=failed" in finished[0], finished or output[-3000:]
    assert "not-the-password" not in output
    first = date.fromisoformat(start_date(bank))
    for username in LOGINS.values():
        expected = {
            (e.iban, e.entry_id, e.amount, e.balance_after, e.currency)
            for entries in bank.login_truth(username).values()
            for e in entries
            if e.booking_date >= first
        }
        got = warehouse.rows(
            f"select iban, entry_id, amount, balance_after, currency from {warehouse.raw}.transactions "
            "where iban = any(%s)",
            sorted(bank.login_truth(username)),
        )
        assert expected, f"{username}: the bank booked nothing since {first}: the check proves nothing"
        assert {(r[0], r[1], Decimal(r[2]), Decimal(r[3]), r[4]) for r in got} == expected, username
        assert len(got) == len(expected), f"{username}: an entry loaded twice"
    marts = warehouse.rows(f"select count(distinct customer_id) from {warehouse.analytics}.fct_transactions")
    assert marts[0][0] == 2 * len(LOGINS), output[-3000:]


def test_source_freshness_follows_the_build_and_a_stale_source_only_warns(
    dag_run: DagRun, warehouse: Warehouse
) -> None:
    fresh = "source freshness of source.fibank.fibank.statements: pass"
    assert fresh in dag_run.output, dag_run.home / "dags-test.log"
    # The latest run five days ago: past error_after (3 days); the task warns and succeeds.
    aged = "run_started_at = run_started_at - interval '5 days'"
    warehouse.execute(f"update {warehouse.raw}.statements set {aged}")
    proc = dag_run.task("source_freshness")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "source freshness of source.fibank.fibank.statements: error" in output, output[-3000:]
