"""Your bank data stays yours: no secret or full account number in a log, no file others can read.

Logs: the SDK's `secret=True` only annotates a setting; it redacts nothing. Third-party loggers
(urllib3 at DEBUG prints every request line, with the IBAN in the query) bypass the tap's own
care, so a filter on the root handlers rewrites every record before it is written.

Files: on a shared server (where schedulers run) a file created under the usual umask 022 can be
read by every user of the machine. Tools that keep secrets or personal data (ssh, gpg, pass) write
them private and complain about what they read when it is not; so does this project: 0600 files
in folders of 0700, whatever the umask.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
from pathlib import Path
from typing import IO, Any

# -- masking in logs ----------------------------------------------------------------------------

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


# -- private files ------------------------------------------------------------------------------

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def private_folders(folder: Path) -> None:
    """Create `folder` and its missing parents 0700; folders that already exist are left alone."""
    missing: list[Path] = []
    for place in (folder, *folder.parents):
        if place.exists():
            break
        missing.append(place)
    for place in reversed(missing):
        place.mkdir(mode=FOLDER_MODE, exist_ok=True)
        place.chmod(FOLDER_MODE)


def open_private(path: Path, mode: str = "w", **options: Any) -> IO[Any]:
    """Open `path` for writing as a 0600 file (an existing file is made 0600 too).

    The mode is set on the open descriptor, before anything is written: a chmod after the
    write would leave a moment in which the file is readable by others.
    """
    private_folders(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        return open(descriptor, mode, closefd=True, **options)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_text(path: Path, text: str) -> None:
    """Write UTF-8 text to a 0600 file."""
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def exposed_secret(path: Path, what: str = "a password", fix: str | None = None) -> str | None:
    """One line when a file holding a secret is open to other users, naming the fix; else None.

    The fix is `chmod 600 FILE` unless the caller knows a better one.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if not mode & _OTHERS:
        return None
    return (
        f"{path} holds {what} and other users of this machine can read or change it "
        f"(mode {stat.S_IMODE(mode):04o}): {fix or f'chmod 600 {path}'}"
    )
