"""One retry loop for every GET the tap sends the bank, its schedule, and how many tries a call gets.

Contract: `retrying` sends at most `tries` attempts and sleeps only between them: the bank's
`Retry-After` when it gave one (either form: seconds, or an HTTP date; capped), else the caller's
schedule, usually `backoff` (exponential with jitter, capped: the `backoff` module's `expo`, from
the `python-backoff` distribution the SDK depends on). Then it raises the caller's error for the
last failure. The loop is the tap's own, not the `backoff` decorators: an expired token means a
new login, not a wait; a cancelled walk must stop a wait early; the last try may accept what the
earlier ones retried; and the password POST is never retried at all. Which answers are worth a
retry is the caller's to say: the API client (client.py), the login's GETs (login.py) and the
doctor's raw reads (doctor/probe.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import backoff as backoff_library

MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0
T = TypeVar("T")


@dataclass(frozen=True)
class Tries:
    """How many requests one call may send: a fixed count, or `FULL`, the run's `max_retries` + 1.

    `ONCE` is for a read whose failure is the answer (a window before an account's history).
    """

    count: int | None = None

    ONCE: ClassVar[Tries]
    FULL: ClassVar[Tries]

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            msg = f"a call needs at least one try, not {self.count}"
            raise ValueError(msg)

    def total(self, max_retries: int) -> int:
        """The requests this call may send when the run allows `max_retries` retries."""
        return self.count if self.count is not None else 1 + max_retries


Tries.ONCE = Tries(1)
Tries.FULL = Tries()


@dataclass(frozen=True)
class Retry:
    """An attempt that failed in a way another try may mend, and why (for the log and the error)."""

    problem: str
    #: Seconds the bank's `Retry-After` asked for, which then replace the caller's schedule.
    retry_after: float | None = None
    #: The bank answered, but not in JSON: outliving every try, it is a protocol error.
    unreadable: bool = False


def retrying(
    attempt: Callable[[bool], T | Retry],
    tries: int,
    *,
    schedule: Callable[[int], float],
    sleep: Callable[[Retry, int, float], None],
    give_up: Callable[[Retry, int], Exception],
) -> T:
    """Call `attempt(last)` until it answers or `tries` attempts have failed.

    `last` tells the attempt it is the final one, so it may accept what it would retry before.
    Between attempts `sleep(failure, failures, seconds)` waits (it may log, or raise to cancel)
    for `Retry-After` or `schedule(failures)`; none before the first or after the last.
    """
    failures = 0
    while True:
        outcome = attempt(failures + 1 >= tries)
        if not isinstance(outcome, Retry):
            return outcome
        failures += 1
        if failures >= tries:
            raise give_up(outcome, failures)
        wait = outcome.retry_after if outcome.retry_after is not None else schedule(failures)
        sleep(outcome, failures, wait)


def backoff(failures: int, base: float) -> float:
    """Seconds before the next try after `failures` failures: doubling, capped, ±25 % jitter.

    Jitter keeps the pool's workers, failing together, from retrying together.
    """
    schedule = backoff_library.expo(factor=base, max_value=MAX_BACKOFF)
    next(schedule)  # the generator's first value primes it
    wait = next(itertools.islice(schedule, max(failures, 1) - 1, None))
    return float(wait * (0.75 + random.random() / 2))  # noqa: S311 - jitter, not crypto


def retry_after(value: str | None, now: dt.datetime | None = None) -> float:
    """`Retry-After` in seconds (either form), capped; 1 s when absent or unreadable.

    A date counts from `now` (the clock when not given).
    """
    text = (value or "").strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
