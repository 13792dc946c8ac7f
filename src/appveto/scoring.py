"""Findings -> an explainable, additive risk score. The only place where weights live.

The model (docs/scoring.md says it for users; :attr:`RiskScore.explanation` says it for
one app):

1. Every point of the score is a :class:`Contribution` of one finding::

       points = SEVERITY_POINTS[severity] x CONFIDENCE_FACTOR[confidence]

   One check ID contributes at most :data:`CHECK_CAP` points (or its entry in
   :data:`CHECK_CAP_OVERRIDES`); the findings beyond it are listed with the points they
   lost. The confidence of a finding whose check claims an absence is capped by the
   scan's coverage before it is weighted.
2. **Concealment never pays.** ``u`` is the share of the code the scan could not read
   (1 - readable share). Code the tool cannot read weighs at least as much as what it
   could hide:

   * a dangerous permission whose use is *undeterminable* (:data:`UNDETERMINABLE_USE`)
     carries the points of a used sensitive one (medium severity, high confidence), times
     ``u``, in data access;
   * the auditability sub-score is at least ``100 x u`` (a low readable share dominates it);
   * the unread share of the app is taken to be as risky as the "high" level: the total
     is ``measured + u x max(0, CONCEALED_LEVEL - measured)``.

   Each step can only raise the score as ``u`` grows: hiding code never lowers it.
3. Contributions add up per sub-score (data access, auditability, data jurisdiction,
   security hygiene), each capped at :data:`SUBSCORE_CAP`; the measured total (0-100) is
   their weighted sum (:data:`SUBSCORE_WEIGHTS`, summing to 1).
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
    "AV-PERM-002": 60.0,  # each undeterminable dangerous permission stands for a used one
    "AV-PERM-003": 60.0,  # each dangerous permission in use is distinct data access
    "AV-PERM-004": 45.0,  # each dangerous combination is a distinct abuse pattern
}
SUBSCORE_WEIGHTS: dict[str, float] = {
    "data-access": 0.40,
    "auditability": 0.20,
    "data-jurisdiction": 0.20,
    "security-hygiene": 0.20,
}
"""Data access weighs double: it is what the app can take from the people who use it.
Hygiene (how exposed the app is to others' attacks) and jurisdiction (where data may go)
weigh as much as auditability (how much of this the scan could see)."""
LEVEL_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (45.0, "high"),
    (30.0, "elevated"),
    (15.0, "moderate"),
    (0.0, "low"),
)
UNDETERMINABLE_USE: dict[str, tuple[str, Severity]] = {
    "AV-PERM-002": ("data-access", Severity.MEDIUM),
}
"""Checks whose finding says "this permission may be used, the scan cannot tell": such a
finding is scored in the given sub-score with the points of a *used* sensitive dangerous
permission (``AV-PERM-003`` at this severity, high confidence), times the unreadable
share of the code."""
UNREAD_SHARE = CheckId("coverage")
"""The check ID of the contribution that lifts auditability to its floor (no finding: the
coverage's readable share)."""
CONCEALED_LEVEL = 45.0
"""The unread share of an app is taken to be this risky (the "high" threshold)."""


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
    floor: float = 0.0
    """The least this sub-score may be: ``100 x`` the unreadable share for auditability."""


@dataclass(frozen=True, slots=True)
class RiskScore:
    total: float
    level: RiskLevel
    subscores: tuple[SubScore, ...]
    readable_share: float = 1.0
    """The share of the code the scan could read (the coverage's estimate)."""
    measured: float | None = None
    """The weighted sum of the sub-scores, before the concealment term."""
    concealment: float = 0.0
    """Points added because part of the code could not be read."""
    explanation: tuple[str, ...] = ()
    """How this total was reached, in sentences a reviewer can check."""

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


def _points(severity: Severity, confidence: Confidence) -> float:
    return SEVERITY_POINTS[severity] * CONFIDENCE_FACTOR[confidence]


def score(
    findings: Iterable[Finding],
    *,
    weighting: Callable[[CheckId], CheckWeighting | None],
    coverage_cap: Callable[[Confidence], Confidence] | None = None,
    readable_share: float = 1.0,
) -> RiskScore:
    """Add up the findings. ``weighting`` maps a check ID to its sub-score; findings of
    unknown checks count nowhere (and are listed by nobody: the caller passes the
    registry's view). ``coverage_cap`` caps the confidence of absence claims;
    ``readable_share`` (0..1, the coverage's estimate) drives the concealment terms."""
    readable = min(1.0, max(0.0, readable_share))
    unread = round(1.0 - readable, 3)
    buckets: dict[str, list[Contribution]] = {name: [] for name in SUBSCORES}
    per_check: dict[CheckId, float] = {}
    undetermined = 0
    for f in sorted(findings, key=Finding.sort_key):
        w = weighting(f.check_id)
        if w is None or w.subscore not in buckets:
            continue
        conf = f.confidence
        if w.absence_claim and coverage_cap is not None:
            conf = coverage_cap(conf)
        bucket = w.subscore
        as_used = UNDETERMINABLE_USE.get(f.check_id)
        if as_used is not None:
            bucket = as_used[0]
            pts = round(_points(as_used[1], Confidence.HIGH) * unread, 2)
            undetermined += 1
        else:
            pts = round(_points(f.severity, conf), 2)
        used = per_check.get(f.check_id, 0.0)
        cap = CHECK_CAP_OVERRIDES.get(f.check_id, CHECK_CAP)
        cut = used + pts > cap
        if cut:
            pts = round(max(0.0, cap - used), 2)
        per_check[f.check_id] = used + pts
        buckets[bucket].append(Contribution(f.check_id, f.subject, f.severity, conf, pts, f.message, cut))
    subs: list[SubScore] = []
    measured = 0.0
    for name in SUBSCORES:
        found = round(sum(c.points for c in buckets[name]), 2)
        floor = round(SUBSCORE_CAP * unread, 2) if name == "auditability" else 0.0
        if floor > found:
            buckets[name].append(
                Contribution(
                    UNREAD_SHARE,
                    "unread share",
                    Severity.INFO,
                    Confidence.HIGH,
                    round(floor - found, 2),
                    f"{round(unread * 100, 1):g}% of the code could not be read: auditability is at least "
                    f"100 x that share ({floor:g})",
                )
            )
        contribs = tuple(buckets[name])
        raw = round(sum(c.points for c in contribs), 2)
        capped = min(SUBSCORE_CAP, raw)
        weight = SUBSCORE_WEIGHTS[name]
        measured += capped * weight
        subs.append(SubScore(name, capped, raw, weight, contribs, floor))
    measured = round(measured, 2)
    concealment = round(unread * max(0.0, CONCEALED_LEVEL - measured), 2)
    total = round(min(100.0, measured + concealment), 1)
    level = next(RiskLevel(lv) for th, lv in LEVEL_THRESHOLDS if total >= th)
    return RiskScore(
        total=total,
        level=level,
        subscores=tuple(subs),
        readable_share=readable,
        measured=measured,
        concealment=concealment,
        explanation=_explain(subs, unread, undetermined, measured, concealment, total),
    )


def _explain(
    subs: list[SubScore], unread: float, undetermined: int, measured: float, concealment: float, total: float
) -> tuple[str, ...]:
    parts = " + ".join(f"{s.weight:g} x {s.name} {s.points:g}" for s in subs)
    lines = [f"measured: {parts} = {measured:g}"]
    pct = f"{round(unread * 100, 1):g}"
    if unread > 0:
        if undetermined:
            each = round(_points(Severity.MEDIUM, Confidence.HIGH) * unread, 2)
            lines.append(
                f"{undetermined} dangerous permission(s) of undeterminable use count as used: "
                f"{each:g} point(s) each in data-access ({_points(Severity.MEDIUM, Confidence.HIGH):g} "
                f"for a used sensitive permission x {pct}% of the code unread)"
            )
        aud = next(s for s in subs if s.name == "auditability")
        found = round(sum(c.points for c in aud.contributions if c.check_id != UNREAD_SHARE), 2)
        if aud.floor > found:
            lines.append(
                f"auditability is at least 100 x the unread share: {aud.floor:g} (its findings: {found:g})"
            )
        lines.append(
            f"concealment: {pct}% of the code could not be read and is taken to be as risky as the "
            f"'high' level ({CONCEALED_LEVEL:g}): + {unread:g} x max(0, {CONCEALED_LEVEL:g} - {measured:g}) "
            f"= + {concealment:g}"
        )
    lines.append(f"total: {total:g}")
    return tuple(lines)
