"""The Dagster code location: raw tables per login, then the marts once per run of logins.

``dagster dev`` (in ``orchestrate/``) or ``dagster definitions validate -m
fibank_orchestrate.definitions`` load it. The raw tables are one multi-asset partitioned by login,
run by ``pipeline.run_login``; the dbt models over ``transform/`` depend on them, unpartitioned:
the sensor ``fibank_marts_after_loads`` builds them once after every login of a tick has ended,
and the dbt tests are their asset checks.
"""

# No `from __future__ import annotations`: Dagster inspects the `context` annotations at runtime.
import json
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    Output,
    RetryRequested,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    StaticPartitionsDefinition,
    define_asset_job,
    multi_asset,
    schedule,
    sensor,
)
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.tags import BACKFILL_ID_TAG, PARENT_RUN_ID_TAG
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from . import checks
from .locks import LoginBusy
from .logins import PROJECT_DIR, LoginsError, load_logins
from .pipeline import Outcome, run_login

RAW_SCHEMA = "tap_fibank"
RAW_TABLES = ("customers", "accounts", "transactions", "statements")
LOGIN_JOB, MARTS_JOB = "fibank_login", "fibank_marts"
# The bank sees every run as a login: orchestrate/dagster.yaml queues runs (tag `fibank/login`:
# one run per login, at most 4 runs), and its pools allow one dbt build at a time.
LOGIN_TAG = "fibank/login"
DBT_POOL = "fibank_dbt"
# The logins' runs started together, how many there are, and those that failed (on the build).
TICK_TAG, TICK_SIZE_TAG, FAILED_TAG = "fibank/tick", "fibank/tick_size", "fibank/failed_logins"
BOUNDS = ("warn_after", "error_after")  # a dbt source's freshness thresholds
SENSOR_SECONDS = int(os.environ.get("FIBANK_MARTS_SENSOR_SECONDS", "30"))
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

    def get_asset_check_spec(
        self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetCheckSpec | None:
        """Never blocking: a check failing for one login's account must not fail the others' build.

        Its severity stays dbt's (ERROR or WARN on the asset); the build names the login instead.
        """
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        return spec._replace(blocking=False) if spec is not None else None


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


def _checks_manifest() -> dict[str, Any]:
    """The dbt manifest, each singular test that refs several models checking the first one it refs.

    dagster-dbt makes a test an asset check only when it knows the asset: a singular test with
    several refs otherwise reaches Dagster as a mere observation. A test's own
    ``meta: {dagster: {ref: ...}}`` still wins.
    """
    manifest: dict[str, Any] = json.loads(_manifest().read_text(encoding="utf-8"))
    for node in manifest["nodes"].values():
        config = node.setdefault("config", {})
        meta = config.get("meta") or {}
        refs = node.get("refs") or []
        if node["resource_type"] == "test" and len(refs) > 1 and "ref" not in meta.get("dagster", {}):
            config["meta"] = {
                **meta,
                "dagster": {**meta.get("dagster", {}), "ref": {"name": refs[0]["name"]}},
            }
    return manifest


DBT_MANIFEST = _checks_manifest()


@dbt_assets(manifest=DBT_MANIFEST, dagster_dbt_translator=RawTablesTranslator(), pool=DBT_POOL)
def fibank_dbt(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Models first, then the checks, once over every login's raw tables.

    `dbt build` would skip every model downstream of a failing test, so one login's failing
    account would keep everyone's marts stale; as with meltano's `models` then `test`, the checks
    run after the models, and a failing one names the logins its rows are about.
    """
    dbt_environment()
    failed = [name for name in context.run.tags.get(FAILED_TAG, "").split(",") if name]
    if failed:
        context.log.warning(
            f"logins that failed to load (their last loaded data is built): {', '.join(failed)}"
        )
    named = {"failed_logins": ", ".join(failed) or "none"}
    # The unit tests prove the SQL on fixed rows, not the data: not part of a scheduled build.
    build = ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    for event in dbt.cli(build, context=context).stream():
        yield event.with_metadata({**event.metadata, **named}) if isinstance(event, Output) else event
    tests = dbt.cli(["test", "--exclude-resource-type", "unit_test"], context=context, raise_on_error=False)
    failing = []
    for event in tests.stream():
        if isinstance(event, AssetCheckResult) and not event.passed:
            failing.append(event)
        else:
            yield event
    if tests.process.wait() not in (0, 1):  # 1: some test failed; 2: dbt itself could not run
        raise Failure(description=f"dbt test could not run (exit {tests.process.returncode}); see the log")
    yield from _with_failing_accounts(context, failing, checks.relations(tests.target_path))
    _source_freshness(context, dbt)


def _with_failing_accounts(
    context: AssetExecutionContext, failing: list[AssetCheckResult], relations: Mapping[str, str]
) -> Iterator[AssetCheckResult]:
    """Each failing check with the accounts of its stored rows, by login."""
    params = checks.connection_params()
    for result in failing:
        unique_id = result.metadata.get("unique_id")
        relation = relations.get(str(unique_id.value if unique_id else ""))
        found: dict[str, list[str]] = {}
        if relation:
            try:
                found = checks.accounts_by_login(relation, params)
            except psycopg.Error as error:
                context.log.warning(f"{result.check_name}: its failing rows could not be read ({error})")
        logins = ", ".join(sorted(login or "(no login key)" for login in found)) or "unknown"
        context.log.warning(f"check {result.check_name} ({result.severity.value}) fails for: {logins}")
        yield result.with_metadata({**result.metadata, "accounts_by_login": MetadataValue.json(found)})


def _source_freshness(context: AssetExecutionContext, dbt: DbtCliResource) -> None:
    """`dbt source freshness`, when a source declares how fresh it must be: logged, never fatal."""
    bounds = [
        (s.get("freshness") or {}).get(b) or {} for s in DBT_MANIFEST["sources"].values() for b in BOUNDS
    ]
    if not any(bound.get("count") for bound in bounds):
        return
    run = dbt.cli(["source", "freshness"], raise_on_error=False).wait()
    try:
        results = run.get_artifact("sources.json").get("results", [])
    except (OSError, ValueError):
        results = []
    for result in results:
        log = context.log.info if result.get("status") == "pass" else context.log.warning
        log(f"source freshness of {result.get('unique_id')}: {result.get('status')}")


fibank_login_job = define_asset_job(
    LOGIN_JOB,
    selection=AssetSelection.assets(fibank_raw),
    partitions_def=LOGIN_PARTITIONS,
    description="One login: tap-fibank -> PostgreSQL with its own state id. The marts build after.",
)

fibank_marts_job = define_asset_job(
    MARTS_JOB,
    selection=AssetSelection.assets(fibank_dbt),
    description="The marts, once over every login's raw tables: models, then the dbt tests as checks.",
)


def _schedule() -> ScheduleDefinition:
    """03:00 and 18:00 in Sofia, a run per login (the seed's connector's times), one tick."""

    @schedule(
        job=fibank_login_job,
        cron_schedule="0 3,18 * * *",
        execution_timezone="Europe/Sofia",
        name="fibank_twice_daily",
    )
    def fibank_twice_daily(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        stamp = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else ""
        for name in LOGINS:
            yield RunRequest(
                run_key=f"{name}:{stamp}", partition_key=name, tags=tick_tags(name, stamp, len(LOGINS))
            )

    return fibank_twice_daily


def tick_tags(login: str, tick: str, size: int) -> dict[str, str]:
    """The tags of one login's run in a tick of `size` logins (the sensor waits for all of them)."""
    return {LOGIN_TAG: login, TICK_TAG: tick, TICK_SIZE_TAG: str(size)}


@sensor(
    job=fibank_marts_job,
    minimum_interval_seconds=SENSOR_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
)
def fibank_marts_after_loads(context: SensorEvaluationContext) -> Iterator[RunRequest]:
    """One build of the marts per tick, once every login's run of the tick has ended.

    A tick is the schedule's runs of one time (tag ``fibank/tick``), a backfill, or a run started
    by hand. A login that failed does not hold the others' marts back: the build runs and names it.
    """
    since = float(context.cursor or 0)
    records = context.instance.get_run_records(
        RunsFilter(job_name=LOGIN_JOB, created_after=datetime.fromtimestamp(since, timezone.utc)),
        ascending=True,
    )
    ticks: dict[tuple[str, int], list[DagsterRun]] = {}
    starts: dict[tuple[str, int], float] = {}
    for record in records:
        key = tick_of(record.dagster_run)
        ticks.setdefault(key, []).append(record.dagster_run)
        starts.setdefault(key, record.create_timestamp.timestamp())
    open_starts = []
    for (tick, size), runs in ticks.items():
        if not tick_ended(context.instance, tick, size, runs):
            open_starts.append(starts[(tick, size)])
            continue
        failed = sorted(
            run.tags.get(LOGIN_TAG, "?") for run in runs if run.status != DagsterRunStatus.SUCCESS
        )
        yield RunRequest(run_key=tick, tags={TICK_TAG: tick, FAILED_TAG: ",".join(failed)})
    if starts:  # the last tick is seen again (its run key dedupes it) until a later one starts
        context.update_cursor(str(min([*open_starts, max(starts.values())]) - 1))


def tick_of(run: DagsterRun) -> tuple[str, int]:
    """(tick, how many runs it has): the schedule's tick, a backfill, or the run alone."""
    if BACKFILL_ID_TAG in run.tags:
        return f"backfill:{run.tags[BACKFILL_ID_TAG]}", 0
    if TICK_TAG in run.tags and PARENT_RUN_ID_TAG not in run.tags:
        return run.tags[TICK_TAG], int(run.tags.get(TICK_SIZE_TAG, "1"))
    return f"run:{run.run_id}", 1  # by hand, or a re-execution: the marts build after it alone


def tick_ended(instance: DagsterInstance, tick: str, size: int, runs: list[DagsterRun]) -> bool:
    """Every run of the tick was created and has ended (a backfill: it launched them all)."""
    if not all(run.is_finished for run in runs):
        return False
    if tick.startswith("backfill:"):
        backfill = instance.get_backfill(tick.removeprefix("backfill:"))
        return backfill is not None and backfill.status != BulkActionStatus.REQUESTED
    return len(runs) >= size


defs = Definitions(
    assets=[fibank_raw, fibank_dbt],
    jobs=[fibank_login_job, fibank_marts_job],
    schedules=[_schedule()],
    sensors=[fibank_marts_after_loads],
    resources={"dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)},
)
