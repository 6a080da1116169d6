"""`make orchestrate-demo`: three sandbox logins through the Dagster job into PostgreSQL.

A sandbox bank with three logins runs in this process; the Dagster job (`.tools/dagster`, in
process, no daemon) materializes each login's partition: `meltano run` with the login's own state
id in a Meltano system database in PostgreSQL, then `dbt build`. The PostgreSQL is the one the PG*
variables name (default 127.0.0.1:5432, user postgres, database postgres); the demo writes only to
its own schemas (fibank_demo_*), and its Dagster instance is output/dagster, so `dagster dev` shows
the runs afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from tap_fibank.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
DAGSTER_PYTHON = REPO / ".tools" / "dagster" / "bin" / "python"
STATE, RAW, MARTS = "fibank_demo_meltano", "fibank_demo_raw", "fibank_demo"
START = dt.date(2025, 10, 1)


def postgres() -> dict[str, str]:
    """The server of the PG* variables, as psql would pick it."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "postgres"),
    }


def environment(bank: Sandbox, pg: dict[str, str], home: Path, logins: Path) -> dict[str, str]:
    """Where each piece goes; secrets of the sandbox logins in the environment, as in production."""
    auth = pg["user"] + (f":{pg['password']}" if pg["password"] else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_FIBANK", "TARGET_", "DBT_"))}
    env.update(
        {
            "MELTANO_DATABASE_URI": f"postgresql+psycopg://{auth}@{pg['host']}:{pg['port']}/{pg['dbname']}"
            f"?options=-csearch_path%3D{STATE}",
            "TARGET_POSTGRES_HOST": pg["host"],
            "TARGET_POSTGRES_PORT": pg["port"],
            "TARGET_POSTGRES_USER": pg["user"],
            "TARGET_POSTGRES_PASSWORD": pg["password"],
            "TARGET_POSTGRES_DATABASE": pg["dbname"],
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": RAW,
            "DBT_POSTGRES_SCHEMA": MARTS,
            "DAGSTER_HOME": str(home),
            "FIBANK_LOGINS_FILE": str(logins),
            "TAP_FIBANK_BASE_URL": bank.base_url,
            "TAP_FIBANK_START_DATE": START.isoformat(),
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


def main() -> int:
    """Run the demo; exit non-zero with one line when PostgreSQL or a login fails."""
    if not DAGSTER_PYTHON.exists():
        print("Dagster is not installed: run `make orchestrate-install`", file=sys.stderr)
        return 1
    pg = postgres()
    try:
        with psycopg.connect(**pg, autocommit=True, connect_timeout=5) as connection:  # type: ignore[arg-type]
            connection.execute(f"create schema if not exists {STATE}")  # type: ignore[arg-type]
    except psycopg.OperationalError as error:
        print(
            f"no PostgreSQL at {pg['host']}:{pg['port']} ({error}); set PGHOST, PGPORT, PGUSER...",
            file=sys.stderr,
        )
        return 1
    home = REPO / "output" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with Sandbox(seed=1, users=3) as bank:
        env = environment(bank, pg, home, write_logins(home / "logins.yml", bank))
        done = subprocess.run(  # noqa: S603 - the Dagster venv's python, our own arguments
            [str(DAGSTER_PYTHON), "-m", "fibank_orchestrate.local", "--dbt-once"],
            cwd=REPO / "orchestrate",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if os.environ.get("FIBANK_DEMO_QUIET") else None,
            text=True,
            check=False,
        )
    # dbt's own progress goes to stdout too; the job's result is a line per login.
    print(
        "".join(line for line in done.stdout.splitlines(keepends=True) if line.startswith("login ")), end=""
    )
    where = f"{pg['host']}:{pg['port']}/{pg['dbname']}"
    print(f"raw tables in {RAW}, marts in {MARTS} ({where}); Meltano state in {STATE}.")
    print(
        f"Runs in the Dagster UI: cd orchestrate && DAGSTER_HOME={home} FIBANK_LOGINS_FILE={home}/logins.yml "
        "../.tools/dagster/bin/dagster dev"
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
