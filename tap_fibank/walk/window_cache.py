"""The window cache: what the transactions stream fetched, kept for the statements stream.

Contract: when statements are wanted, the transactions stream keeps a summary of every window it
walks (`keep`), and the statements stream takes them for the same account (`take`) instead of
asking the bank again. An account the transactions stream did not walk has nothing kept, and the
statements stream walks it itself. A summary holds no entries, so the cache stays small.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tap_fibank.walk.windows import Window


@dataclass(frozen=True)
class WindowSummary:
    """What the statements stream needs of a window: its records and how to settle; no entries."""

    records: list[dict[str, Any]]
    window: Window
    verified: bool
    hold: dt.date | None = None
    point: dict[str, Any] | None = None


@dataclass
class WindowCache:
    """Window summaries per IBAN, kept only if the statements stream will read them."""

    #: Whether the statements stream is selected: if not, nothing is kept.
    wanted: bool
    _kept: dict[str, list[WindowSummary]] = field(default_factory=dict)

    def keep(self, iban: str) -> list[WindowSummary] | None:
        """The list to append an account's summaries to, as walked; None if none are wanted."""
        return self._kept.setdefault(iban, []) if self.wanted else None

    def take(self, iban: str) -> list[WindowSummary] | None:
        """An account's kept summaries, once; None if its windows were not walked for it."""
        return self._kept.pop(iban, None)
