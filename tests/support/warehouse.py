"""The warehouses a test loads and reads: the DuckDB file of a project and a PostgreSQL schema pair
of its own (dropped after), and the generated raw tables of benchmarks/warehouse_scale.py built
with the dbt of meltano's plugin venv, without the tap.

Also how their numbers come back (DOUBLE, NUMERIC, dates) and the one fixed conversion (BGN to
EUR) that hand-written expectations use.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from support.ci import unavailable
from support.project import REPO
from tap_fibank.bank.clock import FROZEN_TODAY, SOFIA

BGN_PER_EUR = Decimal("1.95583")
CENT = Decimal("0.01")


def bgn_to_eur(amount: Decimal) -> Decimal:
    """The fixed conversion, half-up to the cent, as the law (and the bank) does it."""
    return (amount / BGN_PER_EUR).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal:
    """A warehouse number as a Decimal: DuckDB's DOUBLE via its shortest repr, NUMERIC as is."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def session_today() -> date:
    """The session's frozen today (tests/conftest.py), else today in Sofia: what dbt takes as today."""
    frozen = os.environ.get(FROZEN_TODAY)
    return date.fromisoformat(frozen) if frozen else datetime.now(SOFIA).date()


class Warehouse:
    """Read-only SQL on the warehouse a pipeline loaded: the raw schema and the dbt marts."""

    name: str
    raw: str
    analytics: str
    job: str

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        """Change the warehouse behind the pipeline's back (to prove the tests notice)."""
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {}

    def drop(self) -> None:
        """Remove what the tests created."""


class DuckDBWarehouse(Warehouse):
    name, raw, analytics, job = "duckdb", "tap_fibank", "analytics", "fibank-duckdb"

    def __init__(self, project_root: Path) -> None:
        self.path = project_root / "output" / "fibank.duckdb"  # meltano.yml's default location

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import duckdb

        assert duckdb.__version__ == "1.2.2", "open the warehouse only with duckdb 1.2.2"
        # Connect per query: a held connection would lock the file against the next load.
        connection = duckdb.connect(str(self.path), read_only=True)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def execute(self, sql: str) -> None:
        import duckdb

        connection = duckdb.connect(str(self.path))
        try:
            connection.execute(sql)
        finally:
            connection.close()


def postgres_params() -> dict[str, str]:
    """The test server: libpq's PG* variables when set, else 127.0.0.1:5432, user postgres, db test."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }


class PostgresWarehouse(Warehouse):
    name, job = "postgres", "fibank-postgres"

    def __init__(self) -> None:
        import psycopg

        self.params = postgres_params()
        token = uuid.uuid4().hex[:10]
        self.raw = f"e2e_raw_{token}"
        self.analytics = f"e2e_{token}"
        try:
            psycopg.connect(**self.params, connect_timeout=5).close()  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            where = f"{self.params['host']}:{self.params['port']}/{self.params['dbname']}"
            unavailable(f"no PostgreSQL at {where} as {self.params['user']}: {exc}".strip())

    def env(self) -> dict[str, str]:
        p = self.params
        return {
            "TARGET_POSTGRES_HOST": p["host"],
            "TARGET_POSTGRES_PORT": p["port"],
            "TARGET_POSTGRES_USER": p["user"],
            "TARGET_POSTGRES_PASSWORD": p["password"],
            "TARGET_POSTGRES_DATABASE": p["dbname"],
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": self.raw,
            "DBT_POSTGRES_SOURCE_SCHEMA": self.raw,
            "DBT_POSTGRES_SCHEMA": self.analytics,
        }

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(**self.params) as connection:  # type: ignore[arg-type]
            return connection.execute(sql).fetchall()  # type: ignore[arg-type]

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(**self.params, autocommit=True) as connection:  # type: ignore[arg-type]
            connection.execute(sql)  # type: ignore[arg-type]

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(**self.params, autocommit=True) as connection:  # type: ignore[arg-type]
            for schema in (
                self.raw,
                self.analytics,
                f"{self.analytics}_staging",
                f"{self.analytics}_dbt_test__audit",
            ):
                connection.execute(f'drop schema if exists "{schema}" cascade')  # type: ignore[arg-type]


# --- generated raw tables (benchmarks/warehouse_scale.py), built without the tap ------------------


def load_generator() -> ModuleType:
    """benchmarks/warehouse_scale.py as a module: its generator and its warehouses."""
    spec = importlib.util.spec_from_file_location(
        "warehouse_scale", REPO / "benchmarks" / "warehouse_scale.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["warehouse_scale"] = module
    spec.loader.exec_module(module)
    return module


def dbt(scale: ModuleType, wh: Any, workdir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The plugin's dbt with the project's profiles; fails the test with its output's tail."""
    binary = REPO / ".meltano" / "utilities" / f"dbt-{wh.name}" / "venv" / "bin" / "dbt"
    if not binary.exists():
        unavailable(f"{binary} is missing: run `make install WITH=pipeline`")
    command = [str(binary), *args, "--project-dir", str(REPO / "transform"),
               "--profiles-dir", str(REPO / "transform" / "profiles" / wh.name),
               "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]  # fmt: skip
    full_env = {**os.environ, **wh.dbt_env(), **(env or {})}
    proc = subprocess.run(command, env=full_env, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, "\n".join(proc.stdout.splitlines()[-40:])
    return proc.stdout
