"""Fixtures of the orchestration tests: a multi-login sandbox, PostgreSQL schemas, the environment.

These tests run the real orchestrators (Dagster from `.tools/dagster`, Airflow from
`.tools/airflow`) and real meltano and dbt against a sandbox started here, into schemas of the real
PostgreSQL that they create and drop. `make ci SUITE=orchestrate` runs them.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import FROZEN_TODAY, SOFIA

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "orchestrate"))
if str(REPO / "tests") not in sys.path:  # tests/support; after this folder, whose conftest is ours
    sys.path.append(str(REPO / "tests"))

from support import env as support_env  # noqa: E402 - needs the path above
from support.ci import unavailable  # noqa: E402

# One "today" for the whole session, as tests/conftest.py (not loaded here) sets it: the sandbox,
# the tap, meltano and dbt (transform/macros/timestamps.sql) all see one day, even across midnight
# in Sofia. Set TAP_FIBANK_FROZEN_TODAY yourself to run on another day.
os.environ.setdefault(FROZEN_TODAY, dt.datetime.now(SOFIA).date().isoformat())

TOOLS = REPO / ".tools"
MELTANO = TOOLS / "meltano" / "bin" / "meltano"
DAGSTER_PYTHON = TOOLS / "dagster" / "bin" / "python"
AIRFLOW_PYTHON = TOOLS / "airflow" / "bin" / "python"
HISTORY_DAYS = 60  # a first run reads about two months: three windows per account


def postgres_params() -> dict[str, str]:
    """libpq's PG* variables when set, else 127.0.0.1:5432, user postgres, database test."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }


@dataclass
class Warehouse:
    """This test module's schemas: Meltano's system database, raw tables, marts."""

    params: dict[str, str]
    token: str

    @property
    def state(self) -> str:
        return f"orch_state_{self.token}"

    @property
    def raw(self) -> str:
        return f"orch_raw_{self.token}"

    @property
    def analytics(self) -> str:
        return f"orch_{self.token}"

    @property
    def database_uri(self) -> str:
        p = self.params
        auth = p["user"] + (f":{p['password']}" if p["password"] else "")
        return (
            f"postgresql+psycopg://{auth}@{p['host']}:{p['port']}/{p['dbname']}"
            f"?options=-csearch_path%3D{self.state}"
        )

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(**self.params) as connection:  # type: ignore[arg-type]
            return connection.execute(sql, args or None).fetchall()  # type: ignore[arg-type]

    def execute(self, sql: str) -> None:
        with psycopg.connect(**self.params, autocommit=True) as connection:  # type: ignore[arg-type]
            connection.execute(sql)  # type: ignore[arg-type]

    def env(self) -> dict[str, str]:
        p = self.params
        return {
            "MELTANO_DATABASE_URI": self.database_uri,
            "TARGET_POSTGRES_HOST": p["host"],
            "TARGET_POSTGRES_PORT": p["port"],
            "TARGET_POSTGRES_USER": p["user"],
            "TARGET_POSTGRES_PASSWORD": p["password"],
            "TARGET_POSTGRES_DATABASE": p["dbname"],
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": self.raw,
            "DBT_POSTGRES_SCHEMA": self.analytics,
        }


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Warehouse]:
    """Fresh schemas for this module, dropped afterwards (nothing else is touched)."""
    wh = Warehouse(postgres_params(), uuid.uuid4().hex[:10])
    try:
        psycopg.connect(**wh.params, connect_timeout=5).close()  # type: ignore[arg-type]
    except psycopg.OperationalError as error:
        unavailable(f"no PostgreSQL at {wh.params['host']}:{wh.params['port']}: {error}".strip())
    wh.execute(f'create schema "{wh.state}"')
    yield wh
    dbt_schemas = [f"{wh.analytics}_{suffix}" for suffix in ("staging", "intermediate", "dbt_test__audit")]
    for schema in (wh.state, wh.raw, wh.analytics, *dbt_schemas):
        wh.execute(f'drop schema if exists "{schema}" cascade')


@pytest.fixture(scope="module")
def bank() -> Iterator[Sandbox]:
    """One bank with four logins: demo (with the always-failing account), demo2..demo4."""
    with Sandbox(seed=1, users=4) as sandbox:
        yield sandbox


def start_date(bank: Sandbox) -> str:
    return (bank.today - timedelta(days=HISTORY_DAYS)).isoformat()


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any tap, loader, dbt, meltano or orchestration setting
    but the session's frozen today."""
    prefixes = ("TAP_FIBANK", "TARGET_", "DBT_", "MELTANO_", "FIBANK_", "DAGSTER_", "AIRFLOW")
    defaults = {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "UV_COMPILE_BYTECODE": "1"}
    return support_env.clean_env(*prefixes, **{**defaults, **extra})  # the frozen today stays


def write_logins(path: Path, logins: dict[str, dict[str, Any]]) -> Path:
    """A file of logins: name -> {username_env, password_env, settings}."""
    import yaml

    entries = [{"name": name, **spec} for name, spec in logins.items()]
    path.write_text(yaml.safe_dump({"logins": entries}), encoding="utf-8")
    return path


def require(path: Path, what: str) -> None:
    if not path.exists():
        unavailable(f"{what} is not installed ({path}); run `make install WITH=orchestrate`")


def run(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
