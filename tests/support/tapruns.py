"""Running the real tap as a subprocess, as Meltano does, and reading its Singer output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

TAP = [sys.executable, "-m", "tap_fibank"]


def sandbox_config(bank: Any, start_date: str, **overrides: Any) -> dict[str, Any]:
    """Settings that point the tap at a test's sandbox, as a user would at the bank."""
    config: dict[str, Any] = {
        "base_url": bank.base_url,
        "username": bank.username,
        "password": bank.password,
        "start_date": start_date,
        "max_retries": 1,
    }
    config.update(overrides)
    return config


def broken_iban(bank: Any) -> str:
    """The sandbox account whose statement always answers 500."""
    return next(a.iban for a in bank.accounts if "statement_500" in a.tags)


@dataclass
class TapRun:
    """What one run of the tap printed."""

    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict[str, Any]] = field(default_factory=list)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def state(self) -> dict[str, Any]:
        """The last STATE message: what an orchestrator would store."""
        return self.states[-1] if self.states else {}

    def partitions(self, stream: str = "transactions") -> dict[str, dict[str, Any]]:
        """Bookmarks of a stream, by IBAN."""
        bookmarks = self.state.get("bookmarks", {}).get(stream, {})
        return {p["context"]["iban"]: p for p in bookmarks.get("partitions", [])}


def parse_output(stdout: str) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, Any]]:
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    states: list[dict[str, Any]] = []
    schemas: dict[str, Any] = {}
    for line in stdout.splitlines():
        if not line.strip():
            continue
        message = json.loads(line, parse_float=Decimal)
        kind = message["type"]
        if kind == "RECORD":
            records[message["stream"]].append(message["record"])
        elif kind == "STATE":
            states.append(message["value"])
        elif kind == "SCHEMA":
            schemas[message["stream"]] = message["schema"]
    return records, states, schemas


def run_tap(
    tmp_path: Path,
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    *,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> TapRun:
    """Run `python -m tap_fibank --config ... [--state ...]` to completion."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    config_path.chmod(0o600)  # as a careful user keeps a file with a password (else a warning)
    command = [*TAP, "--config", str(config_path), *args]
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    run = TapRun(result.returncode, result.stdout, result.stderr)
    if "--discover" not in args and (result.returncode == 0 or result.stdout):
        run.records, run.states, run.schemas = parse_output(result.stdout)
    return run
