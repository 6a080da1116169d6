"""The state of one sandboxed bank, apart from the routing that serves it.

The handlers (``api``, ``login``, ``control``) read and change this state, and ``app`` routes
requests to them; keeping the state here lets the handlers name its type without importing the
router, so no module of the sandbox imports one that imports it back.
"""

from __future__ import annotations

from datetime import date

from .auth import AuthState
from .counters import Counters
from .data import BankData
from .faults import FaultPlan, Faults
from .ledger import Ledger
from .model import CustomerProfile


class BankState:
    """Everything a request may read or change: data, knobs, counters, logins and tokens."""

    def __init__(self, data: BankData, faults: Faults, seed: int, username: str, password: str) -> None:
        self.faults = faults
        self.today: date = data.today
        self.customers: list[CustomerProfile] = list(data.customers)
        self.ledger = Ledger(data)
        self.counters = Counters()
        self.plan = FaultPlan(seed)
        self.auth = AuthState(username, password, tuple(p.customer_id for p in data.customers))
