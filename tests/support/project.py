"""The Meltano project a test makes: a copy of meltano.yml and transform/ with a `.meltano` of its
own (the plugins `make install WITH=pipeline` installed, linked), pointed at a sandbox bank.

Also the sandbox's ground truth as the pipeline should deliver it (every entry since START of
every account whose statement works), and the check that what meltano wrote stays private.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from fibank_sandbox import Entry, Sandbox
from support.ci import unavailable
from support.env import clean_env

REPO = Path(__file__).resolve().parents[2]
MELTANO = REPO / ".tools" / "meltano" / "bin" / "meltano"
SYS_DIR = REPO / ".meltano"
PLUGIN_EXECUTABLES = {
    "tap-fibank": SYS_DIR / "extractors" / "tap-fibank" / "venv" / "bin" / "tap-fibank",
    "target-duckdb": SYS_DIR / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb",
    "target-postgres": SYS_DIR / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres",
    "target-jsonl": SYS_DIR / "loaders" / "target-jsonl" / "venv" / "bin" / "target-jsonl",
    "dbt-duckdb": SYS_DIR / "utilities" / "dbt-duckdb" / "venv" / "bin" / "dbt_invoker",
    "dbt-postgres": SYS_DIR / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt_invoker",
}
PRIVATE = REPO / "scripts" / "private.sh"  # how the Makefile's targets run meltano
USUAL_UMASK = 0o022

# A recent start keeps runs to seconds; the history still spans the euro changeover.
START = date(2025, 6, 1)
KNOWN_MONTHS = (date(2025, 12, 1), date(2026, 1, 1))  # the last BGN month and the first EUR month


@pytest.fixture(scope="session")
def plugins_installed() -> None:
    """meltano and the pipeline's plugins, as `make install WITH=pipeline` installs them."""
    missing = [name for name, path in PLUGIN_EXECUTABLES.items() if not path.exists()]
    if not MELTANO.exists() or missing:
        what = ", ".join((["meltano"] if not MELTANO.exists() else []) + missing)
        unavailable(f"not installed: {what}; run `make install WITH=pipeline` (`make test` does)")


@dataclass
class Project:
    """A copy of the Meltano project with an environment that isolates it."""

    root: Path
    env: dict[str, str]
    logs: list[Path] = field(default_factory=list)

    def meltano(
        self, *args: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run `meltano --environment prod ...`; fail the test with the log's tail when it fails.

        It runs as the Makefile's targets run it (scripts/private.sh), from a shell with the usual
        umask 022, so that the files it writes prove they are private whatever the umask.
        """
        command = [str(PRIVATE), str(MELTANO), "--environment", "prod", *args]
        proc = subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            umask=USUAL_UMASK,
        )
        log = self.root / f"meltano-{len(self.logs) + 1}.log"
        log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
        self.logs.append(log)
        if check and proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
            pytest.fail(f"`meltano {' '.join(args)}` exited {proc.returncode} (log {log}):\n{tail}")
        return proc

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def sys_dir(self) -> Path:
        """The project's own `.meltano`: its state, logs and run files (the plugins are linked)."""
        return self.root / ".meltano"


def make_project(root: Path, bank: Sandbox, extra_env: dict[str, str] | None = None) -> Project:
    """Copy meltano.yml and transform/ to `root`; point the tap at `bank` with the demo login."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "meltano.yml", root / "meltano.yml")
    shutil.copytree(
        REPO / "transform",
        root / "transform",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__"),
    )
    (root / "output").mkdir(parents=True)
    # A `.meltano` of its own, as in a checkout, with the plugins `make install WITH=pipeline` installed.
    (root / ".meltano").mkdir()
    for plugins in ("extractors", "loaders", "utilities"):
        (root / ".meltano" / plugins).symlink_to(SYS_DIR / plugins, target_is_directory=True)
    # Nothing of the caller's own configuration may leak in (a developer's TAP_FIBANK_* etc.); the
    # session's frozen today stays, for the tap and for dbt (transform/macros/timestamps.sql).
    env = clean_env(
        "TAP_FIBANK",
        "TARGET_",
        "DBT_",
        "MELTANO_",
        "FIBANK_",
        MELTANO_SYS_DIR_ROOT=str(root / ".meltano"),
        MELTANO_DATABASE_URI=f"sqlite:///{root / '.meltano' / 'meltano.db'}",  # our own state
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        UV_COMPILE_BYTECODE="1",
        TAP_FIBANK_BASE_URL=bank.base_url,
        TAP_FIBANK_USERNAME=bank.username,
        TAP_FIBANK_PASSWORD=bank.password,
        TAP_FIBANK_SANDBOX="false",
        TAP_FIBANK_START_DATE=START.isoformat(),
        # One sandbox account always answers 500: a normal run reads the others (the case that
        # includes it is in test_warehouse_proofs.py). Do not wait on retries.
        TAP_FIBANK_IBANS=json.dumps(readable_ibans(bank)),
        TAP_FIBANK_MAX_RETRIES="1",
        # meltano.yml pins target-postgres's session to UTC; prove a different local zone cannot
        # shift the stored instants.
        PGTZ="Europe/Sofia",
    )
    env.update(extra_env or {})
    return Project(root, env)


def open_to_others(*roots: Path) -> list[str]:
    """Every file or folder under `roots` (themselves included) that group or others may use.

    Links are not followed: a project's `.meltano` links to the installed plugins, which hold
    no bank data.
    """
    paths = list(roots)
    for root in roots:
        for folder, folders, files in os.walk(root):
            paths += [Path(folder) / name for name in folders + files]
    found: list[str] = []
    for path in paths:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
            found.append(f"{path} {stat.S_IMODE(mode):04o}")
    return found


def readable_ibans(bank: Sandbox) -> list[str]:
    """Every sandbox account but the one whose statement always fails."""
    return [a.iban for a in bank.accounts if "statement_500" not in a.tags]


def expected_entries(bank: Sandbox) -> dict[str, list[Entry]]:
    """What the tap can deliver: every entry since START of every account whose statement works."""
    skipped = {a.iban for a in bank.accounts if "statement_500" in a.tags}
    return {
        iban: [e for e in entries if e.booking_date >= START]
        for iban, entries in bank.truth().items()
        if iban not in skipped
    }
