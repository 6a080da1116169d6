"""The run report: what the run could not read or prove, warned as it happens and summed up once.

Contract: written to by the walk and the streams from the stream thread and the pool's threads
(every write holds its lock), read once by the tap at the end of the run for its summary line and
exit code. It decides nothing about what is read.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

LOGGER = logging.getLogger("tap_fibank")


@dataclass
class RunReport:
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
