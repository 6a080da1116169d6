"""Throughput: the tap's CPU seconds per transaction against the floor script, side by side.

One sandbox process serves both (no latency). The floor (benchmarks/floor.py: requests +
msgspec, no framework) and the tap (`python -m tap_fibank`, default streams and settings) each
read the same accounts and the same 30-day windows; both runs are checked to have asked the bank
for the same statement ranges and to have written identical transaction RECORD lines (apart from
`time_extracted`). CPU = user + system time of the child alone (os.wait4). Rounds alternate
floor and tap; the minimum of each is compared (the least disturbed run on a shared machine).

    python benchmarks/throughput.py [--scale 9] [--rounds 3] [--start-date 1993-02-27]

Target: the tap within 2x of the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    FLOOR,
    GOOD_IBANS,
    UNBUFFERED,
    Run,
    SandboxProcess,
    machine_note,
    run_child,
    sofia_today,
    stdout_note,
    tap_command,
    verdict,
)

TARGET = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description="tap CPU per transaction vs the floor script")
    parser.add_argument("--scale", type=float, default=9.0, help="sandbox scale (9 gives ~200k entries)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--start-date", default="1993-02-27", help="the tap's default: the whole history")
    parser.add_argument("--max-concurrency", type=int, default=None, help="the tap's setting (default 4)")
    parser.add_argument("--unbuffered", action="store_true", help="keep PYTHONUNBUFFERED for the children")
    args = parser.parse_args()
    UNBUFFERED["keep"] = args.unbuffered

    today = sofia_today()
    print(f"machine: {machine_note()}")
    print(stdout_note())
    print(
        f"sandbox: scale {args.scale:g}, seed 1, today {today}; "
        f"{len(GOOD_IBANS)} accounts from {args.start_date}"
    )
    with SandboxProcess(scale=args.scale, today=today) as bank:
        config = {
            "base_url": bank.base_url,
            "username": "demo",
            "password": "demo",
            "ibans": list(GOOD_IBANS),
            "start_date": args.start_date,
            "end_date": today.isoformat(),
        }
        if args.max_concurrency:
            config["max_concurrency"] = args.max_concurrency
        floor_cmd = [
            *FLOOR,
            "--base-url", bank.base_url,
            "--start-date", args.start_date,
            "--end-date", today.isoformat(),
            "--ibans", ",".join(GOOD_IBANS),
        ]  # fmt: skip
        tap_cmd = tap_command(config)
        floors: list[Run] = []
        taps: list[Run] = []
        for round_no in range(1, args.rounds + 1):
            for label, command, runs in (("floor", floor_cmd, floors), ("tap", tap_cmd, taps)):
                run = run_child(label, command, sandbox=bank)
                if run.returncode != 0:
                    print(run.stderr[-3000:], file=sys.stderr)
                    print(f"FAIL: the {label} exited {run.returncode}")
                    return 1
                runs.append(run)
                per = run.cpu / max(run.transactions, 1) * 1e6
                print(
                    f"round {round_no} {label:5}: {run.transactions:7d} transactions, "
                    f"cpu {run.cpu:6.2f} s (user {run.cpu_user:.2f} + sys {run.cpu_sys:.2f}), "
                    f"{per:5.1f} us/transaction, wall {run.wall:5.2f} s, peak RSS {run.max_rss_mb:.0f} MB"
                )

        same_lines = (
            len({r.digest for r in floors + taps}) == 1 and len({r.transactions for r in floors + taps}) == 1
        )
        ranges = {
            r.label: sorted(map(tuple, r.counters.get("statement_ranges", []))) for r in (floors[0], taps[0])
        }
        same_windows = ranges["floor"] == ranges["tap"]
    best_floor, best_tap = min(r.cpu for r in floors), min(r.cpu for r in taps)
    n = taps[0].transactions
    ratio = best_tap / best_floor
    print()
    print(
        f"statement calls: {len(ranges['tap'])} (tap) / {len(ranges['floor'])} (floor), "
        f"same windows: {same_windows}"
    )
    print(f"transaction RECORD lines identical (but time_extracted): {same_lines}")
    print(
        f"floor: {best_floor:.2f} s CPU = {best_floor / n * 1e6:.1f} us/transaction "
        f"(median {statistics.median(r.cpu for r in floors):.2f} s)"
    )
    print(
        f"tap:   {best_tap:.2f} s CPU = {best_tap / n * 1e6:.1f} us/transaction "
        f"(median {statistics.median(r.cpu for r in taps):.2f} s)"
    )
    median_ratio = statistics.median(r.cpu for r in taps) / statistics.median(r.cpu for r in floors)
    print(f"ratio tap/floor (CPU): {ratio:.2f}x (medians: {median_ratio:.2f}x)")
    print(f"machine after: {machine_note()}")
    ok = ratio <= TARGET and same_lines and same_windows
    print(verdict(ok, f"tap CPU within {TARGET:g}x of the floor on {n} transactions ({ratio:.2f}x)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
