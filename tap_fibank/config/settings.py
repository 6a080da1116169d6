"""The tap's settings, each declared once: name, type, default, secrecy, title and description.

Names, types, defaults and descriptions are part of the tap's contract: `--about` prints this
declaration, meltano.yml repeats it (a test runs `--about` and compares), and everything else the
code needs to know about a setting (its default, whether it is secret, what a list of it looks
like) is read from here rather than written again.
"""

from __future__ import annotations

import json
from typing import Any

from singer_sdk import typing as th

from tap_fibank.walk.windows import MAX_WINDOW_DAYS

SETTINGS = th.PropertiesList(
    th.Property(
        "username",
        th.StringType,
        secret=True,
        title="Username",
        description="Your Fibank e-banking username (not needed with `sandbox`).",
    ),
    th.Property(
        "password",
        th.StringType,
        secret=True,
        title="Password",
        description=(
            "Your Fibank e-banking password. Tried once per run: the bank "
            "locks a user after five failed attempts."
        ),
    ),
    th.Property(
        "password_command",
        # A list of arguments, or a text split into words as a shell would (see password.py).
        th.CustomType({"type": ["string", "array"], "items": {"type": "string"}}),
        title="Password command",
        description=(
            "A command that prints the password on its first line, instead of `password`: a list "
            'like ["pass", "show", "fibank"] or a text like "secret-tool lookup service fibank" '
            "(run once per run, without a shell, with a 30-second limit)."
        ),
    ),
    th.Property(
        "start_date",
        th.DateType,
        default="1993-02-27",
        title="Start date",
        description=(
            "First day to read when an account has no bookmark. Default: "
            "1993-02-27, the bank's first day, so a first run gets the whole history."
        ),
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
        examples=[["BG47FINV..."]],
        title="IBANs",
        description="Only these accounts (default: every account).",
    ),
    th.Property(
        "customer_ids",
        th.ArrayType(th.StringType),
        examples=[["5896443"]],
        title="Customer IDs",
        description="Only these customer profiles (ibCustomerId; default: all).",
    ),
    th.Property(
        "base_url",
        th.StringType,
        default="https://my.fibank.bg",
        title="Base URL",
        description="The web bank's address. Plain http:// is accepted only for loopback hosts.",
    ),
    th.Property(
        "sandbox",
        th.BooleanType,
        default=False,
        title="Sandbox",
        description=(
            "Read the built-in emulator of the bank (started in-process with "
            "its demo login) instead of the real bank. No credentials needed."
        ),
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
        description=(
            "Retries of a failing call (5xx, 429, timeouts, cut connections) "
            "with exponential backoff; 429 waits as long as Retry-After says."
        ),
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
        description=(
            "Fail the run (exit 7) when a window does not add up, instead of "
            "warning and reading it again next run."
        ),
    ),
    th.Property(
        "fail_on_skipped_accounts",
        th.BooleanType,
        default=False,
        title="Fail on skipped accounts",
        description="Exit 6 when an account had to be skipped (default: warn, exit 0).",
    ),
    th.Property(
        "history_reprobe_days",
        th.IntegerType(minimum=0, maximum=366),
        default=7,
        title="History reprobe days",
        description=(
            "Where the bank serves an account's history only from some day, ask again for the "
            "days before it at most this often (days; 0: never)."
        ),
    ),
    th.Property(
        "login",
        th.StringType(min_length=1, max_length=64),
        title="Login",
        description=(
            "A name for this login, written in every record's `login` column so that logins sharing "
            "a warehouse stay apart (default: an id derived from the username that does not reveal it)."
        ),
    ),
)

# -- read from the declaration -------------------------------------------------------------------

PROPERTIES: dict[str, dict[str, Any]] = SETTINGS.to_dict()["properties"]

#: The settings `--about` marks secret; a message about one never quotes its value (errors.py).
SECRET_SETTINGS = tuple(name for name, schema in PROPERTIES.items() if schema.get("secret"))

#: What a setting left out (or given as null) is taken to be.
DEFAULTS: dict[str, Any] = {name: p["default"] for name, p in PROPERTIES.items() if "default" in p}
DEFAULT_BASE_URL: str = DEFAULTS["base_url"]


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


#: Settings that must be a list, each with the example a config file that gives one text is shown
#: (every such setting declares `examples`). `password_command` may be a text, so it is not one.
LIST_SETTINGS: dict[str, str] = {
    name: json.dumps(schema["examples"][0])
    for name, schema in PROPERTIES.items()
    if "array" in _types(schema) and "string" not in _types(schema)
}
