"""What the clients did: call counts, statement ranges asked, logins, faults served.

Tests assert on these (the tap must never ask for more than 30 days, must not hammer the login,
must retry a 5xx), so they are kept exactly and handed out as deep copies.
"""

from __future__ import annotations

import copy
import threading
from datetime import date
from typing import Any

ENDPOINTS = (
    "login_page",
    "authorize",
    "certs",
    "login_post",
    "otp",
    "signed_in",
    "ebank_page",
    "getCustQuery",
    "getFilteredAccounts",
    "GetCustBal",
    "getAccStmtList",
)
API_ENDPOINTS = frozenset(("getCustQuery", "getFilteredAccounts", "GetCustBal", "getAccStmtList"))
FAULT_KINDS = (
    "5xx",
    "429",
    "drop",
    "malformed",
    "expired_token",
    "truncated",
    "late_posting",
    "second_factor",
    "no_csrf",
    "bare_window",
    "held",
)


def _fresh() -> dict[str, Any]:
    return {
        "calls": dict.fromkeys(ENDPOINTS, 0),
        "logins": 0,
        "failed_logins": 0,
        "statement_calls": {},
        "statement_ranges": [],
        "statement_options": [],
        "longest_range_days": 0,
        "refusals": 0,
        "long_ranges": 0,
        "device_ids": [],
        "faults": dict.fromkeys(FAULT_KINDS, 0),
        "unauthorized": 0,
    }


class Counters:
    """Thread-safe tallies of everything the sandbox served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = _fresh()

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._data = _fresh()

    def snapshot(self) -> dict[str, Any]:
        """A deep copy, safe to keep while the server goes on counting."""
        with self._lock:
            return copy.deepcopy(self._data)

    def call(self, endpoint: str) -> int:
        """One request arrived at ``endpoint``: its number among that endpoint's calls."""
        with self._lock:
            calls = self._data["calls"]
            calls[endpoint] = calls.get(endpoint, 0) + 1
            return int(calls[endpoint])

    def add(self, name: str, amount: int = 1) -> None:
        """Bump a top-level tally (``logins``, ``failed_logins``, ``refusals``, ``unauthorized``)."""
        with self._lock:
            self._data[name] += amount

    def device(self, device_id: str | None) -> None:
        """Note the ``EBank-Device-Id`` of an API call (a stable id is one the bank can trust)."""
        with self._lock:
            seen = self._data["device_ids"]
            if device_id not in seen:
                seen.append(device_id)

    def fault(self, kind: str) -> None:
        """One fault of ``kind`` was served."""
        with self._lock:
            self._data["faults"][kind] += 1

    def statement(self, iban: str, first: date, last: date, options: dict[str, str]) -> None:
        """A GetCustBal range was asked (refused or not), with its other parameters (`StmtType`...)."""
        days = (last - first).days + 1
        with self._lock:
            seen = self._data["statement_options"]
            if options not in seen:
                seen.append(options)
            per_iban = self._data["statement_calls"]
            per_iban[iban] = per_iban.get(iban, 0) + 1
            self._data["statement_ranges"].append([iban, first.isoformat(), last.isoformat()])
            self._data["longest_range_days"] = max(self._data["longest_range_days"], days)
