"""The tap's settings: their names, types and descriptions, and the checks JSON Schema cannot make.

Names, types and descriptions are part of the tap's contract (meltano.yml repeats them; a test
keeps the two in step).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_fibank.errors import SECRET_SETTINGS, ConfigError
from tap_fibank.walk.windows import MAX_WINDOW_DAYS

DEFAULT_BASE_URL = "https://my.fibank.bg"
BANK_FIRST_DAY = "1993-02-27"


# The tap's own settings, one row each: name, JSON Schema type, default (None: no default).
# Names, types, defaults and descriptions are part of the tap's contract; they are written as
# data so the shape of a setting (title, description, secrecy) is spelled once, in `_setting`.
_TYPES: tuple[tuple[str, Any, Any], ...] = (
    ("username", th.StringType, None),
    ("password", th.StringType, None),
    # A list of arguments, or a text split into words as a shell would (see password.py).
    ("password_command", th.CustomType({"type": ["string", "array"], "items": {"type": "string"}}), None),
    ("start_date", th.DateType, BANK_FIRST_DAY),
    ("end_date", th.DateType, None),
    ("lookback_days", th.IntegerType(minimum=0, maximum=366), 7),
    ("window_days", th.IntegerType(minimum=1, maximum=MAX_WINDOW_DAYS), 30),
    ("ibans", th.ArrayType(th.StringType), None),
    ("customer_ids", th.ArrayType(th.StringType), None),
    ("base_url", th.StringType, DEFAULT_BASE_URL),
    ("sandbox", th.BooleanType, False),
    ("request_timeout", th.NumberType(minimum=1, maximum=600), 60),
    ("max_retries", th.IntegerType(minimum=0, maximum=20), 5),
    ("max_concurrency", th.IntegerType(minimum=1, maximum=16), 4),
    ("strict_statements", th.BooleanType, False),
    ("fail_on_skipped_accounts", th.BooleanType, False),
    ("history_reprobe_days", th.IntegerType(minimum=0, maximum=366), 7),
    ("login", th.StringType(min_length=1, max_length=64), None),
)
_DESCRIPTIONS = {
    "username": "Your Fibank e-banking username (not needed with `sandbox`).",
    "password": (
        "Your Fibank e-banking password. Tried once per run: the bank "
        "locks a user after five failed attempts."
    ),
    "password_command": (
        "A command that prints the password on its first line, instead of `password`: a list "
        'like ["pass", "show", "fibank"] or a text like "secret-tool lookup service fibank" '
        "(run once per run, without a shell, with a 30-second limit)."
    ),
    "start_date": (
        "First day to read when an account has no bookmark. Default: "
        "1993-02-27, the bank's first day, so a first run gets the whole history."
    ),
    "end_date": "Last day to read (default: today in Sofia).",
    "lookback_days": "Days before the bookmark read again every run, to catch late and back-dated postings.",
    "window_days": "Days per statement request; the bank refuses more than 30.",
    "ibans": "Only these accounts (default: every account).",
    "customer_ids": "Only these customer profiles (ibCustomerId; default: all).",
    "base_url": "The web bank's address. Plain http:// is accepted only for loopback hosts.",
    "sandbox": (
        "Read the built-in emulator of the bank (started in-process with "
        "its demo login) instead of the real bank. No credentials needed."
    ),
    "request_timeout": "Seconds to wait for each answer.",
    "max_retries": (
        "Retries of a failing call (5xx, 429, timeouts, cut connections) "
        "with exponential backoff; 429 waits as long as Retry-After says."
    ),
    "max_concurrency": "Statement requests in flight at once, fetched ahead in order.",
    "strict_statements": (
        "Fail the run (exit 7) when a window does not add up, instead of "
        "warning and reading it again next run."
    ),
    "fail_on_skipped_accounts": "Exit 6 when an account had to be skipped (default: warn, exit 0).",
    "history_reprobe_days": (
        "Where the bank serves an account's history only from some day, ask again for the "
        "days before it at most this often (days; 0: never)."
    ),
    "login": (
        "A name for this login, written in every record's `login` column so that logins sharing "
        "a warehouse stay apart (default: an id derived from the username that does not reveal it)."
    ),
}
# Titles that the name, spelled out, would get wrong (abbreviations keep their capitals).
_TITLES = {"ibans": "IBANs", "base_url": "Base URL"}


def _setting(name: str, kind: Any, default: Any) -> th.Property[Any]:
    """One setting as JSON Schema: every setting gets a title and a description, in one place.

    The title is the name spelled out unless `_TITLES` says otherwise; a `default` of None
    announces no default, as the SDK leaves it out of the schema.
    """
    title = _TITLES.get(name, name.replace("_", " ").capitalize())
    description = _DESCRIPTIONS[name]
    return th.Property(
        name, kind, default=default, secret=name in SECRET_SETTINGS, title=title, description=description
    )


SETTINGS = th.PropertiesList(*(_setting(name, kind, default) for name, kind, default in _TYPES))


def checked_base_url(url: str) -> str:
    """Refuse to send a password anywhere but over TLS, except to this machine."""
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        msg = f"base_url must look like https://my.fibank.bg, not {url!r}"
        raise ConfigError(msg)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        msg = (
            f"base_url {url!r} uses plain http to a host that is not this machine; the tap sends "
            "your password only over https (plain http is allowed for localhost alone)"
        )
        raise ConfigError(msg)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        msg = f"base_url must be the bank's address only (like https://my.fibank.bg), not {url!r}"
        raise ConfigError(msg)
    return f"{parts.scheme}://{parts.netloc}"


def check_date(setting: str, value: Any) -> None:
    """JSON Schema's `format: date` is not enforced by the SDK; a typo must not become a crash."""
    if value is None:
        return
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        msg = f"{setting} must be a date like 2024-01-31, not {value!r}"
        raise ConfigError(msg) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
