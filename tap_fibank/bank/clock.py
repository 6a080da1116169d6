"""Sofia's clock: the bank's calendar and the one place the tap and the sandbox read today.

Contract: `sofia_today` is today in Sofia (or `TAP_FIBANK_FROZEN_TODAY`), `bank_timestamp` a
moment as the bank writes it, `SOFIA` the zone; no I/O beyond the clock and that variable.

The bank keeps Sofia's time (`EBank-Client-Time`, the login form's `time`, statement dates), so
the HTTP layer formats it and the walk cuts its windows by it: it lives under bank/ so the HTTP
layer needs nothing from walk/. The frozen today lets the tap, its subprocesses and the sandbox
agree on one day, so no test depends on the hour it runs at.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

SOFIA = ZoneInfo("Europe/Sofia")
# For tests only: a frozen "today" (YYYY-MM-DD) that the tap, its subprocesses and the sandbox all
# read, so no test depends on the hour it runs at or on a run crossing midnight in Sofia.
FROZEN_TODAY = "TAP_FIBANK_FROZEN_TODAY"


def bank_timestamp(moment: dt.datetime) -> str:
    """Format as the bank does: `2022-02-01T00:00:00+0200`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def sofia_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Sofia, whatever the machine's time zone.

    The one place the tap and the sandbox read the clock: `TAP_FIBANK_FROZEN_TODAY` freezes it
    for tests (a run then sees one day from start to end, whatever the hour).
    """
    if now is None:
        frozen = os.environ.get(FROZEN_TODAY)
        if frozen:
            return dt.date.fromisoformat(frozen)
        return dt.datetime.now(SOFIA).date()
    return now.astimezone(SOFIA).date()
