"""Open the warehouse a pipeline loaded, read-only, as a `Query` for the marts.

DuckDB is opened with duckdb 1.2.2 only (the version target-duckdb writes the file with: a newer one
would rewrite it so the loader can no longer open it). PostgreSQL is reached with psycopg, with the
same settings the loader and dbt use (TARGET_POSTGRES_*, DBT_POSTGRES_SCHEMA), from the environment
or a `.env` file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fibank_report.marts import Query, Rows

DUCKDB_VERSION = "1.2.2"


class WarehouseError(Exception):
    """The warehouse cannot be read; the message names the problem and the fix."""


@dataclass(frozen=True)
class Source:
    """A warehouse to read: how to query it, which schema holds the marts, how to name it."""

    query: Query
    schema: str
    label: str
    dbt_target: str  # transform/target/<this>: where dbt left its run_results.json


def duckdb_source(path: Path, schema: str = "analytics") -> Source:
    """The DuckDB file; a connection per query, so the loader is never locked out for long."""
    try:
        import duckdb
    except ImportError as exc:
        raise WarehouseError("duckdb is not installed here: run `make report`") from exc
    if duckdb.__version__ != DUCKDB_VERSION:
        msg = f"duckdb {duckdb.__version__} is installed; the warehouse needs {DUCKDB_VERSION} (make report)"
        raise WarehouseError(msg)
    if not path.exists():
        raise WarehouseError(f"{path} does not exist: run `make demo` (or `make run TARGET=duckdb`) first")

    def query(sql: str) -> Rows:
        try:
            connection = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            raise WarehouseError(f"cannot open {path} ({exc}): is a load still running?") from exc
        try:
            return connection.execute(sql).fetchall()
        except duckdb.CatalogException as exc:
            raise _no_marts(str(path), exc) from exc
        finally:
            connection.close()

    return Source(query, schema, f"DuckDB {path}", "duckdb")


def postgres_settings(env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """The psycopg connection arguments and the marts' schema, from the loader's and dbt's settings."""
    params: dict[str, Any] = {
        "host": env.get("TARGET_POSTGRES_HOST", "localhost"),
        "port": int(env.get("TARGET_POSTGRES_PORT", "5432")),
        "user": env.get("TARGET_POSTGRES_USER", "postgres"),
        "dbname": env.get("TARGET_POSTGRES_DATABASE", "postgres"),
        "connect_timeout": 10,
    }
    password = env.get("TARGET_POSTGRES_PASSWORD")
    if password:
        params["password"] = password
    return params, env.get("DBT_POSTGRES_SCHEMA", "analytics")


def read_env(env_file: Path | None) -> dict[str, str]:
    """The process environment, under the values of `env_file` when it exists (as meltano reads .env)."""
    merged = dict(os.environ)
    if env_file is not None and env_file.exists():
        from dotenv import dotenv_values

        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    return merged


def postgres_source(env: Mapping[str, str]) -> Source:
    """The PostgreSQL database the pipeline loads; the password never appears in a message."""
    import psycopg

    params, schema = postgres_settings(env)
    where = f"PostgreSQL {params['host']}:{params['port']}/{params['dbname']}"

    def query(sql: str) -> Rows:
        try:
            with psycopg.connect(**params) as connection:
                return connection.execute(sql.encode()).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise _no_marts(f"{where} schema {schema}", exc) from exc
        except psycopg.OperationalError as exc:
            msg = f"cannot connect to {where} as {params['user']}: check TARGET_POSTGRES_* in .env"
            raise WarehouseError(msg) from exc

    return Source(query, schema, f"{where}, schema {schema}", "postgres")


def _no_marts(where: str, exc: Exception) -> WarehouseError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WarehouseError(f"the dbt marts are missing in {where} ({first}): run the job's dbt build first")
