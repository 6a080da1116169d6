"""Doctor: how long `tap-fibank-doctor` takes against a slow bank, and for ten accounts.

The sandbox (its own process) adds `--latency` seconds to every login step and API call. The
doctor reads 3 statement windows per account (4 at a time), the profiles and account lists, one
31-day range and one refused token. The sandbox has 6 accounts; the time for 10 is extrapolated
from the statement calls (the part that grows with accounts), rounds of 4 calls at a time.

    python benchmarks/doctor.py [--latency 0.3]

Target: under a minute for 10 accounts.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, ROOT, SandboxProcess, child_env, machine_note, verdict

TARGET_SECONDS = 60.0
WORKERS = 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per bank call (default 0.3)")
    args = parser.parse_args()
    with SandboxProcess(latency=args.latency) as bank, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.json"
        config.write_text(json.dumps({"base_url": bank.base_url, "username": "demo", "password": "demo"}))
        bank.reset_counters()
        started = time.monotonic()
        command = [PYTHON, "-m", "tap_fibank.doctor", "--config", str(config), "--capture", f"{tmp}/c.json"]
        result = subprocess.run(
            command, cwd=ROOT, env=child_env(), capture_output=True, text=True, check=False
        )
        wall = time.monotonic() - started
        counters = bank.counters()
    calls = counters["calls"]
    statements = calls.get("GetCustBal", 0)
    accounts = len(counters.get("statement_calls", {}))
    per_round = wall / max(1, math.ceil(statements / WORKERS))
    ten = wall + per_round * (math.ceil((10 * 3 + 1) / WORKERS) - math.ceil(statements / WORKERS))
    print(f"doctor against a bank answering in {args.latency:.2f} s: exit {result.returncode}")
    print(f"  {accounts} accounts, {sum(calls.values())} calls ({statements} statements): {wall:.1f} s wall")
    print(f"  10 accounts (extrapolated, {WORKERS} statements at a time): {ten:.1f} s")
    print(f"  {machine_note()}")
    print(
        verdict(
            ten < TARGET_SECONDS and result.returncode == 0, f"10 accounts in under {TARGET_SECONDS:.0f} s"
        )
    )
    return 0 if ten < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
