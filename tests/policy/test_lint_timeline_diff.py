"""Lint warnings, the timeline and the diff on small folders and on the example library."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from appveto.policy.diff import ChangeKind, diff_policies
from appveto.policy.lint import LintCode, lint
from appveto.policy.load import load_policies
from appveto.policy.model import PolicySet
from appveto.policy.timeline import EventKind, timeline

from .test_broken import AUTHORITIES, BASE, EXC

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def _load(tmp_path: Path, *decisions: str) -> PolicySet:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "authorities.yaml").write_text(AUTHORITIES, encoding="utf-8")
    for i, text in enumerate(decisions):
        (tmp_path / f"d{i}.yaml").write_text(text, encoding="utf-8")
    return load_policies(tmp_path)


def _codes(ps: PolicySet, at: date) -> list[LintCode]:
    return [w.code for w in lint(ps, at=at)]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2023, 7, 1), []),
        (date(2023, 9, 9), [LintCode.EXPIRING_SOON]),
        (date(2023, 9, 10), [LintCode.EXPIRED_WITHOUT_RENEWAL]),
    ],
)
def test_expiry_warnings(tmp_path: Path, at: date, expected: list[LintCode]) -> None:
    assert _codes(_load(tmp_path, BASE), at) == expected


def test_expired_warning_points_at_the_expiry(tmp_path: Path) -> None:
    (w,) = lint(_load(tmp_path, BASE), at=date(2023, 10, 1))
    assert w.file.endswith("d0.yaml") and (w.line, w.column) == (16, 12)
    assert "expired on 2023-09-10" in w.message


def test_lapse_before_a_late_renewal(tmp_path: Path) -> None:
    text = BASE + "  renewals:\n    - decided: 2023-09-20\n      extends_to: 2024-03-10\n"
    ps = _load(tmp_path, text)
    assert _codes(ps, date(2023, 10, 1)) == [LintCode.LAPSED_BEFORE_RENEWAL]
    # in the gap the file already records the coming renewal, so no "expired without renewal"
    assert _codes(ps, date(2023, 9, 15)) == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2023, 4, 15), []),
        (date(2023, 5, 20), [LintCode.EXCEPTION_EXPIRING]),
        (date(2023, 6, 1), [LintCode.EXCEPTION_EXPIRED]),
    ],
)
def test_exception_warnings(tmp_path: Path, at: date, expected: list[LintCode]) -> None:
    assert _codes(_load(tmp_path, BASE + EXC), at) == expected


def test_scope_conflict_only_when_parts_overlap(tmp_path: Path) -> None:
    conflict = BASE.replace(
        "term:", "  - id: press\n    mode: advisory\n    units: [fed-press]\n    devices: [issued]\nterm:"
    )
    assert _codes(_load(tmp_path / "a", conflict), date(2023, 4, 1)) == [LintCode.SCOPE_CONFLICT]
    disjoint = conflict.replace(
        "units: [fed-press]\n    devices: [issued]", "units: [fed-press]\n    devices: [personal]"
    )
    assert _codes(_load(tmp_path / "b", disjoint), date(2023, 4, 1)) == []
    no_sub = conflict.replace(
        "  - id: staff\n    mode: mandatory\n",
        "  - id: staff\n    mode: mandatory\n    include_sub_units: false\n",
    )
    assert _codes(_load(tmp_path / "c", no_sub), date(2023, 4, 1)) == []


def test_adoption_warnings(tmp_path: Path) -> None:
    parent = BASE + "asks:\n  - authority: region\n"
    ps = _load(tmp_path / "a", parent)
    assert _codes(ps, date(2023, 4, 1)) == [LintCode.ADOPTION_PENDING]
    declined = BASE + "asks:\n  - authority: region\n    status: declined\n    date: 2023-03-20\n"
    assert _codes(_load(tmp_path / "b", declined), date(2023, 4, 1)) == [LintCode.ADOPTION_DECLINED]
    child = (
        BASE.replace("id: ban", "id: child").replace("authority: fed", "authority: region")
        + "follows:\n  decision: ban\n"
    )
    assert LintCode.ADOPTION_OUT_OF_DATE in _codes(_load(tmp_path / "c", parent, child), date(2023, 4, 1))


def test_name_only_selector(tmp_path: Path) -> None:
    text = BASE.replace("    android: [com.zhiliaoapp.musically]\n", "")
    assert sorted(_codes(_load(tmp_path, text), date(2023, 4, 1))) == [
        LintCode.NAME_ONLY_SELECTOR,
        LintCode.NO_APPS,
    ]


def test_examples_lint_names_the_real_open_questions() -> None:
    ps = load_policies(EXAMPLES)
    warnings = lint(ps, at=date(2026, 1, 1))
    codes = {(w.decision, w.code) for w in warnings}
    assert ("be-fed-2023-tiktok", LintCode.EXPIRED_WITHOUT_RENEWAL) in codes
    assert ("au-pspf-001-2023", LintCode.EXCEPTION_EXPIRED) in codes
    pending = [w for w in warnings if w.code is LintCode.ADOPTION_PENDING]
    assert len(pending) == 18  # 19 municipalities asked, the City of Brussels adopted
    assert all(w.file and w.line > 0 for w in warnings)
    assert not [w for w in lint(ps, at=date(2023, 4, 1)) if w.code is not LintCode.ADOPTION_PENDING]


def test_timeline_renewal_never_missed() -> None:
    ps = load_policies(EXAMPLES)
    events = [e for e in timeline(ps, start=date(2023, 8, 1), days=60) if e.decision == "be-fed-2023-tiktok"]
    kinds = [(e.date, e.kind) for e in events]
    assert (date(2023, 8, 18), EventKind.RENEWAL_DUE) in kinds
    assert (date(2023, 9, 14), EventKind.RENEWED) in kinds
    assert (date(2023, 9, 17), EventKind.EXPIRY) not in kinds  # renewed in time
    late = [
        (e.date, e.kind)
        for e in timeline(ps, start=date(2024, 2, 1), days=60)
        if e.decision == "be-fed-2023-tiktok"
    ]
    assert late == [(date(2024, 2, 16), EventKind.RENEWAL_DUE), (date(2024, 3, 17), EventKind.EXPIRY)]
    # starting after the reminder date still shows the reminder, on the first day
    short = [
        (e.date, e.kind)
        for e in timeline(ps, start=date(2024, 3, 10), days=3)
        if e.decision == "be-fed-2023-tiktok"
    ]
    assert short == [(date(2024, 3, 10), EventKind.RENEWAL_DUE)]
    # after the expiry, nothing more for this decision
    assert not [
        e for e in timeline(ps, start=date(2024, 3, 18), days=365) if e.decision == "be-fed-2023-tiktok"
    ]


def test_timeline_phases_and_exceptions() -> None:
    ps = load_policies(EXAMPLES)
    omb = [e for e in timeline(ps, start=date(2023, 2, 27), days=120) if e.decision == "us-omb-m-23-13"]
    deadlines = sorted({e.date for e in omb if e.kind is EventKind.DEADLINE})
    assert deadlines == [date(2023, 3, 29), date(2023, 5, 28), date(2023, 6, 27)]
    au = [e.kind for e in timeline(ps, start=date(2024, 4, 1), days=60) if e.decision == "au-pspf-001-2023"]
    assert au == [EventKind.EXCEPTION_EXPIRY]


def test_diff_in_words(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(EXAMPLES, new)
    fed = new / "be-federal-tiktok.yaml"
    text = fed.read_text(encoding="utf-8")
    text = text.replace(
        "  - id: police-advice\n    mode: advisory", "  - id: police-advice\n    mode: mandatory"
    )
    text = text.replace("com.ss.android.ugc.trill]", "com.ss.android.ugc.aweme]")
    text = text.replace(
        "  review: >-", "    - decided: 2024-03-10\n      extends_to: 2024-09-17\n  review: >-"
    )
    fed.write_text(text, encoding="utf-8")
    (new / "nl-country-of-origin.yaml").unlink()
    changes = [str(c) for c in diff_policies(load_policies(EXAMPLES), load_policies(new))]
    assert (
        "decision 'be-fed-2023-tiktok': scope part 'police-advice': 'mode' changed from advisory to mandatory"
        in changes
    )
    assert (
        "decision 'be-fed-2023-tiktok': app selector 'TikTok': 'android': added com.ss.android.ugc.aweme"
        in changes
    )
    assert (
        "decision 'be-fed-2023-tiktok': app selector 'TikTok': 'android': removed com.ss.android.ugc.trill"
        in changes
    )
    assert any(c.startswith("decision 'be-fed-2023-tiktok': renewal '2024-03-10' added") for c in changes)
    assert "decision 'nl-gov-2023-country-of-origin': removed" in changes
    assert len(changes) == 5, changes
    assert diff_policies(load_policies(EXAMPLES), load_policies(EXAMPLES)) == ()


def test_diff_ignores_reordering(tmp_path: Path) -> None:
    a = _load(tmp_path / "a", BASE + EXC)
    swapped = BASE.replace(
        "  - id: staff\n    mode: mandatory\n    units: [fed-staff]\n    devices: [issued]\n",
        "  - id: other\n    mode: advisory\n    devices: [personal]\n"
        "  - id: staff\n    mode: mandatory\n    units: [fed-staff]\n    devices: [issued]\n",
    )
    b = _load(tmp_path / "b", swapped + EXC)
    (change,) = diff_policies(a, b)
    assert change.kind is ChangeKind.ADDED and "scope part 'other' added" in str(change)
