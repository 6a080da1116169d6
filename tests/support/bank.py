"""The sandbox bank as the tap's tests use it: its constants, a runner that keeps every run, the truth.

The fault matrix (tap/test_bank_faults.py) and its secret check (leaks.py), the exit codes,
the variants, bookmarks and state editing all run the tap against a sandbox the same way and
compare with the bank's truth the same way; these are those shared pieces.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fibank_sandbox import Entry, Faults, Sandbox
from support.tapruns import TAP, TapRun, broken_iban, parse_output, run_tap
from tap_fibank.bank.clock import sofia_today

__all__ = [
    "BUSY",
    "LOOKBACK",
    "PERSON",
    "RECENT",
    "SUMMARY",
    "TODAY",
    "Runner",
    "SecretBank",
    "SlowStatement",
    "UnreadableFrom",
    "api_calls",
    "assert_equals_truth",
    "assert_one_error_line",
    "assert_summary_is_last",
    "broken_iban",
    "error_lines",
    "key",
    "log_lines",
    "retry_warnings",
    "truth",
    "upsert",
]

KILL_WATCHDOG_SECONDS = 300  # a run to be killed that never reaches its point is killed anyway
GATE_WAIT_POLLS = 4000  # 0.05 s apart: a run that has not reached the gate by then never will
TODAY = sofia_today()
RECENT = TODAY - dt.timedelta(days=45)  # two 30-day windows per account: runs take about a second
BUSY = "BG47FINV91501017006644"  # the person's EUR current account, ~2 entries a day
PERSON = "5896443"
LOOKBACK = 7  # the tap's default lookback_days
ERROR_PREFIX = "tap-fibank: error:"
SUMMARY = "Run finished"


class SecretBank(Sandbox):
    """The sandbox with a password that cannot turn up in an output by chance.

    It holds characters that form-encoding changes, so both its raw and its encoded form are
    searched for. (ASCII only: the sandbox compares passwords with `secrets.compare_digest`, which
    refuses non-ASCII text.)
    """

    password = "Kz9+q&t%7=Wx!pQ"


# --- running the tap and reading what it did -------------------------------------------------


@dataclass
class Runner:
    """Runs the tap against one bank, remembering every run, for the matrix and its secret check."""

    bank: Sandbox
    tmp_path: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: list[TapRun] = field(default_factory=list)
    passwords: set[str] = field(default_factory=set)

    def config(self, **overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "base_url": self.bank.base_url,
            "username": self.bank.username,
            "password": self.bank.password,
            "start_date": RECENT.isoformat(),
            "max_retries": 2,
        }
        config.update(overrides)
        self.passwords.add(str(config["password"]))
        return config

    def _directory(self) -> Path:
        directory = self.tmp_path / f"run{len(self.runs)}"
        directory.mkdir()
        return directory

    def run(self, state: dict[str, Any] | None = None, **overrides: Any) -> TapRun:
        """One run to its end."""
        run = run_tap(self._directory(), self.config(**overrides), state, env=self.env, timeout=120)
        self.runs.append(run)
        return run

    def _command(self, state: dict[str, Any] | None, overrides: dict[str, Any]) -> tuple[Path, list[str]]:
        """A run's directory, with its config (and state) written, and the command that runs it."""
        directory = self._directory()
        config_path = directory / "config.json"
        config_path.write_text(json.dumps(self.config(**overrides)))
        command = [*TAP, "--config", str(config_path)]
        if state is not None:
            (directory / "state.json").write_text(json.dumps(state))
            command += ["--state", str(directory / "state.json")]
        return directory, command

    def run_until_killed(
        self, sig: signal.Signals, after_records: int, state: dict[str, Any] | None = None, **overrides: Any
    ) -> TapRun:
        """Start a run and send `sig` once it has emitted a checkpoint and `after_records` records."""
        directory, command = self._command(state, overrides)
        stderr_path = directory / "stderr.txt"
        with stderr_path.open("w") as stderr:  # a file, not a pipe: DEBUG logs would fill a pipe
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, **self.env}
            )
            assert process.stdout is not None
            # The read loop blocks while the tap is silent: a hung tap is killed, not waited for.
            watchdog = threading.Timer(KILL_WATCHDOG_SECONDS, process.kill)
            watchdog.start()
            lines: list[str] = []
            try:
                records = checkpoints = 0
                for line in process.stdout:
                    lines.append(line)
                    records += line.startswith('{"type":"RECORD","stream":"transactions"')
                    checkpoints += line.startswith('{"type":"STATE"') and '"walked_through"' in line
                    if checkpoints and records >= after_records:
                        break
                process.send_signal(sig)
                rest = process.stdout.read()  # what the pipe and the reader's buffer still hold
                process.wait()
            finally:
                watchdog.cancel()
        stdout = "".join(lines) + rest
        (directory / "stdout.txt").write_text(stdout)
        complete = "".join(line for line in stdout.splitlines(keepends=True) if line.endswith("\n"))
        run = TapRun(process.returncode, stdout, stderr_path.read_text())
        run.records, run.states, run.schemas = parse_output(complete)
        self.runs.append(run)
        return run

    def run_signalled_at_the_gate(
        self, sig: signal.Signals, held_after: int, state: dict[str, Any] | None = None, **overrides: Any
    ) -> TapRun:
        """Start a run, send `sig` once a statement call waits at the sandbox's gate, then open it.

        The gate (`hold_statements_after`) holds every statement call after the first `held_after`,
        so the signal lands mid-run however fast the machine is; opening it lets the run reach the
        safe point where it stops.
        """
        self.bank.faults.hold_statements_after = held_after
        _, command = self._command(state, overrides)
        env = {**os.environ, **self.env}
        pipe = subprocess.PIPE
        process = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, env=env)
        watchdog = threading.Timer(KILL_WATCHDOG_SECONDS, process.kill)
        watchdog.start()
        outcome: list[tuple[str, str]] = []
        reader = threading.Thread(target=lambda: outcome.append(process.communicate()), daemon=True)
        reader.start()
        try:
            waited = 0
            while self.bank.counters()["faults"]["held"] < 1:
                assert process.poll() is None, "the run ended before it reached the gate"
                assert waited < GATE_WAIT_POLLS, "the run never reached the gate"
                waited += 1
                time.sleep(0.05)
            process.send_signal(sig)
        finally:
            self.bank.faults.hold_statements_after = None
            reader.join(timeout=KILL_WATCHDOG_SECONDS)
            watchdog.cancel()
        stdout, stderr = outcome[0]
        run = TapRun(process.returncode, stdout, stderr)
        run.records, run.states, run.schemas = parse_output(stdout)
        self.runs.append(run)
        return run


def key(record: dict[str, Any]) -> tuple[str, int]:
    """A transaction's primary key."""
    return (record["iban"], record["entry_id"])


def truth(
    bank: Sandbox, start: dt.date = RECENT, ibans: set[str] | None = None
) -> dict[tuple[str, int], Entry]:
    """The entries a run from `start` can read, by primary key (the always-failing account left out)."""
    broken = broken_iban(bank)
    return {
        (iban, e.entry_id): e
        for iban, entries in bank.truth().items()
        if iban != broken and (ibans is None or iban in ibans)
        for e in entries
        if e.booking_date >= start
    }


def assert_equals_truth(
    records: list[dict[str, Any]], want: dict[tuple[str, int], Entry], *, subset: bool = False
) -> None:
    """Every entry once, none extra, each with the bank's amount, date, balance and currency.

    With `subset`, the records need not cover every entry (a next run reads the lookback only).
    """
    keys = [key(r) for r in records]
    assert len(keys) == len(set(keys)), "an entry was emitted twice in one run"
    assert set(keys) <= set(want) if subset else set(keys) == set(want)
    for record in records:
        entry = want[key(record)]
        assert record["signed_amount"] == entry.signed_amount
        assert record["balance_after"] == entry.balance_after
        assert record["booking_date"] == entry.booking_date.isoformat()
        assert record["currency"] == entry.currency, (record["entry_id"], record["booking_date"])


def upsert(*runs: TapRun) -> dict[tuple[str, int], dict[str, Any]]:
    """What a target holds after loading the runs in order: one row per primary key, last wins."""
    table: dict[tuple[str, int], dict[str, Any]] = {}
    for run in runs:
        for record in run.records["transactions"]:
            table[key(record)] = record
    return table


def error_lines(run: TapRun) -> list[str]:
    """The `tap-fibank: error:` lines of a run (a failed run has exactly one)."""
    return [line for line in run.stderr.splitlines() if line.startswith(ERROR_PREFIX)]


def assert_one_error_line(run: TapRun, code: int, *fragments: str) -> str:
    """Exit `code`, exactly one `tap-fibank: error:` line naming the fragments, no traceback."""
    assert run.returncode == code, run.stderr[-3000:]
    lines = error_lines(run)
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in run.stderr
    assert not run.records.get("transactions")
    return lines[0]


def retry_warnings(run: TapRun, endpoint: str) -> list[tuple[str, int, int, float]]:
    """(problem, retry number, of, seconds) of each retry warning about `endpoint`."""
    pattern = re.compile(rf"\| {endpoint}: (.+); retry (\d+) of (\d+) in ([\d.]+) s$")
    return [
        (m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4)))
        for line in run.stderr.splitlines()
        if (m := pattern.search(line))
    ]


def log_lines(run: TapRun) -> list[str]:
    """The log lines (the SDK's format: `time | LEVEL | logger | message`)."""
    return [line for line in run.stderr.splitlines() if line.count(" | ") >= 3]


def assert_summary_is_last(run: TapRun) -> str:
    """A run ends with one summary line; nothing is logged after it."""
    summaries = [line for line in log_lines(run) if SUMMARY in line]
    assert len(summaries) == 1, summaries
    assert log_lines(run)[-1] == summaries[0], log_lines(run)[-3:]
    return summaries[0]


def api_calls(counters: dict[str, Any]) -> int:
    """The account API calls a run made (the statement lists left out)."""
    return sum(counters["calls"][c] for c in ("getCustQuery", "getFilteredAccounts", "GetCustBal"))


# --- faults at an exact call, driven by the sandbox's own counters ---------------------------------


class SlowStatement(Faults):
    """The `nth` GetCustBal call answers after `seconds`; every other request is prompt."""

    def __init__(self, bank: Sandbox, nth: int, seconds: float) -> None:
        super().__init__()
        self._bank, self._nth, self._seconds = bank, nth, seconds

    @property  # type: ignore[override]
    def latency(self) -> float:
        return self._seconds if self._bank.counters()["calls"]["GetCustBal"] == self._nth else 0.0

    @latency.setter
    def latency(self, value: float) -> None:
        pass


class UnreadableFrom(Faults):
    """From the `nth` GetCustBal call on, every API answer is cut in half (invalid JSON)."""

    def __init__(self, bank: Sandbox, nth: int) -> None:
        super().__init__()
        self._bank, self._nth = bank, nth

    @property  # type: ignore[override]
    def malformed_rate(self) -> float:
        return 1.0 if self._bank.counters()["calls"]["GetCustBal"] >= self._nth else 0.0

    @malformed_rate.setter
    def malformed_rate(self, value: float) -> None:
        pass
