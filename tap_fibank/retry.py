"""One retry policy for every call to the bank: how long to wait before trying again.

Exponential backoff with jitter, capped, unless the bank says how long with `Retry-After` (in
either of its forms: seconds, or an HTTP date). Which answers are worth a retry, and how many
tries a call gets, is decided by its caller: the API client (client.py) and the login's page
requests (login.py); the password POST is never retried.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random

MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0


def backoff(failures: int, base: float) -> float:
    """Seconds before the next try after `failures` failures: doubling, ±25 % jitter, capped."""
    wait = min(base * 2 ** (failures - 1), MAX_BACKOFF)
    return float(wait * (0.75 + random.random() / 2))  # noqa: S311 - jitter, not crypto


def retry_after(value: str | None) -> float:
    """`Retry-After` in seconds (either form), capped; 1 s when absent or unreadable."""
    text = (value or "").strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    seconds = (when - dt.datetime.now(dt.timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
