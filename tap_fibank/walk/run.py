"""One run's shared objects, built once and handed to the streams: nothing else is shared.

The bank client, the thread pool that fetches windows ahead, the settings of a walk, the window
cache from which the statements stream reads what the transactions stream fetched, and the
ledger of what could not be read or proven, from which the run's summary line is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tap_fibank.bank.client import BankClient
from tap_fibank.redact import mask_iban

if TYPE_CHECKING:
    from tap_fibank.walk.read_ahead import Ahead

LOGGER = logging.getLogger("tap_fibank")


@dataclass(frozen=True)
class WalkSettings:
    """What decides which windows an account's walk asks for, and how it judges them."""

    start_date: dt.date
    end_date: dt.date | None
    lookback_days: int
    window_days: int
    strict: bool
    prefetch: int
    reprobe_days: int = 7

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WalkSettings:
        """Read from the tap's validated settings."""
        end = config.get("end_date")
        return cls(
            start_date=dt.date.fromisoformat(str(config["start_date"])),
            end_date=dt.date.fromisoformat(str(end)) if end else None,
            lookback_days=int(config["lookback_days"]),
            window_days=int(config["window_days"]),
            strict=bool(config.get("strict_statements")),
            prefetch=int(config.get("max_concurrency", 4)) * 2,
            reprobe_days=int(config.get("history_reprobe_days", 7)),
        )


@dataclass
class Ledger:
    """What the run could not read or prove: warned once as it happens, summed up at the end."""

    skipped: list[str] = field(default_factory=list)
    unbalanced: list[tuple[str, str]] = field(default_factory=list)
    unverifiable: dict[str, str] = field(default_factory=dict)
    #: Accounts whose history the bank serves only from a day: masked IBAN -> what to say.
    served: dict[str, str] = field(default_factory=dict)
    #: Accounts whose currency before 2026 the bank's numbers cannot decide: one line each.
    undecided: list[str] = field(default_factory=list)
    _warned: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def skip(self, what: str) -> None:
        """Record and announce something the run could not read."""
        with self._lock:
            self.skipped.append(what)
        LOGGER.warning("Skipped %s.", what)

    def warn_once(self, key: str, message: str) -> None:
        """A warning that would otherwise repeat for every window."""
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        LOGGER.warning("%s", message)

    def undecidable(self, masked: str, detail: str) -> None:
        """Record and announce an account whose earlier currency would have to be guessed."""
        line = (
            f"the currency of account {masked} before 2026-01-01 cannot be decided: {detail}; its "
            "entries from then on were not emitted and its bookmark stays before them"
        )
        with self._lock:
            self.undecided.append(line)
        LOGGER.warning("Not guessing: %s.", line)

    def summary(self) -> tuple[str, bool]:
        """The run's last line, and whether anything was skipped."""
        doubts = ""
        if self.served:
            listed = ", ".join(f"{iban} {what}" for iban, what in sorted(self.served.items()))
            doubts += f"; history the bank serves only from a day: {listed}"
        if self.unbalanced:
            listed = ", ".join(f"{iban} {window}" for iban, window in self.unbalanced[:5])
            more = len(self.unbalanced) - 5
            doubts += (
                f"; {len(self.unbalanced)} statement windows did not add up ({listed}"
                f"{f' and {more} more' if more > 0 else ''}) and will be read again next run"
            )
        if self.unverifiable:
            listed = ", ".join(f"{iban} ({why})" for iban, why in sorted(self.unverifiable.items()))
            doubts += f"; read but unverifiable: {listed}"
        if self.skipped:
            return f"Run finished with {len(self.skipped)} skipped: " + "; ".join(self.skipped) + doubts, True
        return "Run finished: every listed account was read" + doubts + ".", False


@dataclass
class Run:
    """Everything a stream needs of the run, passed explicitly."""

    client: BankClient
    executor: ThreadPoolExecutor
    settings: WalkSettings
    check_stop: Callable[[], None]
    statements_wanted: bool
    #: The `login` column of every record: which login's data a shared warehouse row is.
    login: str
    #: When the run started (UTC, ISO): the statements' `run_started_at`.
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat())
    ledger: Ledger = field(default_factory=Ledger)
    currencies: dict[str, str | None] = field(default_factory=dict)
    claimed: dict[str, str] = field(default_factory=dict)
    seen_ibans: set[str] = field(default_factory=set)
    seen_customers: set[str] = field(default_factory=set)
    windows: dict[str, list[Any]] = field(default_factory=dict)
    #: The bookmark state of an account's partition in the stream that walks it.
    state_for: Callable[[dict[str, str]], dict[str, Any]] | None = None
    #: Accounts listed and still to be walked, in order: (customer id, IBAN).
    upcoming: deque[tuple[str, str]] = field(default_factory=deque)
    #: Reads started for accounts still to be walked, in walking order (see reading.py).
    ahead: dict[str, Ahead] = field(default_factory=dict)

    def claim_account(self, iban: str, customer_id: str) -> bool:
        """True the first time an IBAN is seen in this run, so it is read once."""
        return self.claimed.setdefault(iban, customer_id) == customer_id

    def expect(self, accounts: list[tuple[str, str]]) -> None:
        """Accounts about to be walked, in order, so their first reads can start early."""
        self.upcoming.extend(accounts)

    def unmatched(self, ibans: list[str], customer_ids: list[str]) -> list[str]:
        """Allow-list entries that matched nothing the bank listed: likely typos, never silent."""
        found = [f"ibans entry {mask_iban(i)}" for i in ibans if compact_iban(i) not in self.seen_ibans]
        found += [f"customer_ids entry {c}" for c in customer_ids if str(c) not in self.seen_customers]
        return found


def compact_iban(text: str) -> str:
    """An IBAN as the bank lists it: no spaces, upper case."""
    return text.replace(" ", "").upper()
