"""The Airflow DAG, imported and run once by `airflow dags test` (Airflow in `.tools/airflow`).

Two logins load and a third has a mistyped password: the DAG run posts that password once and
never retries it, the other logins' entries reach PostgreSQL, and `dbt build` still runs.
"""

from __future__ import annotations

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

from tap_fibank.sandbox import Sandbox

LOGINS = {"household": "demo2", "office": "demo3"}


def test_the_dag_runs_once_against_the_sandbox(
    bank: Sandbox, warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
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

    assert "load_household" in output and "load_mistyped" in output, output[-3000:]
    assert counters["calls"]["login_post"] == 3 and counters["failed_logins"] == 1, home / "dags-test.log"
    assert "authentication refused (tap exit 3)" in output
    assert "DagRun Finished: dag_id=fibank_logins" in output and "state=failed" in output
    assert "not-the-password" not in output
    for username in LOGINS.values():
        ibans = sorted(bank.login_truth(username))
        got = warehouse.rows(
            f"select count(*) from {warehouse.raw}.transactions where iban = any(%s)", ibans
        )[0][0]
        assert got > 0, username
    marts = warehouse.rows(f"select count(distinct customer_id) from {warehouse.analytics}.fct_transactions")
    assert marts[0][0] == 2 * len(LOGINS), output[-3000:]
