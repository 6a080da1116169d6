"""Which windows an account's walk asks for: the walk's settings, and the plan they make.

Contract: pure functions of the settings, the account's bookmark state and today in Sofia; no
reads, no shared objects. The read-ahead and the walk both plan with `account_plan`, so what is
read ahead is exactly what the walk would ask for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tap_fibank.bank.clock import sofia_today
from tap_fibank.config.settings import DEFAULTS
from tap_fibank.walk.bookmarks import served_from, walked_through
from tap_fibank.walk.windows import Window, resume_start, windows


@dataclass(frozen=True)
class WalkSettings:
    """What decides which windows an account's walk asks for, and how it judges them."""

    start_date: dt.date
    end_date: dt.date | None
    lookback_days: int
    window_days: int
    strict: bool
    prefetch: int
    reprobe_days: int = DEFAULTS["history_reprobe_days"]

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
            prefetch=int(config.get("max_concurrency", DEFAULTS["max_concurrency"])) * 2,
            reprobe_days=int(config.get("history_reprobe_days", DEFAULTS["history_reprobe_days"])),
        )


def walk_range(settings: WalkSettings, state: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """First and last day to read for an account with this bookmark state."""
    start = resume_start(
        walked_through=walked_through(state),
        start_date=settings.start_date,
        lookback_days=settings.lookback_days,
    )
    served = served_from(state)
    if served is not None:
        start = max(start, served)  # what the bank does not serve is not asked for again
    today = sofia_today()
    return start, min(settings.end_date, today) if settings.end_date else today


def account_plan(settings: WalkSettings, state: dict[str, Any]) -> list[Window]:
    """The windows an account's walk asks for, oldest first."""
    start, end = walk_range(settings, state)
    return list(windows(start, end, settings.window_days))
