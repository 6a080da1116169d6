"""The environment of a process a test starts: the caller's own settings left out, the run's "today" kept.

A developer's TAP_FIBANK_* (or TARGET_*, DBT_*...) must not leak into a test's tap, dbt or
meltano; but TAP_FIBANK_FROZEN_TODAY is the one "today" of the whole session (tests/conftest.py),
and a child that lost it would read the clock and disagree with the test's expectations after
midnight in Sofia. So every test strips through here, and nothing strips it.
"""

from __future__ import annotations

import os

from tap_fibank.bank.clock import FROZEN_TODAY


def clean_env(*prefixes: str, **extra: str) -> dict[str, str]:
    """os.environ without the variables named by `prefixes` (the frozen "today" stays), plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    if FROZEN_TODAY in os.environ:
        env[FROZEN_TODAY] = os.environ[FROZEN_TODAY]
    env.update(extra)
    return env
