"""The read-ahead's bookkeeping: accounts still to be walked, and the reads started for them.

Contract: data only, owned by the walk. The accounts stream announces the accounts it lists
(`expect`); read_ahead.py starts their first reads in the pool and records them here; an account's
walk takes its reads (`take`) and cancels what it does not use. Nothing here reads the bank, so the
run can hold it without depending on how reads are made.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from tap_fibank.proof.statement import Statement
from tap_fibank.walk.windows import Window


@dataclass
class Ahead:
    """An account's reads started before its walk: its plan, and each window's answer to come."""

    customer_id: str
    iban: str
    plan: list[Window]
    reads: dict[Window, Future[Statement]] = field(default_factory=dict)

    def answered(self, window: Window) -> bool:
        """Whether the read of `window` has come back with a statement (not an error)."""
        read = self.reads.get(window)
        return read is not None and read.done() and not read.cancelled() and read.exception() is None


@dataclass
class ReadAhead:
    """What the walk may read before it gets there: off (no `state_for`) in a bare walk."""

    #: The bookmark state of an account's partition in the stream that walks it.
    state_for: Callable[[dict[str, str]], dict[str, Any]] | None = None
    #: Accounts listed and still to be walked, in order: (customer id, IBAN).
    upcoming: deque[tuple[str, str]] = field(default_factory=deque)
    #: Reads started for accounts still to be walked, in walking order.
    started: dict[str, Ahead] = field(default_factory=dict)

    def expect(self, accounts: list[tuple[str, str]]) -> None:
        """Accounts about to be walked, in order, so their first reads can start early."""
        self.upcoming.extend(accounts)

    def take(self, iban: str) -> dict[Window, Future[Statement]]:
        """The reads started for an account before its walk (none if there were none)."""
        ahead = self.started.pop(iban, None)
        return ahead.reads if ahead is not None else {}
