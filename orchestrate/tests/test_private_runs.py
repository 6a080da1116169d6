"""What a login's run writes is the user's alone, whatever the scheduler's umask.

Schedulers usually run under umask 022 on a shared server; `run_login` (Dagster's and Airflow's
launcher) runs meltano under umask 077 in folders closed to other users. A stand-in for meltano
(``FIBANK_MELTANO``) writes a file where meltano writes its run files, as meltano would.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fibank_orchestrate.logins import Login
from fibank_orchestrate.pipeline import run_login

FAKE_MELTANO = """\
import json, os, pathlib
run = pathlib.Path(os.environ["MELTANO_SYS_DIR_ROOT"]) / "run" / "tap-fibank"
run.mkdir(parents=True)
(run / "state.json").write_text("{}")
print(json.dumps({"event": "done", "exit_codes": {"extractors": 0}}))
"""


@pytest.fixture
def usual_umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
def test_a_logins_run_files_are_private_under_a_scheduler_with_umask_022(tmp_path: Path) -> None:
    meltano = tmp_path / "meltano"
    meltano.write_text(f"#!{sys.executable}\n{FAKE_MELTANO}", encoding="utf-8")
    meltano.chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    environ = {"PATH": os.environ["PATH"], "FIBANK_MELTANO": str(meltano), "U": "anna", "P": "s3cret"}
    outcome = run_login(Login("household", "U", "P"), environ, "prod", project)
    assert outcome.ok, outcome.log_tail
    own = project / ".meltano" / "logins" / "household"
    written = own / "run" / "tap-fibank" / "state.json"
    assert mode(written) == 0o600
    assert mode(written.parent) == mode(own / "run") == 0o700
    assert mode(own) == mode(own.parent) == mode(project / ".meltano") == 0o700
