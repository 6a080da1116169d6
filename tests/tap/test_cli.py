"""The tap's command line works as any SDK tap's: --about, --discover, --test, catalog selection."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

from support.tapruns import TAP, run_tap

from tap_fibank.bank.clock import sofia_today

RECENT = (sofia_today() - dt.timedelta(days=40)).isoformat()


def test_about_in_markdown_lists_the_settings():
    result = subprocess.run(
        [*TAP, "--about", "--format=markdown"], capture_output=True, text=True, check=True
    )
    for setting in ("username", "password", "start_date", "lookback_days", "window_days", "sandbox"):
        assert f"| {setting} |" in result.stdout


def test_discover_prints_a_catalog_of_the_four_streams(tmp_path):
    run = run_tap(tmp_path, {"sandbox": True}, args=("--discover",))
    assert run.returncode == 0, run.stderr[-2000:]
    catalog = json.loads(run.stdout)
    assert sorted(s["tap_stream_id"] for s in catalog["streams"]) == [
        "accounts",
        "customers",
        "statements",
        "transactions",
    ]


def test_test_mode_syncs_a_record_per_stream(tmp_path):
    run = run_tap(tmp_path, {"sandbox": True, "start_date": RECENT, "max_retries": 0}, args=("--test",))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records["customers"]
    assert run.records["transactions"]


def run_with_only(tmp_path, stream_id):
    """Discover, select one stream in the catalog, and run the tap with that catalog."""
    discovered = run_tap(tmp_path, {"sandbox": True}, args=("--discover",))
    catalog = json.loads(discovered.stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == stream_id
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    return run_tap(
        tmp_path,
        {"sandbox": True, "start_date": RECENT, "max_retries": 0},
        args=("--catalog", str(catalog_path)),
    )


def test_a_catalog_selecting_only_transactions_emits_only_transactions(tmp_path):
    run = run_with_only(tmp_path, "transactions")
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(run.records) == {"transactions"}
    assert set(run.schemas) == {"transactions"}


def test_statements_alone_walk_the_windows_themselves(tmp_path):
    run = run_with_only(tmp_path, "statements")
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(run.records) == {"statements"}
    assert all(r["is_balanced"] for r in run.records["statements"])
    assert "walked_through" in next(iter(run.partitions("statements").values()))


def test_the_sandbox_setting_needs_no_credentials(tmp_path):
    run = run_tap(tmp_path, {"sandbox": True, "start_date": RECENT, "max_retries": 0})
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records["accounts"]) == 6
    assert "Reading the built-in sandbox bank" in run.stderr
