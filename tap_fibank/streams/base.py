"""What every Fibank stream shares: the tap's one bank client and a lean record path.

The schemas are ours and exact, and records are built with the right Python types, so the
SDK's per-record type conformance is redundant work on the hot path and is switched off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

if TYPE_CHECKING:
    from tap_fibank.client import BankClient
    from tap_fibank.tap import TapFibank


class FibankStream(Stream):
    """Base stream: access to the shared client and run bookkeeping."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # A STATE message every thousand rows: a run cut off mid-account resumes near where it was.
    STATE_MSG_FREQUENCY = 1000

    @property
    def fibank(self) -> TapFibank:
        """The tap, typed, for its client and run bookkeeping."""
        return self._tap  # type: ignore[return-value]

    @property
    def client(self) -> BankClient:
        """The run's one logged-in client."""
        return self.fibank.client
