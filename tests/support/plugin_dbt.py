"""dbt of a meltano utility plugin, run straight from its venv with the environment meltano gives it.

`meltano invoke dbt-duckdb test` starts meltano, then meltano-dbt-ext, then dbt: about three
seconds of start-up per call before dbt does anything, paid dozens of times by the warehouse's
proofs. meltano is asked once per project for the values of the plugin's settings (their `env`
names in meltano.yml, as `meltano invoke --print-var` shows them); every later call runs the
venv's `dbt` with them, from the dbt project directory (as meltano-dbt-ext does), under
scripts/private.sh like every meltano call of the tests. The jobs (`meltano run`) still go
through meltano: that is what users run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from support.project import PRIVATE, SYS_DIR, USUAL_UMASK, Project

_ENV_CACHE: dict[tuple[Path, str], dict[str, str]] = {}


def setting_env_names(project: Project, plugin: str) -> list[str]:
    """The `env` names of the utility's settings in the project's meltano.yml."""
    spec = yaml.safe_load((project.root / "meltano.yml").read_text(encoding="utf-8"))
    (utility,) = (u for u in spec["plugins"]["utilities"] if u["name"] == plugin)
    return [s["env"] for s in utility.get("settings", []) if "env" in s]


def plugin_env(project: Project, plugin: str) -> dict[str, str]:
    """The values meltano passes to the plugin for the project's current environment, once."""
    key = (project.root, plugin)
    if key not in _ENV_CACHE:
        names = setting_env_names(project, plugin)
        asked = [arg for name in names for arg in ("--print-var", name)]
        proc = project.meltano("invoke", *asked, plugin, "--version")
        found = dict(
            line.split("=", 1) for line in proc.stdout.splitlines() if line.split("=", 1)[0] in names
        )
        assert set(found) == set(names), f"meltano did not print {set(names) - set(found)}"
        _ENV_CACHE[key] = found
    return _ENV_CACHE[key]


def plugin_dbt(
    project: Project, plugin: str, *args: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """`dbt ARGS` of the plugin's venv, as `meltano invoke PLUGIN ARGS` would run it."""
    env = {**project.env, **plugin_env(project, plugin)}
    binary = SYS_DIR / "utilities" / plugin / "venv" / "bin" / "dbt"
    return subprocess.run(
        [str(PRIVATE), "sh", "-c", 'cd "$DBT_PROJECT_DIR" && exec "$0" "$@"', str(binary), *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        umask=USUAL_UMASK,
    )
