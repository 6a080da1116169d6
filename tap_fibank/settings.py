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

from tap_fibank.errors import ConfigError
from tap_fibank.windows import MAX_WINDOW_DAYS

DEFAULT_BASE_URL = "https://my.fibank.bg"
BANK_FIRST_DAY = "1993-02-27"


# The tap's own settings: names, types and descriptions are part of its contract.
SETTINGS = th.PropertiesList(
    th.Property(
        "username",
        th.StringType,
        title="Username",
        description="Your Fibank e-banking username (not needed with `sandbox`).",
    ),
    th.Property(
        "password",
        th.StringType,
        secret=True,
        title="Password",
        description="Your Fibank e-banking password. Tried once per run: the bank "
        "locks a user after five failed attempts.",
    ),
    th.Property(
        "start_date",
        th.DateType,
        default=BANK_FIRST_DAY,
        title="Start date",
        description="First day to read when an account has no bookmark. Default: "
        "1993-02-27, the bank's first day, so a first run gets the whole history.",
    ),
    th.Property(
        "end_date",
        th.DateType,
        title="End date",
        description="Last day to read (default: today in Sofia).",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=366),
        default=7,
        title="Lookback days",
        description="Days before the bookmark read again every run, to catch late and back-dated postings.",
    ),
    th.Property(
        "window_days",
        th.IntegerType(minimum=1, maximum=MAX_WINDOW_DAYS),
        default=30,
        title="Window days",
        description="Days per statement request; the bank refuses more than 30.",
    ),
    th.Property(
        "ibans",
        th.ArrayType(th.StringType),
        title="IBANs",
        description="Only these accounts (default: every account).",
    ),
    th.Property(
        "customer_ids",
        th.ArrayType(th.StringType),
        title="Customer ids",
        description="Only these customer profiles (ibCustomerId; default: all).",
    ),
    th.Property(
        "base_url",
        th.StringType,
        default=DEFAULT_BASE_URL,
        title="Base URL",
        description="The web bank's address. Plain http:// is accepted only for loopback hosts.",
    ),
    th.Property(
        "sandbox",
        th.BooleanType,
        default=False,
        title="Sandbox",
        description="Read the built-in emulator of the bank (started in-process with "
        "its demo login) instead of the real bank. No credentials needed.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(minimum=1, maximum=600),
        default=60,
        title="Request timeout",
        description="Seconds to wait for each answer.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=20),
        default=5,
        title="Max retries",
        description="Retries of a failing call (5xx, 429, timeouts, cut connections) "
        "with exponential backoff; 429 waits as long as Retry-After says.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=16),
        default=4,
        title="Max concurrency",
        description="Statement requests in flight at once, fetched ahead in order.",
    ),
    th.Property(
        "strict_statements",
        th.BooleanType,
        default=False,
        title="Strict statements",
        description="Fail the run (exit 7) when a window does not add up, instead of "
        "warning and reading it again next run.",
    ),
    th.Property(
        "fail_on_skipped_accounts",
        th.BooleanType,
        default=False,
        title="Fail on skipped accounts",
        description="Exit 6 when an account had to be skipped (default: warn, exit 0).",
    ),
)


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
