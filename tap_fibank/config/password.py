"""The password: the `password` setting, or the first line a `password_command` prints.

People keep passwords in `pass`, GNOME Keyring, KeePassXC or the 1Password CLI rather than in a
file; like git's credential helpers and mbsync's PassCmd, the tap runs their command. It runs
once per run, never through a shell, with a timeout, and only when the bank is about to be
asked. Its output is never shown, not even when it fails (it may hold the secret): only the
command is named.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from typing import Any

from tap_fibank.errors import ConfigError
from tap_fibank.privacy import SECRETS

TIMEOUT_SECONDS = 30.0
# Seconds, for a slow unlock (or a test that cannot wait half a minute).
TIMEOUT_VARIABLE = "TAP_FIBANK_PASSWORD_COMMAND_TIMEOUT"
EXAMPLES = '["pass", "show", "fibank"] or "secret-tool lookup service fibank"'


def command_argv(value: Any) -> list[str]:
    """The command as a list of arguments: a list as is, a JSON list in a text, or shell words.

    Meltano and the environment carry the list form as JSON text; any other text is split as a
    shell splits words (quotes respected), and never handed to a shell.
    """
    words: Any = value
    if isinstance(value, str):
        try:
            words = json.loads(value) if value.lstrip().startswith("[") else shlex.split(value)
        except ValueError:
            words = None
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
        msg = f"password_command must be a command like {EXAMPLES}"
        raise ConfigError(msg)
    return words


def read_password(config: Mapping[str, Any]) -> str:
    """The `password` setting, or the password `password_command` prints (registered as a secret)."""
    if not config.get("password_command"):
        return str(config.get("password") or "")
    argv = command_argv(config["password_command"])
    password = run_password_command(argv, timeout())
    SECRETS.add(password)
    return password


def timeout() -> float:
    """The command's time limit: 30 seconds unless TAP_FIBANK_PASSWORD_COMMAND_TIMEOUT says."""
    try:
        return float(os.environ.get(TIMEOUT_VARIABLE) or TIMEOUT_SECONDS)
    except ValueError:
        return TIMEOUT_SECONDS


def run_password_command(argv: list[str], seconds: float) -> str:
    """Run the command once and return the first line of its output; ConfigError if there is none."""
    named = f"password_command `{shlex.join(argv)}`"
    try:
        done = subprocess.run(  # noqa: S603 - the user's own command, as a list, no shell
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=seconds, check=False
        )
    except FileNotFoundError:
        msg = f"{named} cannot be run: {argv[0]} was not found; install it or give its full path"
        raise ConfigError(msg) from None
    except subprocess.TimeoutExpired:
        msg = (
            f"{named} did not finish within {seconds:g} seconds (is it waiting for an unlock or a "
            f"passphrase?); unlock your password store first, or raise {TIMEOUT_VARIABLE}"
        )
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"{named} cannot be run ({exc.strerror or type(exc).__name__}): check the command"
        raise ConfigError(msg) from None
    if done.returncode != 0:
        msg = (
            f"{named} failed with exit code {done.returncode}; run it yourself to see why "
            "(its output is not shown)"
        )
        raise ConfigError(msg)
    return _first_line(done.stdout, named)


def _first_line(output: bytes, named: str) -> str:
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"{named} printed something that is not UTF-8 text; it must print the password"
        raise ConfigError(msg) from None
    line = text.split("\n", 1)[0].rstrip("\r")
    if not line:
        msg = f"{named} printed nothing on its first line; it must print the password there"
        raise ConfigError(msg)
    return line
