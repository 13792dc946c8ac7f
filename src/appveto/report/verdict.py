"""The verdict a reader sees first: risk level, score, the findings that weigh most,
and what the scan could not see."""

from __future__ import annotations

from dataclasses import dataclass

from appveto.findings import Severity
from appveto.scan.record import ScanRecord

LEVEL_WORDS = {
    "high": "High risk",
    "elevated": "Elevated risk",
    "moderate": "Moderate risk",
    "low": "Low risk",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    level: str
    """The score's risk level (``low``..``high``) or ``unreadable``."""
    headline: str
    reasons: tuple[str, ...]
    """The heaviest findings, one sentence each (at most five)."""
    caveats: tuple[str, ...]
    """What limits the verdict: hidden code, crashed checks, unreadable parts."""


def verdict(rec: ScanRecord) -> Verdict:
    if rec.error is not None or rec.score is None:
        return Verdict("unreadable", "Not assessed: the file could not be read", (rec.error or "",), ())
    sc = rec.score
    headline = f"{LEVEL_WORDS.get(str(sc.level), str(sc.level))}: score {sc.total} of 100"
    heavy = [f for f in rec.findings if f.severity.at_least(Severity.MEDIUM)]
    reasons = tuple(f"{f.title}: {f.message}" for f in heavy[:5])
    caveats: list[str] = []
    if rec.coverage is not None and rec.coverage.code_hidden:
        caveats.append(
            "Part of the code is hidden from this scan, so claims that something is absent are weak: "
            + (rec.coverage_summary or "")
        )
    if rec.failures:
        caveats.append(
            f"{len(rec.failures)} check(s) failed and their findings are missing: "
            + ", ".join(f.check_id for f in rec.failures)
        )
    if rec.problems:
        caveats.append("Unreadable parts: " + "; ".join(f"{p.part}: {p.message}" for p in rec.problems[:5]))
    return Verdict(str(sc.level), headline, reasons, tuple(caveats))
