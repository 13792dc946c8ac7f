"""scan_apk / scan_many: failures are values, bad files are recorded, never an abort."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.checks import registry
from appveto.findings import Finding
from appveto.kb import load_baseline
from appveto.scan import analyse, scan_many
from tests.checks.factory import make_apk
from tests.conftest import corpus_apk

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_crashing_check_is_a_failure_value(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = registry.get_check("AV-MAN-001")
    assert spec is not None

    def boom(apk: object, kb: object) -> Iterator[Finding]:
        raise RuntimeError("bug")
        yield  # pragma: no cover

    monkeypatch.setitem(
        registry._REGISTRY,
        spec.id,
        registry.Check(**{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "func": boom}),
    )
    r = analyse(make_apk(), load_baseline(), now=NOW)
    assert [f.check_id for f in r.failures] == ["AV-MAN-001"]
    assert "RuntimeError: bug" in r.failures[0].error
    assert r.score is not None


def test_result_is_json_ready_and_sorted() -> None:
    r = analyse(make_apk(), load_baseline(), now=NOW)
    d = r.to_dict()
    json.dumps(d)
    assert set(d) >= {"findings", "coverage", "permissions", "trackers", "endpoints", "score", "datasets"}
    assert list(r.findings) == sorted(r.findings, key=Finding.sort_key)


def test_scan_many_records_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"not a zip at all")
    good = corpus_apk("fdroid-souch-smsbypass.apk")
    res = scan_many([str(bad), str(good), str(tmp_path / "absent.apk")], load_baseline(), now=NOW)
    assert [r.file_name for r in res.results] == ["fdroid-souch-smsbypass.apk"]
    assert {Path(e.path).name for e in res.errors} == {"bad.apk", "absent.apk"}
    assert all(e.diagnostics for e in res.errors)


def test_scan_many_process_pool_matches_serial() -> None:
    paths = [str(corpus_apk(n)) for n in ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk")]
    kb = load_baseline()
    a = scan_many(paths, kb, now=NOW, workers=1)
    b = scan_many(paths, kb, now=NOW, workers=2)
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]
