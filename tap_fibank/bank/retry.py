"""One retry policy for every call to the bank: how long to wait before trying again.

Exponential backoff with jitter, capped (the schedule is the `backoff` module's, from the
`python-backoff` distribution the SDK depends on), unless the bank says how long with
`Retry-After` (in either of its forms: seconds, or an HTTP date). The loops around it stay the
tap's own: an expired token means a new login, not a wait, and the password POST must never be
retried, rules no retry library knows. Which answers
are worth a retry, and how many tries a call gets, is decided by the caller: the API client
(client.py) and the login's page requests (login.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import random

import backoff as backoff_library

MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0


def backoff(failures: int, base: float) -> float:
    """Seconds before the next try after `failures` failures: doubling, capped, ±25 % jitter.

    Jitter keeps the pool's workers, failing together, from retrying together.
    """
    schedule = backoff_library.expo(factor=base, max_value=MAX_BACKOFF)
    next(schedule)  # the generator's first value primes it
    wait = next(itertools.islice(schedule, max(failures, 1) - 1, None))
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
