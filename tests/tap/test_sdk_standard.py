"""The SDK's standard tap tests, against the built-in sandbox (`sandbox: true`)."""

from __future__ import annotations

import datetime as dt

from singer_sdk.testing import get_tap_test_class

from tap_fibank.bank.clock import sofia_today
from tap_fibank.tap import TapFibank

SAMPLE_CONFIG = {
    "sandbox": True,
    "start_date": (sofia_today() - dt.timedelta(days=90)).isoformat(),
    "max_retries": 0,
}

TestTapFibank = get_tap_test_class(tap_class=TapFibank, config=SAMPLE_CONFIG)
