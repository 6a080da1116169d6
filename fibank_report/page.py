"""Turn the marts' rows into the page: one HTML file with its data and libraries inline.

The data travels as JSON in whole cents (the page only adds integers and formats them); the
libraries are the vendored copies from `vendor.py`. Jinja2 escapes every bank text (counterparties,
descriptions) and its `tojson` filter keeps the data from ending the script element.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from fibank_report.dbt_results import TestResults
from fibank_report.marts import Account, Marts, Month
from fibank_report.vendor import LIBRARIES, vendored_path

EURO_DAY = dt.date(2026, 1, 1)
TABLE_MONTHS = 12  # the transactions table: the last 12 months of entries at least
SYMBOLS = {"EUR": "€", "BGN": "лв.", "USD": "$", "GBP": "£", "CHF": "CHF"}
STATIC = Path(__file__).with_name("static")
_SOURCE_MAP = re.compile(r"//# sourceMappingURL=\S+")


class MissingLibraryError(Exception):
    """A vendored library is not there; `make report` fetches it."""


def money(cents: int | None, currency: str) -> str:
    """`-1 234,56 €`: Bulgarian grouping and decimal comma, the currency after; the page's JS agrees."""
    if cents is None:
        return "–"
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    sign = "-" if cents < 0 else ""
    return f"{sign}{grouped},{part:02d}\u00a0{SYMBOLS.get(currency, currency)}"


@dataclass(frozen=True)
class Libraries:
    """The vendored JavaScript and CSS, ready to inline."""

    scripts: str
    styles: str


def load_libraries(folder: Path) -> Libraries:
    """Read the vendored files; a missing one names `make report` as the fix."""
    scripts: list[str] = []
    styles: list[str] = []
    for library in LIBRARIES:
        for member in library.files:
            path = vendored_path(folder, library, member)
            if not path.exists():
                msg = f"{path} is missing: run `make report` (it vendors {library.name} {library.version})"
                raise MissingLibraryError(msg)
            text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
            (styles if member.endswith(".css") else scripts).append(text)
    return Libraries(_inline_safe("\n;\n".join(scripts)), "\n".join(styles))


def _inline_safe(script: str) -> str:
    """A script element ends at `</script`; inside JS, a backslash before the slash means the same."""
    return re.sub(r"</(script)", r"<\\/\1", script, flags=re.IGNORECASE)


def account_label(account: Account) -> str:
    """`Owner · …1234 (EUR)`: short enough for a legend on a phone."""
    return f"{account.owner} · …{account.iban[-4:]} ({account.currency})"


def _month_rows(months: list[Month]) -> list[dict[str, Any]]:
    return [
        {
            "m": f"{m.month:%Y-%m}",
            "debit": m.debit,
            "credit": m.credit,
            "net": m.net,
            "n": m.entries,
            "other": m.not_in_eur,
        }
        for m in months
    ]


def collect(marts: Marts) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready values (amounts in cents)."""
    accounts = marts.accounts()
    by_account: dict[str, list[Month]] = defaultdict(list)
    for month in marts.months_by_account():
        by_account[month.iban or ""].append(month)
    return {
        "euroDay": EURO_DAY.isoformat(),
        "accounts": [
            {
                "iban": a.iban,
                "label": account_label(a),
                "owner": a.owner,
                "currency": a.currency,
                "entries": a.entries,
                "latest": a.latest_balance,
            }
            for a in accounts
        ],
        "months": {"all": _month_rows(marts.months())}
        | {iban: _month_rows(rows) for iban, rows in by_account.items()},
        "charges": [
            {"m": f"{c.month:%Y-%m}", "fees": c.fees, "commissions": c.commissions, "total": c.total}
            for c in marts.charges()
        ],
        "spending": [
            [f"{s.month:%Y-%m}", s.category, s.counterparty, s.amount, s.entries] for s in marts.spending()
        ],
        "balances": _balances(marts),
    }


def _balances(marts: Marts) -> dict[str, Any]:
    """Daily EUR balances per account on one shared day axis (null before an account's first day)."""
    series: dict[str, dict[str, int | None]] = defaultdict(dict)
    own: dict[str, tuple[str, int]] = {}
    days: set[str] = set()
    for b in marts.balances():
        day = b.day.isoformat()
        days.add(day)
        series[b.iban][day] = b.balance_eur
        own[b.iban] = (b.currency, b.balance)
    axis = sorted(days)
    return {
        "days": axis,
        "eur": {
            iban: [values.get(day) for day in axis]
            for iban, values in series.items()
            if any(v is not None for v in values.values())
        },
        "last": {iban: {"currency": cur, "balance": bal} for iban, (cur, bal) in own.items()},
    }


def render(
    marts: Marts,
    libraries: Libraries,
    source_label: str,
    tests: TestResults | None,
    generated_at: dt.datetime,
) -> str:
    """The whole page."""
    data = collect(marts)
    accounts = {a["iban"]: a for a in data["accounts"]}
    last_day = max((dt.date.fromisoformat(d) for d in data["balances"]["days"]), default=generated_at.date())
    first_table_day = _months_before(last_day, TABLE_MONTHS)
    env = Environment(loader=PackageLoader("fibank_report"), autoescape=select_autoescape(default=True))
    env.filters["money"] = money
    template = env.get_template("report.html.j2")
    return template.render(
        data=data,
        accounts=accounts,
        proofs={p.iban: p for p in marts.proofs()},
        tests=tests,
        test_results=asdict(tests) if tests else None,
        entries=marts.entries_since(first_table_day),
        first_table_day=first_table_day,
        last_day=last_day,
        source_label=source_label,
        generated_at=generated_at,
        libraries=libraries,
        page_script=(STATIC / "report.js").read_text(encoding="utf-8"),
        page_style=(STATIC / "report.css").read_text(encoding="utf-8"),
    )


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` whole months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)
