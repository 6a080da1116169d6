"""The report in a real browser: built from a real DuckDB file and a real PostgreSQL schema (each
loaded by `meltano run` of the tap against the sandbox, then `dbt build`), opened from disk in
headless Chromium over the DevTools protocol.

Run by `make ci SUITE=report` (which installs Debian's chromium where missing, as root). Without a
chromium the tests skip with the reason, except under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from support.browser import Browser, find_chromium
from support.ci import unavailable
from support.project import (
    KNOWN_MONTHS,
    REPO,
    Project,
    make_project,
    plugins_installed,  # noqa: F401 - the fixture, for getfixturevalue
)
from support.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, to_decimal

from fibank_report.page import money
from fibank_sandbox import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

VENDOR = REPO / ".tools" / "report"
SCREENSHOTS = REPO / "output"
CHARTS = ("chart-monthly", "chart-categories", "chart-counterparties", "chart-fees", "chart-balances")
PAINTED = """[...document.querySelectorAll('canvas')].map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
  return [c.id, n, c.getBoundingClientRect().width]; })"""


@dataclass
class Built:
    """A loaded warehouse and the report built from it."""

    warehouse: Warehouse
    project: Project
    report: Path

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.warehouse.rows(sql.format(a=self.warehouse.analytics))


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        unavailable("no chromium on PATH: `make ci SUITE=report` installs Debian's chromium (as root)")
    assert found is not None
    return found


def build_report(wh: Warehouse, project: Project, name: str = "report.html") -> Path:
    out = project.output / name
    command = [sys.executable, "-m", "fibank_report", "--vendor", str(VENDOR), "--out", str(out),
               "--dbt-target", str(project.root / "transform" / "target" / wh.name)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARGET_", "DBT_"))}
    if isinstance(wh, DuckDBWarehouse):
        command += ["--duckdb", str(wh.path)]
    else:
        command += ["--postgres", "--env-file", str(project.root / "no.env")]
        env.update(wh.env())
    proc = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "opens offline" in proc.stdout
    return out


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    request.getfixturevalue("plugins_installed")
    if not (VENDOR / "chart.js" / "chart.umd.min.js").exists():
        unavailable("the report's libraries are not vendored: run `make ci SUITE=report` (it runs npm pack)")
    root = tmp_path_factory.mktemp(f"report-{request.param}")
    wh: Warehouse = DuckDBWarehouse(root) if request.param == "duckdb" else PostgresWarehouse()
    try:
        with Sandbox(seed=1) as bank:
            project = make_project(root, bank, wh.env())
            project.meltano("run", wh.job)
        yield Built(wh, project, build_report(wh, project))
    finally:
        wh.drop()


@pytest.fixture(scope="module")
def page(built: Built, chromium: str) -> Iterator[Browser]:
    with Browser(chromium) as browser:
        browser.viewport(1280, 900, mobile=False)
        browser.open(built.report.as_uri())
        yield browser


def select(page: Browser, css: str, value: str) -> None:
    page.evaluate(
        f"(() => {{ const s = document.querySelector({json.dumps(css)}); s.value = {json.dumps(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )


def month_row(page: Browser, month: date) -> dict[str, str]:
    cells = page.evaluate(
        f"[...document.querySelectorAll('#monthly-table tr[data-month=\"{month:%Y-%m}\"] td')]"
        ".map(td => [td.dataset.col, td.textContent])"
    )
    return dict(cells)


def chart_values(page: Browser, chart: str, label: str) -> list[float | None]:
    return page.evaluate(
        f"(() => {{ const c = Chart.getChart('{chart}'); const i = c.data.labels.indexOf('{label}');"
        " return c.data.datasets.map(d => i < 0 ? null : d.data[i]); })()"
    )


def parse_money(text: str) -> Decimal:
    number = text.replace("\u00a0", "").replace("€", "").replace(",", ".")
    return Decimal(number)


# --- the page as a whole -----------------------------------------------------------------------------


def test_report_opens_offline_with_no_console_error(built: Built, page: Browser) -> None:
    html = built.report.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html, "something loaded from outside the file"
    asked = page.requests()
    assert asked and all(url.startswith(("file:", "data:", "about:")) for url in asked), asked
    assert page.evaluate("typeof Chart") == "function"
    assert page.evaluate("document.characterSet") == "UTF-8"
    page.settle()
    assert page.errors() == []


def test_every_chart_is_drawn(page: Browser) -> None:
    painted = {name: (pixels, width) for name, pixels, width in page.evaluate(PAINTED)}
    assert set(painted) == set(CHARTS)
    for name, (pixels, width) in painted.items():
        assert width > 200, f"{name} has no room"
        assert pixels > 2000, f"{name} is blank ({pixels} painted pixels)"
        points = page.evaluate(
            f"Chart.getChart('{name}').data.datasets.reduce((n, d) => n + d.data.filter(v => v).length, 0)"
        )
        assert points > 0, f"{name} has no data"


# --- the figures are the marts' ------------------------------------------------------------------------


@pytest.mark.parametrize("month", KNOWN_MONTHS, ids=lambda m: f"{m:%Y-%m}")
def test_known_month_shows_the_marts_figures(built: Built, page: Browser, month: date) -> None:
    select(page, "#monthly-account", "all")
    [(debit, credit, net, entries)] = built.rows(
        "select debit_eur, credit_eur, net_eur, debit_count + credit_count "
        f"from {{a}}.mart_monthly_debit_credit_eur where booking_month = date '{month}' and profile = 'all'"
    )
    row = month_row(page, month)
    want = {
        c: money(int(to_decimal(v) * 100), "EUR")
        for c, v in (("debit", debit), ("credit", credit), ("net", net))
    }
    assert {c: row[c] for c in want} == want
    assert row["entries"] == str(entries)
    assert chart_values(page, "chart-monthly", f"{month:%Y-%m}") == [
        float(to_decimal(debit)), float(to_decimal(credit)), float(to_decimal(net))
    ]  # fmt: skip
    [(charges,)] = built.rows(
        f"select sum(charges_total_eur) from {{a}}.mart_fees_monthly where booking_month = date '{month}'"
    )
    fees, commissions = chart_values(page, "chart-fees", f"{month:%Y-%m}")
    assert fees is not None and commissions is not None
    assert parse_money(money(round((fees + commissions) * 100), "EUR")) == to_decimal(charges)


def test_one_accounts_months_are_its_own(built: Built, page: Browser) -> None:
    month = KNOWN_MONTHS[1]  # EUR for every converted account: the mart's own currency
    iban, debit, credit = built.rows(
        "select iban, debit_total, credit_total from {a}.mart_monthly_debit_credit "
        f"where booking_month = date '{month}' and currency = 'EUR' order by entry_count desc limit 1"
    )[0]
    select(page, "#monthly-account", iban)
    try:
        row = month_row(page, month)
        assert parse_money(row["debit"]) == to_decimal(debit)
        assert parse_money(row["credit"]) == to_decimal(credit)
    finally:
        select(page, "#monthly-account", "all")


def test_completeness_panel_counts_the_windows(built: Built, page: Browser) -> None:
    proven = dict(
        built.rows(
            "select iban, count(*) from {a}.fct_statement_windows where effective_to is not null "
            "and is_balanced and opening_balance is not null group by iban"
        )
    )
    shown = page.evaluate(
        "[...document.querySelectorAll('#proof-table tbody tr')]"
        ".map(r => [r.dataset.iban, r.cells[1].textContent])"
    )
    assert {iban: int(n) for iban, n in shown if iban in proven} == proven
    assert len(shown) == built.rows("select count(*) from {a}.dim_accounts")[0][0]
    assert page.evaluate("document.getElementById('verdict').textContent").strip().startswith("Complete")
    assert "0 failed" in page.evaluate("document.getElementById('dbt-tests').textContent")


# --- the transactions table ------------------------------------------------------------------------------


def table_rows(page: Browser) -> list[list[str]]:
    return page.evaluate(
        "[...document.querySelectorAll('#entries tbody tr')].map(r => [...r.cells].map(c => c.textContent))"
    )


def test_table_search_finds_a_bulgarian_counterparty(built: Built, page: Browser) -> None:
    first = page.evaluate("document.querySelector('#transactions h2').textContent").split()[-1]
    counterparty, count = built.rows(
        f"select counterparty, count(*) from {{a}}.fct_transactions where booking_date >= date '{first}' "
        "and counterparty like 'КАУФЛАНД%' group by counterparty order by 2 desc limit 1"
    )[0]
    page.type_into(".datatable-input", counterparty.lower())
    try:
        rows = table_rows(page)
        assert rows and all(r[2] == counterparty for r in rows), rows[:3]
        info = page.evaluate("document.querySelector('.datatable-info').textContent")
        assert info.endswith(f"of {count} entries"), info
    finally:
        page.type_into(".datatable-input", "")


def test_table_sorts_by_amount(built: Built, page: Browser) -> None:
    first = page.evaluate("document.querySelector('#transactions h2').textContent").split()[-1]
    click = "document.querySelectorAll('#entries thead th')[5].querySelector('button').click()"
    orders = "[...document.querySelectorAll('#entries tbody tr')].map(r => Number(r.cells[5].dataset.order))"
    page.evaluate(click)
    ascending = page.evaluate(orders)
    page.evaluate(click)
    descending = page.evaluate(orders)
    assert ascending == sorted(ascending) and descending == sorted(descending, reverse=True)
    [(largest_credit, largest_debit)] = built.rows(
        "select max(case when direction = 'credit' then amount end), "
        f"max(case when direction = 'debit' then amount end) from {{a}}.fct_transactions "
        f"where booking_date >= date '{first}'"
    )
    assert Decimal(descending[0]) / 100 == to_decimal(largest_credit)
    assert -Decimal(ascending[0]) / 100 == to_decimal(largest_debit)


# --- a phone, and the pictures for the README ----------------------------------------------------------


def test_page_fits_a_phone_and_screenshots_are_saved(built: Built, chromium: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    suffix = "" if isinstance(built.warehouse, DuckDBWarehouse) else "-postgres"
    with Browser(chromium) as browser:
        browser.viewport(1280, 900, mobile=False)
        browser.open(built.report.as_uri())
        browser.settle()
        browser.screenshot(SCREENSHOTS / f"report{suffix}.png")
        browser.viewport(390, 844, mobile=True)
        browser.open(built.report.as_uri())
        browser.settle()
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
        painted = {name: (pixels, width) for name, pixels, width in browser.evaluate(PAINTED)}
        for name, (pixels, width) in painted.items():
            assert 200 < width <= 390, f"{name} is {width}px wide on a 390px screen"
            assert pixels > 1000, f"{name} is blank on a phone"
        browser.screenshot(SCREENSHOTS / f"report-phone{suffix}.png", full_page=True)
        assert browser.errors() == []
    png = (SCREENSHOTS / f"report{suffix}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


# --- a warehouse that lost an entry is not called complete -------------------------------------------


def test_a_lost_entry_turns_the_verdict_to_not_proven(built: Built, chromium: str) -> None:
    """The entry is deleted behind the pipeline's back, and put back after: the module's warehouse,
    its dbt results and its report are as they were, whatever runs next."""
    wh, project = built.warehouse, built.project
    iban, entry_id = built.rows(
        "select iban, entry_id from {a}.fct_transactions order by booking_date, entry_id limit 1"
    )[0]
    where = f"iban = '{iban}' and entry_id = {entry_id}"
    wh.execute(f"create table {wh.raw}.lost_entry as select * from {wh.raw}.transactions where {where}")
    try:
        wh.execute(f"delete from {wh.raw}.transactions where {where}")
        failed = project.meltano("run", f"dbt-{wh.name}:test", check=False)
        assert failed.returncode != 0
        report = build_report(wh, project, "report-lost-entry.html")
    finally:
        wh.execute(f"insert into {wh.raw}.transactions select * from {wh.raw}.lost_entry")
        wh.execute(f"drop table {wh.raw}.lost_entry")
        project.meltano("run", f"dbt-{wh.name}:test")  # the results the module's report was built from
    with Browser(chromium) as browser:
        browser.open(report.as_uri())
        browser.settle()
        verdict = browser.evaluate("document.getElementById('verdict').textContent").strip()
        tests = browser.evaluate("document.getElementById('dbt-tests').textContent")
        assert browser.errors() == []
    assert verdict.startswith("Not proven"), verdict
    assert "assert_statement_windows_match_entries" in tests, tests
