"""Run the Dagster job for some logins in this process, without a daemon: a line per login.

``python -m fibank_orchestrate.local [LOGIN ...] [--json] [--raw-only] [--dbt-once]`` materializes each
login's partition (its raw tables, then the dbt assets) on the instance of ``DAGSTER_HOME`` (a
temporary one when unset). ``make orchestrate-demo``, the tests and the benchmark use it.
"""

import argparse
import json
import os
import sys
import time
from typing import Any

from dagster import AssetKey, DagsterEventType, DagsterInstance

from .definitions import LOGIN_TAG, LOGINS, RAW_SCHEMA, RAW_TABLES, defs

RAW_KEYS = [AssetKey([RAW_SCHEMA, table]) for table in RAW_TABLES]


def materialize(name: str, instance: DagsterInstance, raw_only: bool = False) -> dict[str, Any]:
    """One login's partition in process; what its run's page would show."""
    started = time.monotonic()
    job = defs.resolve_job_def("fibank_login")
    result = job.execute_in_process(
        partition_key=name,
        instance=instance,
        raise_on_error=False,
        tags={LOGIN_TAG: name},
        asset_selection=RAW_KEYS if raw_only else None,
    )
    line: dict[str, Any] = {
        "login": name,
        "ok": result.success,
        "seconds": round(time.monotonic() - started, 1),
        "dbt_build": not raw_only,
    }
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION and event.asset_key is not None:
            meta = event.step_materialization_data.materialization.metadata
            if event.asset_key.path[-1] == "transactions" and "entries" in meta:
                line.update(
                    {key: meta[key].value for key in ("entries", "tap_exit_code", "summary", "state_id")}
                )
        if event.event_type == DagsterEventType.STEP_FAILURE and event.step_key:
            error = event.step_failure_data.user_failure_data
            line.setdefault("failed_step", event.step_key)
            if error is not None:
                line["error"] = error.description
                line.update({key: value.value for key, value in error.metadata.items()})
            elif event.step_failure_data.error is not None:
                line["error"] = event.step_failure_data.error.message.strip()
        if event.event_type == DagsterEventType.STEP_UP_FOR_RETRY:
            line["retries"] = line.get("retries", 0) + 1
    return line


def describe(line: dict[str, Any]) -> str:
    """The human line: entries for a loaded login, the reason for a failed one."""
    if line["ok"]:
        then = ", then dbt build" if line["dbt_build"] else ""
        return f"login {line['login']}: {line.get('entries', 0)} entries loaded{then} ({line['seconds']} s)"
    return f"login {line['login']}: FAILED: {line.get('error', 'see the run log')}"


def main(argv: list[str] | None = None) -> int:
    """Materialize the chosen logins' partitions; exit 1 if any failed."""
    parser = argparse.ArgumentParser(prog="fibank_orchestrate.local", description=__doc__)
    parser.add_argument("logins", nargs="*", help="default: every login of the file")
    parser.add_argument("--json", action="store_true", help="a JSON object per login instead of text")
    parser.add_argument("--raw-only", action="store_true", help="load the raw tables, skip dbt")
    parser.add_argument(
        "--dbt-once",
        action="store_true",
        help="build the dbt assets only with the last login, after every load",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.logins if name not in LOGINS]
    if unknown:
        parser.error(f"not in the file of logins: {', '.join(unknown)} (known: {', '.join(LOGINS)})")
    names = args.logins or list(LOGINS)
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    failed = 0
    for number, name in enumerate(names, start=1):  # one after the other: a run ends with dbt build
        raw_only = args.raw_only or (args.dbt_once and number < len(names))
        line = materialize(name, instance, raw_only)
        failed += not line["ok"]
        print(json.dumps(line, default=str) if args.json else describe(line), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
