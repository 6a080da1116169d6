"""The Meltano project and its helpers, checked without running them (the e2e tests run them).

These catch what would otherwise only fail on a user's machine: a plugin that needs the Hub or
GitHub, a pin that drifted (duckdb >= 1.3 drops rows), a tap setting meltano.yml does not know,
a secret not marked sensitive, a file loader that overwrites.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.tapruns import TAP

REPO = Path(__file__).resolve().parents[2]
PROJECT: dict[str, Any] = yaml.safe_load((REPO / "meltano.yml").read_text(encoding="utf-8"))


def plugins() -> list[dict[str, Any]]:
    return [p for kind in PROJECT["plugins"].values() for p in kind]


def plugin(name: str) -> dict[str, Any]:
    return next(p for p in plugins() if p["name"] == name)


def setting(plugin_name: str, name: str) -> dict[str, Any]:
    return next(s for s in plugin(plugin_name)["settings"] if s["name"] == name)


def config_value(plugin_name: str, name: str) -> Any:
    p = plugin(plugin_name)
    if name in p.get("config", {}):
        return p["config"][name]
    return setting(plugin_name, name).get("value")


def test_every_plugin_is_inline_and_installs_from_pypi() -> None:
    for p in plugins():
        assert p.get("namespace"), f"{p['name']}: without a namespace meltano asks the Hub"
        assert p.get("pip_url"), p["name"]
        assert "git+" not in p["pip_url"] and "://" not in p["pip_url"], p["name"]
        assert p.get("executable"), p["name"]
    assert plugin("tap-fibank")["pip_url"] == "-e ."


@pytest.mark.parametrize(
    ("name", "pins"),
    [
        ("target-duckdb", {"target-duckdb==0.8.0", "duckdb==1.2.2"}),
        ("target-postgres", {"meltanolabs-target-postgres==0.8.1"}),
        ("target-jsonl", {"target-jsonl==0.1.4"}),
        ("dbt-duckdb", {"dbt-core~=1.11.0", "dbt-duckdb~=1.11.1", "duckdb==1.2.2", "meltano-dbt-ext~=0.5.0"}),
        ("dbt-postgres", {"dbt-core~=1.11.0", "dbt-postgres~=1.11.0", "meltano-dbt-ext~=0.5.0"}),
    ],
)
def test_plugins_are_pinned_to_versions_that_work(name: str, pins: set[str]) -> None:
    # duckdb >= 1.3 silently drops the first row of every target-duckdb batch, and a file written
    # by a newer duckdb cannot be opened by 1.2.2: the loader and dbt must both stay on 1.2.2.
    assert set(plugin(name)["pip_url"].split()) == pins


def taps_settings() -> dict[str, dict[str, Any]]:
    """The settings as the tap itself declares them: `tap-fibank --about --format=json`, run for real."""
    about = subprocess.run([*TAP, "--about", "--format=json"], capture_output=True, text=True, check=True)
    properties: dict[str, dict[str, Any]] = json.loads(about.stdout)["settings"]["properties"]
    return properties


def sdk_settings() -> set[str]:
    """The settings every SDK tap of these capabilities has (stream maps, flattening...): meltano
    knows them from `capabilities`, so meltano.yml leaves them out."""
    from tap_fibank.tap import TapFibank

    schema: dict[str, Any] = {"type": "object", "properties": {}}
    TapFibank.append_builtin_config(schema)
    return set(schema["properties"])


def meltano_kind(prop: dict[str, Any]) -> str:
    kinds = {
        "string": "string",
        "integer": "integer",
        "number": "decimal",
        "boolean": "boolean",
        "array": "array",
    }
    types = [t for t in prop["type"] if t != "null"] if isinstance(prop["type"], list) else [prop["type"]]
    return "date_iso8601" if prop.get("format") == "date" else kinds[types[0]]


def test_meltano_yml_declares_the_taps_settings_as_about_prints_them() -> None:
    """meltano.yml repeats the tap's settings: the same names, kinds, labels and secrets, and each
    description the tap's own, to which meltano.yml may add a sentence for Meltano users (where
    to put the value). The tap's text is the one kept; this fails when either drifts."""
    about = {name: p for name, p in taps_settings().items() if name not in sdk_settings()}
    declared = {s["name"]: s for s in plugin("tap-fibank")["settings"]}
    assert set(declared) == set(about)
    for name, prop in about.items():
        mine, secret = declared[name], bool(prop.get("secret"))
        # Secret in the tap exactly when sensitive (or of the older kind password) in meltano.yml.
        assert (mine.get("sensitive") is True or mine["kind"] == "password") == secret, name
        assert mine["kind"] in {meltano_kind(prop), *(["password"] if secret else [])}, name
        assert mine["label"] == prop["title"], name
        text = prop["description"]
        assert mine["description"] == text or mine["description"].startswith(text + " "), name
    assert {name for name, p in about.items() if p.get("secret")} >= {"username", "password"}


def test_the_loaders_passwords_are_marked_sensitive() -> None:
    assert setting("target-postgres", "password").get("sensitive") is True
    assert setting("dbt-postgres", "password").get("sensitive") is True


def test_duckdb_loader_and_dbt_use_the_same_file_and_schema() -> None:
    path = "$MELTANO_PROJECT_ROOT/output/fibank.duckdb"
    assert config_value("target-duckdb", "filepath") == path
    assert config_value("dbt-duckdb", "path") == path
    assert config_value("target-duckdb", "default_target_schema") == config_value(
        "dbt-duckdb", "source_schema"
    )
    assert config_value("target-postgres", "default_target_schema") == config_value(
        "dbt-postgres", "source_schema"
    )


def test_dbt_postgres_takes_the_loaders_connection() -> None:
    for name, variable in [
        ("host", "TARGET_POSTGRES_HOST"),
        ("port", "TARGET_POSTGRES_PORT"),
        ("user", "TARGET_POSTGRES_USER"),
        ("password", "TARGET_POSTGRES_PASSWORD"),
        ("dbname", "TARGET_POSTGRES_DATABASE"),
    ]:
        assert config_value("dbt-postgres", name) == f"${variable}"


def test_postgres_loader_session_is_utc() -> None:
    # The `timestamp` column would otherwise hold booked_at in the server's local time.
    assert plugin("target-postgres")["env"]["PGTZ"] == "UTC"


def test_dbt_utilities_skip_clean_and_deps_before_every_command() -> None:
    for name in ("dbt-duckdb", "dbt-postgres"):
        assert plugin(name)["executable"] == "dbt_invoker"
        assert config_value(name, "skip_pre_invoke") is True
        assert setting(name, "skip_pre_invoke")["env"] == "DBT_EXT_SKIP_PRE_INVOKE"
        assert plugin(name)["commands"]["build"]["args"] == "build --exclude-resource-type unit_test"


def test_the_scheduled_commands_leave_the_unit_tests_to_their_own_command() -> None:
    # The unit tests prove the SQL on fixed rows, not the bank's data (transform/models/marts/).
    for name in ("dbt-duckdb", "dbt-postgres"):
        commands = plugin(name)["commands"]
        for scheduled in ("build", "models", "test"):
            assert "--exclude-resource-type unit_test" in commands[scheduled]["args"], scheduled
        assert commands["unit-tests"]["args"] == "test --select test_type:unit"


def test_file_loader_appends_to_one_file_per_stream() -> None:
    assert config_value("target-jsonl", "do_timestamp_file") is False
    assert config_value("target-jsonl", "destination_path") == "$MELTANO_PROJECT_ROOT/output/jsonl"


def test_jobs_load_each_warehouse_and_then_build_dbt() -> None:
    jobs = {j["name"]: j["tasks"] for j in PROJECT["jobs"]}
    # Models first, tests after: a failing test must not leave the marts stale. Between them, how
    # long ago the bank was read (dbt source freshness).
    for warehouse in ("duckdb", "postgres"):
        dbt = " ".join(f"dbt-{warehouse}:{command}" for command in ("models", "freshness", "test"))
        assert jobs[f"fibank-{warehouse}"] == [f"tap-fibank target-{warehouse} {dbt}"]
    assert jobs["fibank-jsonl"] == ["tap-fibank target-jsonl"]


def test_schedule_runs_at_three_and_eighteen_like_the_seed() -> None:
    (schedule,) = PROJECT["schedules"]
    assert schedule["interval"] == "0 3,18 * * *"
    assert schedule["job"] in {j["name"] for j in PROJECT["jobs"]}


def test_demo_uses_the_sandbox_and_the_default_is_the_real_bank() -> None:
    envs = {e["name"]: e for e in PROJECT["environments"]}
    tap = {
        e: next(p for p in envs[e]["config"]["plugins"]["extractors"] if p["name"] == "tap-fibank")
        for e in envs
    }
    assert tap["demo"]["config"]["sandbox"] is True
    assert tap["prod"]["config"]["sandbox"] is False
    assert PROJECT["default_environment"] == "prod"


def test_demo_reads_every_sandbox_account_but_the_one_that_always_fails() -> None:
    from fibank_sandbox import Sandbox

    demo = next(e for e in PROJECT["environments"] if e["name"] == "demo")
    tap = next(p for p in demo["config"]["plugins"]["extractors"] if p["name"] == "tap-fibank")
    readable = [a.iban for a in Sandbox(seed=1).accounts if "statement_500" not in a.tags]
    assert tap["config"]["ibans"] == readable


def test_env_example_lists_what_a_real_run_needs_and_env_is_ignored() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.MULTILINE))
    assert {"TAP_FIBANK_USERNAME", "TAP_FIBANK_PASSWORD"} <= names
    assert {f"TARGET_POSTGRES_{x}" for x in ("HOST", "PORT", "USER", "PASSWORD", "DATABASE")} <= names
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False, capture_output=True
    )
    assert ignored.returncode == 0, ".env is not gitignored"


def test_dbt_sources_follow_the_loaders_schema() -> None:
    sources = yaml.safe_load((REPO / "transform/models/staging/_sources.yml").read_text("utf-8"))
    (fibank,) = sources["sources"]
    assert "FIBANK_SOURCE_SCHEMA" in fibank["schema"]
    for name in ("dbt-duckdb", "dbt-postgres"):
        assert setting(name, "source_schema")["env"] == "FIBANK_SOURCE_SCHEMA"
    assert {t["name"] for t in fibank["tables"]} >= {"customers", "accounts", "transactions"}


def test_make_says_plainly_when_python_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "install", "PYTHON=/nonexistent/python3", f"VENV={tmp_path}/venv"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "/nonexistent/python3 not found: install Python 3.10 or newer" in result.stdout + result.stderr


# --- the demo report's table (the chart itself is drawn in the e2e test) --------------------------


def test_demo_table_shows_the_last_six_months_and_marks_the_current_one() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_report", REPO / "scripts" / "demo_report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    sys.modules["demo_report"] = report  # dataclasses look their module up while being defined
    spec.loader.exec_module(report)
    months = [
        report.Month(
            date(2026, m, 1),
            Decimal("1234.50") * m,
            Decimal("1000.05"),
            Decimal("-1.00"),
            Decimal("2.50"),
            m,
            0,
        )
        for m in range(1, 9)
    ]
    table = report.format_table(months, today=date(2026, 8, 14)).splitlines()
    assert table[0].split() == [
        "Month",
        "Debit",
        "EUR",
        "Credit",
        "EUR",
        "Net",
        "EUR",
        "Fees",
        "EUR",
        "Entries",
    ]
    assert [line[:7] for line in table[2:]] == [f"2026-0{m}" for m in range(3, 9)]
    assert "9 876.00" in table[-1] and "(to date)" in table[-1]
    assert "(to date)" not in table[-2]
