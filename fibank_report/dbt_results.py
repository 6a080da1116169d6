"""The data tests' verdict from dbt's last run (`run_results.json`), for the completeness panel.

The marts say what the windows prove; whether dbt's tests (balances chained, windows balanced and
matching the entries, marts reconciled) passed is only in dbt's own artifact, so it is read from
there, and its absence is shown rather than guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TestResults:
    """How dbt's data tests ended in its last build or test run."""

    generated_at: str
    passed: int
    failed: tuple[str, ...]  # test names that failed, errored or warned

    @property
    def ok(self) -> bool:
        """True when every test passed."""
        return self.passed > 0 and not self.failed


def read_test_results(path: Path) -> TestResults | None:
    """The tests of one run_results.json; None when dbt has not run (or ran no test)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    passed = 0
    failed: list[str] = []
    for result in document.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith("test."):
            continue
        if result.get("status") == "pass":
            passed += 1
        else:
            failed.append(unique_id.split(".")[2] if unique_id.count(".") >= 2 else unique_id)
    if not passed and not failed:
        return None
    generated = str(document.get("metadata", {}).get("generated_at", ""))
    return TestResults(generated, passed, tuple(sorted(failed)))
