"""`make orchestrate-demo`: three sandbox logins through Dagster into PostgreSQL, one of them failing.

A sandbox bank with three logins runs in this process; Dagster (`.tools/dagster`, in process, no
daemon) materializes each login's partition: `meltano run` with the login's own state id in a
Meltano system database in PostgreSQL. Then the marts build once over all of them, as the sensor
asks, with the dbt tests as asset checks. The login `demo` lists an account whose statement the
bank always fails: its line names that account and the checks failing for it, while the other
logins' lines show their marts built and their checks passing. That is the demo's point, so it
exits 0; it exits 1 when a login fails to load or the marts fail to build.

The PostgreSQL is the one the PG* variables name (default 127.0.0.1:5432, user postgres, database
postgres); the demo writes only to its own schemas (fibank_demo_*), and its Dagster instance is
output/dagster, so `dagster dev` shows the runs afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from fibank_sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
DAGSTER_PYTHON = REPO / ".tools" / "dagster" / "bin" / "python"
START = dt.date(2025, 10, 1)
LOCAL_FAILED, LOCAL_CHECKS_FAIL = 1, 2  # fibank_orchestrate.local's exit codes


@dataclass(frozen=True)
class Schemas:
    """Where the demo writes: Meltano's state, the raw tables, the marts."""

    state: str = "fibank_demo_meltano"
    raw: str = "fibank_demo_raw"
    marts: str = "fibank_demo"


def postgres() -> dict[str, str]:
    """The server of the PG* variables, as psql would pick it."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "postgres"),
    }


def environment(
    bank: Sandbox, pg: dict[str, str], home: Path, logins: Path, schemas: Schemas, start: dt.date
) -> dict[str, str]:
    """Where each piece goes; secrets of the sandbox logins in the environment, as in production."""
    auth = pg["user"] + (f":{pg['password']}" if pg["password"] else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_FIBANK", "TARGET_", "DBT_"))}
    env.update(
        {
            "MELTANO_DATABASE_URI": f"postgresql+psycopg://{auth}@{pg['host']}:{pg['port']}/{pg['dbname']}"
            f"?options=-csearch_path%3D{schemas.state}",
            "TARGET_POSTGRES_HOST": pg["host"],
            "TARGET_POSTGRES_PORT": pg["port"],
            "TARGET_POSTGRES_USER": pg["user"],
            "TARGET_POSTGRES_PASSWORD": pg["password"],
            "TARGET_POSTGRES_DATABASE": pg["dbname"],
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schemas.raw,
            "DBT_POSTGRES_SCHEMA": schemas.marts,
            "DAGSTER_HOME": str(home),
            "FIBANK_LOGINS_FILE": str(logins),
            "TAP_FIBANK_BASE_URL": bank.base_url,
            "TAP_FIBANK_START_DATE": start.isoformat(),
            "TAP_FIBANK_MAX_RETRIES": "1",
        }
    )
    for login in bank.logins:
        env[f"DEMO_{login.username.upper()}_USERNAME"] = login.username
        env[f"DEMO_{login.username.upper()}_PASSWORD"] = login.password
    return env


def write_logins(path: Path, bank: Sandbox) -> Path:
    """The file of logins: names and the variables that hold each login's secrets."""
    lines = ["logins:"]
    for login in bank.logins:
        var = f"DEMO_{login.username.upper()}"
        lines += [
            f"  - name: {login.username}",
            f"    username_env: {var}_USERNAME",
            f"    password_env: {var}_PASSWORD",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_demo(
    bank: Sandbox, pg: dict[str, str], home: Path, schemas: Schemas, start: dt.date = START
) -> tuple[int, list[dict[str, Any]]]:
    """Every login of the bank through Dagster, then the marts once: local's exit code, its lines."""
    with psycopg.connect(**pg, autocommit=True, connect_timeout=5) as connection:  # type: ignore[arg-type]
        connection.execute(f"create schema if not exists {schemas.state}")  # type: ignore[arg-type]
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = environment(bank, pg, home, write_logins(home / "logins.yml", bank), schemas, start)
    done = subprocess.run(  # noqa: S603 - the Dagster venv's python, our own arguments
        [str(DAGSTER_PYTHON), "-m", "fibank_orchestrate.local", "--json"],
        cwd=REPO / "orchestrate",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if os.environ.get("FIBANK_DEMO_QUIET") else None,
        text=True,
        check=False,
    )
    # dbt's own progress goes to stdout too; the result is a JSON object per line.
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> int:
    """Run the demo; exit non-zero with one line when PostgreSQL, a login or the marts fail."""
    if not DAGSTER_PYTHON.exists():
        print("Dagster is not installed: run `make install WITH=orchestrate`", file=sys.stderr)
        return 1
    pg, schemas, home = postgres(), Schemas(), REPO / "output" / "dagster"
    try:
        with Sandbox(seed=1, users=3) as bank:
            code, lines = run_demo(bank, pg, home, schemas)
    except psycopg.OperationalError as error:
        print(
            f"no PostgreSQL at {pg['host']}:{pg['port']} ({error}); set PGHOST, PGPORT, PGUSER...",
            file=sys.stderr,
        )
        return 1
    for line in lines:
        print(line["text"])
    where = f"{pg['host']}:{pg['port']}/{pg['dbname']}"
    print(
        f"raw tables in {schemas.raw}, marts in {schemas.marts} ({where}); Meltano state in {schemas.state}."
    )
    if code == LOCAL_CHECKS_FAIL:
        print("A check fails for the accounts named on their login's line: what you see when one fails.")
    print(
        f"Runs in the Dagster UI: cd orchestrate && DAGSTER_HOME={home} FIBANK_LOGINS_FILE={home}/logins.yml "
        "../.tools/dagster/bin/dagster dev"
    )
    return 0 if code in (0, LOCAL_CHECKS_FAIL) and lines else LOCAL_FAILED


if __name__ == "__main__":
    sys.exit(main())
