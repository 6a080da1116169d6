"""Keeping secrets and account numbers out of logs.

The SDK's `secret=True` only annotates a setting; it redacts nothing. Third-party loggers
(urllib3 at DEBUG prints every request line, with the IBAN in the query) bypass the tap's own
care, so a filter on the root handlers rewrites every record before it is written.
"""

from __future__ import annotations

import logging
import re
import threading

_IBAN = re.compile(r"\b([A-Z]{2}\d{2})((?:\s?[A-Z0-9]){8,30})\b")


def mask_iban(iban: str) -> str:
    """Show only the last four characters, enough for a person to tell accounts apart."""
    compact = iban.replace(" ", "")
    return f"****{compact[-4:]}" if len(compact) > 4 else "****"


def mask_ibans(text: str) -> str:
    """Mask every IBAN-looking token in a text."""
    return _IBAN.sub(lambda m: mask_iban(m.group(0)), text)


class SecretRegistry:
    """The secret strings of this run: the password, tokens, CSRF values and cookie values."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, value: str | None) -> None:
        """Register a value that must never be written anywhere."""
        if value and len(value) >= 4:
            with self._lock:
                self._secrets.add(value)

    def redact(self, text: str) -> str:
        """Replace registered secrets, then mask IBANs."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return mask_ibans(text)


SECRETS = SecretRegistry()


class RedactingFilter(logging.Filter):
    """Rewrites each log record so no secret or full IBAN reaches any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted, and drop the arguments."""
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg = SECRETS.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks would print exception text verbatim; keep only the redacted summary.
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({type(exc).__name__}: {SECRETS.redact(str(exc))})"
            record.exc_info = None
            record.exc_text = None
        return True


def install_redaction() -> None:
    """Attach the filter to every root handler (and the root logger), once."""
    root = logging.getLogger()
    targets: list[logging.Filterer] = [root, *root.handlers]
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
