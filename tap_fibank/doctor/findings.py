"""A line of the doctor's report: shared by every module that checks something.

Contract: a `Finding` names the check, its status (OK, DIFFERS or UNKNOWN), what was seen (names,
types, spellings, counts, never values) and the effect on a run of the tap (`ok`, `tolerated`,
`unverifiable` or `fatal`); it imports nothing of the doctor, so every check module may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OK, DIFFERS, UNKNOWN = "OK", "DIFFERS", "UNKNOWN"


@dataclass
class Finding:
    """One line of the report."""

    check: str
    status: str
    seen: str
    effect: str = "ok"
    accounts: list[str] = field(default_factory=list)
