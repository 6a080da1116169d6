"""The tap: its settings, its streams, and how a run starts, ends and fails.

A run logs in once, walks every account of every profile, and ends with one summary line. Every
failure a user can act on ends the run with one clear line and its own exit code (see errors.py);
what was already emitted stays emitted, with a final STATE message that matches it.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream, Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from typing_extensions import override

from tap_fibank.bank.client import BankClient
from tap_fibank.bank.connection import open_client
from tap_fibank.config.checks import check_command_line, check_settings, without_nulls
from tap_fibank.config.settings import SETTINGS
from tap_fibank.errors import (
    ConfigError,
    FibankError,
    SkippedAccountsError,
    StoppedError,
    UndecidedCurrencyError,
    UnexpectedError,
)
from tap_fibank.privacy import SECRETS, install_redaction
from tap_fibank.streams import (
    AccountsStream,
    CustomersStream,
    StatementsStream,
    TransactionsStream,
    needed_fields,
    walking_stream_first,
)
from tap_fibank.walk.ahead import ReadAhead
from tap_fibank.walk.bookmarks import stored_partition
from tap_fibank.walk.plan import WalkSettings
from tap_fibank.walk.run import Run
from tap_fibank.walk.window_cache import WindowCache

if TYPE_CHECKING:
    from types import FrameType

    from fibank_sandbox import Sandbox

LOGGER = logging.getLogger("tap_fibank")


class TapFibank(Tap):
    """Singer tap for the Fibank web bank."""

    name = "tap-fibank"
    message_writer_class = MsgSpecWriter

    # The SDK appends its own settings (stream maps, flattening...) to this dict on first use.
    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._sandbox: Sandbox | None = None
        self._stop_signal: int | None = None
        kwargs["config"] = without_nulls(kwargs.get("config"))
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            problems = "; ".join(str(e) for e in exc.errors) or str(exc)
            msg = f"invalid settings: {problems}"
            raise ConfigError(SECRETS.redact(msg)) from None
        install_redaction()
        check_settings(self.config)
        for stream in self.streams.values():
            walking_stream_first(stream.child_streams)

    @classproperty
    @override
    def _env_var_config(cls) -> dict[str, Any]:
        """The settings of the environment, `password_command` taken as the text it is.

        The SDK would read a text that is not a JSON list as a list split at its commas, with a
        warning; password.py splits it into words itself.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        as_text = {**schema["properties"], "password_command": {"type": ["string", "null"]}}
        return parse_environment_config({**schema, "properties": as_text}, cls._env_var_prefix)

    @override
    def discover_streams(self) -> list[Stream]:
        def run() -> Run:
            return self.run

        return [
            CustomersStream(self, run),
            AccountsStream(self, run),
            TransactionsStream(self, run),
            StatementsStream(self, run),
        ]

    # -- the bank connection ---------------------------------------------------------------

    @cached_property
    def client(self) -> BankClient:
        """The run's one client, logged in on first use."""
        client, self._sandbox = open_client(dict(self.config), pool_size=self.concurrency + 1)
        return client

    @property
    def concurrency(self) -> int:
        """Statement requests in flight at once."""
        return int(self.config.get("max_concurrency", 4))

    @cached_property
    def run(self) -> Run:
        """The run's shared objects, handed to the streams (logged in on first use)."""
        return Run(
            client=self.client,
            executor=ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fibank"),
            settings=WalkSettings.from_config(dict(self.config)),
            check_stop=self.check_stop,
            login=str(self.config.get("login") or self.client.default_login),
            window_cache=WindowCache(wanted=self.streams["statements"].selected),
            ahead=ReadAhead(functools.partial(stored_partition, self.state, self._walking_stream())),
        )

    def _walking_stream(self) -> str:
        """The stream whose bookmarks decide where accounts are walked from."""
        return "transactions" if self.streams["transactions"].selected else "statements"

    # -- the run -------------------------------------------------------------------------------

    # The SDK marks sync_all final, but a run needs both ends: log in before any stream (so a
    # refused password fails at once) and, after all streams, report what was skipped.
    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        try:
            self.client.ensure_logged_in()
            super().sync_all()
        except FibankError:
            # What was emitted stays emitted; say so in a final STATE that matches it.
            self._write_final_state()
            raise
        except Exception as exc:  # a bug: still one line, the same final STATE
            self._write_final_state()
            raise UnexpectedError(exc) from exc
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
        run = self.run
        ibans, customer_ids = self.config.get("ibans") or [], self.config.get("customer_ids") or []
        for entry in run.accounts.unmatched(ibans, customer_ids):
            run.report.skip(f"{entry}, which matches nothing this login lists (a typo?)")
        summary, skipped = run.report.summary()
        if run.report.undecided:
            self.logger.warning("%s", summary)
            raise UndecidedCurrencyError("; ".join(run.report.undecided))
        if skipped and self.config.get("fail_on_skipped_accounts"):
            raise SkippedAccountsError(summary + " (fail_on_skipped_accounts is on)")
        if skipped or run.report.unbalanced or run.report.unverifiable or run.report.served:
            self.logger.warning("%s", summary)
        else:
            self.logger.info("%s", summary)

    def _shutdown(self) -> None:
        # Close the client first: fetches still retrying (a skipped account's prefetched windows)
        # give up at once. Then wait for the workers, so none logs after the summary line; the
        # interpreter would join them at exit anyway.
        if "client" in self.__dict__:
            self.client.close()
        if "run" in self.__dict__:
            self.run.executor.shutdown(wait=True, cancel_futures=True)
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line and a distinct exit code for every known failure."""
    try:
        check_command_line(TapFibank, sys.argv[1:] if argv is None else argv, needed_fields())
        TapFibank.cli(args=argv)
    except FibankError as exc:
        print(f"tap-fibank: error: {SECRETS.redact(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
