"""Generated config, state and catalog files thrown at the tap's command line.

Whatever the files hold (a good file, one with a single place changed to any JSON value or a key
dropped, any JSON at all, raw bytes, no file), a run ends with exit 0 or 2, never a traceback, at
most one `tap-fibank: error:` line, and not one request to the bank when it exits 2.

Most examples go through `main(argv)`, the console script's own entry function, in this process
(a run costs milliseconds instead of a second of interpreter start-up); a few go through the real
console script in a subprocess, so both paths are held to the same contract.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.env import clean_env
from support.tapruns import TAP

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import sofia_today
from tap_fibank.tap import TapFibank, main

TODAY = sofia_today()
BUSY = "BG47FINV91501017006644"
MISSING = object()  # the option names a file that does not exist


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


# Settings a generated config may change. The bank's address, the login and max_retries stay as
# they are: a run against another address or with a wrong password is not an input error, and
# retries of the sandbox's always-failing account would only make examples slow.
SETTINGS: dict[str, Any] = {
    "start_date": day(-4),
    "end_date": day(0),
    "lookback_days": 7,
    "window_days": 30,
    "ibans": [BUSY],
    "customer_ids": ["5896443"],
    "max_concurrency": 2,
    "request_timeout": 10,
    "strict_statements": False,
}
# start_date is never dropped: the default (1993-02-27) would read 33 years per example.
KEEP = {"start_date"}
INTERESTING: dict[str, list[Any]] = {
    "start_date": [day(-40), day(1), day(400), "2024-02-30", "", "yesterday", 20240101],
    "end_date": [day(-10), day(-50), day(30), "", "2024-13-01"],
    "lookback_days": [0, 366, 367, -1, "7", 7.5],
    "window_days": [1, 0, 31, "30"],
    "ibans": [BUSY, [], ["BG00NOTANACCOUNT"], [BUSY, BUSY], [1]],
    "customer_ids": ["5896443", [], [5896443], ["0"]],
    "max_concurrency": [1, 16, 17, 0],
}

SCALARS = st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=8)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
RAW_SAMPLES = [b"", b" ", b"{", b"null", b"[]", b"\xef\xbb\xbf{}", b'{"a": 1,}', b"\xff\xfe"]
RAW = st.sampled_from(RAW_SAMPLES) | st.binary(max_size=16)


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one place, at any depth, replaced by any JSON value or dropped."""
    if isinstance(document, dict) and document and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(document)))
        changed = dict(document)
        if draw(st.integers(0, 4)) == 0:
            del changed[key]
        else:
            changed[key] = draw(mutated(document[key]))
        return changed
    if isinstance(document, list) and document and draw(st.integers(0, 3)):
        index = draw(st.integers(0, len(document) - 1))
        return [draw(mutated(item)) if i == index else item for i, item in enumerate(document)]
    return draw(ANY_JSON)


@st.composite
def settings_part(draw: st.DrawFn) -> Any:
    """The changeable settings with a few of them changed, or replaced whole."""
    if draw(st.integers(0, 9)) == 0:
        return draw(ANY_JSON)
    chosen = dict(SETTINGS)
    changeable = [*SETTINGS, "stream_maps", "flattening_max_depth"]
    for key in draw(st.lists(st.sampled_from(changeable), max_size=3)):
        action = draw(st.integers(0, 5))
        if action == 0 and key not in KEEP:
            chosen.pop(key, None)
        elif action <= 2 and key in INTERESTING:
            chosen[key] = draw(st.sampled_from(INTERESTING[key]))
        else:
            chosen[key] = draw(mutated(chosen.get(key)))
    return chosen


def file_content(good: Any, *, optional: bool) -> st.SearchStrategy[Any]:
    """What a file option may name: the good file, a changed one, anything, or nothing."""
    kinds = [st.just(good), st.just(good), mutated(good), mutated(good), ANY_JSON, RAW, st.just(MISSING)]
    if optional:
        kinds.append(st.none())  # the option is not given at all
    return st.one_of(kinds)


GOOD_STATE = {
    "bookmarks": {
        stream: {
            "partitions": [
                {
                    "context": {"customer_id": "5896443", "iban": BUSY},
                    "walked_through": day(-2),
                    "replication_key": key,
                    "replication_key_value": day(-2),
                }
            ]
        }
        for stream, key in (("transactions", "booking_date"), ("statements", "date_to"))
    }
}


@contextlib.contextmanager
def one_run_in_process() -> Iterator[None]:
    """Undo what a CLI run sets up for the whole process: a log handler, signal handlers, a hook."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    hook = sys.excepthook
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        for number, handler in signals.items():
            signal.signal(number, handler)
        sys.excepthook = hook


def discovered_catalog() -> Any:
    """The tap's own catalog, without leaving its signal handlers installed in this process."""
    with one_run_in_process():
        return json.loads(json.dumps(TapFibank(config={"sandbox": True}).catalog_dict))


GOOD_CATALOG = discovered_catalog()


@dataclass
class Inputs:
    """One generated command line: a settings part and what --state / --catalog name."""

    settings: Any
    state: Any
    catalog: Any
    config_missing: bool

    def argv(self, folder: Path, bank: Sandbox) -> list[str]:
        config: Any = self.settings
        if isinstance(config, dict):  # the bank's address and login, as the user would give them
            config = {**config, "base_url": bank.base_url, "username": "demo", "password": "demo"}
            config["max_retries"] = 0
        argv = ["--config", write(folder / "config.json", MISSING if self.config_missing else config)]
        for option, content in (("--state", self.state), ("--catalog", self.catalog)):
            if content is not None:
                argv += [option, write(folder / f"{option[2:]}.json", content)]
        return argv


def write(path: Path, content: Any) -> str:
    path.unlink(missing_ok=True)
    if content is MISSING:
        return str(path)
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return str(path)


INPUTS = st.builds(
    Inputs,
    settings=settings_part(),
    state=file_content(GOOD_STATE, optional=True),
    catalog=file_content(GOOD_CATALOG, optional=True),
    config_missing=st.integers(0, 19).map(lambda n: n == 0),
)


def calls(bank: Sandbox) -> int:
    return sum(bank.counters()["calls"].values())


def assert_contract(code: int, stderr: str, requests: int) -> None:
    """Exit 0 or 2; no traceback; at most one error line; exit 2 sent nothing to the bank."""
    event(f"exit {code}")
    assert code in (0, 2), stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("tap-fibank: error:")]
    assert len(errors) <= 1, errors
    assert (code == 2) == bool(errors), stderr[-3000:]
    if code == 2:
        assert requests == 0, errors


@pytest.fixture(scope="module")
def bank() -> Iterator[Sandbox]:
    with Sandbox(seed=1) as sandbox:
        yield sandbox


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=INPUTS)
def test_generated_files_through_the_entry_function(
    inputs: Inputs, bank: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = inputs.argv(tmp_path, bank)
    before = calls(bank)
    with one_run_in_process(), pytest.raises(SystemExit) as stopped:
        main(argv)
    code = stopped.value.code
    stderr = capsys.readouterr().err
    assert_contract(code if isinstance(code, int) else 0 if code is None else 1, stderr, calls(bank) - before)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=INPUTS)
def test_generated_files_through_the_console_script(inputs: Inputs, bank: Sandbox, tmp_path: Path) -> None:
    argv = inputs.argv(tmp_path, bank)
    before = calls(bank)
    result = subprocess.run(
        [*TAP, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env("TAP_FIBANK_"),
        check=False,
        cwd=tmp_path,
    )
    assert_contract(result.returncode, result.stderr, calls(bank) - before)
