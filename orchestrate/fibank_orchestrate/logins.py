"""The file of logins an orchestrator runs, and each login's settings for one run of the tap.

The file only names environment variables: a file of bank passwords would end up in a checkout,
a backup or an image, whereas the environment is where every scheduler already keeps secrets.
A login may instead name the command that prints its password (`password_command` under
`settings`, secret-free itself), which the tap runs once per run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(os.environ.get("FIBANK_PROJECT_DIR") or Path(__file__).resolve().parents[2])
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SECRET_KEYS = {"username", "password"}


class LoginsError(Exception):
    """The file of logins or a login's environment is unusable; the message says how to fix it."""


@dataclass(frozen=True)
class Login:
    """One web-bank login: its partition name and where its secrets are."""

    name: str
    username_env: str
    password_env: str | None
    settings: Mapping[str, str] = field(default_factory=dict)

    def tap_env(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The ``TAP_FIBANK_*`` variables of a run for this login, secrets read from ``environ``.

        The password comes from its variable or from the login's ``password_command``, never
        from a worker-wide ``TAP_FIBANK_PASSWORD``/``_COMMAND`` (the tap refuses both at once).
        The tap's ``login`` setting is the login's name, so the warehouse can tell logins apart,
        unless the name is the username: the tap refuses to write that in every record, and its
        default (an id derived from the username) keeps the logins apart as well.
        """
        wanted = [var for var in (self.username_env, self.password_env) if var]
        missing = [var for var in wanted if not environ.get(var)]
        if missing:
            raise LoginsError(
                f"login {self.name!r}: set the environment variable(s) {', '.join(missing)} "
                "(its username and password)"
            )
        env = {"TAP_FIBANK_PASSWORD": "", "TAP_FIBANK_PASSWORD_COMMAND": ""}
        env |= {f"TAP_FIBANK_{key.upper()}": value for key, value in self.settings.items()}
        username = environ[self.username_env]
        if self.name.strip().casefold() != username.strip().casefold():
            env["TAP_FIBANK_LOGIN"] = self.name  # the tap's non-secret login key on every record
        env["TAP_FIBANK_USERNAME"] = username
        if self.password_env:
            env["TAP_FIBANK_PASSWORD"] = environ[self.password_env]
        return env


def logins_file() -> Path:
    """``FIBANK_LOGINS_FILE``, else ``orchestrate/logins.yml`` in the project."""
    return Path(os.environ.get("FIBANK_LOGINS_FILE") or PROJECT_DIR / "orchestrate" / "logins.yml")


def _where(error: yaml.YAMLError) -> str:
    """Line, column and problem of a YAML error: one line, never the file's text (it may hold a secret)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{where}: {problem}" if problem else where


def load_logins(path: Path | None = None) -> list[Login]:
    """Read and check the file of logins."""
    path = path or logins_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoginsError(
            f"{path}: no such file; copy orchestrate/logins.example.yml there or set FIBANK_LOGINS_FILE"
        ) from None
    except yaml.YAMLError as error:
        raise LoginsError(f"{path}: not valid YAML{_where(error)}") from None
    entries = data.get("logins") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise LoginsError(f"{path}: expected a non-empty list under `logins:`")
    logins = [_login(path, entry) for entry in entries]
    names = [login.name for login in logins]
    if len(set(names)) != len(names):
        raise LoginsError(f"{path}: login names must be unique, got {names}")
    return logins


def _login(path: Path, entry: Any) -> Login:
    """One entry of the file, checked: a name, two variable names, non-secret settings."""
    if not isinstance(entry, dict):
        raise LoginsError(f"{path}: every login is a mapping with name, username_env, password_env")
    name = str(entry.get("name", ""))
    settings = entry.get("settings") or {}
    if not NAME.match(name):
        raise LoginsError(f"{path}: login name {name!r} must be 1-63 of a-z, 0-9, - and _")
    if not isinstance(settings, dict):
        raise LoginsError(f"{path}: login {name!r}: settings must be a mapping")
    secrets = SECRET_KEYS & ({key.lower() for key in settings} | {key.lower() for key in entry})
    if secrets:
        raise LoginsError(
            f"{path}: login {name!r} has {', '.join(sorted(secrets))} in the file; remove it and name "
            "the environment variable that holds it with username_env / password_env"
        )
    command = "password_command" in settings
    if command and entry.get("password_env"):
        raise LoginsError(f"{path}: login {name!r} has password_env and a password_command: keep one")
    for key in ("username_env",) if command else ("username_env", "password_env"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise LoginsError(
                f"{path}: login {name!r} needs {key}, the environment variable's name"
                + ("" if key == "username_env" else " (or settings: {password_command: [...]})")
            )
    return Login(
        name,
        entry["username_env"],
        None if command else entry["password_env"],
        {str(k): _text(v) for k, v in settings.items()},
    )


def _text(value: Any) -> str:
    """A setting as the environment carries it (lists and booleans as JSON, like meltano)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)
