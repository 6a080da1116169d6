"""Run the Dagster job for some logins in this process, without a daemon: a line per login.

``python -m fibank_orchestrate.local [LOGIN ...] [--json] [--parallel N]`` materializes each
login's partition (its raw tables, then the dbt assets) on the instance of ``DAGSTER_HOME`` (a
temporary one when unset). ``make orchestrate-demo``, the tests and the benchmark use it.
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dagster import DagsterEventType, DagsterInstance

from .definitions import LOGINS, defs


def materialize(name: str, instance: DagsterInstance) -> dict[str, Any]:
    """One login's partition in process; what its run's page would show."""
    started = time.monotonic()
    job = defs.resolve_job_def("fibank_login")
    result = job.execute_in_process(
        partition_key=name, instance=instance, raise_on_error=False, tags={"fibank/login": name}
    )
    line: dict[str, Any] = {"login": name, "ok": result.success, "seconds": round(time.monotonic() - started, 1)}
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION and event.asset_key is not None:
            meta = event.step_materialization_data.materialization.metadata
            if event.asset_key.path[-1] == "transactions" and "entries" in meta:
                line.update({key: meta[key].value for key in ("entries", "tap_exit_code", "summary", "state_id")})
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
        return f"login {line['login']}: {line.get('entries', 0)} entries loaded, dbt built ({line['seconds']} s)"
    return f"login {line['login']}: FAILED: {line.get('error', 'see the run log')}"


def main(argv: list[str] | None = None) -> int:
    """Materialize the chosen logins' partitions; exit 1 if any failed."""
    parser = argparse.ArgumentParser(prog="fibank_orchestrate.local", description=__doc__)
    parser.add_argument("logins", nargs="*", help="default: every login of the file")
    parser.add_argument("--json", action="store_true", help="a JSON object per login instead of text")
    parser.add_argument("--parallel", type=int, default=1, help="logins materialized at once")
    args = parser.parse_args(argv)
    unknown = [name for name in args.logins if name not in LOGINS]
    if unknown:
        parser.error(f"not in the file of logins: {', '.join(unknown)} (known: {', '.join(LOGINS)})")
    names = args.logins or list(LOGINS)
    instance = DagsterInstance.get() if _has_home() else DagsterInstance.ephemeral()
    with ThreadPoolExecutor(max(1, args.parallel)) as pool:
        lines = list(pool.map(lambda name: materialize(name, instance), names))
    for line in lines:
        print(json.dumps(line, default=str) if args.json else describe(line), flush=True)
    return 0 if all(line["ok"] for line in lines) else 1


def _has_home() -> bool:
    import os

    return bool(os.environ.get("DAGSTER_HOME"))


if __name__ == "__main__":
    sys.exit(main())
