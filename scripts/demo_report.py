"""Print the last months' debit against credit and chart them, from the DuckDB warehouse.

Reads the dbt marts that `meltano run fibank-duckdb` (or `make demo`) built in
output/fibank.duckdb: `analytics.mart_monthly_debit_credit_eur` (all accounts and profiles in EUR:
BGN at the fixed 1.95583, other currencies at the ECB rate; own-account transfers left out) and
`analytics.mart_fees_monthly`. Writes a PNG bar chart of monthly debit
against credit with the net as a line.

    python scripts/demo_report.py --duckdb output/fibank.duckdb --chart output/monthly_debit_credit.png

Open the file only with duckdb 1.2.2 (the version target-duckdb writes it with).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from tap_fibank.privacy import open_private

MONTHS_IN_TABLE = 6
MONTHS_IN_CHART = 18
EURO_DAY = date(2026, 1, 1)


@dataclass(frozen=True)
class Month:
    """One row of the monthly mart, with the month's fees and commissions."""

    month: date
    debit: Decimal
    credit: Decimal
    net: Decimal
    fees: Decimal
    entries: int
    not_in_eur: int


def _missing(what: str, hint: str) -> SystemExit:
    return SystemExit(f"{what}\n  {hint}")


def read_months(path: Path, schema: str) -> list[Month]:
    """The monthly EUR mart joined with the fees mart, oldest month first."""
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the venv
        raise _missing("duckdb is not installed in this Python.", "Run `make demo`.") from exc
    if duckdb.__version__ != "1.2.2":
        print(
            f"warning: duckdb {duckdb.__version__} here; the warehouse is written with 1.2.2",
            file=sys.stderr,
        )
    if not path.exists():
        raise _missing(f"{path} does not exist.", "Run `make demo` (or meltano run fibank-duckdb).")
    connection = duckdb.connect(str(path), read_only=True)
    try:
        rows = connection.execute(
            f"""
            with fees as (
                select booking_month, sum(charges_total_eur) as fees_eur
                from {schema}.mart_fees_monthly
                group by booking_month
            )
            select m.booking_month, m.debit_eur, m.credit_eur, m.net_eur,
                   coalesce(f.fees_eur, 0), m.debit_count + m.credit_count, m.entries_not_in_eur
            from {schema}.mart_monthly_debit_credit_eur as m
            left join fees as f on f.booking_month = m.booking_month
            where m.profile = 'all'
            order by m.booking_month
            """  # noqa: S608 - the schema name is ours, from the command line
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise _missing(
            f"The marts are not in {path}: {exc}",
            "Run dbt: meltano --environment demo run dbt-duckdb:build",
        ) from exc
    finally:
        connection.close()
    return [
        Month(r[0], Decimal(r[1]), Decimal(r[2]), Decimal(r[3]), Decimal(r[4]), int(r[5]), int(r[6]))
        for r in rows
    ]


def _money(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ")


def format_table(months: list[Month], today: date) -> str:
    """A short plain-text table of the last months, newest last."""
    header = ("Month", "Debit EUR", "Credit EUR", "Net EUR", "Fees EUR", "Entries")
    rows = [header]
    for m in months[-MONTHS_IN_TABLE:]:
        label = f"{m.month:%Y-%m}"
        if (m.month.year, m.month.month) == (today.year, today.month):
            label += " (to date)"
        rows.append((label, _money(m.debit), _money(m.credit), _money(m.net), _money(m.fees), str(m.entries)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    not_in_eur = sum(m.not_in_eur for m in months[-MONTHS_IN_TABLE:])
    if not_in_eur:
        lines.append(
            f"({not_in_eur} entries in a currency without an ECB rate are left out:"
            " see `make install WITH=ecb-rates`.)"
        )
    return "\n".join(lines)


def draw_chart(months: list[Month], out: Path, today: date) -> None:
    """Grouped bars of monthly debit and credit in EUR, with the net as a line."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the venv
        raise _missing("matplotlib is not installed in this Python.", "Run `make demo`.") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    shown = months[-MONTHS_IN_CHART:]
    labels = [
        f"{m.month:%b %Y}" + ("*" if (m.month.year, m.month.month) == (today.year, today.month) else "")
        for m in shown
    ]
    x = list(range(len(shown)))
    width = 0.4
    fig, ax = plt.subplots(figsize=(12, 6), dpi=110)
    ax.bar(
        [i - width / 2 for i in x],
        [float(m.debit) for m in shown],
        width,
        label="Debit (money out)",
        color="#c0392b",
    )
    ax.bar(
        [i + width / 2 for i in x],
        [float(m.credit) for m in shown],
        width,
        label="Credit (money in)",
        color="#27ae60",
    )
    ax.plot(
        x,
        [float(m.net) for m in shown],
        color="#2c3e50",
        marker="o",
        linewidth=1.5,
        label="Net (credit - debit)",
    )
    ax.axhline(0, color="#7f8c8d", linewidth=0.8)
    for i, m in enumerate(shown):
        if m.month == EURO_DAY:
            ax.axvline(i - 0.5, color="#2980b9", linestyle="--", linewidth=1)
            ax.annotate(
                "BGN -> EUR",
                xy=(i - 0.5, 1),
                xycoords=("data", "axes fraction"),
                xytext=(4, -14),
                textcoords="offset points",
                color="#2980b9",
                fontsize=9,
            )
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f} €".replace(",", " ")))
    ax.set_ylabel("EUR")
    title = "Fibank: monthly debit against credit, all accounts in EUR"
    ax.set_title(title, fontsize=14, pad=12)
    note = "BGN at the fixed 1.95583 BGN/EUR, other currencies at the ECB rate; own transfers left out."
    if any(f"{m.month:%Y-%m}" == f"{today:%Y-%m}" for m in shown):
        note += "  * month to date"
    fig.text(0.01, 0.01, note, fontsize=8, color="#555555")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    with open_private(out, "wb") as chart:  # a picture of someone's money: 0600
        fig.savefig(chart, format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Print the table and write the chart."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duckdb", type=Path, default=Path("output/fibank.duckdb"))
    parser.add_argument("--schema", default="analytics", help="the dbt marts' schema")
    parser.add_argument("--chart", type=Path, default=Path("output/monthly_debit_credit.png"))
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    months = read_months(args.duckdb, args.schema)
    if not months:
        print("No transactions in the warehouse yet: nothing to show.")
        return 1
    print()
    print("Debit against credit, all accounts in EUR (last months):")
    print(format_table(months, args.today))
    draw_chart(months, args.chart, args.today)
    print()
    print(f"Chart: {args.chart}")
    print(
        f"Warehouse: {args.duckdb} (tables in {args.schema}: mart_monthly_debit_credit, "
        "mart_monthly_debit_credit_eur, mart_spending_by_counterparty, mart_fees_monthly, "
        "mart_daily_balances, mart_monthly_balances, mart_net_worth_daily, mart_net_worth_monthly, "
        "mart_monthly_reconciliation, dim_accounts, fct_transactions, fct_statement_windows)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
