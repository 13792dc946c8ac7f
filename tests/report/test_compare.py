"""``compare``: apps side by side on every dimension."""

from __future__ import annotations

import json

import pytest

from appveto.errors import ReportError
from appveto.report.compare import ABSENT, compare_records, render_compare_text
from appveto.report.json_report import dumps
from appveto.scan import error_record
from tests.report.helpers import record

APPS = ("exodus-instapaper-trackers.apk", "newsrepublic-adsdks.apk", "dendroid-rat-dexguarded.apk")


def test_every_dimension_side_by_side() -> None:
    recs = [record(n) for n in APPS]
    c = compare_records(recs)
    assert [s.title for s in c.sections] == [
        "App",
        "Score",
        "Permissions",
        "Trackers",
        "Endpoints",
        "Auditability",
        "Signer",
    ]
    for s in c.sections:
        assert all(len(r.values) == len(APPS) for r in s.rows)
        assert all(r.differs == (len(set(r.values)) > 1) for r in s.rows)
    score = {r.label: r.values for r in c.section("Score").rows}
    assert score["score (0-100)"] == tuple(str(r.score.total) for r in recs if r.score)
    for sub in ("data-access", "auditability", "data-jurisdiction", "security-hygiene"):
        assert sub in score
    perms = {r.label.split(" ")[0]: r.values for r in c.section("Permissions").rows}
    union = {p.removeprefix("android.permission.") for r in recs for p in r.permissions}
    assert set(perms) == union
    for label, values in perms.items():
        for rec, v in zip(recs, values, strict=True):
            requested = any(p.removeprefix("android.permission.") == label for p in rec.permissions)
            assert (v == "not requested") == (not requested)
    trk = {r.label: r.values for r in c.section("Trackers").rows}
    assert trk["trackers found"] == tuple(str(len(r.trackers)) for r in recs)
    aud = {r.label: r.values for r in c.section("Auditability").rows}
    assert aud["readable code"] == tuple(
        f"{round(r.coverage.readable_share * 100)}%" for r in recs if r.coverage
    )
    owners = [r.label for r in c.section("Endpoints").rows if r.label.startswith("owner: ")]
    assert owners == sorted(owners) and owners


def test_text_and_json_render_the_same_comparison() -> None:
    c = compare_records([record(n) for n in APPS[:2]])
    text = render_compare_text(c)
    for s in c.sections:
        assert f"== {s.title}" in text
    doc = json.loads(dumps(c.to_dict()))
    assert [a["package"] for a in doc["apps"]] == [r.package for r in c.apps]
    assert len(doc["sections"]) == len(c.sections)


def test_an_unreadable_app_is_a_column_of_dashes() -> None:
    c = compare_records([record(APPS[0]), error_record("gone.apk", "gone.apk: no such file")])
    score = next(r for r in c.section("Score").rows if r.label == "score (0-100)")
    assert score.values[1] == ABSENT
    assert any(r.label == "error" for r in c.section("App").rows)


def test_needs_two_apps() -> None:
    with pytest.raises(ReportError):
        compare_records([record(APPS[0])])
