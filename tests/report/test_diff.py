"""``diff``: what an update changed, on the corpus and on builds whose every fact is known."""

from __future__ import annotations

from pathlib import Path

import pytest

from appveto.findings import Severity
from appveto.report.diff import ChangeKind, diff_records, render_diff_text
from appveto.scan import scan_apk as scan_record
from tests.apkbuilder import ApkSpec, ComponentSpec, SigningKey, build_apk, make_signing_key
from tests.report.helpers import NOW, kb, record


@pytest.fixture(scope="module")
def keys() -> tuple[SigningKey, SigningKey]:
    return (
        make_signing_key(common_name="Publisher One", organization="One Ltd", country="BE"),
        make_signing_key(common_name="Someone Else", organization="Other Corp", country="US"),
    )


def _build(tmp: Path, name: str, key: SigningKey, **kw: object) -> str:
    base: dict[str, object] = {
        "package": "org.example.app",
        "version_code": 10,
        "permissions": ("android.permission.INTERNET",),
        "sign": "v1v2",
        "key": key,
    }
    base.update(kw)
    path = tmp / name
    path.write_bytes(build_apk(ApkSpec(**base)))  # type: ignore[arg-type]
    return str(path)


def test_dexguarded_build_reports_the_auditability_drop() -> None:
    old, new = record("dendroid-rat-original.apk"), record("dendroid-rat-dexguarded.apk")
    d = diff_records(old, new)
    drops = d.of_kind(ChangeKind.AUDITABILITY_DROP)
    assert len(drops) == 1 and drops[0].severity is Severity.HIGH
    assert d.old_readable is not None and d.new_readable is not None
    assert d.new_readable < d.old_readable - 0.25
    assert d.of_kind(ChangeKind.PROTECTOR_ADDED), "the protector that hides the code is named"
    assert d.score is not None and d.score.new > d.score.old
    # the score change is explained by findings whose points add up to it
    aud = next(s for s in d.score.subscores if s.name == "auditability")
    explained = sum(p.delta for p in d.score.explained_by if p.subscore == "auditability")
    assert explained == pytest.approx(aud.delta, abs=0.05) or aud.new == 100.0
    assert not d.of_kind(ChangeKind.SIGNER_CHANGED)
    text = render_diff_text(d)
    assert "auditability-drop" in text and "readable code" in text


def test_same_file_has_no_changes() -> None:
    r = record("fdroid-souch-smsbypass.apk")
    d = diff_records(r, r)
    assert d.changes == () and d.score is not None and d.score.delta == 0 and d.score.explained_by == ()


def test_different_signer_is_critical(tmp_path: Path, keys: tuple[SigningKey, SigningKey]) -> None:
    a = scan_record(_build(tmp_path, "a.apk", keys[0]), kb(), now=NOW)
    b = scan_record(_build(tmp_path, "b.apk", keys[1], version_code=11), kb(), now=NOW)
    assert a.error is None and b.error is None
    d = diff_records(a, b)
    changed = d.of_kind(ChangeKind.SIGNER_CHANGED)
    assert len(changed) == 1 and changed[0].severity is Severity.CRITICAL
    assert "Someone Else" in changed[0].detail and "Publisher One" in changed[0].detail
    assert d.worst() is Severity.CRITICAL and d.reaches(Severity.CRITICAL)


def test_rotation_the_old_key_approved_is_not_critical(
    tmp_path: Path, keys: tuple[SigningKey, SigningKey]
) -> None:
    a = scan_record(_build(tmp_path, "a.apk", keys[0], sign="v1v2v3"), kb(), now=NOW)
    b = scan_record(
        _build(tmp_path, "b.apk", keys[1], sign="v1v2v3", rotated_from=(keys[0],), version_code=11),
        kb(),
        now=NOW,
    )
    d = diff_records(a, b)
    assert not d.of_kind(ChangeKind.SIGNER_CHANGED)
    assert keys[0].cert_sha256 in b.signing_lineage  # the reader saw the proof-of-rotation
    assert [c.severity for c in d.of_kind(ChangeKind.SIGNER_ROTATED)] == [Severity.MEDIUM]


def test_permissions_components_and_downgrade(tmp_path: Path, keys: tuple[SigningKey, SigningKey]) -> None:
    a = scan_record(_build(tmp_path, "a.apk", keys[0]), kb(), now=NOW)
    b = scan_record(
        _build(
            tmp_path,
            "b.apk",
            keys[0],
            version_code=9,
            permissions=("android.permission.READ_SMS",),
            components=(ComponentSpec("receiver", "org.example.app.Spy", exported=True),),
        ),
        kb(),
        now=NOW,
    )
    d = diff_records(a, b)
    added = d.of_kind(ChangeKind.PERMISSION_ADDED)
    assert [c.subject for c in added] == ["READ_SMS"] and added[0].severity is Severity.MEDIUM
    assert [c.subject for c in d.of_kind(ChangeKind.PERMISSION_REMOVED)] == ["INTERNET"]
    exp = d.of_kind(ChangeKind.COMPONENT_EXPORTED)
    assert [c.subject for c in exp] == ["org.example.app.Spy"] and exp[0].severity is Severity.MEDIUM
    assert d.of_kind(ChangeKind.VERSION_DOWNGRADE)
    assert not d.of_kind(ChangeKind.SIGNER_CHANGED)
    as_dict = d.to_dict()
    assert {c["kind"] for c in as_dict["changes"]} >= {"permission-added", "component-exported"}


def test_new_trackers_endpoints_and_jurisdictions() -> None:
    old, new = record("fdroid-souch-smsbypass.apk"), record("exodus-instapaper-trackers.apk")
    d = diff_records(old, new)
    assert d.of_kind(ChangeKind.PACKAGE_CHANGED)[0].severity is Severity.HIGH
    new_trackers = {c.subject for c in d.of_kind(ChangeKind.TRACKER_ADDED)}
    assert new_trackers == {t.name for t in new.trackers} - {t.name for t in old.trackers}
    assert {c.subject for c in d.of_kind(ChangeKind.ENDPOINT_ADDED)} == {e.host for e in new.endpoints} - {
        e.host for e in old.endpoints
    }
    owners = {e.owner for e in new.endpoints if e.owner} - {e.owner for e in old.endpoints if e.owner}
    assert {c.subject for c in d.of_kind(ChangeKind.OWNER_ADDED)} == owners
    assert d.of_kind(ChangeKind.JURISDICTION_ADDED)
