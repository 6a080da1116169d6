"""``python -m fibank_sandbox``: prints where it listens, serves, takes fault flags, stops."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests
from conftest import sandbox_login


def test_the_cli_prints_its_url_and_login_and_serves_the_bank() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fibank_sandbox",
            "--port",
            "0",
            "--seed",
            "1",
            "--today",
            "2026-03-15",
            "--latency",
            "0.01",
            "--token-calls",
            "50",
            "--second-factor",
        ],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        login_line = process.stdout.readline()
        assert base_url.startswith("http://127.0.0.1:")
        assert "demo / demo" in login_line and "2026-03-15" in login_line
        faults = requests.get(f"{base_url}/_sandbox/faults", timeout=5).json()
        assert faults["latency"] == 0.01 and faults["token_calls"] == 50
        assert faults["second_factor"] is True and faults["error_rate"] == 0.0
        requests.post(f"{base_url}/_sandbox/faults", json={"second_factor": False}, timeout=5)
        assert sandbox_login(base_url).api("getCustQuery").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
