"""Trouble on demand: the fault knobs, the one-shot fault queue and the dice that decide.

The tap must survive a bank that is slow, flaky, rate-limited, truncates answers or expires
tokens; the sandbox makes each of those reproducible. Rates are drawn from a generator seeded
from the sandbox seed, so a failing test run can be replayed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from dataclasses import dataclass, fields
from decimal import Decimal
from http import HTTPStatus
from typing import Any

SERVER_ERRORS = (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE)
ONE_SHOT_KINDS = ("5xx", "429", "drop", "malformed", "expire_token")


@dataclass
class Faults:
    """Fault knobs, all off by default; a change takes effect on the next request."""

    latency: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    retry_after_date: bool = False
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    token_calls: int | None = None
    token_seconds: float | None = None
    no_csrf: bool = False
    second_factor: bool = False
    truncate_rate: float = 0.0
    truncate_window_start: str = ""
    late_posting_days: int | None = None
    # Test controls: a gate that holds statement calls, and an entry timestamp no calendar has.
    hold_statements_after: int | None = None
    entry_timestamp: str = ""
    # A number no amount can be: the entry rows' `amount` (or `acBal`) of the windows starting on
    # one day ("" = every window) become this JSON text (`NaN`, `Infinity`, `"NaN"`, ...).
    entry_number: str = ""
    entry_number_field: str = "amount"
    entry_number_window_start: str = ""
    # Variants: plausible ways the live bank may differ from what the 2022 connector saw. Each
    # default is what that connector met (or, where it never looked, what the sandbox always did).
    refuse_long_ranges: bool = False
    before_opening: str = "summary"
    summary_rows: str = "full"
    ignore_range: bool = False
    range_slack_days: int = 0
    expiry_answer: str = "401"
    dtkt: str = "letters"
    other_iban_acc: bool = False
    cert_status: int = 200
    failure_page: str = "spring"
    bare_token_redirect: bool = False
    second_factor_input: str = "name"
    require_browser_headers: bool = False
    profile_without_id: bool = False
    business_accounts_status: int = 200
    failing_window_start: str = ""
    # Statement shapes a second emulator of the bank served (issue 22): an answer with nothing in
    # it, elements without a currency, the changeover in one element, a history shown in euro,
    # and a bank that keeps only recent history.
    bare_window_start: str = ""
    bare_window_mode: str = "once"
    ccy: str = "sent"
    changeover_element: str = "split"
    history: str = "as_booked"
    served_days: int = 0

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON object of changes (``POST /_sandbox/faults``), refusing unknown knobs."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}")
            setattr(self, name, coerce(name, value))

    def as_json(self) -> dict[str, Any]:
        """The knobs as a JSON object."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_INTS = {"retry_after", "token_calls", "late_posting_days", "range_slack_days", "cert_status"}
_INTS |= {"hold_statements_after"}
_INTS |= {"business_accounts_status", "served_days"}
_DAYS = ("failing_window_start", "truncate_window_start", "bare_window_start", "entry_number_window_start")
_BOOLS = {"no_csrf", "second_factor", "refuse_long_ranges", "ignore_range", "other_iban_acc"}
_BOOLS |= {"require_browser_headers", "profile_without_id", "retry_after_date", "bare_token_redirect"}
# The text knobs and the values each one takes (the first is the default).
CHOICES: dict[str, tuple[str, ...]] = {
    "before_opening": ("summary", "500", "400", "empty"),
    "summary_rows": ("full", "none", "counts", "amount_only", "null_acbal"),
    "expiry_answer": ("401", "403", "login_page"),
    "entry_number_field": ("amount", "acBal"),
    "dtkt": ("letters", "missing_signed", "unknown"),
    "failure_page": ("spring", "in_place", "plain_error", "unmarked"),
    "second_factor_input": ("name", "id_only"),
    "bare_window_mode": ("once", "always"),
    "ccy": ("sent", "absent"),
    "changeover_element": ("split", "mixed"),
    "history": ("as_booked", "redenominated", "shifted"),
}


def coerce(name: str, value: Any) -> Any:
    """Turn a JSON or command-line value into the type the knob holds."""
    if value is None:
        if name in ("token_calls", "token_seconds", "late_posting_days", "hold_statements_after"):
            return None
        raise ValueError(f"{name} cannot be null")
    if name in _BOOLS:
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)
    if name in _DAYS:
        return _day(name, value)
    if name == "entry_number":
        return _number_text(value)
    if name in CHOICES:
        if str(value) not in CHOICES[name]:
            raise ValueError(f"{name} must be one of {CHOICES[name]}, not {value!r}")
        return str(value)
    try:
        number = int(value) if name in _INTS else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if name == "served_days" and number < 0:
        raise ValueError(f"served_days must be 0 (off) or a number of days, not {value!r}")
    return number


def _number_text(value: Any) -> str:
    """An `entry_number` knob: "" (off), a JSON string, or what Decimal reads (`NaN`, `-Infinity`)."""
    text = str(value)
    try:
        if text.startswith('"'):
            json.loads(text)
        elif text:
            Decimal(text)
    except (ValueError, ArithmeticError):
        raise ValueError(f"entry_number must be a JSON string or a number, not {value!r}") from None
    return text


def _day(name: str, value: Any) -> str:
    """A window-start knob: "" (off) or a YYYY-MM-DD day; anything else would never match a window."""
    text = str(value)
    if not text:
        return text
    try:
        exact = dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        exact = False
    if not exact:
        raise ValueError(f"{name} must be a day as YYYY-MM-DD (or empty), not {value!r}")
    return text


@dataclass
class _Pending:
    kind: str
    endpoint: str | None


class FaultPlan:
    """The one-shot queue and the seeded dice, shared by all request threads."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._rng = random.Random(seed * 31 + 7)  # noqa: S311 - replayable, not secret
        self._status_turn = 0
        self._spent: set[str] = set()

    def once(self, key: str) -> bool:
        """True the first time ``key`` is asked about in this sandbox's life, then False."""
        with self._lock:
            if key in self._spent:
                return False
            self._spent.add(key)
            return True

    def fail_next(self, kind: str, count: int = 1, endpoint: str | None = None) -> None:
        """Queue ``count`` faults of ``kind`` for the next matching calls."""
        if kind not in ONE_SHOT_KINDS:
            raise ValueError(f"kind must be one of {ONE_SHOT_KINDS}, not {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._queue.extend(_Pending(kind, endpoint) for _ in range(count))

    def take(self, endpoint: str, api: bool) -> str | None:
        """The queued fault this call must suffer, if any (faults without endpoint hit API calls)."""
        with self._lock:
            for index, pending in enumerate(self._queue):
                if pending.endpoint == endpoint or (pending.endpoint is None and api):
                    del self._queue[index]
                    return pending.kind
        return None

    def pending(self) -> list[dict[str, str | None]]:
        """The queue, for ``/_sandbox/faults``."""
        with self._lock:
            return [{"kind": p.kind, "endpoint": p.endpoint} for p in self._queue]

    def roll(self, faults: Faults) -> str | None:
        """Decide by the configured rates whether this API call fails, and how."""
        shares = (
            ("drop", faults.drop_rate),
            ("5xx", faults.error_rate),
            ("429", faults.rate_limit_rate),
            ("malformed", faults.malformed_rate),
        )
        if not any(share > 0 for _, share in shares):
            return None
        with self._lock:
            draw = self._rng.random()
        for kind, share in shares:
            if draw < share:
                return kind
            draw -= share
        return None

    def chance(self, share: float) -> bool:
        """A seeded coin with probability ``share`` (truncation)."""
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def randrange(self, stop: int) -> int:
        """A seeded integer below ``stop`` (which rows a truncation drops)."""
        with self._lock:
            return self._rng.randrange(stop)

    def next_status(self) -> int:
        """500, 502, 503 in turn, so clients meet every flavour of server error."""
        with self._lock:
            status = SERVER_ERRORS[self._status_turn % 3]
            self._status_turn += 1
            return status
