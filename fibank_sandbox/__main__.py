"""``python -m fibank_sandbox`` / ``tap-fibank-sandbox``: run the sandbox bank until Ctrl-C.

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
    "latency": "seconds every login step and API call takes (the sandbox's own work included)",
    "error_rate": "share of API calls answered 500/502/503",
    "rate_limit_rate": "share of API calls answered 429",
    "retry_after": "the Retry-After seconds of a 429 (default 1)",
    "retry_after_date": "a 429's Retry-After as an HTTP date that many seconds ahead, not as seconds",
    "drop_rate": "share of API calls whose connection is closed unanswered",
    "malformed_rate": "share of API calls answered with truncated JSON",
    "token_calls": "a token expires after N API calls",
    "token_seconds": "a token expires after N seconds (default 600)",
    "no_csrf": "the login page lacks its CSRF meta tag",
    "second_factor": "a right password leads to an SMS-code page",
    "truncate_rate": "share of statements with entry rows missing",
    "truncate_window_start": "every statement range starting on this day (YYYY-MM-DD) misses an entry row",
    "late_posting_days": "once, book a back-dated entry N days ago after it was read",
    "hold_statements_after": "statement calls after the Nth wait until the knob is cleared (a test's gate)",
    "entry_timestamp": "every entry row's dateTime is this text (e.g. 9999-12-31T23:59:59-1400)",
    "entry_number": 'every entry row\'s amount (or acBal) is this JSON text (NaN, Infinity, "NaN")',
    "entry_number_field": "which entry field entry_number replaces: amount (default) or acBal",
    "entry_number_window_start": "entry_number only in the statement ranges starting on this day",
    "refuse_long_ranges": "refuse statement ranges over 30 days with 400 (default: answer and count them)",
    "before_opening": "a window wholly before an account opened: summary (default), 500, 400 or empty",
    "summary_rows": "OP/CL/DT/CT rows: full (default), none, counts, amount_only or null_acbal",
    "ignore_range": "answer every statement with the account's whole history",
    "range_slack_days": "answer N days more before FromDate than asked",
    "expiry_answer": "an expired token is answered 401 (default), 403 or login_page (a redirect)",
    "dtkt": "the debit/credit flag: letters (default), missing_signed or unknown",
    "other_iban_acc": "acc holds a second element with another account's statement",
    "cert_status": "the status of the certificate question: 200 (default), 204 or 404",
    "bare_token_redirect": "the token's redirect has no state, no expires_in; /EBank/ no EBank_publicToken",
    "second_factor_input": "the SMS-code field: name (name=otp) or id_only (id=smsCode, no name)",
    "failure_page": "a failed login: spring (302 to ?error, #login-error), in_place, plain_error or unmarked",
    "require_browser_headers": "refuse API calls (403) without the browser's headers",
    "profile_without_id": "getCustQuery lists one more profile, without ibCustomerId",
    "business_accounts_status": "the business profile's account list answers this status (e.g. 403)",
    "failing_window_start": "every statement range starting on this day (YYYY-MM-DD) answers 500",
    "bare_window_start": "a statement range starting on this day (YYYY-MM-DD) answers a bare element",
    "bare_window_mode": "that bare answer: once (default: the first such call only) or always",
    "ccy": "statement elements: sent (default) or absent (no ccy key)",
    "changeover_element": "a converted account's window across 2026: split (default) or mixed (one element)",
    "history": "a converted account's lev history: as_booked (default) or redenominated (in EUR, no ccy)",
    "served_days": "statement ranges starting more than N days before today answer 500 (0: off)",
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
        "--accounts",
        type=int,
        default=0,
        help="N healthy accounts of one year each instead of the demo's six (the many-accounts case)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies the number of entries (40 gives about 900 000)"
    )
    parser.add_argument(
        "--replay",
        metavar="CAPTURE",
        default=None,
        help="answer in the shape of a tap-fibank-doctor capture (same data, the demo login)",
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
    if args.accounts < 0:
        parser.error("--accounts must be 0 (the demo's accounts) or more")
    if args.replay and (args.users != 1 or args.accounts):
        parser.error("--replay serves the demo login's accounts: leave out --users and --accounts")
    return args


def faults_from(args: argparse.Namespace) -> Faults:
    """The knobs given as flags; a bad value is a ValueError that names its flag."""
    faults = Faults()
    for knob in fields(Faults):
        value = getattr(args, knob.name)
        if value is None or value is False:
            continue
        try:
            setattr(faults, knob.name, coerce(knob.name, value))
        except ValueError as error:
            raise ValueError(f"--{knob.name.replace('_', '-')}: {error}") from None
    return faults


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, print where it is, serve until interrupted."""
    args = parse_args(argv)
    try:
        faults = faults_from(args)
    except ValueError as error:
        print(f"tap-fibank-sandbox: error: {error}", file=sys.stderr)
        return 2
    options = {
        "today": args.today,
        "scale": args.scale,
        "faults": faults,
        "port": args.port,
        "host": args.host,
        "users": args.users,
        "accounts": args.accounts,
    }
    sandbox: Sandbox
    if args.replay:
        from .replay import replay_sandbox

        try:
            sandbox = replay_sandbox(args.replay, seed=args.seed, **options)
        except (OSError, ValueError) as error:
            print(f"tap-fibank-sandbox: error: --replay: {error}", file=sys.stderr)
            return 2
    else:
        sandbox = Sandbox(seed=args.seed, **options)
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
        defaults = Faults().as_json()
        active = {k: v for k, v in faults.as_json().items() if v != defaults[k]}
        if active:
            print(f"faults: {active}", flush=True)
        print("control: /_sandbox/truth /_sandbox/counters /_sandbox/faults", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
