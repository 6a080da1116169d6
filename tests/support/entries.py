"""Rows of a statement answer as the bank sends them, for tests that build answers by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def summary(kind: str, amount: str, when: str = "2025-02-01T00:00:00+0200") -> dict[str, Any]:
    """A summary row (OP, CL, DT, CT)."""
    return {"trnType": kind, "amount": Decimal(amount), "acBal": Decimal(amount), "dateTime": when}


def entry(entry_id: int, when: str, dtkt: str, amount: str, balance: str, **extra: Any) -> dict[str, Any]:
    """A booked entry, with the balance after it."""
    row = {
        "acEntrySrNo": entry_id,
        "dateTime": when,
        "valueDt": when[:10] + "T00:00:00+0200",
        "dtkt": dtkt,
        "amount": Decimal(amount),
        "acBal": Decimal(balance),
        "trnType": "TR",
        "isPayment": "Y",
    }
    row.update(extra)
    return row
