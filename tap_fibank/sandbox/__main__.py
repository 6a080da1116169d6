"""``python -m tap_fibank.sandbox`` / ``tap-fibank-sandbox``: run the sandbox bank until Ctrl-C.

The first line printed is the base URL and the second the demo login, so a script can start the
sandbox as a subprocess and read where it listens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from dataclasses import fields
from types import FrameType

from . import Sandbox
from .faults import Faults, coerce

FAULT_HELP = {
    "latency": "seconds added to every login step and API call",
    "error_rate": "share of API calls answered 500/502/503",
    "rate_limit_rate": "share of API calls answered 429",
    "retry_after": "the Retry-After seconds of a 429 (default 1)",
    "drop_rate": "share of API calls whose connection is closed unanswered",
    "malformed_rate": "share of API calls answered with truncated JSON",
    "token_calls": "a token expires after N API calls",
    "token_seconds": "a token expires after N seconds (default 600)",
    "no_csrf": "the login page lacks its CSRF meta tag",
    "second_factor": "a right password leads to an SMS-code page",
    "truncate_rate": "share of statements with entry rows missing",
    "late_posting_days": "once, book a back-dated entry N days ago after it was read",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options: where to listen, which data, and every fault knob."""
    parser = argparse.ArgumentParser(
        prog="tap-fibank-sandbox", description="Emulated Fibank web bank for tests."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="the bank's today, YYYY-MM-DD (default: today in Sofia)",
    )
    parser.add_argument(
        "--users", type=int, default=1, help="logins, each with its own profiles: demo/demo, demo2/demo2, ..."
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies the number of entries (40 gives about 900 000)"
    )
    for knob in fields(Faults):
        flag = "--" + knob.name.replace("_", "-")
        if knob.type in ("bool", bool):
            parser.add_argument(flag, action="store_true", dest=knob.name, help=FAULT_HELP[knob.name])
        else:
            parser.add_argument(flag, dest=knob.name, default=None, metavar="N", help=FAULT_HELP[knob.name])
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error("--users must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, print where it is, serve until interrupted."""
    args = parse_args(argv)
    faults = Faults()
    for knob in fields(Faults):
        value = getattr(args, knob.name)
        if value is not None and value is not False:
            setattr(faults, knob.name, coerce(knob.name, value))
    sandbox = Sandbox(
        seed=args.seed,
        today=args.today,
        scale=args.scale,
        faults=faults,
        port=args.port,
        host=args.host,
        users=args.users,
    )
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    with sandbox:
        print(sandbox.base_url, flush=True)
        print(
            f"login: {sandbox.username} / {sandbox.password}  (seed {sandbox.seed}, "
            f"today {sandbox.today}, scale {sandbox.scale:g})",
            flush=True,
        )
        for login in sandbox.logins[1:]:
            print(f"login: {login.username} / {login.password}", flush=True)
        active = {
            k: v for k, v in faults.as_json().items() if v not in (None, False, 0, 0.0) and k != "retry_after"
        }
        if active:
            print(f"faults: {active}", flush=True)
        print("control: /_sandbox/truth /_sandbox/counters /_sandbox/faults", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
