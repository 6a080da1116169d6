"""The incremental models equal a full refresh, to the cent, after a daily run.

The daily build only recomputes, per account, the days that the runs since the last build read
(their statement windows) and the values at a last known ECB rate. A miss there would leave a
stale row that no data test sees, so the test compares: a full build of generated raw tables
(benchmarks/warehouse_scale.py's generator, small), then one more day of entries, an entry of a
past day changed inside the day's re-read window, and a newer ECB rate; the incremental build;
then every incremental model against a `--full-refresh` of the same data, row for row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.ci import unavailable
from support.warehouse import dbt, load_generator, session_today

pytestmark = pytest.mark.warehouse

SMALL = {"entries": 4000, "accounts": 10, "years": 2}
CHANGED_ACCOUNT = 7  # a EUR account (the generator: n % 10 in 6..8): no rate to redo its rows
# Each incremental model, its schema suffix and its key.
INCREMENTAL = {
    "int_transactions_converted_to_eur": ("_staging", "transaction_key"),
    "mart_daily_balances": ("", "iban, balance_date"),
}
MARK = "latest_run_at_utc"  # what the build saw, not a value: differs by design

Query = Callable[[str], list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    return load_generator()


def shape_of(scale: ModuleType) -> Any:
    return scale.Shape(**SMALL, today=session_today())


def day_after_first_build(scale: ModuleType, gen: Any, wh: Any, query: Query, shape: Any) -> str:
    """Today's entries and windows (a second run), plus one past entry changed and read again.

    Returns the changed entry's key."""
    wh.load(gen, shape, 2)
    raw = getattr(wh, "raw", scale.RAW)
    iban = f"BG{CHANGED_ACCOUNT:020d}"
    (entry_id, booked), *_ = query(
        f"select entry_id, cast(booking_date as varchar) from {raw}.transactions "
        f"where iban = '{iban}' and cast(booking_date as date) < date '{shape.today}' "
        f"order by entry_id desc limit 1"
    )
    query(
        f"update {raw}.transactions set amount = amount + 1, signed_amount = signed_amount + 1, "
        f"balance_after = balance_after + 1 where iban = '{iban}' and entry_id >= {entry_id}"
    )
    query(
        f"insert into {raw}.statements select iban, customer_id, '{booked}', "
        f"'{shape.today}', currency, opening_balance, closing_balance, debit_turnover, "
        f"credit_turnover, entry_count, entries_debit_total, entries_credit_total, run_started_at, "
        f"is_balanced, verification from {raw}.statements "
        f"where iban = '{iban}' and date_from = date_to and cast(date_from as date) = date '{shape.today}'"
    )
    return f"{iban}:{entry_id}"


def newer_usd_rate(query: Query, schema: str) -> date:
    """A rate of a day after the seed's last: what `make install WITH=ecb-rates` brings later."""
    ((last,),) = query(f"select max(cast(rate_date as date)) from {schema}_staging.ecb_rates")
    day = last + timedelta(days=7)
    query(
        f"insert into {schema}_staging.ecb_rates (currency, rate_date, units_per_eur) "
        f"values ('USD', '{day}', 1.0999)"
    )
    return date.fromisoformat(str(day))


def tables(query: Query, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every incremental model's rows but the build mark, ordered by its key."""
    rows = {}
    for model, (suffix, key) in INCREMENTAL.items():
        columns = [
            name
            for (name,) in query(
                f"select column_name from information_schema.columns where table_schema = '{schema}{suffix}' "
                f"and table_name = '{model}' and column_name <> '{MARK}' order by column_name"
            )
        ]
        rows[model] = query(f"select {', '.join(columns)} from {schema}{suffix}.{model} order by {key}")
    return rows


def compare(scale: ModuleType, wh: Any, workdir: Path, query: Query, schema: str) -> None:
    gen = wh.generator
    shape = shape_of(scale)
    dbt(scale, wh, workdir, "seed")
    dbt(scale, wh, workdir, "run")
    changed = day_after_first_build(scale, gen, wh, query, shape)
    rate_day = newer_usd_rate(query, schema)
    dbt(scale, wh, workdir, "run")
    incremental = tables(query, schema)
    ((kept,),) = query(
        f"select count(*) from {schema}_staging.int_transactions_converted_to_eur "
        f"where {MARK} < (select max({MARK}) from {schema}_staging.int_transactions_converted_to_eur)"
    )
    assert kept > len(incremental["int_transactions_converted_to_eur"]) // 2, "the daily build rebuilt it all"
    dbt(scale, wh, workdir, "run", "--full-refresh", "--select", *INCREMENTAL)
    full = tables(query, schema)
    for model in INCREMENTAL:
        assert len(incremental[model]) == len(full[model]), model
        differing = [pair for pair in zip(incremental[model], full[model]) if pair[0] != pair[1]]
        assert not differing, f"{model}: incremental != full refresh, first rows: {differing[:3]}"
    converted = query(
        f"select eur_rate_date from {schema}_staging.int_transactions_converted_to_eur "
        f"where transaction_key = '{changed}'"
    )
    assert converted, changed
    assert any(rate_day == row[0] for row in query(
        f"select distinct eur_rate_date from {schema}_staging.int_transactions_converted_to_eur"
    )), "the newer rate converted nothing: the case proves nothing"  # fmt: skip


def upgrade(scale: ModuleType, wh: Any, workdir: Path, query: Query, schema: str) -> None:
    """A warehouse built before the build mark existed, then the next day's ordinary build.

    The incremental models read the mark from their own table: without the upgrade rule
    (should_full_refresh in transform/macros/incremental.sql) the build fails on the missing
    column; with it, the tables are built in full, every row with the mark."""
    dbt(scale, wh, workdir, "seed")
    dbt(scale, wh, workdir, "run")
    for model, (suffix, _) in INCREMENTAL.items():
        query(f"alter table {schema}{suffix}.{model} drop column {MARK}")
    wh.load(wh.generator, shape_of(scale), 2)
    output = dbt(scale, wh, workdir, "run")
    for model, (suffix, _) in INCREMENTAL.items():
        assert f"{model} lacks {MARK}: built in full" in output
        ((unmarked,),) = query(f"select count(*) from {schema}{suffix}.{model} where {MARK} is null")
        assert unmarked == 0, f"{model}: rows kept without the new column"
    upgraded = tables(query, schema)
    dbt(scale, wh, workdir, "run", "--full-refresh", "--select", *INCREMENTAL)
    full = tables(query, schema)
    for model in INCREMENTAL:
        assert upgraded[model] == full[model], f"{model}: the upgraded build != a full refresh"
        assert full[model], model


def move_entries(query: Query, raw: str, today: date) -> dict[str, date]:
    """Two past entries booked again on another day: one to a week earlier, one to today.

    Both from a day before the next run's first read day (today): the earlier day too is before
    it. Returns their keys and new days."""
    moved = {}
    for account, to_today in ((6, False), (8, True)):
        iban = f"BG{account:020d}"
        (entry_id, booked), *_ = query(
            f"select entry_id, cast(cast(booking_date as date) as varchar) from {raw}.transactions "
            f"where iban = '{iban}' and cast(booking_date as date) < date '{today - timedelta(days=20)}' "
            f"order by entry_id desc limit 1"
        )
        day = today if to_today else date.fromisoformat(booked) - timedelta(days=7)
        query(
            f"update {raw}.transactions set booking_date = '{day}', booked_at = '{day} 12:00:00' "
            f"where iban = '{iban}' and entry_id = {entry_id}"
        )
        moved[f"{iban}:{entry_id}"] = day
    return moved


def moved_and_rebuilt(scale: ModuleType, wh: Any, workdir: Path, query: Query, schema: str) -> None:
    """A build, the next run's loads with two entries moved to other days, the daily build: it
    equals a full refresh (the moved entries' old days no longer count them)."""
    shape = shape_of(scale)
    dbt(scale, wh, workdir, "seed")
    dbt(scale, wh, workdir, "run")
    wh.load(wh.generator, shape, 2)
    moved = move_entries(query, getattr(wh, "raw", scale.RAW), shape.today)
    dbt(scale, wh, workdir, "run")
    incremental = tables(query, schema)
    dbt(scale, wh, workdir, "run", "--full-refresh", "--select", *INCREMENTAL)
    full = tables(query, schema)
    for model in INCREMENTAL:
        differing = [pair for pair in zip(incremental[model], full[model]) if pair[0] != pair[1]]
        assert len(incremental[model]) == len(full[model]), model
        assert not differing, f"{model}: incremental != full refresh, first rows: {differing[:3]}"
    for key, day in moved.items():
        held = query(
            f"select booking_date from {schema}_staging.int_transactions_converted_to_eur "
            f"where transaction_key = '{key}'"
        )
        assert held == [(day,)], f"{key} is not on {day}"


def duckdb_warehouse(scale: ModuleType, tmp_path: Path) -> Iterator[tuple[Any, Query, str]]:
    import duckdb

    assert duckdb.__version__ == "1.2.2", "open the warehouse only with duckdb 1.2.2"
    wh = scale.DuckDBWarehouse(tmp_path)
    wh.generator = duckdb.connect(str(tmp_path / "generator.duckdb"))
    shape = shape_of(scale)
    scale.generate(wh.generator, shape)
    wh.load(wh.generator, shape, 1)

    def query(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(wh.path)) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []

    try:
        yield wh, query, "analytics"
    finally:
        wh.generator.close()


def postgres_warehouse(scale: ModuleType, tmp_path: Path) -> Iterator[tuple[Any, Query, str]]:
    import duckdb
    import psycopg

    try:
        wh = scale.PostgresWarehouse(tmp_path)
        wh.connect().close()
    except psycopg.OperationalError as exc:
        unavailable(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    wh.generator = duckdb.connect(str(tmp_path / "generator.duckdb"))
    shape = shape_of(scale)
    scale.generate(wh.generator, shape)

    def query(sql: str) -> list[tuple[Any, ...]]:
        with wh.connect() as pg:
            cursor = pg.execute(sql)
            return cursor.fetchall() if cursor.description else []

    try:
        wh.load(wh.generator, shape, 1)
        yield wh, query, wh.analytics
    finally:
        wh.generator.close()
        wh.drop()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(
    request: pytest.FixtureRequest, scale: ModuleType, tmp_path: Path
) -> Iterator[tuple[Any, Query, str]]:
    """A generated warehouse of each kind, loaded once: the warehouse, its SQL, its analytics schema."""
    opened = duckdb_warehouse if request.param == "duckdb" else postgres_warehouse
    yield from opened(scale, tmp_path)


def test_the_daily_build_equals_a_full_refresh(
    scale: ModuleType, warehouse: tuple[Any, Query, str], tmp_path: Path
) -> None:
    wh, query, schema = warehouse
    compare(scale, wh, tmp_path, query, schema)


def test_a_table_built_before_a_new_column_is_rebuilt_in_full_by_the_next_build(
    scale: ModuleType, warehouse: tuple[Any, Query, str], tmp_path: Path
) -> None:
    wh, query, schema = warehouse
    upgrade(scale, wh, tmp_path, query, schema)


def test_a_daily_build_after_entries_moved_to_other_days_equals_a_full_refresh(
    scale: ModuleType, warehouse: tuple[Any, Query, str], tmp_path: Path
) -> None:
    wh, query, schema = warehouse
    moved_and_rebuilt(scale, wh, tmp_path, query, schema)
