"""The report generator's own parts: money formatting, cents, dbt's verdict, the vendored libraries,
and the one-line errors of the command. The page itself is checked in a browser
(tests/pipeline/test_report_browser.py, `make ci SUITE=report`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from support.ci import unavailable

from fibank_report.dbt_results import read_test_results
from fibank_report.marts import Marts, cents
from fibank_report.page import MissingLibraryError, load_libraries, money
from fibank_report.vendor import LIBRARIES, integrity_of, vendored_path

REPO = Path(__file__).resolve().parents[2]


MONEY_CASES = [
    (0, "EUR", "0,00\u00a0€"),
    (5, "EUR", "0,05\u00a0€"),
    (-123456789, "EUR", "-1\u00a0234\u00a0567,89\u00a0€"),
    (100000, "BGN", "1\u00a0000,00\u00a0лв."),
    (199, "USD", "1,99\u00a0$"),
    (250, "JPY", "2,50\u00a0JPY"),
    (None, "EUR", "–"),
]


@pytest.mark.parametrize(("amount", "currency", "shown"), MONEY_CASES)
def test_money_groups_thousands_with_a_decimal_comma_and_the_currency_after(
    amount: int | None, currency: str, shown: str
) -> None:
    assert money(amount, currency) == shown


def test_money_in_the_page_script_shows_the_same_text_as_the_python_one() -> None:
    """The page's own `money` (report.js), run in node on the same cases: a figure reads the same in
    a chart's tooltip, the table (JS) and the summary (Python)."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        unavailable("node is not installed: it runs the page's money() outside a browser")
    assert node is not None
    script = (REPO / "fibank_report" / "static" / "report.js").read_text(encoding="utf-8")
    symbols = re.search(r"^ *const SYMBOLS = .*?;$", script, re.MULTILINE)
    function = re.search(r"^( *)function money\(.*?^\1}$", script, re.MULTILINE | re.DOTALL)
    assert symbols and function, "report.js no longer defines SYMBOLS and money()"
    cases = [[amount, currency] for amount, currency, _ in MONEY_CASES]
    program = (
        f"{symbols.group(0)}\n{function.group(0)}\n"
        f"console.log(JSON.stringify({json.dumps(cases)}.map(([a, c]) => money(a, c))));"
    )
    proc = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [shown for _, _, shown in MONEY_CASES]


def test_cents_are_exact_and_fractions_of_a_cent_are_refused() -> None:
    assert cents(Decimal("1234.56")) == 123456
    assert cents(Decimal("-0.01")) == -1
    assert cents(0.1) == 10  # a DOUBLE from the warehouse, by its shortest text
    assert cents(None) is None
    with pytest.raises(ValueError, match="whole number of cents"):
        cents(Decimal("1.005"))


def test_a_schema_name_that_is_not_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a schema name"):
        Marts(lambda sql: [], "analytics; drop table x")


def write_results(path: Path, statuses: dict[str, str]) -> Path:
    results = [{"unique_id": uid, "status": status} for uid, status in statuses.items()]
    path.write_text(json.dumps({"metadata": {"generated_at": "2026-11-30T10:00:00Z"}, "results": results}))
    return path


def test_dbt_results_count_passed_tests_and_name_the_failed(tmp_path: Path) -> None:
    path = write_results(
        tmp_path / "run_results.json",
        {
            "model.fibank.fct_transactions": "success",
            "test.fibank.unique_dim_accounts_iban.1a2b": "pass",
            "test.fibank.assert_statement_windows_chain": "fail",
            "test.fibank.assert_statement_windows_balanced": "error",
        },
    )
    results = read_test_results(path)
    assert results is not None
    assert results.passed == 1
    assert results.failed == ("assert_statement_windows_balanced", "assert_statement_windows_chain")
    assert not results.ok


def test_dbt_results_absent_or_without_tests_say_nothing(tmp_path: Path) -> None:
    assert read_test_results(tmp_path / "missing.json") is None
    only_models = write_results(tmp_path / "run_results.json", {"model.fibank.x": "success"})
    assert read_test_results(only_models) is None
    (tmp_path / "broken.json").write_text("{not json")
    assert read_test_results(tmp_path / "broken.json") is None


def vendor_into(folder: Path, text: str) -> None:
    for library in LIBRARIES:
        for member in library.files:
            path = vendored_path(folder, library, member)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def test_a_missing_library_names_make_report(tmp_path: Path) -> None:
    with pytest.raises(MissingLibraryError, match=r"make report.*chart\.js 4\.6\.1"):
        load_libraries(tmp_path)


def test_inlined_libraries_cannot_end_the_script_element(tmp_path: Path) -> None:
    vendor_into(tmp_path, 'var s = "</script><b>"; var t = "</SCRIPT>";\n//# sourceMappingURL=x.js.map\n')
    libraries = load_libraries(tmp_path)
    assert "</script" not in libraries.scripts.lower()
    assert '"<\\/script><b>"' in libraries.scripts
    assert "sourceMappingURL" not in libraries.scripts + libraries.styles


def test_integrity_is_npms_sha512(tmp_path: Path) -> None:
    path = tmp_path / "x.tgz"
    path.write_bytes(b"abc")
    # `printf abc | openssl dgst -sha512 -binary | base64`: the SRI string npm's lock files hold.
    assert integrity_of(path) == (
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    )
    assert all(lib.integrity.startswith("sha512-") for lib in LIBRARIES)


def run_report(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fibank_report", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def test_no_warehouse_is_one_line_naming_make_demo(tmp_path: Path) -> None:
    proc = run_report("--duckdb", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "does not exist: run `make demo`" in proc.stderr


def test_a_warehouse_without_marts_names_dbt_build(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "raw.duckdb"
    duckdb.connect(str(path)).close()
    vendor_into(tmp_path / "vendor", "/* library */")
    proc = run_report("--duckdb", str(path), "--vendor", str(tmp_path / "vendor"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "the dbt marts are missing" in proc.stderr and "dbt build" in proc.stderr
    assert not (tmp_path / "output" / "report.html").exists()
