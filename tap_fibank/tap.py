"""The tap: its settings, its streams, and how a run starts, ends and fails.

A run logs in once, walks every account of every profile, and ends with one summary line. Every
failure a user can act on ends the run with one clear line and its own exit code (see errors.py);
what was already emitted stays emitted, with a final STATE message that matches it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from typing_extensions import override

from tap_fibank.client import BankClient
from tap_fibank.errors import ConfigError, FibankError, SkippedAccountsError, StoppedError
from tap_fibank.inputs import check_command_line, check_settings, without_nulls
from tap_fibank.redact import SECRETS, install_redaction
from tap_fibank.streams import AccountsStream, CustomersStream, StatementsStream, TransactionsStream
from tap_fibank.walk import Step, WindowSummary, summarize
from tap_fibank.windows import MAX_WINDOW_DAYS

if TYPE_CHECKING:
    from types import FrameType

    from tap_fibank.sandbox import Sandbox

DEFAULT_BASE_URL = "https://my.fibank.bg"
BANK_FIRST_DAY = "1993-02-27"
LOGGER = logging.getLogger("tap_fibank")


# The tap's own settings: names, types and descriptions are part of its contract.
SETTINGS = th.PropertiesList(
    th.Property(
        "username",
        th.StringType,
        title="Username",
        description="Your Fibank e-banking username (not needed with `sandbox`).",
    ),
    th.Property(
        "password",
        th.StringType,
        secret=True,
        title="Password",
        description="Your Fibank e-banking password. Tried once per run: the bank "
        "locks a user after five failed attempts.",
    ),
    th.Property(
        "start_date",
        th.DateType,
        default=BANK_FIRST_DAY,
        title="Start date",
        description="First day to read when an account has no bookmark. Default: "
        "1993-02-27, the bank's first day, so a first run gets the whole history.",
    ),
    th.Property(
        "end_date",
        th.DateType,
        title="End date",
        description="Last day to read (default: today in Sofia).",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=366),
        default=7,
        title="Lookback days",
        description="Days before the bookmark read again every run, to catch late and back-dated postings.",
    ),
    th.Property(
        "window_days",
        th.IntegerType(minimum=1, maximum=MAX_WINDOW_DAYS),
        default=30,
        title="Window days",
        description="Days per statement request; the bank refuses more than 30.",
    ),
    th.Property(
        "ibans",
        th.ArrayType(th.StringType),
        title="IBANs",
        description="Only these accounts (default: every account).",
    ),
    th.Property(
        "customer_ids",
        th.ArrayType(th.StringType),
        title="Customer ids",
        description="Only these customer profiles (ibCustomerId; default: all).",
    ),
    th.Property(
        "base_url",
        th.StringType,
        default=DEFAULT_BASE_URL,
        title="Base URL",
        description="The web bank's address. Plain http:// is accepted only for loopback hosts.",
    ),
    th.Property(
        "sandbox",
        th.BooleanType,
        default=False,
        title="Sandbox",
        description="Read the built-in emulator of the bank (started in-process with "
        "its demo login) instead of the real bank. No credentials needed.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(minimum=1, maximum=600),
        default=60,
        title="Request timeout",
        description="Seconds to wait for each answer.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=20),
        default=5,
        title="Max retries",
        description="Retries of a failing call (5xx, 429, timeouts, cut connections) "
        "with exponential backoff; 429 waits as long as Retry-After says.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=16),
        default=4,
        title="Max concurrency",
        description="Statement requests in flight at once, fetched ahead in order.",
    ),
    th.Property(
        "strict_statements",
        th.BooleanType,
        default=False,
        title="Strict statements",
        description="Fail the run (exit 7) when a window does not add up, instead of "
        "warning and reading it again next run.",
    ),
    th.Property(
        "fail_on_skipped_accounts",
        th.BooleanType,
        default=False,
        title="Fail on skipped accounts",
        description="Exit 6 when an account had to be skipped (default: warn, exit 0).",
    ),
)


class TapFibank(Tap):
    """Singer tap for the Fibank web bank."""

    name = "tap-fibank"
    message_writer_class = MsgSpecWriter

    # The SDK appends its own settings (stream maps, flattening...) to this dict on first use.
    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.account_currency: dict[str, str | None] = {}
        self.skipped: list[str] = []
        self.unbalanced_windows: list[tuple[str, str]] = []
        self._claimed: dict[str, str] = {}
        self._stash: dict[str, list[WindowSummary]] = {}
        self._warned: set[str] = set()
        self._sandbox: Sandbox | None = None
        self._stop_signal: int | None = None
        self.run_started_at = dt.datetime.now(dt.timezone.utc).isoformat()
        kwargs["config"] = without_nulls(kwargs.get("config"))
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            problems = "; ".join(str(e) for e in exc.errors) or str(exc)
            msg = f"invalid settings: {problems}"
            raise ConfigError(SECRETS.redact(msg)) from None
        install_redaction()
        for setting in ("start_date", "end_date"):
            _check_date(setting, self.config.get(setting))
        check_settings(self.config)

    @override
    def discover_streams(self) -> list[Stream]:
        return [
            CustomersStream(self),
            AccountsStream(self),
            TransactionsStream(self),
            StatementsStream(self),
        ]

    # -- the bank connection ---------------------------------------------------------------

    @cached_property
    def client(self) -> BankClient:
        """The run's one client, logged in on first use."""
        config = self.config
        if config.get("sandbox"):
            base_url, username, password = self._start_sandbox()
        else:
            base_url = _checked_base_url(str(config.get("base_url") or DEFAULT_BASE_URL))
            username, password = str(config.get("username") or ""), str(config.get("password") or "")
            if not username or not password:
                msg = (
                    "username and password are required (set TAP_FIBANK_USERNAME and "
                    "TAP_FIBANK_PASSWORD), or set sandbox: true to try the tap on the emulator"
                )
                raise ConfigError(msg)
        return BankClient(
            base_url=base_url,
            username=username,
            password=password,
            timeout=float(config.get("request_timeout", 60)),
            max_retries=int(config.get("max_retries", 5)),
            pool_size=self.concurrency + 1,
        )

    def _start_sandbox(self) -> tuple[str, str, str]:
        from tap_fibank.sandbox import Sandbox

        self._sandbox = Sandbox(seed=1)
        self._sandbox.start()
        self.logger.info("Reading the built-in sandbox bank at %s (demo data).", self._sandbox.base_url)
        return self._sandbox.base_url, self._sandbox.username, self._sandbox.password

    @property
    def concurrency(self) -> int:
        """Statement requests in flight at once."""
        return int(self.config.get("max_concurrency", 4))

    @property
    def prefetch_depth(self) -> int:
        """Windows fetched ahead per account: enough to keep every worker busy."""
        return self.concurrency * 2

    @cached_property
    def executor(self) -> ThreadPoolExecutor:
        """The bounded pool that fetches statement windows ahead of the streams."""
        return ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fibank")

    # -- run bookkeeping, used by the streams -------------------------------------------------

    def claim_account(self, iban: str, customer_id: str) -> bool:
        """True the first time an IBAN is seen in this run, so it is read once."""
        return self._claimed.setdefault(iban, customer_id) == customer_id

    def note_customers_listed(self, wanted: set[str], listed: set[str]) -> None:
        """Warn about allow-listed profiles the bank did not list."""
        for missing in sorted(wanted - listed):
            self.logger.warning("Profile %s from customer_ids is not among this login's profiles.", missing)

    def skip(self, what: str) -> None:
        """Record and announce something the run could not read."""
        self.skipped.append(what)
        self.logger.warning("Skipped %s.", what)

    def warn_once(self, key: str, message: str) -> None:
        """A warning that would otherwise repeat for every window."""
        if key not in self._warned:
            self._warned.add(key)
            self.logger.warning("%s", message)

    def open_stash(self, iban: str) -> None:
        """Start keeping an account's windows for the statements stream, if it is selected."""
        if self.streams["statements"].selected:
            self._stash[iban] = []

    def stash_statement(self, iban: str, customer_id: str, step: Step) -> None:
        """Keep a fetched window's totals so the statements stream does not fetch it again."""
        if iban in self._stash:
            self._stash[iban].append(summarize(step, iban, customer_id))

    def take_statements(self, iban: str) -> list[WindowSummary] | None:
        """The windows the transactions stream read for an account, or None if it did not."""
        return self._stash.pop(iban, None)

    # -- the run -------------------------------------------------------------------------------

    # The SDK marks sync_all final, but a run needs both ends: log in before any stream (so a
    # refused password fails at once) and, after all streams, report what was skipped.
    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        self.skipped.clear()
        self._claimed.clear()
        try:
            self.client.ensure_logged_in()
            super().sync_all()
        except FibankError:
            # What was emitted stays emitted; say so in a final STATE that matches it.
            self._write_final_state()
            raise
        finally:
            self._shutdown()
        self._finish()

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SDK writes a STATE from inside the handler and exits 0: a write that can interleave
        # with a record being written, and an exit code that says the run finished. Instead, the
        # walk stops at the next window (check_stop), the final STATE is written by sync_all,
        # and the exit code says which signal stopped it. A second signal stops at once.
        if self._stop_signal is not None:
            super()._handle_termination(signum, frame)
            return
        self._stop_signal = signum
        self.logger.warning("Received %s: stopping after the current window.", signal.Signals(signum).name)

    def check_stop(self) -> None:
        """Raise at a safe point (between windows) once a termination signal has arrived."""
        if self._stop_signal is not None:
            raise StoppedError(self._stop_signal, signal.Signals(self._stop_signal).name)

    def _write_final_state(self) -> None:
        from singer_sdk.singerlib import StateMessage

        self.write_message(StateMessage(value=self.state))

    def _finish(self) -> None:
        doubtful = ""
        if self.unbalanced_windows:
            listed = ", ".join(f"{iban} {window}" for iban, window in self.unbalanced_windows[:5])
            more = len(self.unbalanced_windows) - 5
            doubtful = (
                f"; {len(self.unbalanced_windows)} statement windows did not add up ({listed}"
                f"{f' and {more} more' if more > 0 else ''}) and will be read again next run"
            )
        if self.skipped:
            summary = f"Run finished with {len(self.skipped)} skipped: " + "; ".join(self.skipped)
            if self.config.get("fail_on_skipped_accounts"):
                raise SkippedAccountsError(summary + doubtful + " (fail_on_skipped_accounts is on)")
            self.logger.warning("%s%s", summary, doubtful)
        elif doubtful:
            self.logger.warning("Run finished: every listed account was read%s.", doubtful)
        else:
            self.logger.info("Run finished: every listed account was read.")

    def _shutdown(self) -> None:
        # Close the client first: fetches still retrying (a skipped account's prefetched windows)
        # give up at once. Then wait for the workers, so none logs after the summary line; the
        # interpreter would join them at exit anyway.
        if "client" in self.__dict__:
            self.client.close()
        if "executor" in self.__dict__:
            self.executor.shutdown(wait=True, cancel_futures=True)
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None


def _checked_base_url(url: str) -> str:
    """Refuse to send a password anywhere but over TLS, except to this machine."""
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        msg = f"base_url must look like https://my.fibank.bg, not {url!r}"
        raise ConfigError(msg)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        msg = (
            f"base_url {url!r} uses plain http to a host that is not this machine; the tap sends "
            "your password only over https (plain http is allowed for localhost alone)"
        )
        raise ConfigError(msg)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        msg = f"base_url must be the bank's address only (like https://my.fibank.bg), not {url!r}"
        raise ConfigError(msg)
    return f"{parts.scheme}://{parts.netloc}"


def _check_date(setting: str, value: Any) -> None:
    """JSON Schema's `format: date` is not enforced by the SDK; a typo must not become a crash."""
    if value is None:
        return
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        msg = f"{setting} must be a date like 2024-01-31, not {value!r}"
        raise ConfigError(msg) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line and a distinct exit code for every known failure."""
    try:
        check_command_line(TapFibank, sys.argv[1:] if argv is None else argv)
        TapFibank.cli(args=argv)
    except FibankError as exc:
        print(f"tap-fibank: error: {SECRETS.redact(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
