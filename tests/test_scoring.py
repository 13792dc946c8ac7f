"""The score is additive, traceable, caps absence claims by coverage and never rewards
concealment. Expected numbers are worked out by hand in the comments (not recomputed from
the constants under test)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert r.total == 20.0  # 100 x 0.2, the weight of security hygiene


W2 = {
    **W,
    "AV-PERM-002": CheckWeighting("auditability"),
    "AV-SIG-003": CheckWeighting("security-hygiene"),
}


def test_an_undeterminable_permission_counts_as_used_scaled_by_the_unread_share() -> None:
    # half the code unread: 6 points (a used sensitive permission) x 0.5 = 3 in data access;
    # auditability at least 100 x 0.5 = 50; measured 0.4 x 3 + 0.2 x 50 = 11.2;
    # concealment 0.5 x (45 - 11.2) = 16.9; total 28.1
    r = score([_f("AV-PERM-002", Severity.LOW, subject="READ_SMS")], weighting=W2.get, readable_share=0.5)
    (c,) = r.subscore("data-access").contributions
    assert (c.check_id, c.points) == ("AV-PERM-002", 3.0)
    (floor,) = r.subscore("auditability").contributions  # the floor, traced like a finding
    assert (floor.check_id, floor.points) == ("coverage", 50.0)
    assert (r.subscore("auditability").points, r.subscore("auditability").floor) == (50.0, 50.0)
    assert (r.measured, r.concealment, r.total, r.level) == (11.2, 16.9, 28.1, RiskLevel.MODERATE)
    assert r.explanation == (
        "measured: 0.4 x data-access 3 + 0.2 x auditability 50 + 0.2 x data-jurisdiction 0 "
        "+ 0.2 x security-hygiene 0 = 11.2",
        "1 dangerous permission(s) of undeterminable use count as used: 3 point(s) each in "
        "data-access (6 for a used sensitive permission x 50% of the code unread)",
        "auditability is at least 100 x the unread share: 50 (its findings: 0)",
        "concealment: 50% of the code could not be read and is taken to be as risky as the 'high' "
        "level (45): + 0.5 x max(0, 45 - 11.2) = + 16.9",
        "total: 28.1",
    )


def test_a_fully_readable_app_keeps_its_measured_score() -> None:
    fs = [_f("AV-PERM-002", Severity.LOW, subject="X"), _f("AV-MAN-001", Severity.HIGH)]
    r = score(fs, weighting=W2.get, readable_share=1.0)
    # the undeterminable permission is worth 6 x 0 = 0; hygiene 15 x 0.2 = 3
    assert (r.subscore("data-access").points, r.measured, r.concealment, r.total) == (0.0, 3.0, 0.0, 3.0)


def test_mostly_native_code_scores_near_high_without_any_permission() -> None:
    # 97% of the code unread (a root exploit in a native library), two high hygiene findings:
    # auditability 97 -> 19.4; hygiene 30 -> 6; measured 25.4; + 0.97 x 19.6 = 19.01; total 44.4
    fs = [_f("AV-MAN-001", Severity.HIGH), _f("AV-SIG-003", Severity.HIGH)]
    r = score(fs, weighting=W2.get, readable_share=0.03)
    assert (r.measured, r.concealment, r.total) == (25.4, 19.01, 44.4)


def test_a_high_measured_score_is_not_pulled_down_by_concealment() -> None:
    ids = [f"AV-MAN-{i:03d}" for i in range(1, 9)]
    weights = {cid: CheckWeighting("data-access") for cid in ids}
    r = score([_f(cid, Severity.CRITICAL) for cid in ids], weighting=weights.get, readable_share=0.5)
    # data access 100 x 0.4 = 40, auditability floor 50 x 0.2 = 10: measured 50 > 45, nothing added
    assert (r.measured, r.concealment, r.total, r.level) == (50.0, 0.0, 50.0, RiskLevel.HIGH)


_FINDINGS = st.lists(
    st.tuples(
        st.sampled_from(sorted(W2)),
        st.sampled_from(list(Severity)),
        st.sampled_from(list(Confidence)),
        st.integers(0, 5),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_FINDINGS, st.floats(0, 1), st.floats(0, 1))
def test_hiding_code_never_lowers_the_score(
    raw: list[tuple[str, Severity, Confidence, int]], a: float, b: float
) -> None:
    fs = [_f(cid, sev, conf, subject=str(n)) for cid, sev, conf, n in raw]
    more_readable, less_readable = max(a, b), min(a, b)
    seen = score(fs, weighting=W2.get, readable_share=more_readable)
    hidden = score(fs, weighting=W2.get, readable_share=less_readable)
    assert hidden.total >= seen.total
    for name in ("data-access", "auditability"):
        assert hidden.subscore(name).points >= seen.subscore(name).points
