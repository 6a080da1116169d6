"""Incremental: the bank calls of a daily run after a full sync, for short and long histories.

For each history length: a sandbox whose today is yesterday serves a full sync (the tap's
defaults, `start_date` that many years back, `end_date` yesterday); then a sandbox one day
later (same seed: the same past, one more day of entries) serves the daily run, started with
the full sync's last STATE. The daily run's statement calls per account are counted by the
sandbox, and its transactions are checked to cover the new day.

    python benchmarks/incremental.py [--years 1 10 33] [--scale 1]

Target: at most two statement calls per account per daily run, whatever the history length.
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
from latency import years_back

TARGET = 2


def main() -> int:
    parser = argparse.ArgumentParser(description="statement calls of a daily run after a full sync")
    parser.add_argument("--years", type=int, nargs="+", default=[1, 10, 33], help="history lengths")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()

    today = sofia_today()
    yesterday = today - dt.timedelta(days=1)
    print(f"machine: {machine_note()}")
    print(stdout_note())
    print(f"full sync through {yesterday}, then the daily run of {today}; {len(GOOD_IBANS)} accounts")
    worst = 0
    ok = True
    for years in args.years:
        start = years_back(yesterday, years)
        config = {
            "username": "demo",
            "password": "demo",
            "ibans": list(GOOD_IBANS),
            "start_date": start.isoformat(),
        }
        with SandboxProcess(scale=args.scale, today=yesterday) as bank:
            full = run_child(
                "full",
                tap_command({**config, "base_url": bank.base_url, "end_date": yesterday.isoformat()}),
                keep_state=True,
                sandbox=bank,
            )
        if full.returncode != 0 or full.last_state is None:
            print(full.stderr[-3000:], file=sys.stderr)
            print(f"FAIL: the full sync exited {full.returncode}")
            return 1
        with SandboxProcess(scale=args.scale, today=today) as bank:
            daily = run_child(
                "daily",
                tap_command(
                    {**config, "base_url": bank.base_url, "end_date": today.isoformat()}, full.last_state
                ),
                keep_state=True,
                sandbox=bank,
            )
        if daily.returncode != 0:
            print(daily.stderr[-3000:], file=sys.stderr)
            print(f"FAIL: the daily run exited {daily.returncode}")
            return 1
        per_account = daily.counters.get("statement_calls", {})
        calls = [per_account.get(iban, 0) for iban in GOOD_IBANS]
        worst = max(worst, *calls)
        ranges = sorted({(r[1][:10], r[2][:10]) for r in daily.counters.get("statement_ranges", [])})
        api = {k: v for k, v in daily.counters["calls"].items() if v}
        walked = {
            p["context"]["iban"]: p.get("walked_through")
            for p in (daily.last_state or {})
            .get("bookmarks", {})
            .get("transactions", {})
            .get("partitions", [])
        }
        reached = all(walked.get(iban) == today.isoformat() for iban in GOOD_IBANS)
        ok = ok and reached
        print(
            f"{years:2d} years from {start}: full sync {full.counters['calls'].get('GetCustBal', 0)} "
            f"statement calls, {full.transactions} transactions, {full.wall:.1f} s"
        )
        print(
            f"   daily run: statement calls per account {calls} (ranges {ranges}), "
            f"{daily.transactions} transactions, all bank calls {api}, bookmarks at {today}: {reached}, "
            f"{daily.wall:.1f} s"
        )
    print(f"machine after: {machine_note()}")
    passed = ok and worst <= TARGET
    print(verdict(passed, f"at most {TARGET} statement calls per account per daily run (worst {worst})"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
