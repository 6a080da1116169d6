"""Build `output/report.html` from the DuckDB file or the PostgreSQL database a job loaded.

    python -m fibank_report --duckdb output/fibank.duckdb
    python -m fibank_report --postgres --env-file .env       # TARGET_POSTGRES_*, DBT_POSTGRES_SCHEMA

A problem (no warehouse, no marts, a library not vendored) is one line naming the fix, exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from fibank_report.dbt_results import read_test_results
from fibank_report.marts import Marts
from fibank_report.page import MissingLibraryError, load_libraries, render
from fibank_report.warehouses import (
    Source,
    WarehouseError,
    duckdb_source,
    postgres_source,
    read_env,
)
from tap_fibank.privacy import write_private_text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fibank_report", description=__doc__.split("\n", 1)[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--duckdb", type=Path, default=Path("output/fibank.duckdb"), help="the DuckDB file")
    where.add_argument("--postgres", action="store_true", help="read PostgreSQL (TARGET_POSTGRES_*)")
    parser.add_argument(
        "--env-file", type=Path, default=Path(".env"), help="settings file (as meltano reads)"
    )
    parser.add_argument("--schema", help="the marts' schema (default analytics, or DBT_POSTGRES_SCHEMA)")
    parser.add_argument(
        "--dbt-target", type=Path, help="dbt's target folder (default transform/target/<warehouse>)"
    )
    parser.add_argument("--vendor", type=Path, default=Path(".tools/report"), help="vendored JS libraries")
    parser.add_argument("--out", type=Path, default=Path("output/report.html"))
    return parser


def _source(args: argparse.Namespace) -> Source:
    if args.postgres:
        source = postgres_source(read_env(args.env_file))
        if args.schema:
            return Source(source.query, args.schema, source.label.rsplit(",", 1)[0], source.dbt_target)
        return source
    return duckdb_source(args.duckdb, args.schema or "analytics")


def main(argv: list[str] | None = None) -> int:
    """Write the report; print where it is and its size."""
    args = _parser().parse_args(argv)
    try:
        source = _source(args)
        libraries = load_libraries(args.vendor)
        marts = Marts(source.query, source.schema)
        dbt_target = args.dbt_target or Path("transform/target") / source.dbt_target
        tests = read_test_results(dbt_target / "run_results.json")
        html = render(marts, libraries, source.label, tests, dt.datetime.now(dt.timezone.utc))
    except (WarehouseError, MissingLibraryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_private_text(args.out, html)  # a year of someone's transactions: 0600, new folders 0700
    size = len(html.encode("utf-8"))
    print(f"Report: {args.out} ({size // 1024} KiB, opens offline in any browser)")
    return 0
