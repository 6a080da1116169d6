"""Files about a person's money are theirs alone: 0600, in folders of 0700, whatever the umask.

On a shared server (where schedulers run) a file created under the usual umask 022 can be read
by every user of the machine. Tools that keep secrets or personal data (ssh, gpg, pass) write
them private and complain about what they read when it is not; so does this project.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

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
