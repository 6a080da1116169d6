"""The Dagster code location: one partition per login, raw tables from Meltano, marts from dbt.

``dagster dev`` (in ``orchestrate/``) or ``dagster definitions validate -m
fibank_orchestrate.definitions`` load it. The raw tables are one multi-asset run by
``pipeline.run_login`` for the partition's login; the dbt models over ``transform/`` depend on
them, so the asset graph shows which login's load fed which mart.
"""

# No `from __future__ import annotations`: Dagster inspects the `context` annotations at runtime.
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Definitions,
    Failure,
    MaterializeResult,
    RetryRequested,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    StaticPartitionsDefinition,
    define_asset_job,
    multi_asset,
    schedule,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from .locks import LoginBusy
from .logins import PROJECT_DIR, LoginsError, load_logins
from .pipeline import Outcome, run_login

RAW_SCHEMA = "tap_fibank"
RAW_TABLES = ("customers", "accounts", "transactions", "statements")
# The bank sees every run as a login: orchestrate/dagster.yaml queues runs (tag `fibank/login`:
# one run per login, at most 4 runs), and its pools allow one dbt build at a time.
LOGIN_TAG = "fibank/login"
DBT_POOL = "fibank_dbt"
UNREACHABLE_RETRIES = int(os.environ.get("FIBANK_UNREACHABLE_RETRIES", "3"))
UNREACHABLE_WAIT_SECONDS = float(os.environ.get("FIBANK_UNREACHABLE_WAIT_SECONDS", "300"))

LOGINS = {login.name: login for login in load_logins()}
LOGIN_PARTITIONS = StaticPartitionsDefinition(list(LOGINS))


@multi_asset(
    name="fibank_raw",
    specs=[
        AssetSpec(
            AssetKey([RAW_SCHEMA, table]),
            description=f"tap-fibank's `{table}` stream, upserted by target-postgres",
            group_name="fibank_raw",
            kinds={"meltano", "postgres"},
        )
        for table in RAW_TABLES
    ],
    partitions_def=LOGIN_PARTITIONS,
    can_subset=False,
)
def fibank_raw(context: AssetExecutionContext) -> Iterator[MaterializeResult[Any]]:
    """One login's extract-load: retried only when the bank was unreachable (tap exit 4)."""
    login = LOGINS[context.partition_key]
    try:
        outcome = run_login(login)
    except (LoginBusy, LoginsError) as error:
        raise Failure(description=str(error), allow_retries=False) from None
    metadata = outcome_metadata(outcome)
    if outcome.ok:
        context.log.info(f"login {login.name}: {outcome.entries} entries; {outcome.summary}")
        for table in RAW_TABLES:
            yield MaterializeResult(asset_key=AssetKey([RAW_SCHEMA, table]), metadata=metadata)
        return
    context.log.error(outcome.describe() + "\n" + "\n".join(outcome.log_tail[-30:]))
    if outcome.retryable and context.retry_number < UNREACHABLE_RETRIES:
        wait = UNREACHABLE_WAIT_SECONDS * 2**context.retry_number
        context.log.warning(f"login {login.name}: the bank is unreachable; trying again in {wait:g} s")
        raise RetryRequested(max_retries=UNREACHABLE_RETRIES, seconds_to_wait=wait)
    raise Failure(description=outcome.describe(), metadata=metadata, allow_retries=False)


def outcome_metadata(outcome: Outcome) -> Mapping[str, Any]:
    """What the run's page shows: the login, its state id, the tap's exit code and summary line."""
    return {
        "login": outcome.login,
        "state_id": outcome.state_id,
        "tap_exit_code": -1 if outcome.tap_exit_code is None else outcome.tap_exit_code,
        "summary": outcome.summary,
        "entries": outcome.entries,
    }


class RawTablesTranslator(DagsterDbtTranslator):
    """dbt's `fibank` source tables are the raw assets above."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        """Source `fibank.<table>` -> `tap_fibank/<table>`; models keep dbt's own keys."""
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([RAW_SCHEMA, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)


# dbt is installed next to dagster (its own venv), which need not be on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
DBT_PROJECT = DbtProject(
    project_dir=PROJECT_DIR / "transform",
    profiles_dir=PROJECT_DIR / "transform" / "profiles" / "postgres",
    target_path=Path("target") / "dagster",
)


def dbt_environment() -> None:
    """The dbt connection is target-postgres's, as with meltano's dbt-postgres utility."""
    for dbt_name, target_name in (
        ("DBT_POSTGRES_HOST", "TARGET_POSTGRES_HOST"),
        ("DBT_POSTGRES_PORT", "TARGET_POSTGRES_PORT"),
        ("DBT_POSTGRES_USER", "TARGET_POSTGRES_USER"),
        ("DBT_POSTGRES_PASSWORD", "TARGET_POSTGRES_PASSWORD"),
        ("DBT_POSTGRES_DBNAME", "TARGET_POSTGRES_DATABASE"),
        ("FIBANK_SOURCE_SCHEMA", "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"),
    ):
        if not os.environ.get(dbt_name) and os.environ.get(target_name):
            os.environ[dbt_name] = os.environ[target_name]


def _manifest() -> Path:
    """The dbt manifest, parsed once when missing (a fresh clone has none)."""
    if not DBT_PROJECT.manifest_path.exists():
        dbt_environment()
        DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE).cli(
            ["--quiet", "parse"], target_path=DBT_PROJECT.target_path
        ).wait()
    return DBT_PROJECT.manifest_path


@dbt_assets(manifest=_manifest(), dagster_dbt_translator=RawTablesTranslator(), pool=DBT_POOL)
def fibank_dbt(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the marts over every login's raw tables."""
    dbt_environment()
    yield from dbt.cli(["build"], context=context).stream()


fibank_login_job = define_asset_job(
    "fibank_login",
    selection=AssetSelection.assets(fibank_raw, fibank_dbt),
    partitions_def=LOGIN_PARTITIONS,
    description="One login: tap-fibank -> PostgreSQL (its own state id), then dbt build.",
)

fibank_login_raw_job = define_asset_job(
    "fibank_login_raw",
    selection=AssetSelection.assets(fibank_raw),
    partitions_def=LOGIN_PARTITIONS,
    description="One login's raw tables only (a backfill of many logins; build the marts after).",
)


def _schedule() -> ScheduleDefinition:
    """03:00 and 18:00 in Sofia, a run per login (the seed's connector's times)."""

    @schedule(
        job=fibank_login_job,
        cron_schedule="0 3,18 * * *",
        execution_timezone="Europe/Sofia",
        name="fibank_twice_daily",
    )
    def fibank_twice_daily(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        stamp = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else ""
        for name in LOGINS:
            yield RunRequest(run_key=f"{name}:{stamp}", partition_key=name, tags={LOGIN_TAG: name})

    return fibank_twice_daily


defs = Definitions(
    assets=[fibank_raw, fibank_dbt],
    jobs=[fibank_login_job, fibank_login_raw_job],
    schedules=[_schedule()],
    resources={"dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)},
)
