"""Check the pipeline's own settings in .env before meltano starts, and name every problem.

`make run` and `make run TARGET=duckdb` call this first. Without it a blank password or a typo in a
port number shows up minutes later, deep in a log, as a traceback of whichever plugin tripped
over it. Every missing or unusable value gets its own line; nothing is contacted.

Runs with the tap's plugin venv (`.meltano/extractors/tap-fibank/venv/bin/python`), so the tap
judges its own settings exactly as it will in the run, and python-dotenv reads .env as meltano
does. Values already set in the environment win over .env, as in meltano.

    python scripts/check_env.py postgres|duckdb [--env-file .env]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import simplejson
from dotenv import dotenv_values

from tap_fibank.config.password import command_argv
from tap_fibank.config.settings import SETTINGS
from tap_fibank.errors import ConfigError
from tap_fibank.privacy import exposed_secret
from tap_fibank.tap import TapFibank

TRUE = {"true", "1", "yes", "on", "y", "t"}
FALSE = {"false", "0", "no", "off", "n", "f", ""}
POSTGRES_NEEDS = {
    "TARGET_POSTGRES_HOST": "the PostgreSQL server's host, e.g. 127.0.0.1",
    "TARGET_POSTGRES_USER": "a PostgreSQL user, e.g. postgres",
    "TARGET_POSTGRES_DATABASE": "the database to load into, e.g. postgres",
}


def read_settings(env_file: Path) -> dict[str, str]:
    """.env's values, with the environment's own winning, as meltano reads them."""
    values = {key: value or "" for key, value in dotenv_values(env_file).items()}
    values.update({key: value for key, value in os.environ.items() if key in values or _ours(key)})
    return values


def _ours(key: str) -> bool:
    return key.startswith(("TAP_FIBANK_", "TARGET_POSTGRES_"))


def exposed_passwords(env_file: Path) -> str | None:
    """A line when .env holds a password and other users can read it (it is not a problem)."""
    own = dotenv_values(env_file)
    if not any((own.get(name) or "").strip() for name in ("TAP_FIBANK_PASSWORD", "TARGET_POSTGRES_PASSWORD")):
        return None
    return exposed_secret(env_file, "a password")


def tap_problems(values: dict[str, str]) -> list[str]:
    """Each TAP_FIBANK_* value that is missing or unusable, then the tap's own verdict."""
    problems: list[str] = []
    config: dict[str, Any] = {}
    for name, schema in SETTINGS.to_dict()["properties"].items():
        variable = f"TAP_FIBANK_{name.upper()}"
        text = values.get(variable, "").strip()
        if not text:
            continue
        kind = str(schema.get("type"))
        convert, example = _converter(kind)
        try:
            config[name] = convert(text)
        except (ValueError, InvalidOperation, simplejson.JSONDecodeError):
            problems.append(f"{variable} must be {example}")
    if not config.get("sandbox"):
        problems += login_problems(values)
    try:
        TapFibank(config=config)
    except ConfigError as exc:
        problems.append(f"the tap's settings (TAP_FIBANK_*): {exc}")
    return problems


def login_problems(values: dict[str, str]) -> list[str]:
    """A username, and a password or a command that prints it (found, though not run here)."""
    problems: list[str] = []
    if not values.get("TAP_FIBANK_USERNAME", "").strip():
        problems.append("TAP_FIBANK_USERNAME is empty: set it to your Fibank web-bank user name")
    command = values.get("TAP_FIBANK_PASSWORD_COMMAND", "").strip()
    if not command and not values.get("TAP_FIBANK_PASSWORD", "").strip():
        problems.append(
            "TAP_FIBANK_PASSWORD is empty: set it to your Fibank web-bank password, or set "
            "TAP_FIBANK_PASSWORD_COMMAND to a command that prints it (docs/credentials.md)"
        )
    if command:
        try:
            program = command_argv(command)[0]
        except ConfigError:
            return problems  # the tap's own check names it
        if shutil.which(program) is None:
            problems.append(
                f"TAP_FIBANK_PASSWORD_COMMAND: {program} was not found; install it or give its full path"
            )
    return problems


def _converter(kind: str) -> tuple[Callable[[str], Any], str]:
    if "integer" in kind:
        return int, "a whole number like 7"
    if "number" in kind:
        return Decimal, "a number like 60"
    if "boolean" in kind:
        return _boolean, "true or false"
    if "string" in kind:  # password_command: a text, or a list written as JSON text
        return str, "a text"
    if "array" in kind:
        return _text_list, 'a JSON list like ["BG47FINV91501017006644"]'
    return str, "a text"


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in TRUE | FALSE:
        raise ValueError(text)
    return lowered in TRUE


def _text_list(text: str) -> list[str]:
    value = simplejson.loads(text)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(text)
    return value


def postgres_problems(values: dict[str, str]) -> list[str]:
    """The loader's connection: host, user and database set, a port that is a port."""
    problems = [
        f"{variable} is empty: set it to {what}"
        for variable, what in POSTGRES_NEEDS.items()
        if not values.get(variable, "").strip()
    ]
    port = values.get("TARGET_POSTGRES_PORT", "").strip()
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        problems.append("TARGET_POSTGRES_PORT must be a port number like 5432")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Print one line per problem and return 2, or return 0 when the run can start."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["postgres", "duckdb"])
    parser.add_argument("--env-file", type=Path, default=Path(".env"))
    args = parser.parse_args(argv)
    where = args.env_file
    if not where.is_file():
        needs = "TAP_FIBANK_USERNAME, TAP_FIBANK_PASSWORD" + (
            " and TARGET_POSTGRES_*" if args.target == "postgres" else ""
        )
        print(f"{where} is missing: cp .env.example {where} and fill in {needs}", file=sys.stderr)
        return 2
    values = read_settings(where)
    exposed = exposed_passwords(where)
    if exposed:
        print(f"warning: {exposed}", file=sys.stderr)
    problems = tap_problems(values)
    if args.target == "postgres":
        problems += postgres_problems(values)
    for problem in problems:
        print(f"{where}: {problem}", file=sys.stderr)
    if problems:
        print(f"{where}: fix the {len(problems)} value(s) above and run again", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
