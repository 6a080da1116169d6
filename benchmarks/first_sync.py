"""First sync from 1993 against a bank that fails every window before an account existed.

The tap's defaults (`start_date` 1993-02-27, `max_retries` 5): against the sandbox with
`before_opening` set to 500 (or 400, or `empty`), all six accounts, the always-failing one
included. Prints the wall time, the statement calls, and whether every entry arrived once.

    python benchmarks/first_sync.py [--before-opening 500 400 empty summary]

Target: under 3 minutes on 2 cores, with every entry of every healthy account.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SandboxProcess, machine_note, run_child, stdout_note, tap_command, verdict

TARGET_SECONDS = 180.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description="a first sync from 1993 against a bank failing early windows"
    )
    parser.add_argument("--before-opening", nargs="+", default=["500", "400", "empty"])
    args = parser.parse_args()
    print(f"machine: {machine_note()}")
    print(stdout_note())
    ok = True
    for mode in args.before_opening:
        with SandboxProcess(before_opening=mode) as bank:
            truth = bank.truth()
            expected = sum(len(a["entries"]) for a in truth["accounts"] if "statement_500" not in a["tags"])
            config = {"base_url": bank.base_url, "username": "demo", "password": "demo"}
            run = run_child(mode, tap_command(config), sandbox=bank)
        calls = run.counters["calls"]["GetCustBal"]
        complete = run.returncode == 0 and run.transactions == expected
        fast = run.wall < TARGET_SECONDS
        ok = ok and complete and fast
        print(
            f"before_opening={mode}: {run.wall:.1f} s wall, {run.cpu_user + run.cpu_sys:.1f} s CPU, "
            f"{calls} statement calls, {run.transactions} of {expected} entries, exit {run.returncode}"
        )
        print(verdict(complete and fast, f"under {TARGET_SECONDS:.0f} s with every entry"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
