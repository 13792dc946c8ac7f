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


def _f(cid: str, sev: Severity, conf: Confidence = Confidence.HIGH, subject: str | None = None) -> Finding:
    return Finding(CheckId(cid), "s", "t", sev, conf, f"m {subject}", subject=subject)


W = {
    "AV-PERM-001": CheckWeighting("data-access", absence_claim=True),
    "AV-PERM-002": CheckWeighting("auditability"),  # scored in data access all the same (rule 2)
    "AV-PERM-003": CheckWeighting("data-access"),
    "AV-PERM-004": CheckWeighting("data-access"),
    "AV-OBF-001": CheckWeighting("auditability"),
    "AV-JUR-001": CheckWeighting("data-jurisdiction"),
    "AV-MAN-001": CheckWeighting("security-hygiene"),
    "AV-MAN-002": CheckWeighting("security-hygiene"),
    "AV-ODD-001": CheckWeighting("no-such-part"),
}


def test_one_check_stops_at_20_points_and_lists_what_the_rest_lost() -> None:
    # high 15, then high 15 -> only 5 left under the cap of 20 (cut), then 0 (cut)
    fs = [_f("AV-MAN-001", Severity.HIGH, subject=s) for s in ("a", "b", "c")]
    hyg = score(fs, weighting=W.get).subscore("security-hygiene")
    assert [(c.subject, c.points, c.capped) for c in hyg.contributions] == [
        ("a", 15.0, False),
        ("b", 5.0, True),
        ("c", 0.0, True),
    ]
    assert (hyg.points, hyg.raw_points) == (20.0, 20.0)


def test_exactly_at_the_cap_is_not_cut() -> None:
    # 15 + 2 + 2 + 1 = 20: the last one reaches the cap without crossing it
    fs = [
        _f("AV-MAN-001", Severity.HIGH, subject="a"),
        _f("AV-MAN-001", Severity.LOW, subject="b"),
        _f("AV-MAN-001", Severity.LOW, subject="c"),
        _f("AV-MAN-001", Severity.LOW, Confidence.LOW, subject="d"),
    ]
    hyg = score(fs, weighting=W.get).subscore("security-hygiene")
    assert [(c.points, c.capped) for c in hyg.contributions] == [
        (15.0, False),
        (2.0, False),
        (2.0, False),
        (1.0, False),
    ]


def test_the_per_permission_checks_stop_at_60_and_combinations_at_45() -> None:
    used = [_f("AV-PERM-003", Severity.CRITICAL, subject=s) for s in ("a", "b", "c")]
    combos = [_f("AV-PERM-004", Severity.CRITICAL, subject=s) for s in ("a", "b")]
    da = score([*used, *combos], weighting=W.get).subscore("data-access")
    pts = {(c.check_id, c.subject): (c.points, c.capped) for c in da.contributions}
    # AV-PERM-003: 40, then 20 of 40 (cap 60), then 0; AV-PERM-004: 40, then 5 of 40 (cap 45)
    assert pts == {
        ("AV-PERM-003", "a"): (40.0, False),
        ("AV-PERM-003", "b"): (20.0, True),
        ("AV-PERM-003", "c"): (0.0, True),
        ("AV-PERM-004", "a"): (40.0, False),
        ("AV-PERM-004", "b"): (5.0, True),
    }
    # 105 points before the cap of a part: 100 count, i.e. 40 of the total
    assert (da.raw_points, da.points, da.weight) == (105.0, 100.0, 0.4)


@pytest.mark.parametrize(
    ("findings", "total", "level"),
    [
        # data access 15 + 15 + 6 + 1.5 = 37.5 -> x 0.4 = 15.0: "moderate" starts at 15
        (
            [
                _f("AV-PERM-003", Severity.HIGH, subject="a"),
                _f("AV-PERM-003", Severity.HIGH, subject="b"),
                _f("AV-PERM-003", Severity.MEDIUM, subject="c"),
                _f("AV-PERM-003", Severity.LOW, Confidence.MEDIUM, subject="d"),
            ],
            15.0,
            "moderate",
        ),
        # data access 15 + 15 + 6 = 36 -> 14.4: still "low"
        (
            [
                _f("AV-PERM-003", Severity.HIGH, subject="a"),
                _f("AV-PERM-003", Severity.HIGH, subject="b"),
                _f("AV-PERM-003", Severity.MEDIUM, subject="c"),
            ],
            14.4,
            "low",
        ),
        # data access 60 (AV-PERM-003 at its cap) + 15 = 75 -> 30.0: "elevated" starts at 30
        (
            [
                *(_f("AV-PERM-003", Severity.HIGH, subject=s) for s in "abcd"),
                _f("AV-PERM-004", Severity.HIGH),
            ],
            30.0,
            "elevated",
        ),
        # data access 100 -> 40; hygiene 20 + 2 + 2 + 1 = 25 -> 5: 45.0, "high" starts at 45
        (
            [
                *(_f("AV-PERM-003", Severity.CRITICAL, subject=s) for s in "ab"),
                *(_f("AV-PERM-004", Severity.CRITICAL, subject=s) for s in "ab"),
                _f("AV-MAN-001", Severity.CRITICAL),
                _f("AV-MAN-002", Severity.LOW, subject="a"),
                _f("AV-MAN-002", Severity.LOW, subject="b"),
                _f("AV-MAN-002", Severity.LOW, Confidence.LOW, subject="c"),
            ],
            45.0,
            "high",
        ),
        # auditability 15 -> 3; jurisdiction 6 -> 1.2; hygiene 15 -> 3: 7.2
        (
            [
                _f("AV-OBF-001", Severity.HIGH),
                _f("AV-JUR-001", Severity.MEDIUM),
                _f("AV-MAN-001", Severity.HIGH),
            ],
            7.2,
            "low",
        ),
    ],
)
def test_stated_totals_and_level_thresholds(findings: list[Finding], total: float, level: str) -> None:
    r = score(findings, weighting=W.get)
    assert (r.total, r.level, r.measured, r.concealment) == (total, level, total, 0.0)


def test_findings_of_an_unknown_part_count_nowhere() -> None:
    r = score([_f("AV-ODD-001", Severity.CRITICAL)], weighting=W.get)
    assert r.total == 0.0
    assert all(s.contributions == () for s in r.subscores)


def test_a_part_is_looked_up_by_name() -> None:
    r = score([_f("AV-JUR-001", Severity.HIGH)], weighting=W.get)
    assert [s.name for s in r.subscores] == [
        "data-access",
        "auditability",
        "data-jurisdiction",
        "security-hygiene",
    ]
    assert r.subscore("data-jurisdiction").points == 15.0
    assert [s.weight for s in r.subscores] == [0.4, 0.2, 0.2, 0.2]
    with pytest.raises(KeyError):
        r.subscore("no-such-part")


def test_an_absence_claim_is_capped_only_when_a_cap_is_given() -> None:
    f = _f("AV-PERM-001", Severity.HIGH, Confidence.HIGH, subject="a")
    low = lambda _c: Confidence.LOW  # noqa: E731
    (c,) = score([f], weighting=W.get, coverage_cap=low).subscore("data-access").contributions
    assert (c.confidence, c.points) == (Confidence.LOW, 7.5)  # 15 x 0.5
    (c,) = score([f], weighting=W.get).subscore("data-access").contributions
    assert (c.confidence, c.points) == (Confidence.HIGH, 15.0)
    # a finding that claims no absence keeps its confidence under the same cap
    g = _f("AV-PERM-003", Severity.HIGH, Confidence.HIGH, subject="a")
    (c,) = score([g], weighting=W.get, coverage_cap=low).subscore("data-access").contributions
    assert (c.confidence, c.points) == (Confidence.HIGH, 15.0)


def test_a_contribution_carries_its_finding() -> None:
    f = Finding(CheckId("AV-MAN-001"), "s", "t", Severity.HIGH, Confidence.MEDIUM, "why", subject="x")
    (c,) = score([f], weighting=W.get).subscore("security-hygiene").contributions
    assert (c.check_id, c.subject, c.severity, c.confidence, c.points, c.message, c.capped) == (
        "AV-MAN-001",
        "x",
        Severity.HIGH,
        Confidence.MEDIUM,
        11.25,
        "why",
        False,
    )


def test_a_readable_share_outside_0_1_is_clamped() -> None:
    # nothing readable: auditability floor 100 -> 20; concealment 1 x (45 - 20) = 25; total 45
    r = score([], weighting=W.get, readable_share=-0.5)
    assert (r.readable_share, r.measured, r.concealment, r.total, r.level) == (0.0, 20.0, 25.0, 45.0, "high")
    r = score([], weighting=W.get, readable_share=1.5)
    assert (r.readable_share, r.measured, r.concealment, r.total) == (1.0, 0.0, 0.0, 0.0)
    assert r.explanation == (
        "measured: 0.4 x data-access 0 + 0.2 x auditability 0 + 0.2 x data-jurisdiction 0 "
        "+ 0.2 x security-hygiene 0 = 0",
        "total: 0",
    )


def test_the_unread_share_is_rounded_to_a_tenth_of_a_percent() -> None:
    # readable 0.3334 -> unread 0.6666, taken as 0.667: floor 66.7 -> 13.34;
    # concealment 0.667 x (45 - 13.34) = 21.117... -> 21.12; total 34.46 -> 34.5
    r = score([], weighting=W.get, readable_share=0.3334)
    aud = r.subscore("auditability")
    (floor,) = aud.contributions
    assert (aud.floor, aud.points, floor.points) == (66.7, 66.7, 66.7)
    assert (floor.subject, floor.severity, floor.confidence, floor.capped) == (
        "unread share",
        Severity.INFO,
        Confidence.HIGH,
        False,
    )
    assert floor.message == (
        "66.7% of the code could not be read: auditability is at least 100 x that share (66.7)"
    )
    assert (r.measured, r.concealment, r.total, r.level) == (13.34, 21.12, 34.5, "elevated")


def test_the_floor_adds_only_what_the_findings_lack() -> None:
    # 20% unread: floor 20; obfuscation high 15 -> the floor adds 5; 20 -> 4 measured;
    # concealment 0.2 x (45 - 4) = 8.2; total 12.2
    r = score([_f("AV-OBF-001", Severity.HIGH)], weighting=W.get, readable_share=0.8)
    aud = r.subscore("auditability")
    assert [(c.check_id, c.points) for c in aud.contributions] == [("AV-OBF-001", 15.0), ("coverage", 5.0)]
    assert (aud.points, aud.raw_points, aud.floor) == (20.0, 20.0, 20.0)
    assert (r.measured, r.concealment, r.total) == (4.0, 8.2, 12.2)
    assert r.explanation == (
        "measured: 0.4 x data-access 0 + 0.2 x auditability 20 + 0.2 x data-jurisdiction 0 "
        "+ 0.2 x security-hygiene 0 = 4",
        "auditability is at least 100 x the unread share: 20 (its findings: 15)",
        "concealment: 20% of the code could not be read and is taken to be as risky as the 'high' "
        "level (45): + 0.2 x max(0, 45 - 4) = + 8.2",
        "total: 12.2",
    )


def test_findings_above_the_floor_leave_it_out() -> None:
    # 10% unread: floor 10; obfuscation critical 40, capped at 20 -> above the floor, nothing added;
    # data access two undeterminable permissions 6 x 0.1 = 0.6 each -> 1.2 x 0.4 = 0.48;
    # measured 0.48 + 4 = 4.48; concealment 0.1 x (45 - 4.48) = 4.052 -> 4.05; total 8.53 -> 8.5
    fs = [
        _f("AV-OBF-001", Severity.CRITICAL),
        _f("AV-PERM-002", Severity.LOW, subject="READ_SMS"),
        _f("AV-PERM-002", Severity.LOW, subject="READ_CONTACTS"),
    ]
    r = score(fs, weighting=W.get, readable_share=0.9)
    aud = r.subscore("auditability")
    assert [(c.check_id, c.points, c.capped) for c in aud.contributions] == [("AV-OBF-001", 20.0, True)]
    assert aud.floor == 10.0
    assert [(c.subject, c.points) for c in r.subscore("data-access").contributions] == [
        ("READ_CONTACTS", 0.6),
        ("READ_SMS", 0.6),
    ]
    assert (r.measured, r.concealment, r.total) == (4.48, 4.05, 8.5)
    assert r.explanation == (
        "measured: 0.4 x data-access 1.2 + 0.2 x auditability 20 + 0.2 x data-jurisdiction 0 "
        "+ 0.2 x security-hygiene 0 = 4.48",
        "2 dangerous permission(s) of undeterminable use count as used: 0.6 point(s) each in "
        "data-access (6 for a used sensitive permission x 10% of the code unread)",
        "concealment: 10% of the code could not be read and is taken to be as risky as the 'high' "
        "level (45): + 0.1 x max(0, 45 - 4.48) = + 4.05",
        "total: 8.5",
    )


def test_undeterminable_permissions_share_the_cap_of_60() -> None:
    # nothing readable: each undeterminable permission is worth 6 x 1 = 6; eleven of them
    # reach 66, cut at 60 (the tenth fills it, the eleventh gets 0)
    fs = [_f("AV-PERM-002", Severity.LOW, subject=f"P{i:02d}") for i in range(11)]
    da = score(fs, weighting=W.get, readable_share=0.0).subscore("data-access")
    assert [c.points for c in da.contributions] == [6.0] * 10 + [0.0]
    assert [c.capped for c in da.contributions] == [False] * 10 + [True]
    assert da.points == 60.0


def test_an_unknown_check_before_a_known_one_does_not_stop_the_count() -> None:
    # the unknown critical finding sorts first; the hygiene finding after it still counts 15 -> 3
    fs = [_f("AV-XXX-999", Severity.CRITICAL), _f("AV-MAN-001", Severity.HIGH)]
    assert score(fs, weighting=W.get).total == 3.0


def test_the_coverage_cap_receives_the_findings_confidence() -> None:
    at_most_medium = {Confidence.HIGH: Confidence.MEDIUM}
    f = _f("AV-PERM-001", Severity.HIGH, Confidence.LOW, subject="a")
    r = score([f], weighting=W.get, coverage_cap=lambda c: at_most_medium.get(c, c))
    (c,) = r.subscore("data-access").contributions
    assert (c.confidence, c.points) == (Confidence.LOW, 7.5)  # low stays low: 15 x 0.5


def test_an_unknown_part_names_itself_in_the_error() -> None:
    with pytest.raises(KeyError, match="no-such-part"):
        score([], weighting=W.get).subscore("no-such-part")


def test_a_cut_keeps_its_hundredths() -> None:
    # high x medium = 11.25 first (subject a), then high x high = 15 cut to 20 - 11.25 = 8.75
    fs = [
        _f("AV-MAN-001", Severity.HIGH, Confidence.MEDIUM, subject="a"),
        _f("AV-MAN-001", Severity.HIGH, subject="b"),
    ]
    hyg = score(fs, weighting=W.get).subscore("security-hygiene")
    assert [(c.points, c.capped) for c in hyg.contributions] == [(11.25, False), (8.75, True)]


def test_the_floor_tops_up_findings_with_hundredths() -> None:
    # 20% unread: floor 20; obfuscation high x medium = 11.25 -> the floor adds 8.75
    r = score([_f("AV-OBF-001", Severity.HIGH, Confidence.MEDIUM)], weighting=W.get, readable_share=0.8)
    aud = r.subscore("auditability")
    assert [c.points for c in aud.contributions] == [11.25, 8.75]
    assert r.explanation[1] == "auditability is at least 100 x the unread share: 20 (its findings: 11.25)"


def test_findings_equal_to_the_floor_need_no_sentence() -> None:
    # 15% unread: floor 15; obfuscation high = 15: nothing added, no floor sentence
    r = score([_f("AV-OBF-001", Severity.HIGH)], weighting=W.get, readable_share=0.85)
    assert [c.check_id for c in r.subscore("auditability").contributions] == ["AV-OBF-001"]
    assert not any(line.startswith("auditability is at least") for line in r.explanation)


def test_two_thirds_unread_in_the_explanation() -> None:
    # readable 0.333 -> unread 0.667; an undeterminable permission: 6 x 0.667 = 4.002 -> 4.0;
    # data access 4 x 0.4 = 1.6; auditability 66.7 x 0.2 = 13.34; measured 14.94;
    # concealment 0.667 x (45 - 14.94) = 20.05; total 34.99 -> 35.0
    r = score([_f("AV-PERM-002", Severity.LOW, subject="READ_SMS")], weighting=W.get, readable_share=0.333)
    (c,) = r.subscore("data-access").contributions
    assert (c.points, r.subscore("data-access").points) == (4.0, 4.0)
    assert (r.measured, r.concealment, r.total) == (14.94, 20.05, 35.0)
    assert r.explanation[1:] == (
        "1 dangerous permission(s) of undeterminable use count as used: 4 point(s) each in "
        "data-access (6 for a used sensitive permission x 66.7% of the code unread)",
        "auditability is at least 100 x the unread share: 66.7 (its findings: 0)",
        "concealment: 66.7% of the code could not be read and is taken to be as risky as the 'high' "
        "level (45): + 0.667 x max(0, 45 - 14.94) = + 20.05",
        "total: 35",
    )


def test_the_measured_score_is_rounded_to_hundredths() -> None:
    # 0.1% unread, one undeterminable permission: 6 x 0.001 = 0.006 -> 0.01 in data access;
    # floor 0.1; measured 0.4 x 0.01 + 0.2 x 0.1 = 0.024 -> 0.02; concealment 0.001 x 44.98 -> 0.04
    r = score([_f("AV-PERM-002", Severity.LOW, subject="READ_SMS")], weighting=W.get, readable_share=0.999)
    assert (r.measured, r.concealment, r.total) == (0.02, 0.04, 0.1)
