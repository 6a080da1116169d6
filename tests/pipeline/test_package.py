"""Another team's Meltano project uses the tap as a package (`make ci SUITE=package`).

The wheel and the sdist are built from this checkout with `python -m build` (the wheel from the
sdist, so the sdist is proven to build) and checked with `twine check --strict`. Then a fresh
project is made with `meltano init` in a temporary directory outside the repository, the README's
inline definition is added to its `meltano.yml` with `pip_url` set to the built wheel, and
`meltano install` + `meltano run tap-fibank target-jsonl` read the built-in sandbox bank
(`TAP_FIBANK_SANDBOX=true`). The JSONL files are compared with the sandbox's ground truth, and the
plugin's venv must import `tap_fibank` from the wheel it installed, never from this checkout.

Not in `make test`: the builds and the two plugin installs take about a minute.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.ci import unavailable

from fibank_sandbox import Entry, Sandbox
from tap_fibank.bank.clock import FROZEN_TODAY

pytestmark = pytest.mark.package

REPO = Path(__file__).resolve().parents[2]
MELTANO = REPO / ".tools" / "meltano" / "bin" / "meltano"
README_MARK = "<!-- tests/pipeline/test_package.py runs this block"
# A few months keep the run short; the sandbox books every working day, so hundreds of entries.
DAYS = 90


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command; fail the test with the tail of its output when it fails."""
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        pytest.fail(f"`{' '.join(command)}` exited {proc.returncode}:\n{tail}")
    return proc.stdout


# --- the distributions -----------------------------------------------------------------------------


@dataclass
class Dists:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """`python -m build` of this checkout into a temporary directory: the sdist, then the wheel from it."""
    missing = [name for name in ("build", "twine") if find_spec(name) is None]
    if missing:
        unavailable(f"not installed: {', '.join(missing)}; run `make install` (the dev extra has them)")
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], cwd=out)
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Dists(wheels[0], sdists[0])


def test_the_wheel_and_the_sdist_pass_twine_check_strict(dists: Dists) -> None:
    twine = [sys.executable, "-m", "twine", "check", "--strict"]
    output = run([*twine, str(dists.wheel), str(dists.sdist)], REPO)
    assert output.count("PASSED") == 2, output


def test_the_wheel_carries_the_tap_its_sandbox_doctor_and_commands_and_no_repository_extras(
    dists: Dists,
) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        metadata = wheel.read(f"{info}/METADATA").decode()
    # Every module of the package in the source tree is in the wheel (the sandbox, the doctor...).
    sources = {
        p.relative_to(REPO).as_posix()
        for top in ("tap_fibank", "fibank_sandbox")
        for p in (REPO / top).rglob("*.py")
    }
    assert sources - names == set()
    assert {"fibank_report/templates/report.html.j2", f"{info}/licenses/LICENSE"} <= names
    assert not [n for n in names if n.split("/")[0] in {"tests", "transform", "orchestrate", "scripts"}]
    for command in ("tap-fibank", "tap-fibank-sandbox", "tap-fibank-doctor", "tap-fibank-state"):
        assert re.search(rf"^{command} = (tap_fibank|fibank_sandbox)\.", entry_points, re.M), entry_points
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Python: >=3.10" in metadata
    assert "Description-Content-Type: text/markdown" in metadata


def test_the_sdist_holds_the_sources_the_license_and_the_tests(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO", "tap_fibank/tap.py"} <= names
    assert {"fibank_sandbox/__init__.py", "tests/pipeline/test_package.py"} <= names
    assert not [n for n in names if n.startswith((".venv/", ".tools/", ".meltano/", "output/"))]


# --- the other team's Meltano project --------------------------------------------------------------


def readme_definition() -> dict[str, Any]:
    """The `plugins:` block the README shows for another team's project, parsed as meltano reads it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(re.escape(README_MARK) + r".*?\n```yaml\n(.*?)\n```", text, re.S)
    assert found, "the README's inline definition for another Meltano project is missing"
    block: dict[str, Any] = yaml.safe_load(found.group(1))
    return block


def isolated_env(sandbox_ibans: list[str], start: date) -> dict[str, str]:
    """The caller's environment without its own meltano or tap settings; the sandbox switched on."""
    prefixes = ("TAP_FIBANK", "TARGET_", "MELTANO_", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        {
            FROZEN_TODAY: os.environ[FROZEN_TODAY],  # the session's one "today", for the tap's sandbox
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_FIBANK_SANDBOX": "true",
            "TAP_FIBANK_START_DATE": start.isoformat(),
            # The sandbox account whose statement always answers 500 would only cost retries here.
            "TAP_FIBANK_IBANS": json.dumps(sandbox_ibans),
        }
    )
    return env


@dataclass
class Project:
    root: Path
    wheel: Path
    bank: Sandbox
    start: date

    @property
    def venv_python(self) -> Path:
        return self.root / ".meltano" / "extractors" / "tap-fibank" / "venv" / "bin" / "python"

    def jsonl(self, stream: str) -> list[dict[str, Any]]:
        """One stream's file, amounts read as exact decimals (the README's config: no timestamp)."""
        lines = (self.root / "output" / f"{stream}.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line, parse_float=Decimal) for line in lines]


@pytest.fixture(scope="module")
def project(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A fresh `meltano init` project with the README's definition, installed and run once."""
    if not MELTANO.exists():
        unavailable(
            "meltano is not installed: run `make install WITH=meltano` (`make ci SUITE=package` does)"
        )
    base = tmp_path_factory.mktemp("other-team")
    assert not base.resolve().is_relative_to(REPO), "the project must live outside the repository"
    bank = Sandbox(seed=1)  # what the tap's `sandbox: true` serves: seed 1, the session's today
    start = bank.today - timedelta(days=DAYS)
    ibans = [a.iban for a in bank.accounts if "statement_500" not in a.tags]
    env = isolated_env(ibans, start)
    run([str(MELTANO), "init", "project", "--no_usage_stats"], cwd=base, env=env)
    root = base / "project"
    config = yaml.safe_load((root / "meltano.yml").read_text(encoding="utf-8"))
    config["plugins"] = readme_definition()["plugins"]
    config["plugins"]["extractors"][0]["pip_url"] = str(dists.wheel)
    (root / "meltano.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run([str(MELTANO), "install"], cwd=root, env=env)
    run([str(MELTANO), "run", "tap-fibank", "target-jsonl"], cwd=root, env=env)
    return Project(root, dists.wheel, bank, start)


def expected(project: Project) -> dict[tuple[str, int], Entry]:
    """Every entry since the start date of every account the run reads, by primary key."""
    ibans = {a.iban for a in project.bank.accounts if "statement_500" not in a.tags}
    return {
        (iban, e.entry_id): e
        for iban, entries in project.bank.truth().items()
        if iban in ibans
        for e in entries
        if e.booking_date >= project.start
    }


def test_the_other_project_runs_the_tap_from_the_installed_wheel_not_from_this_checkout(
    project: Project,
) -> None:
    probe = (
        "import json, importlib.metadata as m, tap_fibank; d = m.distribution('tap-fibank');"
        "print(json.dumps({'file': tap_fibank.__file__, 'version': d.version,"
        " 'direct_url': json.loads(d.read_text('direct_url.json') or 'null')}))"
    )
    found = json.loads(run([str(project.venv_python), "-c", probe], cwd=project.root, env={}))
    module = Path(found["file"]).resolve()
    assert module.is_relative_to(project.root.resolve() / ".meltano"), module
    assert not module.is_relative_to(REPO), module
    # Installed from the wheel file, not from a directory (an editable `-e .` records dir_info).
    assert found["direct_url"]["url"] == project.wheel.resolve().as_uri(), found["direct_url"]
    assert "archive_info" in found["direct_url"] and "dir_info" not in found["direct_url"]
    assert project.wheel.name.startswith(f"tap_fibank-{found['version']}-")


def test_the_sandbox_run_lands_every_entry_in_the_jsonl_files_to_the_cent(project: Project) -> None:
    want = expected(project)
    rows = project.jsonl("transactions")
    got = {(r["iban"], r["entry_id"]): r for r in rows}
    assert len(want) > 100, "the sandbox booked too little to prove anything"
    assert len(rows) == len(got) == len(want)
    assert set(got) == set(want)
    for key, entry in want.items():
        row = got[key]
        assert (row["amount"], row["signed_amount"], row["balance_after"]) == (
            entry.amount,
            entry.signed_amount,
            entry.balance_after,
        ), key
        assert (row["booking_date"], row["direction"], row["currency"]) == (
            entry.booking_date.isoformat(),
            entry.direction,
            entry.currency,
        ), key


def test_the_sandbox_run_lists_every_profile_and_every_account_it_was_asked_for(project: Project) -> None:
    customers = {r["customer_id"] for r in project.jsonl("customers")}
    accounts = {r["iban"] for r in project.jsonl("accounts")}
    assert customers == {c.customer_id for c in project.bank.customers}
    assert accounts == {a.iban for a in project.bank.accounts if "statement_500" not in a.tags}
    # Every window's statement balanced, and together they count exactly the entries delivered.
    statements = project.jsonl("statements")
    assert statements and all(s["verification"] == "balanced" for s in statements)
    assert sum(s["entry_count"] for s in statements) == len(expected(project))
