"""`make run` checks .env before meltano starts (scripts/check_env.py), and the PostgreSQL password
that .env.example ships empty works against a server that trusts local connections."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from support.ci import unavailable
from support.env import clean_env
from support.project import REPO, make_project, plugins_installed
from support.warehouse import postgres_params, session_today

from fibank_sandbox import Sandbox

__all__ = ["plugins_installed"]  # a fixture, used by name

CHECK_ENV = REPO / "scripts" / "check_env.py"
EXAMPLE = (REPO / ".env.example").read_text(encoding="utf-8")
PASSWORD = "s3cret-w1th-$pecial=chars"


def check_env(env_file: Path, target: str = "postgres") -> subprocess.CompletedProcess[str]:
    clean = clean_env("TAP_FIBANK_", "TARGET_POSTGRES_")
    return subprocess.run(
        [sys.executable, str(CHECK_ENV), target, "--env-file", str(env_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
        check=False,
    )


def write_env(env_file: Path, text: str, mode: int = 0o600) -> None:
    """.env as a careful user keeps it: readable by its owner alone (unless `mode` says otherwise)."""
    env_file.write_text(text, encoding="utf-8")
    env_file.chmod(mode)


def filled(**changes: str) -> str:
    """.env.example with the login filled in and the given lines changed or added."""
    lines = dict(line.split("=", 1) for line in EXAMPLE.splitlines() if line and not line.startswith("#"))
    lines |= {"TAP_FIBANK_USERNAME": "me", "TAP_FIBANK_PASSWORD": PASSWORD} | changes
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def test_a_missing_env_file_is_one_line_saying_how_to_make_it(tmp_path: Path) -> None:
    result = check_env(tmp_path / ".env")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{tmp_path / '.env'} is missing: cp .env.example {tmp_path / '.env'} and fill in "
        "TAP_FIBANK_USERNAME, TAP_FIBANK_PASSWORD and TARGET_POSTGRES_*"
    ]


def test_env_example_as_shipped_names_the_login_and_accepts_an_empty_db_password(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env(env_file, EXAMPLE)
    for target in ("postgres", "duckdb"):
        result = check_env(env_file, target)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"{env_file}: TAP_FIBANK_USERNAME is empty: set it to your Fibank web-bank user name",
            f"{env_file}: TAP_FIBANK_PASSWORD is empty: set it to your Fibank web-bank password, or set "
            "TAP_FIBANK_PASSWORD_COMMAND to a command that prints it (docs/credentials.md)",
            f"{env_file}: fix the 2 value(s) above and run again",
        ]


def test_every_unusable_value_is_named_and_no_value_is_shown(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env(
        env_file,
        filled(
            TAP_FIBANK_WINDOW_DAYS="thirty",
            TAP_FIBANK_IBANS="BG47FINV91501017006644",
            TAP_FIBANK_START_DATE="2026-02-30",
            TARGET_POSTGRES_HOST="",
            TARGET_POSTGRES_PORT="54x2",
        ),
    )
    result = check_env(env_file)
    assert result.returncode == 2
    named = [line.split(": ", 1)[1] for line in result.stderr.splitlines()]
    assert named == [
        "TAP_FIBANK_WINDOW_DAYS must be a whole number like 7",
        'TAP_FIBANK_IBANS must be a JSON list like ["BG47FINV91501017006644"]',
        "the tap's settings (TAP_FIBANK_*): start_date must be a date like 2024-01-31, not '2026-02-30'",
        "TARGET_POSTGRES_HOST is empty: set it to the PostgreSQL server's host, e.g. 127.0.0.1",
        "TARGET_POSTGRES_PORT must be a port number like 5432",
        "fix the 5 value(s) above and run again",
    ]
    assert PASSWORD not in result.stderr and "thirty" not in result.stderr


def test_an_end_before_the_start_is_named_before_meltano_starts(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env(env_file, filled(TAP_FIBANK_START_DATE="2025-03-01", TAP_FIBANK_END_DATE="2025-02-01"))
    result = check_env(env_file, "duckdb")
    assert result.returncode == 2
    assert "end_date 2025-02-01 is before start_date 2025-03-01" in result.stderr


def test_a_filled_env_passes_silently(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env(env_file, filled(TAP_FIBANK_IBANS='["BG47FINV91501017006644"]', TAP_FIBANK_LOOKBACK_DAYS="10"))
    result = check_env(env_file)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    "command",
    [
        f"{sys.executable} -c 'print(1234567)'",
        f'["{sys.executable}", "-c", "print(1234567)"]',
    ],
    ids=["words", "json-list"],
)
def test_a_password_command_instead_of_the_password_passes_without_being_run(
    command: str, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    marker = tmp_path / "ran"
    command = command.replace("print(1234567)", f"open({str(marker)!r}, 'w')")
    write_env(env_file, filled(TAP_FIBANK_PASSWORD="", TAP_FIBANK_PASSWORD_COMMAND=command))
    result = check_env(env_file)
    assert (result.returncode, result.stderr) == (0, "")
    assert not marker.exists(), "check_env contacts nothing and runs no password manager"


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (
            "no-such-password-manager show fibank",
            "TAP_FIBANK_PASSWORD_COMMAND: no-such-password-manager was not found",
        ),
        ("[pass, show, fibank]", "password_command must be a command like"),
    ],
    ids=["not-installed", "list-that-is-not-json"],
)
def test_a_password_command_that_cannot_run_is_named(command: str, named: str, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env(env_file, filled(TAP_FIBANK_PASSWORD="", TAP_FIBANK_PASSWORD_COMMAND=command))
    result = check_env(env_file)
    assert result.returncode == 2
    assert named in result.stderr.splitlines()[0]


def test_a_password_and_a_password_command_together_are_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env(env_file, filled(TAP_FIBANK_PASSWORD_COMMAND="pass show fibank"))
    result = check_env(env_file)
    assert result.returncode == 2
    assert "password and password_command are both set: keep one" in result.stderr
    assert PASSWORD not in result.stderr


def test_an_env_file_with_a_password_that_others_can_read_gets_one_warning_with_the_chmod(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    write_env(env_file, filled(), mode=0o644)
    result = check_env(env_file)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"warning: {env_file} holds a password and other users of this machine can read or change it "
        f"(mode 0644): chmod 600 {env_file}"
    ]
    env_file.chmod(0o600)
    assert check_env(env_file).stderr == ""


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.parametrize("password_line", ["TARGET_POSTGRES_PASSWORD=\n", ""], ids=["empty", "left-out"])
def test_an_empty_or_absent_postgres_password_loads_into_a_trusting_server(
    password_line: str, tmp_path: Path, plugins_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    # Without a password, whatever PGPASSWORD says: the server must trust the connection (CI's too).
    monkeypatch.delenv("PGPASSWORD", raising=False)
    params = postgres_params()
    try:
        psycopg.connect(**params, connect_timeout=5).close()  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        unavailable(f"no PostgreSQL at {params['host']}:{params['port']} trusting {params['user']}: {exc}")
    schema = f"e2e_envpw_{uuid.uuid4().hex[:10]}"
    with Sandbox(seed=1) as bank:
        project = make_project(tmp_path / "project", bank)
        (project.root / ".env").write_text(
            f"TARGET_POSTGRES_HOST={params['host']}\nTARGET_POSTGRES_PORT={params['port']}\n"
            f"TARGET_POSTGRES_USER={params['user']}\nTARGET_POSTGRES_DATABASE={params['dbname']}\n"
            f"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA={schema}\n{password_line}",
            encoding="utf-8",
        )
        project.env["TAP_FIBANK_IBANS"] = '["BG47FINV91501017006644"]'
        project.env["TAP_FIBANK_START_DATE"] = (session_today() - timedelta(days=10)).isoformat()
        try:
            project.meltano("run", "tap-fibank", "target-postgres", timeout=600)
            with psycopg.connect(**params) as connection:  # type: ignore[arg-type]
                loaded = connection.execute(f'select count(*) from "{schema}".transactions').fetchone()  # type: ignore[arg-type]
        finally:
            with psycopg.connect(**params, autocommit=True) as connection:  # type: ignore[arg-type]
                connection.execute(f'drop schema if exists "{schema}" cascade')  # type: ignore[arg-type]
    assert loaded is not None and loaded[0] > 0
