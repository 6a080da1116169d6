"""One run per login at a time, whichever worker starts it.

The bank sees every run as a web-bank login, and two runs of one login would also race for its
bookmarks. With Meltano's system database in PostgreSQL (``MELTANO_DATABASE_URI``), which every
worker already shares, a session advisory lock on the login's name is held for the whole run; it
is released when the run ends or its worker dies (the connection closes). Without PostgreSQL the
workers share a checkout, and a file lock in ``.meltano/`` does the same.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

LOCK_SQL = "select pg_try_advisory_lock(hashtextextended(%s, 0))"
UNLOCK_SQL = "select pg_advisory_unlock(hashtextextended(%s, 0))"


class LoginBusy(Exception):
    """Another run of the same login holds its lock."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"login {name}: another run of this login is in progress (the bank allows one at a time); "
            "this one was refused and sent nothing to the bank"
        )


def libpq_uri(database_uri: str) -> str | None:
    """The libpq form of a SQLAlchemy PostgreSQL URL, or None for any other database."""
    match = re.match(r"^postgres(?:ql)?(?:\+\w+)?://", database_uri)
    return "postgresql://" + database_uri[match.end() :] if match else None


@contextmanager
def login_lock(name: str, database_uri: str | None, project_dir: Path) -> Iterator[None]:
    """Hold the login's lock for the block, or raise ``LoginBusy`` at once."""
    conninfo = libpq_uri(database_uri or "")
    if conninfo is None:
        with _file_lock(name, project_dir):
            yield
        return
    # Scoped to the system database (its URI names the schema too): two projects that share a
    # server but not a state database do not hold each other up.
    key = f"tap-fibank login {name} in {re.sub(r':[^:@/]*@', '@', conninfo)}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(LOCK_SQL, (key,)).fetchone()
        if not row or not row[0]:
            raise LoginBusy(name)
        try:
            yield
        finally:
            connection.execute(UNLOCK_SQL, (key,))


@contextmanager
def _file_lock(name: str, project_dir: Path) -> Iterator[None]:
    folder = project_dir / ".meltano" / "run" / "fibank-logins"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LoginBusy(name) from None
        yield
