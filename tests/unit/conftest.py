"""What the login's unit tests share: a session, the wire it records, the waits it would sleep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.login_wire import Wire, recorded_waits, recording


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@pytest.fixture
def wire(session: requests.Session) -> Wire:
    return recording(session)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds the login would have slept between tries, in order."""
    return recorded_waits(monkeypatch)
