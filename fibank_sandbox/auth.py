"""Who is logged in: server sessions, the demo user's password and lockout, bearer tokens.

The bank mixes a cookie session (for the login pages) with OAuth2 bearer tokens (for the API);
the tap has to get both right, so the sandbox keeps both kinds of state as the bank would.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .faults import Faults

DEFAULT_TOKEN_SECONDS = 600
MAX_FAILED_PASSWORDS = 5
OTP_CODE = "123456"


@dataclass
class Session:
    """A ``JSESSIONID`` session of the login server."""

    sid: str
    csrf: str
    saved_query: str | None = None
    certs_asked: bool = False
    user: str | None = None  # authenticated user
    otp_user: str | None = None  # password accepted, SMS code still due
    last_error: str | None = None


@dataclass
class User:
    """A web-bank user and the failed-password tally that locks it."""

    username: str
    password: str
    customer_ids: tuple[str, ...]
    failed: int = 0
    locked: bool = False


@dataclass
class Token:
    """An issued access token."""

    value: str
    user: str
    issued: float = field(default_factory=time.monotonic)
    calls: int = 0
    revoked: bool = False


class AuthState:
    """Sessions, users and tokens behind one lock."""

    def __init__(self, username: str, password: str, customer_ids: tuple[str, ...]) -> None:
        # What token lifetimes are measured with; a test may put a clock of its own here.
        self.clock: Callable[[], float] = time.monotonic
        self._lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.tokens: dict[str, Token] = {}
        self.users = {username: User(username, password, customer_ids)}
        self.issued: set[str] = set()  # every session id, CSRF value and token ever handed out

    def set_users(self, users: list[User]) -> None:
        """Replace the users (a multi-login sandbox: each with the profiles it may act for)."""
        with self._lock:
            self.users = {user.username: user for user in users}

    def new_session(self) -> Session:
        """A fresh session with its own CSRF token."""
        session = Session(secrets.token_hex(16).upper(), str(uuid.uuid4()))
        with self._lock:
            self.sessions[session.sid] = session
            self.issued.update((session.sid, session.csrf))
        return session

    def session(self, sid: str | None) -> Session | None:
        """The session a cookie names, if the server knows it."""
        if sid is None:
            return None
        with self._lock:
            return self.sessions.get(sid)

    def rotate(self, session: Session) -> Session:
        """A new id for an authenticated session (Spring's session-fixation protection)."""
        with self._lock:
            self.sessions.pop(session.sid, None)
            session.sid = secrets.token_hex(16).upper()
            self.sessions[session.sid] = session
            self.issued.add(session.sid)
        return session

    def check_password(self, username: str, password: str) -> str:
        """``ok``, ``wrong``, ``locked`` or ``unknown``; five wrong passwords lock the user.

        The fifth wrong password is still answered as a wrong password (with no attempts left);
        only the next attempt, whatever the password, meets the lock.
        """
        with self._lock:
            user = self.users.get(username)
            if user is None:
                return "unknown"
            if user.locked:
                return "locked"
            if secrets.compare_digest(user.password.encode(), password.encode()):
                user.failed = 0
                return "ok"
            user.failed += 1
            user.locked = user.failed >= MAX_FAILED_PASSWORDS
            return "wrong"

    def remaining_attempts(self, username: str) -> int:
        """Attempts left before the lockout (shown in the error text)."""
        with self._lock:
            user = self.users.get(username)
            return MAX_FAILED_PASSWORDS - user.failed if user else MAX_FAILED_PASSWORDS

    def unlock(self) -> None:
        """What the bank's help desk does: clear the lock and the failed-password tally."""
        with self._lock:
            for user in self.users.values():
                user.failed = 0
                user.locked = False

    def issue(self, username: str) -> Token:
        """A new access token for an authenticated user."""
        token = Token(str(uuid.uuid4()), username, self.clock())
        with self._lock:
            self.tokens[token.value] = token
            self.issued.add(token.value)
        return token

    def customer_ids(self, username: str) -> tuple[str, ...]:
        """The customer profiles a user may act for."""
        return self.users[username].customer_ids

    def use(self, value: str, faults: Faults) -> tuple[Token | None, str]:
        """Spend one API call of a token: ``(token, "ok")`` or ``(None, why)``.

        ``why`` is ``invalid`` for an unknown token and ``expired`` for one past its lifetime
        (seconds or calls) or revoked by a fault.
        """
        with self._lock:
            token = self.tokens.get(value)
            if token is None:
                return None, "invalid"
            lifetime = faults.token_seconds if faults.token_seconds is not None else DEFAULT_TOKEN_SECONDS
            if token.revoked or self.clock() - token.issued > lifetime:
                token.revoked = True
                return None, "expired"
            if faults.token_calls is not None and token.calls >= faults.token_calls:
                token.revoked = True
                return None, "expired"
            token.calls += 1
            return token, "ok"

    def revoke(self, value: str) -> None:
        """Expire a token now (the ``expire_token`` fault)."""
        with self._lock:
            token = self.tokens.get(value)
            if token is not None:
                token.revoked = True


def expires_in(faults: Faults) -> int:
    """The lifetime announced in the redirect: what the token will really live, in seconds."""
    if faults.token_seconds is not None:
        return max(1, round(faults.token_seconds))
    return DEFAULT_TOKEN_SECONDS
