"""Throughput: the tap's CPU seconds per transaction against two floors, side by side.

One sandbox process serves all three (no latency). The floor (benchmarks/floor.py: requests +
msgspec, no framework, exact amounts) writes the tap's own transaction RECORD lines; the raw floor
(benchmarks/raw_floor.py: orjson, each entry's fields copied as they come, no typing) writes as
many lines with nothing done to the data. The tap (`python -m tap_fibank`, default streams and
settings) reads the same accounts and the same 30-day windows; all three are checked to have
asked the bank for the same statement ranges, the floor and the tap to have written identical
transaction RECORD lines (apart from `time_extracted`), the raw floor as many. CPU = user +
system time of the child alone (os.wait4). Rounds alternate floor, raw floor and tap; the minimum
of each is compared (the least disturbed run on a shared machine).

    python benchmarks/throughput.py [--scale 9] [--rounds 3] [--start-date 1993-02-27]

Targets: the tap within 1.3x of the floor and 2.2x of the raw floor.
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
    RAW_FLOOR,
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

TARGETS = {"floor": 1.3, "raw": 2.2}


def commands(bank: SandboxProcess, args: argparse.Namespace, today: str) -> dict[str, list[str]]:
    """The three programs, reading the same accounts and windows of the same sandbox."""
    config = {
        "base_url": bank.base_url,
        "username": "demo",
        "password": "demo",
        "ibans": list(GOOD_IBANS),
        "start_date": args.start_date,
        "end_date": today,
    }
    if args.max_concurrency:
        config["max_concurrency"] = args.max_concurrency
    floor_args = [
        "--base-url", bank.base_url,
        "--start-date", args.start_date,
        "--end-date", today,
        "--ibans", ",".join(GOOD_IBANS),
    ]  # fmt: skip
    return {"floor": [*FLOOR, *floor_args], "raw": [*RAW_FLOOR, *floor_args], "tap": tap_command(config)}


def measure(bank: SandboxProcess, programs: dict[str, list[str]], rounds: int) -> dict[str, list[Run]]:
    """Rounds of every program in turn; a failed run stops the benchmark."""
    runs: dict[str, list[Run]] = {label: [] for label in programs}
    for round_no in range(1, rounds + 1):
        for label, command in programs.items():
            run = run_child(label, command, sandbox=bank)
            if run.returncode != 0:
                print(run.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"FAIL: the {label} exited {run.returncode}")
            runs[label].append(run)
            per = run.cpu / max(run.transactions, 1) * 1e6
            print(
                f"round {round_no} {label:5}: {run.transactions:7d} transactions, "
                f"cpu {run.cpu:6.2f} s (user {run.cpu_user:.2f} + sys {run.cpu_sys:.2f}), "
                f"{per:5.1f} us/transaction, wall {run.wall:5.2f} s, peak RSS {run.max_rss_mb:.0f} MB"
            )
    return runs


def report(runs: dict[str, list[Run]]) -> bool:
    """Print the checks and the ratios; True when both targets are met on the same data."""
    every = [r for label in runs for r in runs[label]]
    same_count = len({r.transactions for r in every}) == 1
    same_lines = len({r.digest for r in runs["floor"] + runs["tap"]}) == 1 and same_count
    ranges = {
        label: sorted(map(tuple, rs[0].counters.get("statement_ranges", []))) for label, rs in runs.items()
    }
    same_windows = ranges["floor"] == ranges["tap"] == ranges["raw"]
    n = runs["tap"][0].transactions
    print()
    calls = " / ".join(f"{len(ranges[label])} ({label})" for label in runs)
    print(f"statement calls: {calls}, same windows: {same_windows}")
    print(f"transaction RECORD lines identical, floor and tap (but time_extracted): {same_lines}")
    print(f"as many transaction lines from the raw floor: {same_count}")
    best = {label: min(r.cpu for r in rs) for label, rs in runs.items()}
    median = {label: statistics.median(r.cpu for r in rs) for label, rs in runs.items()}
    for label in runs:
        print(
            f"{label + ':':6} {best[label]:.2f} s CPU = {best[label] / n * 1e6:.1f} us/transaction "
            f"(median {median[label]:.2f} s)"
        )
    ok = same_lines and same_windows
    for label, target in TARGETS.items():
        ratio, median_ratio = best["tap"] / best[label], median["tap"] / median[label]
        print(f"ratio tap/{label} (CPU): {ratio:.2f}x (medians: {median_ratio:.2f}x), target {target:g}x")
        ok = ok and ratio <= target
    print(f"machine after: {machine_note()}")
    ratios = ", ".join(f"{best['tap'] / best[label]:.2f}x {label}" for label in TARGETS)
    print(
        verdict(
            ok, f"tap CPU within {TARGETS['floor']:g}x / {TARGETS['raw']:g}x on {n} transactions ({ratios})"
        )
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="tap CPU per transaction vs the two floor scripts")
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
        runs = measure(bank, commands(bank, args, today.isoformat()), args.rounds)
    return 0 if report(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
