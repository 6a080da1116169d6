"""One run's shared objects, built once by the tap and handed to the streams: nothing else is shared.

Contract: `Run` holds what every part of a run needs (the bank client, the pool that fetches
windows ahead, the walk's settings, the stop check, the login column, the start time) and the
four objects each owned by one side: the read-ahead (the walk's), the account registry (the
customers and accounts streams'), the window cache (transactions writes, statements reads) and
the run report (everyone writes, the tap reads at the end). It builds nothing and reads nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tap_fibank.bank.client import BankClient
from tap_fibank.walk.ahead import ReadAhead
from tap_fibank.walk.plan import WalkSettings
from tap_fibank.walk.registry import AccountRegistry
from tap_fibank.walk.report import RunReport
from tap_fibank.walk.window_cache import WindowCache


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


@dataclass
class Run:
    """Everything a stream needs of the run, passed explicitly."""

    client: BankClient
    executor: ThreadPoolExecutor
    settings: WalkSettings
    check_stop: Callable[[], None]
    #: The `login` column of every record: which login's data a shared warehouse row is.
    login: str
    window_cache: WindowCache
    ahead: ReadAhead = field(default_factory=ReadAhead)
    accounts: AccountRegistry = field(default_factory=AccountRegistry)
    report: RunReport = field(default_factory=RunReport)
    #: When the run started (UTC, ISO): the statements' `run_started_at`.
    started_at: str = field(default_factory=_now)
