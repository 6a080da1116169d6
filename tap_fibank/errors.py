"""The tap's error types and the exit code each one ends a run with.

Orchestrators (Meltano, Airflow, Dagster) decide what to do from the exit code alone, so every
failure a user can act on has its own type and code, and its message is one line that names the
problem and the fix. Messages never carry a response body, a password, a token or a cookie.
"""

from __future__ import annotations

from tap_fibank.config.settings import SECRET_SETTINGS


class FibankError(Exception):
    """A failure the user can act on; ends the run with `exit_code` and one line on stderr."""

    exit_code = 1


class ConfigError(FibankError):
    """The settings are wrong; nothing was sent to the bank."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(_hide_secret_values(message))


def _hide_secret_values(message: str) -> str:
    """A message about a secret setting (one `--about` marks secret), replaced whole.

    A schema error quotes the value it refused ("48151623 is not of type 'string' in
    config['password']"), and a value can hold any text, so no split of the message is safe: the
    new message names the setting alone.
    """
    named = [name for name in SECRET_SETTINGS if f"config[{name!r}]" in message]
    if not named:
        return message
    return (
        f"invalid settings: {', '.join(named)} must be a text value (the value given is not "
        "shown); fix it and run again to see any other problem"
    )


class AuthenticationError(FibankError):
    """The bank refused the login; never retried, since five failures lock the user."""

    exit_code = 3


class WrongCredentialsError(AuthenticationError):
    """The bank said the username or password is wrong."""


class UserLockedError(AuthenticationError):
    """The bank said the e-banking user is locked."""


class SecondFactorRequiredError(AuthenticationError):
    """The bank asked for a second factor (SMS code, certificate, mobile confirmation)."""


class BankUnavailableError(FibankError):
    """The bank could not be reached or kept failing after every retry."""

    exit_code = 4


class BankProtocolError(FibankError):
    """The bank answered in a shape the tap does not understand (the site or API changed)."""

    exit_code = 5


class UndecidedCurrencyError(BankProtocolError):
    """The bank names no currency and its balances cannot tell lev from euro: nothing is guessed."""


class LoginPageChangedError(BankProtocolError):
    """An element the login flow depends on is missing from the bank's pages."""


class SkippedAccountsError(FibankError):
    """Some accounts were skipped and `fail_on_skipped_accounts` asks to fail the run."""

    exit_code = 6


class StatementMismatchError(FibankError):
    """A statement window does not add up and `strict_statements` asks to fail the run."""

    exit_code = 7


class StoppedError(FibankError):
    """A termination signal stopped the run at a safe point, after a STATE matching the output."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(
            f"stopped by {name} before the run finished; the last STATE covers every row emitted, "
            "so the next run resumes from there"
        )
        self.exit_code = 128 + signum
