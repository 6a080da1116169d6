"""Memory: the tap's peak RSS on full syncs of ~200k and ~1M transactions.

A window of the bank's answer is the unit the tap holds: it needs a whole window to sort and
prove it. The tap never holds more than its prefetch depth of windows (2 x max_concurrency per
account) plus those being fetched, so its memory follows the entries per window, not the
length of the history. Two comparisons show both:

- the same bank (scale 46, ~1M entries), a run from `--short-start` (~200k transactions) and
  the full history (~1M): same windows, 5x the transactions: flat;
- a 5x denser bank (scale 9 -> 46, ~200k -> ~1M): every window 5x bigger.

Each run is its own process: the peak RSS is its own (os.wait4 ru_maxrss), and RSS is sampled
from /proc while it runs, to show it level from the first windows to the last.

    python benchmarks/memory.py [--short-start 2024-09-01] [--skip-dense]

Scale 46 needs ~1 GB and ~10 s for the sandbox to start. Target: peak RSS under 150 MB at 1M
transactions, and flat (within 10%) between 200k and 1M transactions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Run,
    SandboxProcess,
    machine_note,
    run_child,
    sofia_today,
    stdout_note,
    tap_command,
    verdict,
)

LIMIT_MB = 150.0
FLAT = 0.10


def measure(bank: SandboxProcess, label: str, config: dict[str, Any]) -> Run:
    run = run_child(
        label, tap_command({**config, "base_url": bank.base_url}), sandbox=bank, sample_every=0.25
    )
    if run.returncode != 0:
        print(run.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"FAIL: the tap exited {run.returncode}")
    quarters = []
    for share in (0.25, 0.5, 0.75, 1.0):
        upto = [rss for n, rss in run.rss_samples if n <= share * run.transactions]
        quarters.append(f"{max(upto):.0f}" if upto else "-")
    print(
        f"{label}: {run.transactions} transactions, peak RSS {run.max_rss_mb:.1f} MB "
        f"(highest sampled by 25/50/75/100% of the rows: {' / '.join(quarters)} MB), "
        f"cpu {run.cpu:.1f} s, wall {run.wall:.1f} s"
    )
    return run


def growth(small: Run, large: Run) -> float:
    return (large.max_rss_mb - small.max_rss_mb) / small.max_rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(description="peak RSS of full syncs at ~200k and ~1M transactions")
    parser.add_argument("--scale", type=float, default=46.0, help="the ~1M bank")
    parser.add_argument("--small-scale", type=float, default=9.0, help="the ~200k bank (denser comparison)")
    parser.add_argument(
        "--short-start", default="2024-09-01", help="start_date of the ~200k run on the ~1M bank"
    )
    parser.add_argument("--skip-dense", action="store_true", help="skip the scale comparison")
    parser.add_argument("--max-concurrency", type=int, default=None, help="the tap's setting (default 4)")
    args = parser.parse_args()

    today = sofia_today()
    config: dict[str, Any] = {
        "username": "demo",
        "password": "demo",
        "end_date": today.isoformat(),
        "max_retries": 0,  # the account that answers 500 is skipped at once
    }
    if args.max_concurrency:
        config["max_concurrency"] = args.max_concurrency
    print(f"machine: {machine_note()}")
    print(stdout_note())
    with SandboxProcess(scale=args.scale, today=today) as bank:
        short = measure(
            bank, f"scale {args.scale:g} from {args.short_start}", {**config, "start_date": args.short_start}
        )
        full = measure(bank, f"scale {args.scale:g} whole history", config)
    if not args.skip_dense:
        with SandboxProcess(scale=args.small_scale, today=today) as bank:
            sparse = measure(bank, f"scale {args.small_scale:g} whole history", config)
    print(f"machine after: {machine_note()}")
    same_bank = growth(short, full)
    print(
        f"same bank: {short.max_rss_mb:.1f} MB at {short.transactions} -> {full.max_rss_mb:.1f} MB at "
        f"{full.transactions} transactions ({same_bank:+.1%})"
    )
    if not args.skip_dense:
        print(
            f"5x denser windows: {sparse.max_rss_mb:.1f} MB at {sparse.transactions} "
            f"(scale {args.small_scale:g}) -> {full.max_rss_mb:.1f} MB at {full.transactions} "
            f"(scale {args.scale:g}) ({growth(sparse, full):+.1%})"
        )
    ok = full.max_rss_mb < LIMIT_MB and abs(same_bank) <= FLAT
    print(
        verdict(
            ok,
            f"peak RSS under {LIMIT_MB:.0f} MB at {full.transactions} transactions "
            f"({full.max_rss_mb:.1f} MB) and flat within {FLAT:.0%} from {short.transactions} "
            f"({same_bank:+.1%})",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
