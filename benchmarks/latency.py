"""Latency: a full sync of 5 accounts over 10 years with 100 ms per bank call, against the
sequential estimate.

The sandbox (its own process) adds `--latency` seconds to every login step and API call. The
tap runs with its defaults (max_concurrency 4) and `start_date` ten years back. The sequential
estimate is what a tap that waits for each call in turn would wait at least: the number of bank
calls the run made (login steps included, from the sandbox's counters) times the latency.
`--sequential` also measures the tap with max_concurrency 1, for comparison.

    python benchmarks/latency.py [--latency 0.1] [--years 10] [--scale 1] [--sequential]

Target: under a third of the sequential estimate with the default concurrency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    GOOD_IBANS,
    SandboxProcess,
    machine_note,
    run_child,
    sofia_today,
    stdout_note,
    tap_command,
    verdict,
)

TARGET = 1 / 3


def years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def main() -> int:
    parser = argparse.ArgumentParser(description="full sync wall time vs the sequential estimate")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per bank call")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--max-concurrency", type=int, default=None, help="the tap's setting (default 4)")
    parser.add_argument("--sequential", action="store_true", help="also run with max_concurrency 1")
    args = parser.parse_args()

    today = sofia_today()
    start = years_back(today, args.years)
    print(f"machine: {machine_note()}")
    print(stdout_note())
    print(
        f"sandbox: scale {args.scale:g}, latency {args.latency * 1000:.0f} ms per call; "
        f"{len(GOOD_IBANS)} accounts from {start} to {today}"
    )
    with SandboxProcess(scale=args.scale, today=today, latency=args.latency) as bank:
        config = {
            "base_url": bank.base_url,
            "username": "demo",
            "password": "demo",
            "ibans": list(GOOD_IBANS),
            "start_date": start.isoformat(),
            "end_date": today.isoformat(),
        }
        if args.max_concurrency:
            config["max_concurrency"] = args.max_concurrency
        label = f"max_concurrency {args.max_concurrency or 4}"
        run = run_child(label, tap_command(config), sandbox=bank)
        if run.returncode != 0:
            print(run.stderr[-3000:], file=sys.stderr)
            print(f"FAIL: the tap exited {run.returncode}")
            return 1
        calls = sum(run.counters["calls"].values())
        statements = run.counters["calls"].get("GetCustBal", 0)
        sequential = calls * args.latency
        print(
            f"{label}: {run.transactions} transactions, {calls} bank calls ({statements} statements), "
            f"wall {run.wall:.1f} s, cpu {run.cpu:.1f} s, peak RSS {run.max_rss_mb:.0f} MB"
        )
        print(f"sequential estimate: {calls} calls x {args.latency * 1000:.0f} ms = {sequential:.1f} s")
        if args.sequential:
            config["max_concurrency"] = 1
            slow = run_child("max_concurrency 1", tap_command(config), sandbox=bank)
            same = slow.digest == run.digest and slow.transactions == run.transactions
            print(
                f"max_concurrency 1: wall {slow.wall:.1f} s, cpu {slow.cpu:.1f} s, "
                f"{sum(slow.counters['calls'].values())} bank calls; same RECORD lines: {same}"
            )
    share = run.wall / sequential
    print(f"machine after: {machine_note()}")
    print(f"wall / sequential estimate: {share:.2f} ({sequential / run.wall:.1f}x faster)")
    print(verdict(share < TARGET, f"full sync in under a third of the sequential time ({share:.2f})"))
    return 0 if share < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
