"""The report: one line per check, then the verdict and the exit code it implies.

The exit code follows the tap's own table: 0 when the tap will work (even with some accounts it
cannot verify), 5 when the bank answers something this version of the tap does not survive.

Contract: `verdict` depends only on the findings' effects; `lines` prints one line per finding,
then the verdict, and never a value the findings do not already hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from tap_fibank.doctor.findings import Finding
from tap_fibank.errors import BankProtocolError

WORKS, UNVERIFIABLE, FAILS = "works", "unverifiable", "fails"


@dataclass(frozen=True)
class Verdict:
    """What the checks mean for a run of the tap."""

    kind: str
    text: str
    exit_code: int


def verdict(findings: list[Finding]) -> Verdict:
    """The worst effect among the findings decides."""
    fatal = [f for f in findings if f.effect == "fatal"]
    if fatal:
        reasons = "; ".join(f"{f.check}: {f.seen}" for f in fatal)
        return Verdict(FAILS, f"the tap will fail here: {reasons}", BankProtocolError.exit_code)
    doubtful = sorted({a for f in findings if f.effect == "unverifiable" for a in f.accounts})
    if doubtful:
        checks = ", ".join(f.check for f in findings if f.effect == "unverifiable")
        return Verdict(
            UNVERIFIABLE,
            f"the tap works, with these accounts unverifiable ({checks}): {', '.join(doubtful)}",
            0,
        )
    return Verdict(WORKS, "the tap will work as is", 0)


def lines(findings: list[Finding], result: Verdict) -> list[str]:
    """The report as printed: aligned check lines, then the verdict."""
    width = max((len(f.check) for f in findings), default=10)
    out = []
    for finding in findings:
        accounts = f" [{', '.join(finding.accounts[:6])}]" if finding.accounts else ""
        effect = f" ({finding.effect})" if finding.status == "DIFFERS" else ""
        out.append(
            f"{finding.check.ljust(width)}  {finding.status.ljust(7)}  {finding.seen}{effect}{accounts}"
        )
    out.append(f"verdict: {result.text}")
    return out
