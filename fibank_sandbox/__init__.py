"""A faithful emulator of Fibank's web bank over real HTTP, for tests and benchmarks.

``Sandbox`` runs the login flow and the JSON API of the bank, as far as they are known, on a
loopback port with deterministic data, fault and variant knobs, call counters and the ground
truth to compare a tap's output with. See ``docs/sandbox.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

from tap_fibank.bank import clock

from .app import BankApp
from .auth import User
from .data import generate, merge, user_login
from .faults import Faults
from .model import AccountInfo, CustomerProfile, Entry
from .server import ServerThread

__all__ = ["AccountInfo", "CustomerProfile", "Entry", "Faults", "Login", "Sandbox", "sofia_today"]


def sofia_today() -> dt.date:
    """Today's date in Sofia, the bank's calendar: the tap's clock, frozen in tests alike."""
    return clock.sofia_today()


@dataclass(frozen=True)
class Login:
    """One web-bank user of a multi-login sandbox and the customer profiles it may act for."""

    username: str
    password: str
    customer_ids: tuple[str, ...]


class Sandbox:
    """The emulated bank: data, login, API and faults, served on ``base_url`` once started."""

    username = "demo"
    password = "demo"  # noqa: S105 - the public demo login, like the bank's demo link

    def __init__(
        self,
        seed: int = 1,
        today: dt.date | None = None,
        scale: float = 1.0,
        faults: Faults | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        users: int = 1,
        accounts: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if users < 1:
            raise ValueError("users must be 1 or more")
        if accounts < 0:
            raise ValueError("accounts must be 0 (the demo's) or more")
        self.seed = seed
        self.today = today if today is not None else sofia_today()
        self.scale = scale
        self.host = host
        self._port = port
        banks = [generate(seed, self.today, scale, user, accounts) for user in range(1, users + 1)]
        self._app = BankApp(
            merge(banks),
            faults if faults is not None else Faults(),
            seed,
            self.username,
            self.password,
        )
        self.logins = [
            Login(*user_login(user), tuple(p.customer_id for p in bank.customers))
            for user, bank in enumerate(banks, start=1)
        ]
        if clock is not None:
            self._app.auth.clock = clock
        if users > 1:
            self._app.auth.set_users([User(x.username, x.password, x.customer_ids) for x in self.logins])
        self._server: ServerThread | None = None

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind the port and serve in a background thread."""
        if self._server is None:
            self._server = ServerThread(self._app, self.host, self._port)
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only once started)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._server.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self) -> Faults:
        """The live fault knobs; change attributes, or assign a whole new ``Faults``."""
        return self._app.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._app.faults = faults

    # data ----------------------------------------------------------------------------------------

    @property
    def accounts(self) -> list[AccountInfo]:
        """Every account of both profiles (including the failing and the empty one)."""
        return list(self._app.ledger.accounts)

    @property
    def customers(self) -> list[CustomerProfile]:
        """The customer profiles of every login: the demo's person first, then its ЕООД."""
        return list(self._app.customers)

    def login_truth(self, username: str) -> dict[str, list[Entry]]:
        """``truth()`` restricted to the accounts one login sees."""
        login = next(x for x in self.logins if x.username == username)
        ibans = {a.iban for a in self._app.ledger.accounts if a.customer_id in login.customer_ids}
        return {iban: entries for iban, entries in self.truth().items() if iban in ibans}

    def truth(self) -> dict[str, list[Entry]]:
        """Every booked entry per IBAN, ascending by (booking instant, entry id), as now served.

        Each entry's ``currency`` is the one a correct tap labels it with. Under
        ``history=redenominated`` a converted account's entries before 2026 are in euro, with the
        amounts and balances that history serves; under every other knob they are the lev they were
        booked in, whether or not the bank names the currency.
        """
        return self._app.ledger.truth(self._app.faults.history == "redenominated")

    def post_late_entry(
        self, iban: str, booking_date: dt.date, amount: Decimal = Decimal("12.34"), direction: str = "debit"
    ) -> Entry:
        """Book a back-dated entry (noon of ``booking_date``); later balances are recomputed."""
        return self._app.ledger.post(iban, booking_date, amount, direction)

    # faults, counters, lockout -------------------------------------------------------------------

    def fail_next(self, kind: str, count: int = 1, endpoint: str | None = None) -> None:
        """Make the next ``count`` calls (to ``endpoint``, or any API call) fail with ``kind``.

        ``kind`` is one of ``5xx``, ``429``, ``drop``, ``malformed``, ``expire_token``.
        """
        self._app.plan.fail_next(kind, count, endpoint)

    def counters(self) -> dict[str, Any]:
        """A snapshot (deep copy) of what the sandbox served."""
        return self._app.counters.snapshot()

    def reset_counters(self) -> None:
        """Start counting from zero."""
        self._app.counters.reset()

    def issued_secrets(self) -> set[str]:
        """Every session cookie, CSRF value and access token handed out: none may leak."""
        with self._app.auth._lock:
            return set(self._app.auth.issued)

    def unlock(self) -> None:
        """Clear the lockout and the failed-password tally, as the bank's help desk would."""
        self._app.auth.unlock()
