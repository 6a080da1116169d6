"""The end of `make mutate`: mutmut's verdicts as one line, `mutation score: K/N killed`.

A mutant counts as killed when a test failed or timed out on it (an endless loop is caught too);
N leaves out only the mutants mutmut skipped. Below `--minimum` percent the exit status is 1, so
a drop in the score fails the target.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Read mutmut's CI/CD stats file and print the score line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stats", type=Path, nargs="?", default=Path("mutants/mutmut-cicd-stats.json"))
    parser.add_argument("--minimum", type=float, default=90.0, help="lowest acceptable score, in percent")
    args = parser.parse_args(argv)
    try:
        stats = json.loads(args.stats.read_text())
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.stats} ({exc}): run `mutmut run` and `mutmut export-cicd-stats` first")
        return 2
    killed = int(stats["killed"]) + int(stats["timeout"])
    tested = int(stats["total"]) - int(stats["skipped"])
    if tested <= 0:
        print("mutmut tested no mutant: check [tool.mutmut] in pyproject.toml")
        return 2
    score = 100 * killed / tested
    print(
        f"survived {stats['survived']}, no tests {stats['no_tests']}, suspicious {stats['suspicious']}, "
        f"segfault {stats['segfault']} ({score:.1f}%, minimum {args.minimum:g}%)"
    )
    print(f"mutation score: {killed}/{tested} killed")
    return 0 if score >= args.minimum else 1


if __name__ == "__main__":
    sys.exit(main())
