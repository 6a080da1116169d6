"""`tap-fibank-doctor --config CONFIG [--capture FILE]`, also `python -m tap_fibank.doctor`.

The settings and environment variables are the tap's, validated by the tap itself; the rules
too: one password POST, never retried; no RECORD, no STATE; secrets never printed.

Contract: the exit code is the tap's: 0 (the tap works, perhaps with accounts it cannot
verify), 2 bad settings (nothing sent), 3 login refused, 4 bank unreachable, 5 the tap will fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap_fibank.bank.clock import sofia_today
from tap_fibank.bank.connection import bank_login
from tap_fibank.doctor.capture import write_capture
from tap_fibank.doctor.checks import run_checks
from tap_fibank.doctor.collect import collect
from tap_fibank.doctor.followup import follow_up
from tap_fibank.doctor.probe import Probe
from tap_fibank.doctor.report import lines, verdict
from tap_fibank.errors import ConfigError, FibankError
from tap_fibank.privacy import SECRETS, exposed_secret, install_redaction
from tap_fibank.tap import TapFibank

if TYPE_CHECKING:
    from fibank_sandbox import Sandbox


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """`--config` as the tap takes it (a file, or `ENV` for the environment alone)."""
    parser = argparse.ArgumentParser(
        prog="tap-fibank-doctor",
        description="Check what the bank answers against what tap-fibank assumes; writes no RECORD or STATE.",
    )
    parser.add_argument("--config", action="append", default=[], help="the tap's settings file (or ENV)")
    parser.add_argument("--capture", type=Path, help="write a redacted capture of the answers here")
    return parser.parse_args(argv)


def settings(paths: list[str]) -> dict[str, Any]:
    """The tap's validated settings: files, then TAP_FIBANK_* from the environment."""
    given: dict[str, Any] = {}
    for path in (p for p in paths if p != "ENV"):
        if not Path(path).is_file():
            msg = f"--config {path}: no such file"
            raise ConfigError(msg)
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"--config {path}: cannot read it as JSON ({type(exc).__name__})"
            raise ConfigError(msg) from None
        if not isinstance(loaded, dict):
            msg = f"--config {path}: expected a JSON object of settings"
            raise ConfigError(msg)
        exposed = exposed_secret(Path(path)) if loaded.get("password") else None
        if exposed:
            print(f"tap-fibank-doctor: warning: {exposed}", file=sys.stderr, flush=True)
        given.update(loaded)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    tap = TapFibank(config=given, parse_env_config=True, validate_config=True)
    # The SDK's tap takes over SIGTERM to end a sync at a safe point; the doctor has none.
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    return dict(tap.config)


def run(args: argparse.Namespace) -> int:
    """Log in, read, check, report; the exit code says whether the tap would work."""
    config = settings(args.config)
    sandbox: Sandbox | None = None
    if config.get("sandbox"):
        from fibank_sandbox import Sandbox

        sandbox = Sandbox(seed=1).start()
        base_url, username, password = sandbox.base_url, sandbox.username, sandbox.password
    else:
        base_url, username, password = bank_login(config)
    SECRETS.add(password)
    SECRETS.add(username)
    probe = Probe(base_url, float(config.get("request_timeout", 60)))
    try:
        probe.log_in(username, password)
        today = sofia_today()
        if config.get("end_date"):
            today = min(today, dt.date.fromisoformat(str(config["end_date"])))
        seen = collect(probe, today, dt.date.fromisoformat(str(config["start_date"])))
        follow_up(probe, seen)
    finally:
        probe.close()
        if sandbox is not None:
            sandbox.stop()
    findings = run_checks(seen)
    result = verdict(findings)
    for line in lines(findings, result):
        print(SECRETS.redact(line), flush=True)
    if args.capture is not None:
        write_capture(args.capture, seen, findings, result)
        print(f"capture written to {args.capture}: check it before you share it", flush=True)
    return result.exit_code


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line and the tap's exit code for every known failure."""
    install_redaction()
    try:
        code = run(parse_args(argv))
    except FibankError as exc:
        print(f"tap-fibank-doctor: error: {SECRETS.redact(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(code)


if __name__ == "__main__":
    main()
