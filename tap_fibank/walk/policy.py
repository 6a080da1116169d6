"""The walk's retry policy at the level of a window, in one place.

Contract: constants only. The bank client retries one call (`max_retries`, with backoff); what is
here decides what the walk does above that, so every window-level "try again" or "give up" of
account.py and read_ahead.py reads from this block and from nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from tap_fibank.bank.retry import Tries


@dataclass(frozen=True)
class WindowRetries:
    """How often the walk asks for a window again, and when it stops asking for an account.

    - `rereads_unbalanced`: a window whose numbers do not add up is read this many times more
      (the bank may have been mid-booking); what still does not add up is reported, not retried.
    - `probe_tries`: the client's tries for a probe (where an account's history starts,
      the days before its served history, the oldest window read ahead): one, no retry, since
      a retry cannot help a window that never existed, and a probe that fails is an answer.
    - `gaps_in_a_row`: a window that fails after every retry is a gap; this many in a row end
      the account's walk (the bank is down for it, not missing one window).
    """

    rereads_unbalanced: int = 1
    probe_tries: Tries = Tries.ONCE
    gaps_in_a_row: int = 2


WINDOW_RETRIES = WindowRetries()
