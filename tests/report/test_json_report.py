"""The scan document: schema, goldens, byte stability, round trip, README fields."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from appveto.errors import ReportError
from appveto.report.json_report import (
    SCHEMA_VERSION,
    ScanDocument,
    load_document,
    render_json,
    render_schema,
    scan_schema,
)
from appveto.scan import error_record
from tests.report.helpers import GOLDEN_APKS, check_golden, record

README_FIELDS = (
    "file",
    "sha256",
    "package",
    "version_code",
    "version_name",
    "min_sdk",
    "target_sdk",
    "permissions",
    "components",
    "signers",
    "dex",
    "native_libs",
    "tampering",
    "error",
)


def test_schema_is_shipped_and_stable() -> None:
    check_golden("scan.schema.json", render_schema())
    jsonschema.Draft202012Validator.check_schema(scan_schema())


def test_json_is_byte_identical_for_the_same_input_and_now() -> None:
    from tests.report.helpers import _record

    name = GOLDEN_APKS[0]
    first = render_json([record(name)])
    _record.cache_clear()
    assert render_json([record(name)]) == first


def test_document_validates_and_keeps_the_readme_fields() -> None:
    recs = [record("quark-ahmyth-rat.apk"), error_record("missing.apk", "missing.apk: no such file")]
    doc = json.loads(render_json(recs))
    jsonschema.Draft202012Validator(scan_schema()).validate(doc)
    assert doc["schema_version"] == SCHEMA_VERSION
    for r in doc["results"]:
        assert set(README_FIELDS) <= set(r)
        assert {"findings", "coverage", "score"} <= set(r)
    ok, bad = doc["results"]
    assert ok["error"] is None and ok["package"] == "ahmyth.mine.king.ahmyth"
    assert ok["score"]["total"] == pytest.approx(
        sum(s["points"] * s["weight"] for s in ok["score"]["subscores"]), abs=0.06
    )
    assert bad["error"] and bad["sha256"] is None and bad["findings"] == []


def test_findings_sorted_and_lists_stable() -> None:
    r = record("quark-ahmyth-rat.apk")
    ranks = [f.severity.rank for f in r.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert list(r.permissions) == sorted(r.permissions)


def test_round_trip_through_a_saved_document(tmp_path: Path) -> None:
    recs = [record("dendroid-rat-dexguarded.apk"), error_record("x.apk", "x.apk: unreadable")]
    path = tmp_path / "scan.json"
    path.write_text(render_json(recs), encoding="utf-8")
    back = load_document(path)
    assert isinstance(back, ScanDocument)
    assert back.results == tuple(recs)
    assert render_json(back.results) == path.read_text(encoding="utf-8")


def test_bad_documents_are_located_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": "1.1",\n "results": [}', encoding="utf-8")
    with pytest.raises(ReportError) as exc:
        load_document(broken)
    d = exc.value.diagnostics()[0]
    assert d.file == str(broken) and d.line == 2

    other = tmp_path / "other.json"
    other.write_text('{"schema_version": "0.9", "results": []}', encoding="utf-8")
    with pytest.raises(ReportError, match="expected an appveto scan document"):
        load_document(other)

    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        json.dumps({"schema_version": SCHEMA_VERSION, "results": [{"file": 3}]}), encoding="utf-8"
    )
    with pytest.raises(ReportError) as exc2:
        load_document(wrong)
    assert any("results/0" in str(x) for x in exc2.value.diagnostics())
