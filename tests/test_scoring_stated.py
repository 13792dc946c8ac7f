"""Scoring with stated values: each expected number is written out by hand from the rule
(points = severity points x confidence factor: info 0, low 2, medium 6, high 15, critical
40; high 1, medium 0.75, low 0.5; the total is the sum of sub-scores x their weights,
data access 0.40), never recomputed from the constants under test (issue 19)."""

from __future__ import annotations

import pytest

from appveto.findings import CheckId, Confidence, Finding, Severity
from appveto.scoring import CheckWeighting, score

DATA = {"AV-PERM-003": CheckWeighting("data-access")}  # its per-check cap (60) is not reached here


@pytest.mark.parametrize(
    ("severity", "confidence", "points", "total"),
    [
        (Severity.INFO, Confidence.HIGH, 0.0, 0.0),
        (Severity.LOW, Confidence.HIGH, 2.0, 0.8),
        (Severity.LOW, Confidence.LOW, 1.0, 0.4),
        (Severity.MEDIUM, Confidence.HIGH, 6.0, 2.4),
        (Severity.MEDIUM, Confidence.MEDIUM, 4.5, 1.8),
        (Severity.MEDIUM, Confidence.LOW, 3.0, 1.2),
        (Severity.HIGH, Confidence.HIGH, 15.0, 6.0),
        (Severity.HIGH, Confidence.MEDIUM, 11.25, 4.5),
        (Severity.CRITICAL, Confidence.HIGH, 40.0, 16.0),
        (Severity.CRITICAL, Confidence.LOW, 20.0, 8.0),
    ],
)
def test_one_finding_scores_its_stated_points(
    severity: Severity, confidence: Confidence, points: float, total: float
) -> None:
    f = Finding(CheckId("AV-PERM-003"), "s", "t", severity, confidence, "m")
    r = score([f], weighting=DATA.get)
    (c,) = r.subscore("data-access").contributions
    assert c.points == points
    assert r.subscore("data-access").points == points
    assert r.total == total
