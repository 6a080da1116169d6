"""Which login a failing dbt check is about, read from the rows dbt stored for it.

One `dbt build` covers every login, so one failing check may concern a single login's account.
The checks' failing rows (``store_failures``) name the account, masked, and, once the raw tables
carry the tap's ``login`` key, the login: the build names them per login instead of failing
everyone's marts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROWS_SHOWN = 50  # failing rows read per check: enough to name the accounts, never a whole table
UNKNOWN = ""  # the login of a row that does not carry one


def relations(target_path: Path) -> dict[str, str]:
    """unique_id -> the relation holding a test's failing rows, from dbt's run_results.json."""
    try:
        results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r["unique_id"]: r["relation_name"] for r in results if r.get("relation_name")}


def connection_params(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The warehouse as dbt's PostgreSQL profile sees it (DBT_POSTGRES_*)."""
    return {
        "host": environ.get("DBT_POSTGRES_HOST") or "localhost",
        "port": int(environ.get("DBT_POSTGRES_PORT") or 5432),
        "user": environ.get("DBT_POSTGRES_USER") or environ.get("USER", "postgres"),
        "password": environ.get("DBT_POSTGRES_PASSWORD", ""),
        "dbname": environ.get("DBT_POSTGRES_DBNAME") or "postgres",
        "connect_timeout": 10,
    }


def accounts_by_login(relation: str, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Login name -> the (masked) accounts of a check's failing rows; UNKNOWN for rows without a login."""
    parts = [part.strip('"') for part in relation.split(".")]
    query = sql.SQL("select * from {} limit {}").format(sql.Identifier(*parts), sql.Literal(ROWS_SHOWN))
    with psycopg.connect(**params) as connection:
        cursor = connection.execute(query)
        columns = [column.name for column in cursor.description or []]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    found: dict[str, list[str]] = {}
    for row in rows:
        login = str(row.get("login") or UNKNOWN)
        account = row.get("account")
        accounts = found.setdefault(login, [])
        if account is not None and str(account) not in accounts:
            accounts.append(str(account))
    return found


def attribute(by_login: Mapping[str, list[str]], summaries: Mapping[str, str]) -> dict[str, list[str]]:
    """Failing accounts per login of the tick.

    Rows of no such login (a table an older tap loaded) go to the login whose tap named that
    account (it skipped it), else stay UNKNOWN.
    """
    named: dict[str, list[str]] = {}
    for login, accounts in by_login.items():
        if login in summaries:
            named.setdefault(login, []).extend(a for a in accounts if a not in named[login])
            continue
        for account in accounts or [""]:
            owners = [name for name, summary in summaries.items() if account and account in summary]
            for owner in owners or [UNKNOWN]:
                listed = named.setdefault(owner, [])
                listed.extend([account] if account and account not in listed else [])
    return named
