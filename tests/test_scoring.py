"""The score is additive, traceable and caps absence claims by coverage."""

from __future__ import annotations

from appveto.findings import CheckId, Confidence, Finding, Severity
from appveto.scoring import CHECK_CAP, SEVERITY_POINTS, CheckWeighting, RiskLevel, score


def _f(cid: str, sev: Severity, conf: Confidence = Confidence.HIGH, subject: str | None = None) -> Finding:
    return Finding(CheckId(cid), "s", "t", sev, conf, "m", subject=subject)


W = {
    "AV-PERM-003": CheckWeighting("data-access"),
    "AV-PERM-001": CheckWeighting("data-access", absence_claim=True),
    "AV-OBF-001": CheckWeighting("auditability"),
    "AV-JUR-001": CheckWeighting("data-jurisdiction"),
    "AV-MAN-001": CheckWeighting("security-hygiene"),
}


def test_every_point_traces_to_a_finding() -> None:
    fs = [
        _f("AV-PERM-003", Severity.MEDIUM, subject="a"),
        _f("AV-OBF-001", Severity.HIGH),
        _f("AV-MAN-001", Severity.HIGH),
    ]
    r = score(fs, weighting=W.get)
    assert sum(len(s.contributions) for s in r.subscores) == 3
    for s in r.subscores:
        assert s.raw_points == round(sum(c.points for c in s.contributions), 2)
    assert r.total == round(sum(s.points * s.weight for s in r.subscores), 1)


def test_empty_is_zero_and_low() -> None:
    r = score([], weighting=W.get)
    assert r.total == 0 and r.level is RiskLevel.LOW


def test_unknown_checks_count_nowhere() -> None:
    r = score([_f("AV-XXX-999", Severity.CRITICAL)], weighting=W.get)
    assert r.total == 0


def test_absence_claim_confidence_capped() -> None:
    f = _f("AV-PERM-001", Severity.MEDIUM, Confidence.HIGH)
    full = score([f], weighting=W.get)
    capped = score([f], weighting=W.get, coverage_cap=lambda _c: Confidence.LOW)
    assert capped.subscore("data-access").contributions[0].confidence is Confidence.LOW
    assert capped.subscore("data-access").points < full.subscore("data-access").points


def test_one_check_is_capped() -> None:
    fs = [_f("AV-MAN-001", Severity.CRITICAL, subject=str(i)) for i in range(10)]
    r = score(fs, weighting=W.get)
    hyg = r.subscore("security-hygiene")
    assert hyg.raw_points == CHECK_CAP and hyg.points == CHECK_CAP
    assert sum(1 for c in hyg.contributions if c.capped) == 10
    assert len(hyg.contributions) == 10  # every finding is still listed


def test_subscore_cap_and_level() -> None:
    ids = [f"AV-MAN-{i:03d}" for i in range(1, 9)]
    weights = {cid: CheckWeighting("security-hygiene") for cid in ids}
    fs = [_f(cid, Severity.CRITICAL) for cid in ids]
    r = score(fs, weighting=weights.get)
    hyg = r.subscore("security-hygiene")
    assert hyg.raw_points == 8 * min(CHECK_CAP, SEVERITY_POINTS[Severity.CRITICAL]) and hyg.points == 100
    assert r.total == 25.0
