"""The statements stream gets the windows the transactions walk read, whatever the stream order.

Each window is asked of the bank once per run: with both streams selected the statements come
from the transactions walk; alone, statements walks the accounts itself. Neither the order the
streams are discovered in nor the order a catalog lists them changes that.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from singer_sdk import Stream
from support.tapruns import broken_iban, sandbox_config

from fibank_sandbox import Sandbox
from tap_fibank.tap import TapFibank

RUN_STARTED = re.compile(rb',"(?:time_extracted|run_started_at)":"[^"]*"')


class StatementsDiscoveredFirst(TapFibank):
    """The tap with `statements` discovered before `transactions`."""

    def discover_streams(self) -> list[Stream]:
        streams = super().discover_streams()
        return sorted(streams, key=lambda s: s.name != "statements")


@pytest.fixture(scope="module")
def bank():
    with Sandbox(seed=1) as sandbox:
        yield sandbox


def config_for(bank: Sandbox) -> dict[str, Any]:
    ibans = [a.iban for a in bank.accounts if a.iban != broken_iban(bank)]
    return sandbox_config(bank, "2025-06-01", ibans=ibans, max_retries=0)


def synced(
    tap_class: type[TapFibank], bank: Sandbox, capsysbinary: Any, catalog: dict[str, Any] | None = None
) -> tuple[dict[str, list[bytes]], int]:
    """Each stream's RECORD lines (without the run's time stamps), and the statement calls made."""
    bank.reset_counters()
    tap = tap_class(config=config_for(bank), catalog=catalog, state={})
    tap.sync_all()
    records: dict[str, list[bytes]] = {}
    for line in capsysbinary.readouterr().out.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(RUN_STARTED.sub(b"", line))
    return records, bank.counters()["calls"]["GetCustBal"]


def catalog_of(
    tap_class: type[TapFibank], bank: Sandbox, selected: set[str], reverse: bool
) -> dict[str, Any]:
    catalog = tap_class(config=config_for(bank)).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in selected
    catalog["streams"].sort(key=lambda e: e["tap_stream_id"], reverse=reverse)
    return catalog


def test_statements_discovered_first_still_reuse_the_walks_windows(bank, capsysbinary):
    expected, calls = synced(TapFibank, bank, capsysbinary)
    records, statement_calls = synced(StatementsDiscoveredFirst, bank, capsysbinary)
    assert len(expected["statements"]) > 20
    assert statement_calls == calls, "a window was asked for twice"
    assert records["statements"] == expected["statements"]
    assert records["transactions"] == expected["transactions"]


@pytest.mark.parametrize("reverse", [False, True], ids=["catalog-sorted", "catalog-reversed"])
def test_a_catalog_listing_statements_first_changes_nothing(bank, capsysbinary, reverse):
    expected, calls = synced(TapFibank, bank, capsysbinary)
    every = {"customers", "accounts", "transactions", "statements"}
    catalog = catalog_of(TapFibank, bank, every, reverse)
    records, statement_calls = synced(TapFibank, bank, capsysbinary, catalog)
    assert statement_calls == calls
    assert records["statements"] == expected["statements"]


@pytest.mark.parametrize("tap_class", [TapFibank, StatementsDiscoveredFirst])
def test_statements_selected_alone_walk_the_accounts_themselves(bank, capsysbinary, tap_class):
    expected, calls = synced(TapFibank, bank, capsysbinary)
    catalog = catalog_of(tap_class, bank, {"customers", "accounts", "statements"}, reverse=False)
    records, statement_calls = synced(tap_class, bank, capsysbinary, catalog)
    assert "transactions" not in records
    assert statement_calls == calls
    assert records["statements"] == expected["statements"]
