"""Acceptance on the real corpus (skips without ../shared; fails in CI where it is required)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import pytest

from appveto.checks.coverage import Auditability, measure
from appveto.checks.perm import Verdict, permission_verdicts
from appveto.checks.sdk import match_trackers
from appveto.kb import load_baseline
from appveto.kb.load import parse_exodus_trackers, with_extra
from appveto.scan import analyse
from appveto.scoring import UNREAD_SHARE
from tests.conftest import corpus_apk, corpus_params, require_shared

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _load(name: str):  # type: ignore[no-untyped-def]
    from appveto.apk import load_apk

    return load_apk(str(corpus_apk(name)))


@lru_cache(maxsize=1)
def _exodus_kb():  # type: ignore[no-untyped-def]
    path = require_shared("data/exodus-trackers") / "exodus_trackers.json"
    base = load_baseline()
    info, trackers = parse_exodus_trackers(
        path.read_bytes(),
        str(path),
        entities=base.entities,
        origin="test",
        source="shared",
        licence="ODbL",
        date="",
    )
    return with_extra(base, trackers=trackers, datasets=(info,))


def test_ahmyth_rat_permissions_are_not_called_unused() -> None:
    apk = _load("quark-ahmyth-rat.apk")
    verdicts = {v.permission.rsplit(".", 1)[-1]: v for v in permission_verdicts(apk, load_baseline())}
    for p in ("READ_SMS", "READ_CALL_LOG", "READ_CONTACTS", "CAMERA", "RECORD_AUDIO"):
        assert verdicts[p].verdict is not Verdict.NOT_OBSERVED, p
        assert verdicts[p].verdict is Verdict.USED and verdicts[p].evidence, p


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rootnik-bangcle-packed.apk", "Bangcle"),
        ("fakebank-apkprotect.apk", "APKProtect"),
        ("bianlian-packed.apk", "DexProtector"),
        ("apkid-dexguard1.apk", "DexGuard"),
        ("dendroid-rat-dexguarded.apk", "DexGuard"),
    ],
)
def test_packed_and_protected_samples(name: str, expected: str) -> None:
    apk = _load(name)
    kb = load_baseline()
    cov = measure(apk, kb)
    assert any(expected in p.name for p in cov.protectors), [p.name for p in cov.protectors]
    assert cov.auditability is Auditability.LOW
    dangerous = [v for v in permission_verdicts(apk, kb) if v.dangerous]
    assert not any(v.verdict is Verdict.NOT_OBSERVED for v in dangerous)
    assert all(v.verdict in (Verdict.USED, Verdict.UNDETERMINABLE) for v in dangerous)


def _benign_fdroid() -> list[str]:
    manifest = require_shared("corpus/apk") / "MANIFEST.tsv"
    rows = [line.split("\t") for line in manifest.read_text("utf-8").splitlines()[1:]]
    return [
        r[0]
        for r in rows
        if r[0].startswith("fdroid-") and r[7] in ("real-app", "benign-test-app", "signing-test")
    ]


def test_benign_fdroid_apps_have_no_packer() -> None:
    names = _benign_fdroid()
    assert names
    kb = load_baseline()
    for n in names:
        cov = measure(_load(n), kb)
        assert cov.protectors == (), (n, [p.name for p in cov.protectors])
        assert not cov.code_hidden, (n, cov.hidden_reasons)


def test_instapaper_trackers_with_class_evidence() -> None:
    apk = _load("exodus-instapaper-trackers.apk")
    found = {m.tracker.name: m for m in match_trackers(apk, _exodus_kb())}
    for want in ("Facebook Analytics", "Facebook Login", "Facebook Places", "Facebook Share", "Crashlytics"):
        hit = next((m for n, m in found.items() if want.lower() in n.lower()), None)
        assert hit is not None, (want, sorted(found))
        assert hit.classes, want
    firebase = next((m for n, m in found.items() if "Firebase Analytics" in n), None)
    assert firebase is not None and firebase.classes, sorted(found)
    fb = next(m for n, m in found.items() if "Facebook Analytics" in n)
    assert fb.tracker.vendor == "Meta Platforms, Inc."


def test_baseline_trackers_agree_on_instapaper() -> None:
    apk = _load("exodus-instapaper-trackers.apk")
    names = {m.tracker.name for m in match_trackers(apk, load_baseline())}
    assert {"Facebook Analytics", "Facebook Login", "Facebook Places", "Facebook Share"} <= names


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_scan_corpus_file_without_check_failures(corpus_file: Path) -> None:
    from appveto.apk import load_apk
    from appveto.errors import AppvetoError

    try:
        apk = load_apk(str(corpus_file))
    except AppvetoError:
        pytest.skip("the reader rejects this file (its own tests cover that)")
    r = analyse(apk, load_baseline(), now=NOW)
    assert r.failures == (), r.failures
    assert r.ok and r.score is not None
    doc = json.loads(json.dumps(r.model_dump(mode="json")))
    assert doc["score"]["total"] == r.score.total
    # every point of the score traces to a finding of this scan, or to the unread share of
    # the code (the auditability floor: exactly what lifts the part to 100 x that share)
    keys = {(f.check_id, f.subject, f.message) for f in r.findings}
    for sub in r.score.subscores:
        for c in sub.contributions:
            if c.check_id == UNREAD_SHARE:
                others = sum(o.points for o in sub.contributions if o is not c)
                assert sub.name == "auditability" and c.points == pytest.approx(sub.floor - others, abs=0.011)
                assert sub.floor == round(100 * (1 - r.coverage.readable_share), 2)
            else:
                assert (c.check_id, c.subject, c.message) in keys


def test_labels_apkid_expectations_are_met() -> None:
    labels = json.loads((require_shared("corpus/labels") / "expectations.json").read_text("utf-8"))
    kb = load_baseline()
    checked = 0
    for e in labels["entries"]:
        apkid = e.get("expected", {}).get("apkid")
        if not apkid:
            continue
        cov = measure(_load(e["file"]), kb)
        for per_file in apkid.values():
            for names in per_file.values():
                for label in names:
                    vendor = label.split(" ", 1)[0]
                    assert any(vendor.lower() in p.name.lower() for p in cov.protectors), (e["file"], label)
                    checked += 1
    assert checked


def test_dex_guard_pair_same_app_different_auditability() -> None:
    kb = load_baseline()
    plain = measure(_load("dendroid-rat-original.apk"), kb)
    guarded = measure(_load("dendroid-rat-dexguarded.apk"), kb)
    assert plain.auditability is Auditability.HIGH
    assert guarded.auditability is Auditability.LOW
    assert guarded.obfuscated_class_share > plain.obfuscated_class_share


def test_androguard_api_map_only_adds_evidence() -> None:
    """androguard's API 16-25 map (a test dependency only) can be overlaid; it never removes a 'used'."""
    from importlib import resources

    from appveto.kb.load import parse_androguard_api_map

    data = resources.files("androguard.core.api_specific_resources").joinpath(
        "api_permission_mappings", "permissions_25.json"
    )
    base = load_baseline()
    extended = with_extra(base, api_rules=parse_androguard_api_map(data.read_bytes(), "permissions_25.json"))
    for name in ("quark-ahmyth-rat.apk", "fdroid-a2dp-vol.apk", "insecurebankv2.apk"):
        apk = _load(name)
        before = {v.permission: v for v in permission_verdicts(apk, base)}
        after = {v.permission: v for v in permission_verdicts(_load(name), extended)}
        for p, v in before.items():
            if v.verdict is Verdict.USED:
                assert after[p].verdict is Verdict.USED, (name, p)
