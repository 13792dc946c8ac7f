"""Findings -> an explainable, additive risk score. The only place where weights live.

Every point of the score is a :class:`Contribution` of one finding::

    points = SEVERITY_POINTS[severity] x CONFIDENCE_FACTOR[confidence]

One check ID contributes at most :data:`CHECK_CAP` points (or its entry in
:data:`CHECK_CAP_OVERRIDES`) (the findings beyond it are
listed with the points they lost). Contributions add up per sub-score (data access,
auditability, data jurisdiction, security hygiene), each capped at :data:`SUBSCORE_CAP`.
The total (0-100) is the weighted sum of the four sub-scores (:data:`SUBSCORE_WEIGHTS`,
summing to 1). The confidence of a finding whose check claims an absence is capped by
the scan's coverage before it is weighted, so a packed app cannot score "clean" by
hiding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from appveto.findings import CheckId, Confidence, Finding, Severity

SUBSCORES: tuple[str, ...] = ("data-access", "auditability", "data-jurisdiction", "security-hygiene")

SEVERITY_POINTS: dict[Severity, float] = {
    Severity.INFO: 0.0,
    Severity.LOW: 2.0,
    Severity.MEDIUM: 6.0,
    Severity.HIGH: 15.0,
    Severity.CRITICAL: 40.0,
}
CONFIDENCE_FACTOR: dict[Confidence, float] = {
    Confidence.HIGH: 1.0,
    Confidence.MEDIUM: 0.75,
    Confidence.LOW: 0.5,
}
SUBSCORE_CAP = 100.0
CHECK_CAP = 20.0
"""At most this many points come from one check ID, so that a check reporting many
items (e.g. one finding per cleartext URL) cannot dominate its sub-score alone."""
CHECK_CAP_OVERRIDES: dict[str, float] = {
    "AV-PERM-003": 60.0,  # each dangerous permission in use is distinct data access
    "AV-PERM-004": 45.0,  # each dangerous combination is a distinct abuse pattern
}
SUBSCORE_WEIGHTS: dict[str, float] = {
    "data-access": 0.30,
    "auditability": 0.20,
    "data-jurisdiction": 0.25,
    "security-hygiene": 0.25,
}
LEVEL_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (45.0, "high"),
    (30.0, "elevated"),
    (15.0, "moderate"),
    (0.0, "low"),
)


class RiskLevel(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    ELEVATED = "elevated"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Contribution:
    check_id: CheckId
    subject: str | None
    severity: Severity
    confidence: Confidence
    """After the coverage cap for absence claims."""
    points: float
    message: str
    capped: bool = False
    """True when the check's cap (:data:`CHECK_CAP`) cut these points."""


@dataclass(frozen=True, slots=True)
class SubScore:
    name: str
    points: float
    """Capped at :data:`SUBSCORE_CAP`."""
    raw_points: float
    """Before the cap."""
    weight: float
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class RiskScore:
    total: float
    level: RiskLevel
    subscores: tuple[SubScore, ...]

    def subscore(self, name: str) -> SubScore:
        for s in self.subscores:
            if s.name == name:
                return s
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class CheckWeighting:
    """What scoring needs to know about a check (taken from the check registry)."""

    subscore: str
    absence_claim: bool = False


def score(
    findings: Iterable[Finding],
    *,
    weighting: Callable[[CheckId], CheckWeighting | None],
    coverage_cap: Callable[[Confidence], Confidence] | None = None,
) -> RiskScore:
    """Add up the findings. ``weighting`` maps a check ID to its sub-score; findings of
    unknown checks count nowhere (and are listed by nobody: the caller passes the
    registry's view). ``coverage_cap`` caps the confidence of absence claims."""
    buckets: dict[str, list[Contribution]] = {name: [] for name in SUBSCORES}
    per_check: dict[CheckId, float] = {}
    for f in sorted(findings, key=Finding.sort_key):
        w = weighting(f.check_id)
        if w is None or w.subscore not in buckets:
            continue
        conf = f.confidence
        if w.absence_claim and coverage_cap is not None:
            conf = coverage_cap(conf)
        pts = round(SEVERITY_POINTS[f.severity] * CONFIDENCE_FACTOR[conf], 2)
        used = per_check.get(f.check_id, 0.0)
        cap = CHECK_CAP_OVERRIDES.get(f.check_id, CHECK_CAP)
        cut = used + pts > cap
        if cut:
            pts = round(max(0.0, cap - used), 2)
        per_check[f.check_id] = used + pts
        buckets[w.subscore].append(Contribution(f.check_id, f.subject, f.severity, conf, pts, f.message, cut))
    subs: list[SubScore] = []
    total = 0.0
    for name in SUBSCORES:
        contribs = tuple(buckets[name])
        raw = round(sum(c.points for c in contribs), 2)
        capped = min(SUBSCORE_CAP, raw)
        weight = SUBSCORE_WEIGHTS[name]
        total += capped * weight
        subs.append(SubScore(name, capped, raw, weight, contribs))
    total = round(total, 1)
    level = next(RiskLevel(lv) for th, lv in LEVEL_THRESHOLDS if total >= th)
    return RiskScore(total=total, level=level, subscores=tuple(subs))
