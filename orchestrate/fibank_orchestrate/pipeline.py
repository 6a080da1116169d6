"""One login's extract-load: `meltano run tap-fibank target-postgres` with a state id of its own.

Shared by the Dagster code location and the Airflow DAG, so that both apply the same rules: one
run per login at a time (the bank sees each run as a login), the login's own bookmarks, and the
tap's exit code deciding whether a failure may be retried.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .locks import login_lock
from .logins import PROJECT_DIR, Login

# meltano from `make install WITH=meltano`; FIBANK_MELTANO for a worker whose project is elsewhere.
MELTANO = os.environ.get("FIBANK_MELTANO") or str(PROJECT_DIR / ".tools" / "meltano" / "bin" / "meltano")
# What meltano, the tap and the loader write (state, logs, run files) is the user's alone: files
# 0600 and folders 0700, whatever the scheduler's own umask (often 022).
PRIVATE_UMASK = 0o077
# The tap's exit codes (tap_fibank/errors.py) and what an orchestrator does about them.
RETRYABLE = {4: "the bank is unreachable"}
NEVER_RETRIED = {3: "authentication refused", 2: "configuration error", 5: "the bank's answer changed"}
REPORTED = {6: "accounts were skipped", 7: "a statement window did not add up"}


@dataclass
class Outcome:
    """What one run of a login did, read from meltano's JSON log."""

    login: str
    state_id: str
    returncode: int
    tap_exit_code: int | None = None
    summary: str = ""
    entries: int = 0
    log_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the login's data is loaded."""
        return self.returncode == 0

    @property
    def retryable(self) -> bool:
        """Only an unreachable bank is worth another try; never a refused password."""
        return self.tap_exit_code in RETRYABLE

    def describe(self) -> str:
        """One line for the orchestrator's failure message."""
        code = self.tap_exit_code
        what = {**RETRYABLE, **NEVER_RETRIED, **REPORTED}.get(code or -1, "the run failed")
        if code is None:
            what = f"meltano exited {self.returncode} before the tap ended"
        return f"login {self.login}: {what} (tap exit {code}): {self.summary or 'see the log'}"


def state_id(login: Login, environment: str) -> str:
    """The Meltano state id of a login: one per login, so logins never share bookmarks."""
    return f"{environment}:tap-fibank-to-target-postgres:{login.name}"


def run_login(
    login: Login,
    environ: Mapping[str, str] | None = None,
    environment: str | None = None,
    project_dir: Path = PROJECT_DIR,
) -> Outcome:
    """Run the login's extract-load once, holding its lock; never retries by itself."""
    base = dict(os.environ if environ is None else environ)
    environment = environment or base.get("FIBANK_MELTANO_ENVIRONMENT", "prod")
    env = {**base, **login.tap_env(base), "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [
        base.get("FIBANK_MELTANO") or MELTANO,
        "--environment",
        environment,
        "--log-format",
        "json",
        "run",
        "--state-id-suffix",
        login.name,
        "tap-fibank",
        "target-postgres",
    ]
    env.update(login_run_dirs(login, base, project_dir))
    with login_lock(login.name, base.get("MELTANO_DATABASE_URI"), project_dir):
        proc = subprocess.run(  # noqa: S603 - meltano, with our own arguments
            command,
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            umask=PRIVATE_UMASK,
        )
    outcome = Outcome(login.name, state_id(login, environment), proc.returncode)
    read_log(outcome, proc.stdout + proc.stderr)
    if outcome.ok:
        outcome.tap_exit_code = 0
    return outcome


def login_run_dirs(login: Login, environ: Mapping[str, str], project_dir: Path) -> dict[str, str]:
    """A `.meltano` of the login's own for meltano's run files, sharing the installed plugins.

    meltano writes the tap's catalog to `.meltano/run/tap-fibank/` on every run: two logins
    running at once in one checkout would read each other's half-written file. The system
    database stays the shared one (the default SQLite file, unless MELTANO_DATABASE_URI is set).
    """
    shared = Path(environ.get("MELTANO_SYS_DIR_ROOT") or project_dir / ".meltano").resolve()
    own = shared / "logins" / login.name
    for folder in (shared, shared / "logins", own):  # closed to other users, as make run leaves them
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    for plugins in ("extractors", "loaders", "utilities"):
        link = own / plugins
        if not link.is_symlink():
            link.symlink_to(shared / plugins, target_is_directory=True)
    database = environ.get("MELTANO_DATABASE_URI") or f"sqlite:///{shared / 'meltano.db'}"
    return {"MELTANO_SYS_DIR_ROOT": str(own), "MELTANO_DATABASE_URI": database}


def read_log(outcome: Outcome, log: str) -> None:
    """The tap's exit code, its summary line and the entries it emitted, from meltano's JSON log."""
    for line in log.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            outcome.log_tail = [*outcome.log_tail[-40:], line]
            continue
        text = str(event.get("event", ""))
        outcome.log_tail = [*outcome.log_tail[-40:], text]
        if event.get("name") == "tap-fibank" and (
            text.startswith("Run finished") or text.startswith("tap-fibank: error:")
        ):
            outcome.summary = text
        elif event.get("name") == "tap-fibank" and text.startswith("METRIC: "):
            outcome.entries += _entries(text)
        codes = event.get("exit_codes")
        if isinstance(codes, dict) and "extractors" in codes:
            outcome.tap_exit_code = int(codes["extractors"])


def _entries(text: str) -> int:
    """The transactions a METRIC line counts (0 for any other metric)."""
    try:
        metric = json.loads(text[len("METRIC: ") :])
    except ValueError:
        return 0
    tags = metric.get("tags") or {}
    if metric.get("metric") == "record_count" and tags.get("stream") == "transactions":
        return int(metric.get("value", 0))
    return 0
