"""The warehouse's SQL where scale or the session decides: join plans and time zones.

The raw tables are generated (benchmarks/warehouse_scale.py, the benchmark's own generator, at a
small size) and built with the dbt of meltano's plugin venv, without the tap: what is tested is
the plan DuckDB chooses for the EUR conversion (an equi-join on the daily rates, not a nested loop
over every rate, which took 55 s per scan at a million entries) and that PostgreSQL's booking
instants are UTC whatever the session's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.ci import unavailable
from support.warehouse import dbt, load_generator, session_today

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SMALL = {"entries": 6000, "accounts": 12, "years": 2}
NESTED_LOOPS = ("NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "CROSS_PRODUCT")


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    return load_generator()


def small_shape(scale: ModuleType) -> Any:
    return scale.Shape(**SMALL, today=session_today())


@pytest.fixture(scope="module")
def built_duckdb(scale: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    import duckdb

    workdir = tmp_path_factory.mktemp("scale-duckdb")
    wh = scale.DuckDBWarehouse(workdir)
    gen = duckdb.connect(str(workdir / "generator.duckdb"))
    shape = small_shape(scale)
    scale.generate(gen, shape)
    wh.load(gen, shape, 1)
    gen.close()
    dbt(scale, wh, workdir, "build")
    yield wh, workdir


def plan(path: Path, sql: str) -> str:
    import duckdb

    assert duckdb.__version__ == "1.2.2", "open the warehouse only with duckdb 1.2.2"
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return "\n".join(str(row[-1]) for row in connection.execute(f"explain {sql}").fetchall())
    finally:
        connection.close()


def test_converting_entries_to_eur_joins_the_daily_rates_on_equality(built_duckdb: tuple[Any, Path]) -> None:
    wh, workdir = built_duckdb
    compiled = workdir / "target" / "compiled" / "fibank" / "models" / "intermediate"
    conversion = (compiled / "int_transactions_converted_to_eur.sql").read_text(encoding="utf-8")
    shown = plan(wh.path, conversion)
    assert "HASH_JOIN" in shown, shown
    assert not [kind for kind in NESTED_LOOPS if kind in shown], shown


def test_the_staging_entries_join_nothing(built_duckdb: tuple[Any, Path]) -> None:
    wh, _ = built_duckdb
    shown = plan(wh.path, "select * from analytics_staging.stg_fibank__transactions")
    assert "JOIN" not in shown, shown


@pytest.fixture
def raw_postgres(scale: ModuleType, tmp_path: Path) -> Iterator[Any]:
    import duckdb
    import psycopg

    try:
        wh = scale.PostgresWarehouse(tmp_path)
        wh.connect().close()
    except psycopg.OperationalError as exc:
        unavailable(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    gen = duckdb.connect(str(tmp_path / "generator.duckdb"))
    shape = small_shape(scale)
    scale.generate(gen, shape)
    try:
        wh.load(gen, shape, 1)
        gen.close()
        yield wh
    finally:
        wh.drop()


@pytest.mark.postgres
def test_booking_instants_are_utc_whatever_the_sessions_time_zone(
    scale: ModuleType, raw_postgres: Any
) -> None:
    """target-postgres's `timestamp` in UTC, and a `timestamptz` another loader would write."""
    wh = raw_postgres
    far = {"PGTZ": "Pacific/Kiritimati"}  # UTC+14: any shift shows
    workdir = Path(wh.workdir)
    dbt(scale, wh, workdir, "run", "--select", "stg_fibank__transactions", env=far)
    with wh.connect() as pg:
        pg.execute("set time zone 'UTC'")
        pg.execute(f"alter table {wh.raw}.transactions add column loaded_utc timestamp")
        pg.execute(f"update {wh.raw}.transactions set loaded_utc = booked_at")
    assert [delta for (delta,) in plain_shift(wh)] == [timedelta(0)]
    with wh.connect() as pg:
        pg.execute(f"drop view {wh.analytics}_staging.stg_fibank__transactions")
        pg.execute(
            f"alter table {wh.raw}.transactions alter column booked_at type timestamptz "
            f"using booked_at at time zone 'UTC'"
        )
    dbt(scale, wh, workdir, "run", "--select", "stg_fibank__transactions", env=far)
    assert [delta for (delta,) in plain_shift(wh)] == [timedelta(0)]


def plain_shift(wh: Any) -> list[tuple[Any, ...]]:
    """The distinct differences between booked_at_utc and the UTC instant the loader was given."""
    with wh.connect() as pg:
        return list(
            pg.execute(
                f"select distinct s.booked_at_utc - r.loaded_utc "
                f"from {wh.analytics}_staging.stg_fibank__transactions as s "
                f"inner join {wh.raw}.transactions as r on r.iban = s.iban and r.entry_id = s.entry_id"
            ).fetchall()
        )
