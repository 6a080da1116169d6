"""Airflow: every login of the file of logins, one task each, then `dbt build` once.

The same rules as the Dagster code location (``fibank_orchestrate.pipeline``): each login has its
own Meltano state id and lock; only an unreachable bank (tap exit 4) is retried, with exponential
backoff; a refused password (exit 3) and every other failure fail the task at once, with the
tap's summary line as the error. Point ``AIRFLOW__CORE__DAGS_FOLDER`` at this folder, with
``fibank-orchestrate`` installed in Airflow's environment (``make orchestrate-install`` does both
for ``.tools/airflow``).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, CronTriggerTimetable, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from fibank_orchestrate.locks import LoginBusy
from fibank_orchestrate.logins import PROJECT_DIR, load_logins
from fibank_orchestrate.pipeline import MELTANO, run_login

MAX_CONCURRENT_LOGINS = int(os.environ.get("FIBANK_MAX_CONCURRENT_LOGINS", "4"))
UNREACHABLE_RETRIES = int(os.environ.get("FIBANK_UNREACHABLE_RETRIES", "3"))
UNREACHABLE_WAIT_SECONDS = float(os.environ.get("FIBANK_UNREACHABLE_WAIT_SECONDS", "300"))


def load_login(name: str) -> str:
    """One login's extract-load; raises so that Airflow retries only an unreachable bank."""
    login = next(login for login in load_logins() if login.name == name)
    try:
        outcome = run_login(login)
    except LoginBusy as busy:
        raise AirflowFailException(str(busy)) from None
    if outcome.ok:
        return f"login {name}: {outcome.entries} entries; {outcome.summary}"
    if outcome.retryable:
        raise AirflowException(outcome.describe())
    raise AirflowFailException(outcome.describe())


with DAG(
    dag_id="fibank_logins",
    schedule=CronTriggerTimetable("0 3,18 * * *", timezone="Europe/Sofia"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Sofia"),
    catchup=False,  # the tap's bookmarks catch up by themselves
    max_active_runs=1,  # one run per login at a time
    max_active_tasks=MAX_CONCURRENT_LOGINS,  # the global cap on logins at once
    default_args={"retries": 0},
    tags=["fibank"],
) as dag:
    loads = [
        task(
            task_id=f"load_{login.name}",
            retries=UNREACHABLE_RETRIES,
            retry_delay=timedelta(seconds=UNREACHABLE_WAIT_SECONDS),
            retry_exponential_backoff=True,
        )(load_login)(login.name)
        for login in load_logins()
    ]
    dbt_build = BashOperator(
        task_id="dbt_build",
        # umask 077: dbt's files and meltano's are the user's alone, as with run_login.
        bash_command=(
            f"cd {PROJECT_DIR} && umask 077 && {MELTANO} --environment prod invoke dbt-postgres:build"
        ),
        append_env=True,
        trigger_rule="all_done",  # the marts of the logins that loaded, even if one failed
    )
    # Fails the DAG run (so that it alerts) when a login failed, after dbt built the others' marts.
    every_login_loaded = EmptyOperator(task_id="every_login_loaded", trigger_rule="all_success")
    loads >> dbt_build
    [*loads, dbt_build] >> every_login_loaded
