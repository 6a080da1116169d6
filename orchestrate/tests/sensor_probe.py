"""Run by the Dagster venv's python for test_dagster: the code location's facts, or its sensor's ticks.

Prints one JSON object. ``--sensor`` records login runs straight into the instance of DAGSTER_HOME
(no bank, no meltano) and evaluates ``fibank_marts_after_loads`` between them, with its cursor.
"""

import json
import sys
import uuid
from typing import Any

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, build_sensor_context
from fibank_orchestrate.definitions import (
    FAILED_TAG,
    LOGIN_JOB,
    LOGIN_PARTITIONS,
    defs,
    fibank_dbt,
    fibank_marts_after_loads,
    tick_tags,
)


def facts() -> dict[str, Any]:
    schedule = defs.resolve_schedule_def("fibank_twice_daily")
    config = DagsterInstance.get().get_concurrency_config()
    jobs = {}
    for name in ("fibank_login", "fibank_marts"):
        partitions = defs.resolve_job_def(name).partitions_def
        jobs[name] = partitions.get_partition_keys() if partitions else None
    specs = list(fibank_dbt.check_specs)
    return {
        "schedule": [
            schedule.cron_schedule,
            schedule.execution_timezone,
            LOGIN_PARTITIONS.get_partition_keys(),
        ],
        "limits": [
            config.run_queue_config.max_concurrent_runs,
            config.run_queue_config.tag_concurrency_limits,
            config.pool_config.default_pool_limit,
        ],
        "jobs": jobs,
        "checks": len(specs),
        "blocking_checks": [spec.name for spec in specs if spec.blocking],
    }


def add(instance: DagsterInstance, tags: dict[str, str], status: DagsterRunStatus) -> DagsterRun:
    run = DagsterRun(job_name=LOGIN_JOB, run_id=str(uuid.uuid4()), tags=tags, status=status)
    return instance.add_run(run)


def ticks() -> dict[str, Any]:
    instance, cursor, steps = DagsterInstance.get(), None, {}

    def evaluate(step: str) -> None:
        nonlocal cursor
        data = fibank_marts_after_loads.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
        cursor = data.cursor
        steps[step] = [
            {"run_key": r.run_key, "failed_logins": r.tags.get(FAILED_TAG)} for r in data.run_requests or []
        ]

    add(instance, tick_tags("a", "t1", 3), DagsterRunStatus.SUCCESS)
    add(instance, tick_tags("b", "t1", 3), DagsterRunStatus.SUCCESS)
    running = add(instance, tick_tags("c", "t1", 3), DagsterRunStatus.STARTED)
    evaluate("one_still_running")
    instance.report_run_failed(running)
    evaluate("all_ended")
    add(instance, tick_tags("a", "t2", 2), DagsterRunStatus.SUCCESS)
    evaluate("half_created")
    add(instance, {"fibank/login": "b"}, DagsterRunStatus.SUCCESS)
    evaluate("by_hand")
    return steps


if __name__ == "__main__":
    print(json.dumps(ticks() if "--sensor" in sys.argv else facts(), default=str))
