"""Reading the next accounts' newest windows ahead changes nothing but the waiting."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from support.tapruns import run_tap

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import sofia_today

STAMPS = re.compile(r',"(?:time_extracted|run_started_at)":"[^"]*"')


def comparable(stdout: str) -> list[str]:
    return [STAMPS.sub("", line) for line in stdout.splitlines()]


def test_a_daily_run_reading_ahead_writes_exactly_what_a_sequential_walk_writes(tmp_path: Path) -> None:
    start = (sofia_today() - dt.timedelta(days=40)).isoformat()
    with Sandbox(seed=1) as bank:
        base = {"base_url": bank.base_url, "username": "demo", "password": "demo", "max_retries": 0}
        (tmp_path / "full").mkdir()
        full = run_tap(tmp_path / "full", {**base, "start_date": start})
        assert full.returncode == 0, full.stderr[-2000:]
        outputs = []
        for concurrency in (1, 4):
            (tmp_path / f"c{concurrency}").mkdir()
            bank.reset_counters()
            run = run_tap(
                tmp_path / f"c{concurrency}",
                {**base, "start_date": start, "max_concurrency": concurrency},
                full.state,
            )
            assert run.returncode == 0, run.stderr[-2000:]
            calls = bank.counters()["statement_calls"]
            outputs.append((comparable(run.stdout), calls))
    (sequential, calls_1), (ahead, calls_4) = outputs
    assert ahead == sequential
    assert calls_4 == calls_1, "reading ahead asked for a window twice"
    assert any('"stream":"transactions"' in line for line in ahead)
    assert json.loads(ahead[-1])["type"] == "STATE"
