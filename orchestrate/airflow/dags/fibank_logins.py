"""Airflow: every login of the file of logins, one task each, then `dbt build` and freshness once.

The same rules as the Dagster code location (``fibank_orchestrate.pipeline``): each login has its
own Meltano state id and lock; only an unreachable bank (tap exit 4) is retried, with exponential
backoff; a refused password (exit 3) and every other failure fail the task at once, with the
tap's summary line as the error. As in Dagster, `dbt source freshness` follows the build and a
stale source is a warning in its log, never a failed run (the build's staleness tests fail it).
Point ``AIRFLOW__CORE__DAGS_FOLDER`` at this folder, with ``fibank-orchestrate`` installed in
Airflow's environment (``make install WITH=orchestrate`` does both for ``.tools/airflow``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
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
# Where meltano.yml has dbt-postgres write its artifacts (sources.json among them).
DBT_TARGET = PROJECT_DIR / "transform" / "target" / "postgres"
log = logging.getLogger(__name__)


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


def source_freshness() -> str:
    """`dbt source freshness`: a source past its warn_after or error_after is a warning.

    Never a failure, as in Dagster: the build's staleness tests are what fail a run.
    """
    results = DBT_TARGET / "sources.json"
    results.unlink(missing_ok=True)  # a file left by an earlier run would say nothing of this one
    command = [MELTANO, "--environment", "prod", "invoke", "dbt-postgres:freshness"]
    try:
        proc = subprocess.run(  # noqa: S603 - meltano, with our own arguments
            command, cwd=PROJECT_DIR, capture_output=True, text=True, check=False, umask=0o077
        )
    except OSError as error:
        log.warning("dbt source freshness could not run: %s", error)
        return "source freshness: not run"
    try:
        found = json.loads(results.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError):
        log.warning("dbt source freshness could not run (exit %s): %s", proc.returncode, proc.stdout[-2000:])
        return "source freshness: not run"
    lines = [f"source freshness of {r.get('unique_id')}: {r.get('status')}" for r in found]
    for line, result in zip(lines, found, strict=True):
        (log.info if result.get("status") == "pass" else log.warning)(line)
    return "; ".join(lines) or "source freshness: no source declares it"


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
    # After the build, whether it passed or not; a leaf that never fails (a stale source warns).
    freshness = task(task_id="source_freshness", trigger_rule="all_done")(source_freshness)()
    # Fails the DAG run (so that it alerts) when a login failed, after dbt built the others' marts.
    every_login_loaded = EmptyOperator(task_id="every_login_loaded", trigger_rule="all_success")
    loads >> dbt_build >> freshness
    [*loads, dbt_build] >> every_login_loaded
