"""Run the Dagster jobs for some logins in this process, without a daemon: a line per login.

``python -m fibank_orchestrate.local [LOGIN ...] [--json] [--raw-only]`` materializes each login's
partition of the raw tables, one tick, on the instance of ``DAGSTER_HOME`` (a temporary one when
unset); then the sensor ``fibank_marts_after_loads``, evaluated here as the daemon would, asks for
the one build of the marts, which runs here too. A line per login tells its load and the checks
failing for its accounts, then a line for the marts. ``make orchestrate-demo``, the tests and the
benchmark use it.

Exit 0 when everything loaded, built and passed; 1 when a login failed to load or the marts failed
to build; 2 when all built but a check failed for some login (its line names the accounts).
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from dagster import (
    AssetCheckSeverity,
    DagsterEventType,
    DagsterInstance,
    ExecuteInProcessResult,
    build_sensor_context,
)

from . import checks
from .definitions import (
    LOGIN_JOB,
    LOGINS,
    MARTS_JOB,
    defs,
    fibank_marts_after_loads,
    tick_tags,
)


def materialize(name: str, instance: DagsterInstance, tick: str, size: int) -> dict[str, Any]:
    """One login's partition in process; what its run's page would show."""
    started = time.monotonic()
    result = defs.resolve_job_def(LOGIN_JOB).execute_in_process(
        partition_key=name, instance=instance, raise_on_error=False, tags=tick_tags(name, tick, size)
    )
    line: dict[str, Any] = {
        "login": name,
        "ok": result.success,
        "seconds": round(time.monotonic() - started, 1),
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
            if error is not None:
                line["error"] = error.description
                line.update({key: value.value for key, value in error.metadata.items()})
            elif event.step_failure_data.error is not None:
                line["error"] = event.step_failure_data.error.message.strip()
        if event.event_type == DagsterEventType.STEP_UP_FOR_RETRY:
            line["retries"] = line.get("retries", 0) + 1
    return line


def build_marts(instance: DagsterInstance, tick: str) -> ExecuteInProcessResult | None:
    """The build the sensor asks for this tick, run here; None if it asked for none."""
    evaluation = fibank_marts_after_loads.evaluate_tick(
        build_sensor_context(instance=instance, definitions=defs)
    )
    for request in evaluation.run_requests or []:
        if request.run_key == tick:
            return defs.resolve_job_def(MARTS_JOB).execute_in_process(
                instance=instance, raise_on_error=False, tags=dict(request.tags)
            )
    return None


def marts_line(result: ExecuteInProcessResult | None, seconds: float) -> dict[str, Any]:
    """The build: whether it ran and succeeded, the logins it names, every check's outcome."""
    if result is None:
        return {"marts": True, "ok": False, "error": "the sensor asked for no build"}
    line: dict[str, Any] = {
        "marts": True,
        "ok": result.success,
        "seconds": round(seconds, 1),
        "run_id": result.run_id,
    }
    line["failed_logins"] = [
        n for n in result.dagster_run.tags.get("fibank/failed_logins", "").split(",") if n
    ]
    keys, failing, passed = [], [], 0
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            keys.append(event.asset_key)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            check = event.asset_check_evaluation_data
            if check.passed:
                passed += 1
                continue
            accounts = check.metadata.get("accounts_by_login")
            failing.append(
                {
                    "check": check.check_name,
                    "severity": check.severity.value,
                    "accounts_by_login": accounts.value if accounts is not None else {},
                }
            )
        elif event.event_type == DagsterEventType.STEP_FAILURE and event.step_failure_data.error:
            line["error"] = event.step_failure_data.error.message.strip()[:2000]
    line.update({"materialized": len(keys), "assets": len(set(keys)), "checks_passed": passed})
    line["checks_failing"] = failing
    return line


def assign_checks(lines: list[dict[str, Any]], marts: dict[str, Any]) -> None:
    """Each failing check on the line of the login its rows are about (or on the marts' line)."""
    summaries = {line["login"]: str(line.get("summary", "")) for line in lines}
    by_name = {line["login"]: line for line in lines}
    for failing in marts.get("checks_failing", []):
        named = checks.attribute(failing["accounts_by_login"], summaries)
        for login, accounts in (named or {checks.UNKNOWN: []}).items():
            target = by_name.get(login, marts)
            entry = {"check": failing["check"], "severity": failing["severity"], "accounts": accounts}
            target.setdefault("checks", []).append(entry)


def describe(line: dict[str, Any]) -> str:
    """The human line: a login's load and its failing checks, or the marts' build."""
    checks_text = "".join(
        f"; check {c['check']} {'FAILS' if c['severity'] == 'ERROR' else 'warns'}"
        + (f" for {', '.join(c['accounts'])}" if c["accounts"] else "")
        for c in line.get("checks", [])
    )
    if "marts" in line:
        if not line["ok"]:
            return f"marts: FAILED: {line.get('error', 'see the run log')}"
        failed = line["failed_logins"]
        return (
            f"marts: built once ({line['materialized']} assets, {line['seconds']} s)"
            + (f" despite the failed login(s) {', '.join(failed)}" if failed else " after every login")
            + f"; {line['checks_passed']} checks passed, {len(line['checks_failing'])} not"
            + checks_text
        )
    if not line["ok"]:
        return f"login {line['login']}: FAILED: {line.get('error', 'see the run log')}"
    status = " ".join(str(line.get("summary", "")).split()).rstrip(".")
    green = "" if checks_text or "marts_built" not in line else "; its checks pass"
    loaded = f"{line.get('entries', 0)} entries loaded ({line['seconds']} s)"
    return f"login {line['login']}: {loaded}; {status}{green}{checks_text}"


def exit_code(lines: list[dict[str, Any]], marts: dict[str, Any] | None) -> int:
    """0 all green, 1 a load or the build failed, 2 a check fails for some login's accounts."""
    if not all(line["ok"] for line in lines) or (marts is not None and not marts["ok"]):
        return 1
    failing = [c for line in [*lines, marts or {}] for c in line.get("checks", [])]
    return 2 if any(c["severity"] == AssetCheckSeverity.ERROR.value for c in failing) else 0


def main(argv: list[str] | None = None) -> int:
    """Load the chosen logins as one tick, then build the marts once."""
    parser = argparse.ArgumentParser(prog="fibank_orchestrate.local", description=__doc__)
    parser.add_argument("logins", nargs="*", help="default: every login of the file")
    parser.add_argument("--json", action="store_true", help="a JSON object per line instead of text")
    parser.add_argument("--raw-only", action="store_true", help="load the raw tables, build no marts")
    args = parser.parse_args(argv)
    unknown = [name for name in args.logins if name not in LOGINS]
    if unknown:
        parser.error(f"not in the file of logins: {', '.join(unknown)} (known: {', '.join(LOGINS)})")
    names = args.logins or list(LOGINS)
    home = None if os.environ.get("DAGSTER_HOME") else tempfile.TemporaryDirectory()
    instance = DagsterInstance.get() if home is None else DagsterInstance.local_temp(home.name)
    tick = f"local:{uuid.uuid4().hex[:12]}"
    lines = [materialize(name, instance, tick, len(names)) for name in names]
    marts = None
    if not args.raw_only:
        started = time.monotonic()
        marts = marts_line(build_marts(instance, tick), time.monotonic() - started)
        for line in lines:
            line["marts_built"] = marts["ok"]
        assign_checks(lines, marts)
    for line in [*lines, *([marts] if marts else [])]:
        line["text"] = describe(line)
        print(json.dumps(line, default=str) if args.json else line["text"], flush=True)
    return exit_code(lines, marts)


if __name__ == "__main__":
    sys.exit(main())
